# LambdaCache: one entry point per task. `make demo` and `make test` are the README's two
# commands; both install what they need (scripts/deps.sh) and are safe to run again.

SHELL   := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
SO      := $(CURDIR)/target/release/liblambda_cache.so
PHP     ?= php
PHPUNIT ?= /usr/bin/phpunit
PHPX    := $(PHP) -d extension=$(SO)
PHP_VERSION := $(shell $(PHP) -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;' 2>/dev/null)
ARCH    := $(shell uname -m | sed 's/aarch64/arm64/')
LAYER   := $(CURDIR)/dist/lambda-cache-php-$(subst .,,$(PHP_VERSION))-$(ARCH).zip
DOCKER_LAYERS := $(foreach v,82 83 84 85,$(foreach a,x86_64 arm64,docker-layer-php$(v)-$(a)))

.PHONY: test-php84 layer-php84 build-php84-inside layer-php84-inside test-php84-inside
.PHONY: arm64-toolchain layer-arm64 layer-php84-arm64 layer-php84-arm64-inside test-arm64 test-arm64-all phpunit-arm64
.PHONY: phpunit-arm64-layer84
.PHONY: all deps build demo layer test test-rust test-php test-php-only test-tmp-soak phpunit bench soak lint clean $(DOCKER_LAYERS)
.PHONY: fuzz fuzz-short fuzz-build

all: build

deps:
	@scripts/deps.sh

build: deps
	cargo build --release --locked

demo: build
	$(PHPX) examples/demo.php

# The Bref layer zip for this machine's PHP and architecture (dist/), from the release build.
layer: build
	layer/build.sh $(SO) $(PHP_VERSION) $(ARCH)

# Other PHP versions and arm64, in Docker on Bref's build images (not available on every machine).
$(DOCKER_LAYERS):
	layer/docker.sh $(word 3,$(subst -, ,$@)) $(word 4,$(subst -, ,$@))

test: deps lint test-rust fuzz-short test-php test-tmp-soak test-php84 test-arm64

test-rust:
	cargo test --no-default-features --locked

# Fuzz targets of the core (fuzz/fuzz_targets; docs/decisions.md 12): libFuzzer through
# libfuzzer-sys, built by plain cargo on the stable toolchain with cargo-fuzz's coverage flags
# (no sanitizer). --target keeps the flags off build scripts. `make fuzz` runs each target for
# FUZZ_SECONDS from its committed seeds (fuzz/seeds) and the corpus earlier runs grew
# (fuzz/corpus, not committed); `make fuzz-short` (part of `make test`) for FUZZ_SHORT_SECONDS,
# from the seeds alone (a corpus grown for hours would take longer to load than the run).
# A failing input is saved in fuzz/artifacts/TARGET/ and fails the run; replay it with
# fuzz/target/$(FUZZ_TRIPLE)/release/TARGET fuzz/artifacts/TARGET/crash-...
# Not --locked: fuzz/Cargo.lock began as a copy of Cargo.lock and follows the core's dependencies
# when they change (commit it then).
FUZZ_TARGETS       ?= codec classes entry key dynamo_read
FUZZ_SECONDS       ?= 60
FUZZ_SHORT_SECONDS ?= 3
FUZZ_CORPUS        ?= fuzz/corpus
FUZZ_TRIPLE        := $(shell uname -m)-unknown-linux-gnu
FUZZ_BIN           := $(CURDIR)/fuzz/target/$(FUZZ_TRIPLE)/release
FUZZ_RUSTFLAGS     := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
  --cfg fuzzing

fuzz-build:
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" cargo build --release --bins --target $(FUZZ_TRIPLE)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_CORPUS)/$$t fuzz/artifacts/$$t; \
	  dict=; if [ -f fuzz/dict/$$t.dict ]; then dict=-dict=fuzz/dict/$$t.dict; fi; \
	  echo "== fuzz $$t, $(FUZZ_SECONDS) s"; \
	  if ! nice -n 15 $(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=fuzz/artifacts/$$t/ $$dict $(FUZZ_CORPUS)/$$t fuzz/seeds/$$t \
	    >fuzz/artifacts/$$t/last.log 2>&1; then tail -n 40 fuzz/artifacts/$$t/last.log; exit 1; fi; \
	  grep -E '^(Done|stat::average_exec_per_sec)' fuzz/artifacts/$$t/last.log; \
	done

fuzz-short:
	@rm -rf fuzz/target/corpus-short
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS) FUZZ_CORPUS=fuzz/target/corpus-short

# The PHP suite runs three times: with Debian's psr/cache and psr/simple-cache 1.0, and with
# fixtures declaring the 2.0 and 3.0 interfaces (php-tests/fixtures).
# PSR=1 (or 2, 3) runs one of them; PHPUNIT_ARGS passes options such as --filter.
PSR ?= 1 2 3

test-php: layer test-php-only

# Under scripts/dynalite.sh: a DynamoDB emulator on a free loopback port, stopped at exit.
test-php-only:
	scripts/dynalite.sh run -- $(MAKE) --no-print-directory phpunit

# The PHPUnit group "soak" (excluded from the runs above: a minute of SIGKILLed writers on the
# /tmp store), once, on this machine's PHP with psr 3.0.
test-tmp-soak: build
	LAMBDA_CACHE_PSR=3 LAMBDA_CACHE_SO=$(SO) $(PHPX) $(PHPUNIT) -c phpunit.xml.dist --group soak $(PHPUNIT_ARGS)

phpunit:
	@set -e; for v in $(PSR); do \
	  echo "== PHPUnit, psr/cache and psr/simple-cache $$v.0"; \
	  LAMBDA_CACHE_PSR=$$v LAMBDA_CACHE_SO=$(SO) LAMBDA_CACHE_LAYER=$(LAYER) $(PHPX) $(PHPUNIT) -c phpunit.xml.dist $(PHPUNIT_ARGS); \
	done

# PHP 8.4 (Debian 13: PHPUnit 11.5, psr/cache + psr/simple-cache 3.0) in the trixie root of
# scripts/trixie.sh (build/trixie; nothing from Debian 13 on this host). The .so is linked against
# zig's glibc 2.34 (cargo zigbuild): trixie's glibc 2.41 headers would make it need GLIBC_2.38.
TRIPLE84 := $(shell uname -m)-unknown-linux-gnu
SO84     := $(CURDIR)/target/php84/$(TRIPLE84)/release/liblambda_cache.so
LAYER84  := $(CURDIR)/dist/lambda-cache-php-84-$(ARCH).zip

test-php84: deps
	scripts/trixie.sh run -- $(MAKE) --no-print-directory test-php84-inside PHPUNIT_ARGS="$(PHPUNIT_ARGS)"

layer-php84: deps
	scripts/trixie.sh run -- $(MAKE) --no-print-directory layer-php84-inside

# *-inside: in the trixie root only.
build-php84-inside:
	PHP=/usr/bin/php8.4 PHP_CONFIG=/usr/bin/php-config8.4 CARGO_TARGET_DIR=$(CURDIR)/target/php84 \
	  cargo zigbuild --release --locked --target $(TRIPLE84).2.34

layer-php84-inside: build-php84-inside
	layer/build.sh $(SO84) 8.4 $(ARCH)

test-php84-inside: layer-php84-inside
	@echo "== PHPUnit 11 on PHP 8.4, psr/cache and psr/simple-cache 3.0 (Debian 13)"
	LAMBDA_CACHE_PSR=system:3 LAMBDA_CACHE_SO=$(SO84) LAMBDA_CACHE_LAYER=$(LAYER84) \
	  scripts/dynalite.sh run -- php8.4 -d extension=$(SO84) /usr/bin/phpunit -c phpunit-11.xml.dist $(PHPUNIT_ARGS)

# arm64 (Graviton), from this x86_64 machine (scripts/arm64.sh): cross-built with cargo zigbuild
# (zig's glibc 2.34, as the PHP 8.4 build) against Debian's arm64 php-dev headers, and tested with
# Debian 12's arm64 PHP 8.2 under qemu-user (build/bookworm-arm64). PHP 8.4 builds in the trixie
# root; it is not run under emulation.
TRIPLE_ARM64  := aarch64-unknown-linux-gnu
SO_ARM64      := $(CURDIR)/target/arm64/$(TRIPLE_ARM64)/release/liblambda_cache.so
LAYER_ARM64   := $(CURDIR)/dist/lambda-cache-php-82-arm64.zip
SO84_ARM64    := $(CURDIR)/target/php84/$(TRIPLE_ARM64)/release/liblambda_cache.so
LAYER84_ARM64 := $(CURDIR)/dist/lambda-cache-php-84-arm64.zip
# The venv of scripts/arm64.sh, outside the checkout (see there).
ZIGBUILD_VENV ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lambda-cache/zigbuild
export ZIGBUILD_VENV
ZIGBUILD_PATH := $(ZIGBUILD_VENV)/bin:$(PATH)
# test-arm64 runs the testsuite "arm64" of phpunit-arm64.xml.dist once per PSR_ARM64 version;
# test-arm64-all the testsuite "arm64-all" (everything that runs under qemu-user).
PSR_ARM64 ?= 1 3

arm64-toolchain: deps
	scripts/arm64.sh toolchain

layer-arm64: arm64-toolchain
	@[ "$(PHP_VERSION)" = 8.2 ] || { echo "layer-arm64: needs the host's PHP 8.2 (scripts/deps.sh), not $(PHP_VERSION)" >&2; exit 1; }
	scripts/arm64.sh headers 8.2 target/cross/php82-arm64
	PATH=$(ZIGBUILD_PATH) PHP=$(shell command -v $(PHP)) PHP_CONFIG=$(CURDIR)/target/cross/php82-arm64/php-config CARGO_TARGET_DIR=$(CURDIR)/target/arm64 \
	  cargo zigbuild --release --locked --target $(TRIPLE_ARM64).2.34
	layer/build.sh $(SO_ARM64) 8.2 arm64

layer-php84-arm64: arm64-toolchain
	scripts/arm64.sh headers 8.4 target/cross/php84-arm64
	scripts/trixie.sh run -- $(MAKE) --no-print-directory layer-php84-arm64-inside

# In the trixie root only.
layer-php84-arm64-inside:
	PHP=/usr/bin/php8.4 PHP_CONFIG=$(CURDIR)/target/cross/php84-arm64/php-config CARGO_TARGET_DIR=$(CURDIR)/target/php84 \
	  cargo zigbuild --release --locked --target $(TRIPLE_ARM64).2.34
	layer/build.sh $(SO84_ARM64) 8.4 arm64

test-arm64: layer-arm64 layer-php84-arm64
	scripts/dynalite.sh run -- scripts/arm64.sh run -- $(MAKE) --no-print-directory phpunit-arm64 ARM64_SUITE=arm64 PSR="$(PSR_ARM64)"
	scripts/arm64.sh run -- $(MAKE) --no-print-directory phpunit-arm64-layer84

test-arm64-all: layer-arm64
	scripts/dynalite.sh run -- scripts/arm64.sh run -- $(MAKE) --no-print-directory phpunit-arm64 ARM64_SUITE=arm64-all

# Under scripts/arm64.sh run: $ARM64_PHP is the emulated PHP 8.2, and LAMBDA_CACHE_PHP_CMD the
# same command for the processes the tests start. /usr/bin/phpunit is the root's (qemu -L).
ARM64_SUITE ?= arm64
phpunit-arm64:
	@set -e; for v in $(PSR); do \
	  echo "== PHPUnit on $$($$ARM64_PHP -n -r 'echo PHP_VERSION, " ", php_uname("m");') (qemu), testsuite $(ARM64_SUITE), psr/cache and psr/simple-cache $$v.0"; \
	  LAMBDA_CACHE_PSR=$$v LAMBDA_CACHE_SO=$(SO_ARM64) LAMBDA_CACHE_LAYER=$(LAYER_ARM64) \
	    $$ARM64_PHP -d extension=$(SO_ARM64) /usr/bin/phpunit -c phpunit-arm64.xml.dist --testsuite $(ARM64_SUITE) $(PHPUNIT_ARGS); \
	done

# The PHP 8.4 arm64 zip: what can be checked without an arm64 PHP 8.4 (the emulated PHP is 8.2).
phpunit-arm64-layer84:
	@echo "== the PHP 8.4 arm64 layer: layout, ELF machine, glibc"
	LAMBDA_CACHE_SO=$(SO_ARM64) LAMBDA_CACHE_LAYER=$(LAYER84_ARM64) $$ARM64_PHP -d extension=$(SO_ARM64) /usr/bin/phpunit \
	  -c phpunit-arm64.xml.dist --testsuite arm64 \
	  --filter '/LayerTest::test(LayoutIsBrefs|TheSoIsForTheArchitectureInTheZipsName|NeedsNoGlibcNewerThanAmazonLinux2023)$$/'

# The scaling rows (bench.php g-l) keep 100,000 keys in APCu and 222,000 files in OPcache.
BENCH_INI := -d apc.shm_size=512M -d opcache.memory_consumption=1024 -d opcache.max_accelerated_files=500000

bench: layer
	cargo bench --no-default-features --locked --bench engines
	cargo bench --no-default-features --locked --bench compression
	cargo bench --no-default-features --locked --bench mac
	cargo bench --no-default-features --locked --bench sigv4
	BENCH_SVG=docs/bench.svg $(PHPX) -d apc.enable_cli=1 -d opcache.enable_cli=1 $(BENCH_INI) benches/bench.php
	$(PHPX) -d opcache.enable_cli=1 benches/integrity.php
	@if [ -n "$(BASE)" ]; then $(PHP) benches/metrics.php $(BASE); \
	else echo "bench: counting cost not measured: BASE=<checkout of the commit before the counters, built> (benches/metrics.php)"; fi
	DYNALITE_INSTANCES=2 scripts/dynalite.sh run -- $(PHPX) benches/dynamo.php
	LAMBDA_CACHE_SO=$(SO) scripts/dynalite.sh run -- $(PHPX) benches/startup.php

# Leak run (not part of make test): mixed calls in one process on each store, memory and RSS
# sampled; fails when either grows by 1 MiB after warm-up. SOAK_TMP_CALLS, SOAK_DYNAMO_CALLS.
SOAK_TMP_CALLS    ?= 1000000
SOAK_DYNAMO_CALLS ?= 500000
soak: build
	$(PHPX) benches/soak.php tmp $(SOAK_TMP_CALLS)
	scripts/dynalite.sh run -- $(PHPX) benches/soak.php dynamo $(SOAK_DYNAMO_CALLS)

lint:
	cargo fmt --check
	cargo fmt --check --manifest-path fuzz/Cargo.toml
	cd fuzz && cargo clippy --bins -- -D warnings
	cargo clippy --all-targets --no-default-features -- -D warnings
	cargo clippy --release -- -D warnings
	@for f in $$(git ls-files 'php/*.php' 'php-tests/*.php' 'tests/*.php' 'stubs/*.php' 'examples/*.php' 'benches/*.php' 'dev/*.php' bin/lambda-cache); do \
	  $(PHP) -l $$f >/dev/null || exit 1; done

clean:
	cargo clean
