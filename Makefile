# rune: build, install, test, benchmark. `make demo` and `make test` are the two commands of
# the README; both install what they need first (scripts/deps.sh).
PREFIX ?= /usr/local
CARGO ?= cargo
SKELETON_BUILD := $(CURDIR)/target/skeleton

.PHONY: all build deps demo install test lint unit integration skeleton bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(CARGO) build --release -p rune-core
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all

# The main job: a container from a busybox bundle, run by rune.
demo: build
	@scripts/demo.sh $(CURDIR)/target/release/rune $(SKELETON_BUILD)

install: build
	install -D -m 0755 target/release/rune $(DESTDIR)$(PREFIX)/bin/rune
	install -D -m 0644 include/pal.h $(DESTDIR)$(PREFIX)/include/pal.h

skeleton:
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test -p rune-core

# The integration tests drive the debug binary; build it first (it is not a dependency).
integration:
	$(CARGO) build -p rune-core --bin rune
	RUNE_BIN=$(CURDIR)/target/debug/rune $(CARGO) test -p rune-integration --no-fail-fast

test: deps lint unit skeleton integration

bench: deps
	@scripts/deps.sh --bench
	$(CARGO) build --release -p rune-core
	@bench/run.sh $(CURDIR)/target/release/rune

clean:
	$(CARGO) clean
	$(MAKE) -s -C skeleton clean
