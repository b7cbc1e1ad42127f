# owls-q4d — S3 -> SQS worker daemon running the Q4 four-quadrant split.
#
#   make deps      install the Debian packages the build and the tests need
#   make           build bin/owls-q4d and bin/owls-q4 (into $(BUILD)/)
#   make check     everything CI runs: lint, unit tests (plain, ASan+UBSan,
#                  TSan), fuzz smoke runs, integration tests against moto
#   make bench     benchmarks (see tests/bench/)
#   make install   PREFIX=/usr/local DESTDIR=
#
# One library (libowls.a) holds every module; the two binaries and the tests
# link it. Sources are listed one per line, grouped by layer (see STYLE).

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DESTDIR   ?=
CC        ?= cc
PKG_CONFIG ?= pkg-config
BUILD     ?= build
V         ?= 0

PKGS      = libcurl libcrypto libssl libxml-2.0 jansson gsl libsystemd inih
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2 -Werror
CFLAGS    ?= -O2 -g
OWLS_CPPFLAGS = -Iinclude -D_GNU_SOURCE -DOWLS_VERSION='"$(VERSION)"'
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# -ffp-contract=off: no fused multiply-adds, whatever -march says, so that
# the artifacts are the same bytes from every build (SPEC 3, determinism).
ALL_CFLAGS = -std=gnu17 $(WARN) -ffp-contract=off $(OWLS_CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS    = $(PKG_LIBS) -lcsv -lsnappy -lz -lzstd -lm -lpthread
TEST_LIBS = -lcmocka

ifeq ($(V),0)
Q = @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q =
say =
endif

# --- common: errors, logging, memory, hashing, files ------------------------
SRCS += src/common/err.c
SRCS += src/common/log.c
SRCS += src/common/util.c
SRCS += src/common/buf.c
SRCS += src/common/hash.c
SRCS += src/common/fsio.c
SRCS += src/common/timefmt.c

# --- q4: readers, typing, the split, artifact writers (no AWS, no threads) --
SRCS += src/q4/numparse.c
SRCS += src/q4/dtoa.c
SRCS += src/q4/table.c
SRCS += src/q4/csv.c
SRCS += src/q4/input.c
SRCS += src/q4/split.c
SRCS += src/q4/artifacts.c
SRCS += src/q4/thrift.c
SRCS += src/q4/parquet.c

# --- aws: SigV4, credentials, HTTP, retries, S3, SQS (no Q4) ----------------
SRCS += src/aws/sigv4.c
SRCS += src/aws/creds.c
SRCS += src/aws/endpoint.c
SRCS += src/aws/awserr.c
SRCS += src/aws/http.c
SRCS += src/aws/retry.c
SRCS += src/aws/s3.c
SRCS += src/aws/sqs.c

# --- daemon: configuration, poller, pool, job lifecycle, systemd ------------
SRCS += src/daemon/config.c
SRCS += src/daemon/services.c
SRCS += src/daemon/jobmsg.c
SRCS += src/daemon/notify.c
SRCS += src/daemon/job.c
SRCS += src/daemon/pool.c
SRCS += src/daemon/poller.c

# --- binaries -----------------------------------------------------------------
CLI_SRCS  = src/cli/main.c
CLI_SRCS += src/cli/cmd_split.c
CLI_SRCS += src/cli/clicfg.c
CLI_SRCS += src/cli/cmd_submit.c
CLI_SRCS += src/cli/cmd_results.c
DAEMON_SRCS = src/daemon/main.c
# test tool driven by tests/integration/test_aws_client.sh (never installed)
AWSPROBE_SRCS = tests/integration/awsprobe.c
# phase timer driven by tests/bench/bench_parquet.sh (never installed)
READBENCH_SRCS = tests/bench/readbench.c

OBJS        = $(SRCS:%.c=$(BUILD)/%.o)
TOBJS       = $(SRCS:%.c=$(BUILD)/t/%.o)
CLI_OBJS    = $(CLI_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
LIB         = $(BUILD)/libowls.a
TLIB        = $(BUILD)/libowls-test.a

UNIT_SRCS   = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS   = $(sort $(wildcard tests/fuzz/fuzz_*.c))

BINS = $(BUILD)/owls-q4 $(BUILD)/owls-q4d

.PHONY: all lib check unit asan tsan lint fuzz fuzz-build fuzz-bins integration valgrind \
        bench deps install uninstall clean
all: $(BINS)
lib: $(LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# The unit tests link a second build of the library in which OWLS_TESTABLE
# internals are visible (see include/owls/util.h).
$(BUILD)/t/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -DOWLS_UNIT_TEST -c $< -o $@

$(TLIB): $(TOBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/owls-q4: $(CLI_OBJS) $(LIB)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/owls-q4d: $(DAEMON_OBJS) $(LIB)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/awsprobe: $(AWSPROBE_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $(AWSPROBE_SRCS:%.c=$(BUILD)/%.o) $(LIB) $(LDLIBS)

$(BUILD)/readbench: $(READBENCH_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $(READBENCH_SRCS:%.c=$(BUILD)/%.o) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TLIB)
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)$(CC) $(ALL_CFLAGS) -DOWLS_UNIT_TEST -Itests/unit -o $@ $< $(TLIB) $(LDLIBS) $(TEST_LIBS)

unit: $(UNIT_BINS) $(BINS)
	$(Q)OWLS_BUILD=$(BUILD) tests/run-unit.sh $(UNIT_BINS)

# --- sanitizers: separate build trees, same sources ---------------------------
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	  CFLAGS="$(SAN_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all" unit
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan \
	  CFLAGS="$(SAN_FLAGS) -fsanitize=thread" unit

# --- lint: format and banned calls ------------------------------------------
FMT_FILES = $(shell git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null)
lint:
	$(Q)clang-format --dry-run --Werror $(FMT_FILES)
	$(Q)tests/banned.sh $(FMT_FILES)

# --- fuzzing (clang + libFuzzer, ASan+UBSan): its own build tree ------------
FUZZ_SECONDS ?= 15
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined" fuzz-bins
fuzz-bins: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB) $(LDLIBS)
fuzz: fuzz-build
	$(Q)tests/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/fuzz/%)

# --- integration: real binaries, real moto, numpy/LAPACK reference ----------
integration: $(BINS) $(BUILD)/awsprobe
	$(Q)OWLS_BUILD=$(BUILD) tests/integration/run.sh

valgrind: $(BINS)
	$(Q)OWLS_BUILD=$(BUILD) tests/valgrind.sh

check: lint all unit asan tsan fuzz integration valgrind ops-test

bench: $(BINS) $(BUILD)/readbench
	$(Q)OWLS_BUILD=$(BUILD) tests/bench/run.sh

# --- demo: the README's one command (scripts/demo.sh): make deps, build, moto on
# 127.0.0.1, deploy-local, owls-q4d, one job through the aws CLI, artifacts and
# er.json, then stop everything. No prerequisites: deps must come before the build.
.PHONY: demo
demo:
	$(Q)BUILD=$(BUILD) scripts/demo.sh

# --- deps: idempotent; apt-get update only when something is missing --------
DEB_PKGS = build-essential pkg-config clang clang-format libclang-rt-14-dev valgrind \
           libcurl4-openssl-dev libssl-dev libxml2-dev libjansson-dev libgsl-dev \
           libcsv-dev libsystemd-dev libinih-dev libcmocka-dev \
           libsnappy-dev zlib1g-dev libzstd-dev \
           python3-numpy python3-sklearn python3-pandas \
           curl ca-certificates hyperfine nodejs npm mandoc strace
deps:
	$(Q)tests/deps.sh $(DEB_PKGS)

# --- install -------------------------------------------------------------------
# `make install [PREFIX=/usr] [DESTDIR=/tmp/root]`: the programs in $(BINS), the
# systemd unit (its @BINDIR@ substituted), the sysusers.d snippet, the man pages
# and, only when none exists yet, $(SYSCONFDIR)/owls-q4.conf. PREFIX=/usr puts
# the unit in /lib/systemd/system (Debian); other prefixes keep it under PREFIX.
# The config stays in /etc (the path the unit and the programs use); install
# never replaces it and uninstall never removes it (nor the system user).
# Without DESTDIR on a running systemd, install also creates the user and
# reloads systemd; uninstall stops and disables the service first.
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
LIBDIR      ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)
UNITDIR     ?= $(LIBDIR)/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL     ?= install
MAN_PAGES    = man/owls-q4d.8 man/owls-q4.1 man/owls-q4.conf.5
PROGRAMS     = $(sort owls-q4 owls-q4d $(notdir $(BINS)))
LIVE_SYSTEMD = [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]
install: $(BINS)
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(SYSCONFDIR)
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	@mkdir -p $(BUILD)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/owls-q4d.service > $(BUILD)/owls-q4d.service
	$(INSTALL) -m 0644 $(BUILD)/owls-q4d.service $(DESTDIR)$(UNITDIR)/owls-q4d.service
	$(INSTALL) -m 0644 systemd/owls-q4d.sysusers $(DESTDIR)$(SYSUSERSDIR)/owls-q4d.conf
	for m in $(MAN_PAGES); do $(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	@conf='$(DESTDIR)$(SYSCONFDIR)/owls-q4.conf'; \
	if [ ! -f etc/owls-q4.conf ]; then echo "install: no etc/owls-q4.conf in the tree; no config installed" >&2; \
	elif [ -e "$$conf" ] || [ -L "$$conf" ]; then echo "install: keeping the existing $$conf"; \
	else echo "$(INSTALL) -m 0644 etc/owls-q4.conf $$conf"; $(INSTALL) -m 0644 etc/owls-q4.conf "$$conf"; fi
	@if $(LIVE_SYSTEMD); then set -x; \
	  systemd-sysusers $(SYSUSERSDIR)/owls-q4d.conf && systemctl daemon-reload; fi
uninstall:
	@if $(LIVE_SYSTEMD); then set -x; systemctl disable --now owls-q4d.service || true; fi
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGRAMS)) \
	  $(DESTDIR)$(UNITDIR)/owls-q4d.service $(DESTDIR)$(SYSUSERSDIR)/owls-q4d.conf \
	  $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	@echo "uninstall: $(DESTDIR)$(SYSCONFDIR)/owls-q4.conf and the owls-q4d user are left in place"
	@if $(LIVE_SYSTEMD); then set -x; systemctl daemon-reload; fi

# --- ops: unit, install tree, man pages, terraform, deploy script, compose ----
.PHONY: ops-test
ops-test: $(BINS)
	$(Q)OWLS_BUILD=$(BUILD) tests/ops/run.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz

# every object's and every directly built test/fuzz binary's header dependencies
-include $(OBJS:.o=.d) $(TOBJS:.o=.d) $(CLI_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d) \
  $(AWSPROBE_SRCS:%.c=$(BUILD)/%.d) $(READBENCH_SRCS:%.c=$(BUILD)/%.d) \
  $(wildcard $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)
