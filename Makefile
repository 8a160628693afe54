# SPDX-License-Identifier: GPL-2.0-only
# consentry: build the BPF object, its skeleton, the collector and the tests out of tree.
O ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
VMLINUX_H ?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lcrypto -lnghttp2

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser -I$(O) $(LIBBPF_CFLAGS) -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror $(BPF_EXTRA) \
	-Iinclude -Ibpf -I$(O) $(LIBBPF_CFLAGS) -MMD -MP

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(wildcard user/*.c)
LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
LIB_OBJS := $(patsubst user/%.c,$(O)/user/%.o,$(LIB_SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
BPFTEST_SRCS := $(wildcard tests/bpf/bpftest_*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(O)/tests/%,$(BPFTEST_SRCS))
BIN := $(O)/consentry

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all test unit check format demo bench eval gen clean help setup install soak

all: $(BIN) $(UNIT_BINS) $(BPFTEST_BINS) $(O)/hooktax $(O)/scanbench

help:
	@echo 'targets:'
	@echo '  all     build $(BIN), unit and BPF test binaries (default)'
	@echo '  test    install missing packages, build, run unit + BPF + end-to-end tests (root)'
	@echo '  unit    unit tests only (no root)'
	@echo '  check   clang-format and cppcheck, zero findings required'
	@echo '  demo    end-to-end demo on bundled synthetic data (root)'
	@echo '  soak    mixed traffic for DURATION (default 3m): exact findings, flat memory and fds (root)'
	@echo '  bench   overhead benchmark, monitor off vs on, CSV + plots (root)'
	@echo '  eval    detection harness: recall/false findings per rendering x channel (root)'
	@echo '  clean   remove $(O)'
	@echo 'variables: O=dir CLANG= BPFTOOL= VMLINUX_H=path V=1 DURATION= (soak)'

$(O) $(O)/user $(O)/tests $(O)/tests/obj $(O)/bpf:
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

$(O)/user/%.o: user/%.c $(SKELS) | $(O)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/libconsentry.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(O)/user/main.o $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(O)/tests/obj/%.o: tests/unit/%.c | $(O)/tests/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(O)/tests/obj/%.o: tests/bpf/%.c $(SKELS) | $(O)/tests/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(O)/tests/test_%: $(O)/tests/obj/test_%.o $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -lcmocka -o $@

$(O)/tests/bpftest_%: $(O)/tests/obj/bpftest_%.o $(O)/libconsentry.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBBPF_LIBS) -lcmocka -o $@

setup:
	$(Q)scripts/setup

# The scanner's combined transition table, from the readable tables in include/cs_scan_def.h.
gen: | $(O)
	$(call msg,GEN,include/cs_scan_table.h)
	$(Q)$(CC) -O1 -Iinclude scripts/gen-scan-table.c -o $(O)/gen-scan-table
	$(Q)$(O)/gen-scan-table > include/cs_scan_table.h.tmp && mv include/cs_scan_table.h.tmp include/cs_scan_table.h

unit: $(UNIT_BINS)
	$(Q)tests/run --unit $(O)

test: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run --all $(O)

demo: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/demo $(BIN)

# scripts/soak: DURATION in seconds or 90s, 3m, 1h
DURATION ?= 3m
soak: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/soak $(BIN) $(DURATION)

bench: setup
	$(Q)$(MAKE) --no-print-directory $(BIN) $(O)/hooktax
	$(Q)scripts/bench $(BIN)

# the bench's "tax" modes: each capture's hooks with empty programs (bpf/hooktax.bpf.c)
$(O)/hooktax: scripts/hooktax.c $(O)/hooktax.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIBBPF_LIBS) -o $@

# microbenchmark of the collector's scan (--scan-in collector) against the plain scanner
$(O)/scanbench: scripts/scanbench.c $(O)/libconsentry.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(O)/libconsentry.a $(LIBBPF_LIBS) -lm -o $@

eval: setup
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)scripts/eval $(BIN)

CHECK_SRCS = $(wildcard user/*.[ch] include/*.h bpf/*.bpf.c bpf/lib/*.h tests/unit/*.[ch] tests/bpf/*.[ch]) \
	scripts/hooktax.c

format:
	$(Q)clang-format -i $(CHECK_SRCS)

check: all
	$(call msg,FORMAT,clang-format)
	$(Q)clang-format --dry-run --Werror $(CHECK_SRCS)
	$(call msg,CPPCHECK,user include tests)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D__x86_64__ -Iinclude -Iuser -I$(O) \
		--suppress=missingIncludeSystem --suppress=unmatchedSuppression \
		user tests/unit tests/bpf

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

-include $(wildcard $(O)/user/*.d $(O)/tests/obj/*.d $(O)/bpf/*.d)
