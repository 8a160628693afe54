# SPDX-License-Identifier: GPL-2.0-only
# consentry: build the BPF object, its skeleton, the collector and the tests out of tree.
# SANITIZE=1: userspace under ASan+UBSan, into its own output directory (.output-san).
SANITIZE ?=
ifeq ($(SANITIZE),1)
O ?= .output-san
# clang's UBSan checks more than gcc 12's (pointer arithmetic on NULL, for one)
ifeq ($(origin CC),default)
CC := clang
endif
endif
O ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
VMLINUX_H ?=

# user/: one folder per component (data flow: monitor -> http, decode -> verdict -> output; enroll,
# fpdb and lib beside); main.c and cli.h at the top. Includes name the folder: "fpdb/fpfile.h".
USER_INC := -Iuser
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
# -o journal: sd_journal_sendv (libsystemd-dev)
SYSTEMD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null || echo -lsystemd)
# -c postgresql://: consent rows from a table (libpq-dev)
LIBPQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
LIBPQ_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null || echo -lpq)
# --geoip: MaxMind DB country lookups (libmaxminddb-dev)
MAXMINDDB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmaxminddb 2>/dev/null)
MAXMINDDB_LIBS := $(shell $(PKG_CONFIG) --libs libmaxminddb 2>/dev/null || echo -lmaxminddb)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lcrypto -lnghttp2 -lsqlite3 -lmicrohttpd -lpcap $(SYSTEMD_LIBS) $(MAXMINDDB_LIBS) $(LIBPQ_LIBS)

# CFLAGS and LDFLAGS are the user's (make CFLAGS=-O1); what the build needs is in CS_CFLAGS,
# which comes after them.
CFLAGS ?= -O2 -g
LDFLAGS ?=
CS_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Iinclude $(USER_INC) -I$(O) $(LIBBPF_CFLAGS) $(SYSTEMD_CFLAGS) $(MAXMINDDB_CFLAGS) $(LIBPQ_CFLAGS) -MMD -MP
ifeq ($(SANITIZE),1)
# UBSan recovers so that tests/sanitize.supp can name known reports; halt_on_error (tests/run and
# the fuzz targets set it) makes every other report fatal.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
CS_CFLAGS += $(SAN_FLAGS)
endif
ALL_CFLAGS = $(CFLAGS) $(CS_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror $(BPF_EXTRA) \
	-Iinclude -Ibpf -I$(O) $(LIBBPF_CFLAGS) -MMD -MP

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(wildcard user/*.c user/*/*.c)
# Only the sources that include a BPF skeleton depend on the skeletons (clang, bpftool, BTF); the
# rest, libconsentry.a, is all the unit tests and fuzz harnesses link.
SKEL_SRCS := $(shell grep -l '^\#include ".*\.skel\.h"' $(USER_SRCS))
SKEL_OBJS := $(patsubst user/%.c,$(O)/user/%.o,$(SKEL_SRCS))
LIB_SRCS := $(filter-out user/main.c $(SKEL_SRCS),$(USER_SRCS))
LIB_OBJS := $(patsubst user/%.c,$(O)/user/%.o,$(LIB_SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
BPFTEST_SRCS := $(wildcard tests/bpf/bpftest_*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(O)/tests/%,$(BPFTEST_SRCS))
BIN := $(O)/consentry
# libFuzzer harnesses: clang, ASan+UBSan, the library rebuilt with coverage under $(O)/fuzz
FUZZ_CC ?= clang
FUZZ_SECS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst user/%.c,$(O)/fuzz/obj/%.o,$(LIB_SRCS))
# FUZZ_SAN=undefined: a faster build without ASan, for long campaigns (docs/testing.md)
FUZZ_SAN ?= address,undefined
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=$(FUZZ_SAN) \
	-Wall -Wextra -Werror -Iinclude $(USER_INC) -I$(O) $(LIBBPF_CFLAGS) $(MAXMINDDB_CFLAGS) $(LIBPQ_CFLAGS) -MMD -MP

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all test unit test-unit check check-variants format demo bench eval gen clean help setup install uninstall deb \
	fuzz fuzz-build test-san soak

all: $(BIN) $(UNIT_BINS) $(BPFTEST_BINS) $(O)/hooktax $(O)/scanbench $(O)/journalbench

help:
	@echo 'targets:'
	@echo '  all     build $(BIN), unit and BPF test binaries (default)'
	@echo '  test    install missing packages, build, run unit + BPF + end-to-end tests (root)'
	@echo '  unit    unit tests only (no root, no BPF toolchain); also test-unit; SANITIZE=1 for ASan/UBSan'
	@echo '  check   clang-format and cppcheck, zero findings required; compiles every build variant'
	@echo '  install install under DESTDIR/PREFIX (/usr/local): binary, man page, systemd unit; uninstall'
	@echo '  fuzz    every libFuzzer harness for FUZZ_SECS (60) s under ASan/UBSan (FUZZ=name: one)'
	@echo '  test-san  sanitized build (SANITIZE=1): unit tests, the monitor through e2e tests (root)'
	@echo '  demo    end-to-end demo on bundled synthetic data (root)'
	@echo '  soak    mixed traffic for DURATION (default 3m): exact findings, flat memory and fds (root)'
	@echo '  bench   overhead benchmark, monitor off vs on, CSV + plots (root)'
	@echo '  eval    detection harness: recall/false findings per rendering x channel (root)'
	@echo '  clean   remove $(O)'
	@echo 'variables: O=dir CLANG= BPFTOOL= VMLINUX_H=path V=1 SANITIZE=1 (O=.output-san) DURATION= (soak)'

$(O) $(O)/tests $(O)/tests/obj $(O)/bpf $(O)/fuzz/obj:
	$(Q)mkdir -p $@

ifeq ($(VMLINUX_H),)
# Regenerate from the running kernel's BTF; replace only when it changed so nothing rebuilds.
$(O)/vmlinux.h: | $(O)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
else
$(O)/vmlinux.h: $(VMLINUX_H) | $(O)
	$(Q)cp $< $@
endif

$(O)/bpf/%.tmp.bpf.o: bpf/%.bpf.c $(O)/vmlinux.h | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(O)/bpf/$*.d -c $< -o $@

$(O)/%.bpf.o: $(O)/bpf/%.tmp.bpf.o
	$(call msg,GENOBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(O)/%.skel.h: $(O)/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(SKEL_OBJS): $(SKELS)

$(O)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/libconsentry.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(O)/user/main.o $(SKEL_OBJS) $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

# CS_SRCDIR: where a unit test finds the tree's scripts (test_geoip runs scripts/gen/mkmmdb.py)
$(O)/tests/obj/%.o: tests/unit/%.c | $(O)/tests/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -DCS_SRCDIR='"$(CURDIR)"' -c $< -o $@

$(O)/tests/obj/%.o: tests/bpf/%.c $(SKELS) | $(O)/tests/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -c $< -o $@

$(O)/tests/test_%: $(O)/tests/obj/test_%.o $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -lcmocka -o $@

$(O)/tests/bpftest_%: $(O)/tests/obj/bpftest_%.o $(SKEL_OBJS) $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -lcmocka -o $@

setup:
	$(Q)scripts/setup

$(O)/fuzz/obj/%.o: user/%.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(O)/fuzz/libconsentry.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(O)/fuzz/libconsentry.a | $(O)/fuzz/obj
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MF $(O)/fuzz/obj/fuzz_$*.d -D_GNU_SOURCE -Itests/fuzz -fsanitize=fuzzer $< \
		$(O)/fuzz/libconsentry.a $(LIBBPF_LIBS) -o $@

fuzz-build: $(FUZZ_BINS) $(BIN)

# FUZZ_SECS per harness, seed corpora from tests/fuzz/mkcorpus; fails on any report (tests/fuzz/run)
fuzz: fuzz-build
	$(Q)tests/fuzz/run $(O) $(FUZZ_SECS) $(FUZZ)

# The scanner's combined transition table, from the readable tables in include/cs_scan_def.h.
gen: | $(O)
	$(call msg,GEN,include/cs_scan_table.h)
	$(Q)$(CC) -O1 -Iinclude scripts/gen/scan-table.c -o $(O)/gen-scan-table
	$(Q)$(O)/gen-scan-table > include/cs_scan_table.h.tmp && mv include/cs_scan_table.h.tmp include/cs_scan_table.h

# unit tests (no root, no BPF toolchain needed); with SANITIZE=1 under ASan/UBSan (.output-san)
unit test-unit: $(UNIT_BINS)
	$(Q)tests/run --unit $(O)

test: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run --all $(O)

demo: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/demo $(BIN)

# The sanitized build (SANITIZE=1): its unit tests, then the monitor through e2e tests of each
# path (plain HTTP, TLS, decoded renderings, HTTP/2, DNS, reload, consent from PostgreSQL); root.
# Every sanitizer report goes to a file in $(O)/san-logs, and any report fails the run (leaks at
# exit included). The sanitized monitor is slower: each test gets 300 s, not 180.
SAN_E2E ?= http_post tls_curl decoded consent_reload consent_pg h2c dns_host dedup
SAN_LOGS = $(abspath $(O))/san-logs
test-san:
ifneq ($(SANITIZE),1)
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test-san
else
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test-unit
	$(Q)rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	$(Q)ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:log_path=$(SAN_LOGS)/report \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/report:suppressions=$(CURDIR)/tests/ubsan.supp \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		E2E_TIMEOUT=$${E2E_TIMEOUT:-300} tests/run --e2e $(O) $(SAN_E2E); rc=$$?; \
	for f in $(SAN_LOGS)/report.*; do [ -e "$$f" ] || continue; echo "sanitizer report $$f:"; cat "$$f"; rc=1; done; \
	exit $$rc
endif

# scripts/soak: DURATION in seconds or 90s, 3m, 1h
DURATION ?= 3m
soak: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/soak $(BIN) $(DURATION)

bench: setup
	$(Q)$(MAKE) --no-print-directory $(BIN) $(O)/hooktax
	$(Q)scripts/bench/bench $(BIN)

# the bench's "tax" modes: each capture's hooks with empty programs (bpf/hooktax.bpf.c)
$(O)/hooktax: scripts/bench/hooktax.c $(O)/hooktax.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIBBPF_LIBS) -o $@

# microbenchmark of the collector's scan (--scan-in collector) against the plain scanner
$(O)/scanbench: scripts/bench/scanbench.c $(O)/libconsentry.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(O)/libconsentry.a $(LIBBPF_LIBS) -lm -o $@

# the findings journal at scale: write rate and query times (make bench, phase journal)
$(O)/journalbench: scripts/bench/journalbench.c $(O)/libconsentry.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(O)/libconsentry.a $(LIBBPF_LIBS) -o $@

# install: PREFIX (default /usr/local), DESTDIR (a staging root); the unit goes to the
# system unit directory (/lib/systemd/system), the configuration layout to /etc/consentry
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= /lib/systemd/system
DEB_VERSION ?= $(shell git describe --tags --always 2>/dev/null | sed 's/^v//; s/^\([^0-9]\)/0~\1/')

install: $(BIN)
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/consentry)
	$(Q)install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/consentry
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8
	$(Q)sed 's#@SBINDIR@#$(SBINDIR)#g' scripts/systemd/consentry.service.in \
		> $(DESTDIR)$(UNITDIR)/consentry.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/consentry.service
	$(Q)gzip -9n -c docs/consentry.8 > $(DESTDIR)$(MANDIR)/man8/consentry.8.gz
	$(Q)install -d -m 0700 $(DESTDIR)/etc/consentry
	$(Q)install -m 0644 scripts/systemd/README.etc $(DESTDIR)/etc/consentry/README

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/consentry $(DESTDIR)$(UNITDIR)/consentry.service \
		$(DESTDIR)$(MANDIR)/man8/consentry.8.gz $(DESTDIR)/etc/consentry/README
	$(Q)rmdir $(DESTDIR)/etc/consentry 2>/dev/null || true

# a Debian package of the binary, the unit and the man page (dpkg-deb), in $(O)/deb
deb: $(BIN)
	$(call msg,DEB,$(O)/deb/consentry_$(DEB_VERSION)_amd64.deb)
	$(Q)rm -rf $(O)/deb/root && mkdir -p $(O)/deb/root/DEBIAN
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(O)/deb/root PREFIX=/usr
	$(Q)printf '%s\n' 'Package: consentry' 'Version: $(DEB_VERSION)' 'Architecture: amd64' \
		'Maintainer: consentry developers <consentry@localhost>' 'Section: admin' \
		'Priority: optional' \
		'Depends: libbpf1 (>= 1:1.1), libelf1, zlib1g, libssl3, libnghttp2-14, libsqlite3-0, libpcap0.8, libmicrohttpd12, libsystemd0, libmaxminddb0, libpq5' \
		'Description: report unconsented disclosures of personal data leaving the host' \
		' eBPF probes match outbound payloads against keyed fingerprints of registered' \
		' users data; a collector maps each hit to a subject and a recipient and checks' \
		' the consent table.' > $(O)/deb/root/DEBIAN/control
	$(Q)printf '%s\n' '/etc/consentry/README' > $(O)/deb/root/DEBIAN/conffiles
	$(Q)dpkg-deb --root-owner-group --build $(O)/deb/root \
		$(O)/deb/consentry_$(DEB_VERSION)_amd64.deb >/dev/null

eval: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/eval/eval $(BIN)

CHECK_SRCS = $(wildcard user/*.[ch] user/*/*.[ch] include/*.h bpf/*.bpf.c bpf/lib/*.h tests/unit/*.[ch] tests/bpf/*.[ch] \
	tests/fuzz/*.[ch]) \
	scripts/bench/hooktax.c scripts/bench/journalbench.c

format:
	$(Q)clang-format -i $(CHECK_SRCS)

# check compiles every build variant, each into its own output directory under $(O)/check: the
# sanitized build (SANITIZE=1), the fuzz harnesses, and the bench's cost-floor BPF objects
# (BPF_EXTRA=-DCS_FLOOR=1 and 2, scripts/bench); compile only, nothing runs.
# The fuzz harnesses build where make fuzz-build puts them ($(O)/fuzz).
CHECK_O = $(abspath $(O))/check
check-variants: $(O)/vmlinux.h
	$(call msg,VARIANT,SANITIZE=1)
	$(Q)$(MAKE) -s --no-print-directory SANITIZE=1 O=$(CHECK_O)/san VMLINUX_H=$(O)/vmlinux.h all
	$(call msg,VARIANT,fuzz harnesses)
	$(Q)$(MAKE) -s --no-print-directory $(FUZZ_BINS)
	$(Q)for n in 1 2; do \
		printf '  %-8s %s\n' VARIANT "CS_FLOOR=$$n"; \
		$(MAKE) -s --no-print-directory O=$(CHECK_O)/floor-$$n VMLINUX_H=$(O)/vmlinux.h \
			BPF_EXTRA=-DCS_FLOOR=$$n $(CHECK_O)/floor-$$n/consentry.skel.h || exit; \
	done

check: all check-variants
	$(call msg,FORMAT,clang-format)
	$(Q)clang-format --dry-run --Werror $(CHECK_SRCS)
	$(call msg,CPPCHECK,user include tests)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D__x86_64__ -Iinclude $(USER_INC) -I$(O) $(LIBPQ_CFLAGS) \
		--suppress=missingIncludeSystem --suppress=unmatchedSuppression \
		user tests/unit tests/bpf tests/fuzz
	$(call msg,SHCHECK,tests scripts .ci)
	$(Q)shellcheck -x tests/run tests/fuzz/run .ci/run $(wildcard tests/e2e/*.sh tests/e2e/lib/*.sh) \
		scripts/setup scripts/demo scripts/soak scripts/netns.sh scripts/bench/bench \
		scripts/bench/reload-sync
	$(call msg,PYFLAKES,tests/e2e/clients scripts tests/fuzz/mkcorpus)
	$(Q)pyflakes3 $(wildcard tests/e2e/clients/*.py scripts/*.py scripts/*/*.py scripts/*/*/*.py) \
		scripts/eval/eval tests/fuzz/mkcorpus

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

-include $(wildcard $(O)/user/*.d $(O)/user/*/*.d $(O)/tests/obj/*.d $(O)/bpf/*.d $(O)/fuzz/obj/*.d \
	$(O)/fuzz/obj/*/*.d)
