# SPDX-License-Identifier: Apache-2.0
# ambit — one top-level Makefile, built out of tree (O=, default .output/).
#   make            build everything        make V=1     show commands
#   make test       every test tier          make bench   benchmarks
#   make SAN=1      ASan+UBSan build (own output dir)    make help

O ?= .output
ifeq ($(SAN),1)
override O := $(O)-san
endif
OUT := $(abspath $(O))

CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
CC ?= cc
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(OUT)/%,%,$(2))";
endif

LIBS := libbpf libelf zlib yaml-0.1 libpcre2-8 jansson
LIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS) 2>/dev/null)
LIB_LDLIBS := $(shell $(PKG_CONFIG) --libs $(LIBS) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wshadow \
	  -Wmissing-prototypes -Wstrict-prototypes -Werror \
	  -I$(OUT) -Iinclude -Iuser/lib -Iuser/proxy $(LIB_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(OUT) -Iinclude -Ivmlinux/$(ARCH) $(EXTRA_BPF_CFLAGS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(LIB_SRCS))
LIBAMBIT := $(OUT)/libambit.a

AMBITD_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(wildcard user/ambitd/*.c))
AMBIT_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(wildcard user/ambit/*.c))
PROXY_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(wildcard user/proxy/*.c))
CNI_OBJS := $(patsubst user/%.c,$(OUT)/obj/%.o,$(wildcard user/cni/*.c))
CNI_LIB_OBJS := $(filter-out %/main.o,$(CNI_OBJS)) # what the unit test links

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
TEST_TOOLS := $(OUT)/ambit-echo $(OUT)/ambit-probe $(OUT)/connbench

BINS := $(OUT)/ambitd $(OUT)/ambit $(OUT)/ambit-proxy $(OUT)/ambit-cni $(TEST_TOOLS)

.PHONY: FORCE all tests test test-unit test-e2e test-deploy bench check install clean help fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS)

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Objects include skeletons (daemon) or shared headers: skeletons first.
$(OUT)/obj/%.o: user/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Build identity for ambit_build_info; rewritten only when it changes.
AMBIT_VERSION ?= 0.1.0-dev
AMBIT_COMMIT := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(OUT)/ambit-version.h: FORCE | $(OUT)
	$(Q)printf '#define AMBIT_VERSION "%s"\n#define AMBIT_COMMIT "%s"\n' \
		'$(AMBIT_VERSION)' '$(AMBIT_COMMIT)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(OUT)/obj/ambitd/metrics.o: $(OUT)/ambit-version.h
FORCE:

$(LIBAMBIT): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/ambitd: $(AMBITD_OBJS) $(LIBAMBIT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIB_LDLIBS) -o $@

$(OUT)/ambit: $(AMBIT_OBJS) $(LIBAMBIT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIB_LDLIBS) -o $@

$(OUT)/ambit-proxy: $(PROXY_OBJS) $(LIBAMBIT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIB_LDLIBS) -lpthread -o $@

$(OUT)/ambit-cni: $(CNI_OBJS) $(LIBAMBIT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIB_LDLIBS) -o $@

$(OUT)/ambit-echo: tests/echo/ambit-echo.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LDFLAGS) -o $@

$(OUT)/ambit-probe: tests/tools/ambit-probe.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LDFLAGS) -o $@

$(OUT)/connbench: tests/bench/connbench.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LDFLAGS) -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(LIBAMBIT) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -MMD -MP $< $(TEST_EXTRA) $(LIBAMBIT) $(LDFLAGS) \
		$(LIB_LDLIBS) -lcmocka -o $@

$(OUT)/tests/test_cni: $(CNI_LIB_OBJS)
$(OUT)/tests/test_cni: TEST_EXTRA = -Iuser/cni $(CNI_LIB_OBJS)

# libFuzzer targets: the library sources built with clang's fuzzer and
# sanitizer runtimes, independent of the SAN= build.
FUZZ_SECS ?= 20
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) | $(OUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
		-Iinclude -Iuser/lib $(LIB_CFLAGS) $^ $(LIB_LDLIBS) $(FUZZ_EXTRA) -o $@

$(OUT)/fuzz/fuzz_cni: user/cni/cni.c
$(OUT)/fuzz/fuzz_cni: FUZZ_EXTRA = -Iuser/cni

fuzz: $(FUZZ_BINS)
	$(Q)OUT=$(OUT) tests/fuzz/run.sh $(FUZZ_SECS)

$(OUT) $(OUT)/bpf $(OUT)/tests $(OUT)/fuzz:
	$(Q)mkdir -p $@

tests: $(UNIT_BINS) $(TEST_TOOLS) $(FUZZ_BINS)

# Every tier; the runner sums them and prints "N passed, N failed".
test: all $(UNIT_BINS)
	$(Q)OUT=$(OUT) tests/run.sh all

test-unit: $(UNIT_BINS)
	$(Q)OUT=$(OUT) tests/run.sh unit

test-e2e: all
	$(Q)OUT=$(OUT) tests/run.sh e2e

test-deploy: all
	$(Q)OUT=$(OUT) tests/run.sh deploy

# L4 connect path, then L7 requests in two placements: the proxies on the
# backends' core (the load generator alone on the other), then the proxies
# alone on their own core (load generator and backends on the other); then
# ambit-proxy without the sk_msg fast path, to show what it brings; last,
# what one pass closing connections to a removed endpoint costs.
bench: all tests
	$(Q)OUT=$(OUT) tests/bench/run.sh
	$(Q)OUT=$(OUT) bash tests/bench/l7.sh
	$(Q)OUT=$(OUT) PIN_BACKEND=1 bash tests/bench/l7.sh
	$(Q)OUT=$(OUT) L7_NO_SOCKMAP=1 L7_ONLY=ambit bash tests/bench/l7.sh
	$(Q)OUT=$(OUT) bash tests/bench/stale.sh

check:
	$(Q)scripts/check.sh

# Binaries, the scripts the DaemonSet and the unit run (ambitd-run,
# ambit-cni-install, ambit-k8s-watch) in LIBEXECDIR/ambit, man pages, bash
# completion, the systemd unit (its paths follow PREFIX) and, only where
# there is none yet, /etc/default/ambitd.
PREFIX ?= /usr
# Where container runtimes look for CNI plugins (kubelet's and
# containerd's default; Debian's own plugins live in /usr/lib/cni).
CNI_BIN_DIR ?= /opt/cni/bin
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
LIBEXEC_SCRIPTS := scripts/ambitd-run scripts/ambit-cni-install \
		   $(wildcard scripts/ambit-k8s-watch)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/ambit
	install -m 0755 $(OUT)/ambitd $(DESTDIR)$(SBINDIR)/ambitd
	install -m 0755 $(OUT)/ambit $(DESTDIR)$(BINDIR)/ambit
	install -m 0755 $(OUT)/ambit-proxy $(DESTDIR)$(SBINDIR)/ambit-proxy
	install -d $(DESTDIR)$(CNI_BIN_DIR)
	install -m 0755 $(OUT)/ambit-cni $(DESTDIR)$(CNI_BIN_DIR)/ambit-cni
	install -m 0755 $(LIBEXEC_SCRIPTS) $(DESTDIR)$(LIBEXECDIR)/ambit/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR)
	install -m 0644 man/ambit.1 $(DESTDIR)$(MANDIR)/man1/ambit.1
	install -m 0644 man/ambitd.8 man/ambit-proxy.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/ambit.bash $(DESTDIR)$(BASHCOMPDIR)/ambit
	sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/libexec/|$(LIBEXECDIR)/|g' \
		-e 's|/etc/default/|$(SYSCONFDIR)/default/|g' \
		deploy/systemd/ambitd.service >$(DESTDIR)$(UNITDIR)/ambitd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ambitd.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/ambitd ] || install -D -m 0644 \
		deploy/systemd/ambitd.default $(DESTDIR)$(SYSCONFDIR)/default/ambitd

clean:
	rm -rf $(OUT) $(abspath $(O))-san

help:
	@echo 'Targets: all test test-unit test-e2e test-deploy bench check install clean help'
	@echo 'Options: O=DIR (build dir, default .output)  V=1 (verbose)'
	@echo '         SAN=1 (ASan+UBSan build)  CC= CLANG= BPFTOOL= EXTRA_CFLAGS='
	@echo '         install: DESTDIR= PREFIX= (default /usr) BINDIR= SBINDIR= LIBEXECDIR='
	@echo '         MANDIR= BASHCOMPDIR= UNITDIR= SYSCONFDIR= CNI_BIN_DIR= (default /opt/cni/bin)'

-include $(wildcard $(OUT)/obj/*/*.d $(OUT)/*.d $(OUT)/bpf/*.d $(OUT)/tests/*.d)
