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
.PHONY: all deps build demo layer test test-rust test-php test-php-only test-tmp-soak phpunit bench lint clean $(DOCKER_LAYERS)

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

test: deps lint test-rust test-php test-tmp-soak test-php84

test-rust:
	cargo test --no-default-features --locked

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

bench: layer
	cargo bench --no-default-features --locked --bench engines
	cargo bench --no-default-features --locked --bench compression
	cargo bench --no-default-features --locked --bench sigv4
	$(PHPX) -d apc.enable_cli=1 -d opcache.enable_cli=1 benches/bench.php
	DYNALITE_INSTANCES=2 scripts/dynalite.sh run -- $(PHPX) benches/dynamo.php
	LAMBDA_CACHE_SO=$(SO) scripts/dynalite.sh run -- $(PHP) benches/startup.php

lint:
	cargo fmt --check
	cargo clippy --all-targets --no-default-features -- -D warnings
	cargo clippy --release -- -D warnings
	@for f in $$(git ls-files 'php/*.php' 'php-tests/*.php' 'stubs/*.php' 'examples/*.php' 'benches/*.php'); do \
	  $(PHP) -l $$f >/dev/null || exit 1; done

clean:
	cargo clean
