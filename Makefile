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

.PHONY: all deps build demo layer test test-rust test-php test-php-only phpunit bench lint clean $(DOCKER_LAYERS)

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

test: deps test-rust test-php

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

phpunit:
	@set -e; for v in $(PSR); do \
	  echo "== PHPUnit, psr/cache and psr/simple-cache $$v.0"; \
	  LAMBDA_CACHE_PSR=$$v LAMBDA_CACHE_SO=$(SO) LAMBDA_CACHE_LAYER=$(LAYER) $(PHPX) $(PHPUNIT) -c phpunit.xml.dist $(PHPUNIT_ARGS); \
	done

bench: layer
	cargo bench --no-default-features --locked --bench engines
	cargo bench --no-default-features --locked --bench compression
	$(PHPX) -d apc.enable_cli=1 -d opcache.enable_cli=1 benches/bench.php
	scripts/dynalite.sh run -- $(PHPX) benches/dynamo.php
	LAMBDA_CACHE_SO=$(SO) scripts/dynalite.sh run -- $(PHP) benches/startup.php

lint:
	cargo fmt --check
	cargo clippy --all-targets --no-default-features -- -D warnings
	cargo clippy --release -- -D warnings
	@for f in $$(git ls-files 'php/*.php' 'php-tests/*.php' 'stubs/*.php' 'examples/*.php' 'benches/*.php'); do \
	  $(PHP) -l $$f >/dev/null || exit 1; done

clean:
	cargo clean
