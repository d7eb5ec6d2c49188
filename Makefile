# rune: build, install, test, benchmark. `make demo` and `make test` are the two commands of
# the README; both install what they need first (scripts/deps.sh).
PREFIX ?= /usr/local
CARGO ?= cargo
SKELETON_BUILD := $(CURDIR)/target/skeleton

.PHONY: all build deps demo install test lint unit integration skeleton clients-test bench hot-code clean
.PHONY: wasm-engine
.PHONY: capi header header-check capi-test go-test vm-test

# librune (capi/), its header, C tests and Go bindings. Cargo's output directory, which
# follows CARGO_TARGET_DIR as cargo does.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
REL := $(TARGET_DIR)/release
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
# The soname's number: librune.so.$(RUNE_ABI). Written once, as RUNE_ABI_VERSION in
# capi/src/version.rs (which capi/build.rs and cbindgen read too).
RUNE_ABI := $(shell sed -n 's/^pub const RUNE_ABI_VERSION: u32 = \([0-9][0-9]*\);$$/\1/p' \
	$(CURDIR)/capi/src/version.rs)
ifeq ($(RUNE_ABI),)
$(error capi/src/version.rs has no line `pub const RUNE_ABI_VERSION: u32 = <number>;`)
endif
RUNE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
C_TESTS := lifecycle bad_input threads enclave
CTEST_DIR := $(TARGET_DIR)/ctest
CTEST_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -pthread -I$(CURDIR)/include
VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions=$(CURDIR)/tests/c/valgrind.supp

all: build

deps:
	@scripts/deps.sh

build: deps
	$(CARGO) build --release -p rune-core
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all
	$(MAKE) -s wasm-engine PROFILE=release

# rune's WebAssembly engine (core/wasm), liberpal-wasm.so beside the rune binary of PROFILE
# (release or debug), where rune finds it. A hard link: a container may have the old one mapped.
PROFILE ?= release
wasm-engine:
	$(CARGO) build $(if $(filter release,$(PROFILE)),--release) -p rune-wasm
	ln -f $(TARGET_DIR)/$(PROFILE)/liberpal_wasm.so $(TARGET_DIR)/$(PROFILE)/liberpal-wasm.so

# The main job: a container from a busybox bundle, run by rune.
demo: build
	@scripts/demo.sh $(CURDIR)/target/release/rune $(SKELETON_BUILD)

# librune finds the rune binary it runs as `rune init` at <libdir>/../libexec/rune/rune.
install: build capi
	install -D -m 0755 $(REL)/rune $(DESTDIR)$(PREFIX)/bin/rune
	install -D -m 0644 include/pal.h $(DESTDIR)$(PREFIX)/include/pal.h
	install -D -m 0755 $(REL)/rune $(DESTDIR)$(PREFIX)/libexec/rune/rune
	install -D -m 0755 $(REL)/liberpal-wasm.so $(DESTDIR)$(LIBDIR)/rune/liberpal-wasm.so
	install -D -m 0755 $(REL)/librune.so $(DESTDIR)$(LIBDIR)/librune.so.$(RUNE_ABI)
	ln -sf librune.so.$(RUNE_ABI) $(DESTDIR)$(LIBDIR)/librune.so
	install -D -m 0644 $(REL)/librune.a $(DESTDIR)$(LIBDIR)/librune.a
	install -D -m 0644 include/rune.h $(DESTDIR)$(INCLUDEDIR)/rune.h
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(RUNE_VERSION)|; s|@LIBS_PRIVATE@|'"$$(cat $(REL)/librune.static-libs)"'|' \
	    capi/rune.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/rune.pc
	@if [ -z "$(DESTDIR)" ]; then ldconfig || true; fi

skeleton:
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all test

# scripts/layers.py: each module of core imports only from the layers below it.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	python3 scripts/layers.py

# The unit tests, then once more as nobody: they need no root (scripts/unit-unprivileged.sh).
unit:
	$(CARGO) test -p rune-core -p rune-wasm
	@CARGO=$(CARGO) scripts/unit-unprivileged.sh

# The integration tests drive the debug binary and its wasm engine; build them first (they are
# not dependencies).
integration:
	$(CARGO) build -p rune-core --bin rune
	$(MAKE) -s wasm-engine PROFILE=debug
	RUNE_BIN=$(CURDIR)/target/debug/rune $(CARGO) test -p rune-integration --no-fail-fast

# rune under its real clients: containerd (ctr and the CRI), Podman and Docker, each daemon
# started by the script with its state in a temp dir (tests/clients/run.sh; as root).
clients-test: deps
	@tests/clients/deps.sh
	$(CARGO) build --release -p rune-core
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all
	$(MAKE) -s wasm-engine PROFILE=release
	RUNE=$(REL)/rune PAL=$(SKELETON_BUILD)/liberpal-skeleton-v3.so tests/clients/run.sh

test: deps lint unit skeleton integration header-check capi-test go-test clients-test vm-test

# In a QEMU guest of a stock host (Debian 12, systemd as pid 1, pure cgroup v2): the tests whose
# outcome depends on the host (tests/vm/test.sh). The guest image is built once and cached in
# /var/cache/rune-vm (tests/vm/image.sh); `tests/vm/run.sh -- CMD` runs any command there.
vm-test: build
	$(CARGO) build -p rune-core --bin rune
	$(MAKE) -s wasm-engine PROFILE=debug
	@mkdir -p target/wasm && wat2wasm tests/fixtures/wasm/tool.wat -o target/wasm/tool.wasm
	$(CARGO) test -p rune-integration --no-run
	CARGO=$(CARGO) tests/vm/test.sh

# librune.so (soname librune.so.$(RUNE_ABI)) and librune.a, built by one rustc run that also prints the
# system libraries a static link needs (kept in librune.static-libs for tests and rune.pc);
# then include/rune.h is regenerated.
capi: deps
	@mkdir -p $(TARGET_DIR)
	@$(CARGO) rustc --release -p rune-capi --lib --crate-type cdylib,staticlib \
	    -- --print native-static-libs 2> $(TARGET_DIR)/capi-build.log; \
	  s=$$?; grep -v '^note: \|^$$' $(TARGET_DIR)/capi-build.log >&2; exit $$s
	@libs=$$(sed -n 's/^note: native-static-libs: //p' $(TARGET_DIR)/capi-build.log | tail -1); \
	  if [ -n "$$libs" ]; then echo "$$libs" > $(REL)/librune.static-libs; fi
	@test -s $(REL)/librune.static-libs
	ln -sf librune.so $(REL)/librune.so.$(RUNE_ABI)
	$(MAKE) -s header

# include/rune.h from capi/src, by the pinned cbindgen (scripts/cbindgen.sh).
header:
	@scripts/cbindgen.sh

# Fails when the committed include/rune.h differs from what capi/src generates.
header-check:
	@tmp=$$(mktemp) && trap 'rm -f $$tmp' EXIT && scripts/cbindgen.sh $$tmp && \
	  diff -u include/rune.h $$tmp || \
	  { echo "include/rune.h is stale: run 'make header' (scripts/cbindgen.sh)" >&2; exit 1; }

# The C tests (tests/c) against librune.so and librune.a, each under valgrind; capi's unit tests;
# then an install into a staging directory, used through pkg-config and its libexec rune.
capi-test: capi
	$(CARGO) build --release -p rune-core --bin rune
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all
	$(CARGO) test -p rune-capi
	@mkdir -p $(CTEST_DIR)
	@for t in $(C_TESTS); do \
	  $(CC) $(CTEST_CFLAGS) tests/c/$$t.c -L$(REL) -lrune -o $(CTEST_DIR)/$$t-shared || exit 1; \
	  $(CC) $(CTEST_CFLAGS) tests/c/$$t.c $(REL)/librune.a $$(cat $(REL)/librune.static-libs) \
	    -o $(CTEST_DIR)/$$t-static || exit 1; \
	done
	@for t in $(C_TESTS); do for k in shared static; do \
	  echo "== tests/c/$$t.c ($$k, valgrind)"; \
	  LD_LIBRARY_PATH=$(REL) RUNE_INIT_BINARY=$(REL)/rune RUNE_SKELETON_DIR=$(SKELETON_BUILD) \
	    $(VALGRIND) --log-file=$(CTEST_DIR)/$$t-$$k.valgrind $(CTEST_DIR)/$$t-$$k; s=$$?; \
	  grep -h 'ERROR SUMMARY\|definitely lost' $(CTEST_DIR)/$$t-$$k.valgrind; \
	  [ $$s -eq 0 ] || { cat $(CTEST_DIR)/$$t-$$k.valgrind; exit 1; }; \
	done; done
	@stage=$(CTEST_DIR)/stage && rm -rf $$stage && \
	  $(MAKE) -s install DESTDIR=$$stage PREFIX=/usr LIBDIR=/usr/lib INCLUDEDIR=/usr/include && \
	  export PKG_CONFIG_SYSROOT_DIR=$$stage PKG_CONFIG_LIBDIR=$$stage/usr/lib/pkgconfig && \
	  $(CC) $(CTEST_CFLAGS) tests/c/lifecycle.c $$(pkg-config --cflags --libs rune) \
	    -o $(CTEST_DIR)/lifecycle-installed && \
	  echo "== tests/c/lifecycle.c (installed in $$stage, rune init from libexec)" && \
	  env -u RUNE_INIT_BINARY LD_LIBRARY_PATH=$$stage/usr/lib $(CTEST_DIR)/lifecycle-installed && \
	  rm -rf $$stage

# The Go bindings: vet, then tests running real containers, against the built librune.
go-test: capi
	$(CARGO) build --release -p rune-core --bin rune
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all
	cd go-bindings && export GOPROXY=off GOFLAGS= CGO_LDFLAGS="-L$(REL)" \
	    LD_LIBRARY_PATH=$(REL) RUNE_INIT_BINARY=$(REL)/rune RUNE_SKELETON_DIR=$(SKELETON_BUILD) && \
	  go vet ./... && go test -count=1 -v ./...

# rune, crun and runc side by side (bench/run.sh); the report goes to target/bench/.
bench: deps
	@scripts/deps.sh --bench
	$(CARGO) build --release -p rune-core
	$(MAKE) -s -C skeleton BUILD_DIR=$(SKELETON_BUILD) all
	$(MAKE) -s wasm-engine PROFILE=release
	@bench/run.sh $(CURDIR)/target/release/rune $(SKELETON_BUILD)

# core/hot-code.ld, the functions the lifecycle runs, which the binary's link groups
# (scripts/hot_code.py; root, perf, busybox-static).
hot-code: deps
	@scripts/deps.sh --hot-code
	@scripts/hot_code.py

clean:
	$(CARGO) clean
	$(MAKE) -s -C skeleton clean
