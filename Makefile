# hyvm: one non-recursive Makefile for user space, guests and tests;
# kmod/ is built by Kbuild against the installed kernel headers.
#   make            build everything this machine can build
#   make test       CUnit tests, then the guest suite on every engine here
#   make test SAN=1 the same under ASan/UBSan
#   make kmod       hyvm.ko against linux-headers-$(uname -r) or KDIR

O        ?= build
SAN      ?= 0
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
            -Iinclude -Iuserspace -I. -MMD -MP -D_GNU_SOURCE
LDFLAGS  += -Wl,-z,noexecstack
LDLIBS   += -lelf -lZydis -lncursesw -lpthread -lrt
# libslirp, QEMU's user-mode network stack (userspace/net/net_slirp.c);
# its .pc requires glib-2.0's, hence libglib2.0-dev in scripts/install-deps.
SLIRP_CFLAGS := $(shell pkg-config --cflags slirp)
SLIRP_LIBS   := $(shell pkg-config --libs slirp)
ifeq ($(SLIRP_LIBS),)
$(error libslirp not found by pkg-config: run scripts/install-deps (libslirp-dev, libglib2.0-dev))
endif
LDLIBS   += $(SLIRP_LIBS)
# the control socket's QMP (json-c) and checkpoints' RAM (zstd)
ifeq ($(shell pkg-config --exists json-c libzstd && echo yes),)
$(error json-c or libzstd not found by pkg-config: run scripts/install-deps (libjson-c-dev, libzstd-dev))
endif
LDLIBS   += $(shell pkg-config --libs json-c libzstd)
ifeq ($(SAN),1)
O        := build-san
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# Every .c under these folders is part of the VMM; the CLI's main() is not
# linked into the unit tests.
CORE_SRCS := $(filter-out userspace/cli/main.c,$(shell find userspace devices bt hybrid -name '*.c' | sort))
CORE_OBJS := $(CORE_SRCS:%.c=$(O)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(O)/%.o)

.DEFAULT_GOAL := all

CLI_GUESTS := $(O)/cli/triple-fault.bin $(O)/cli/unbacked-memory.bin $(O)/cli/rom-write.bin \
              $(O)/cli/string-io.bin $(O)/cli/mmio-forms.bin $(O)/cli/serial-echo.bin \
              $(O)/cli/reboot.bin $(O)/cli/power-button.bin
TOP_GUESTS := $(patsubst tests/top/%.asm,$(O)/top/%.elf,$(wildcard tests/top/*.asm))

.PHONY: test-top
test-top: $(O)/hyvm $(TOP_GUESTS)
	tests/top/run.sh $(O)/hyvm $(O)/top

.PHONY: all test test-host test-unit test-guests test-guests-qemu test-bt-diff kmod clean bench-bt
all: $(O)/hyvm $(O)/unit-tests $(O)/mkbadelf $(O)/crash-driver $(O)/slow_writes.so $(CLI_GUESTS) guests $(TOP_GUESTS) \
     $(O)/random16-gen

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# glib's include folders only where libslirp's header is used
$(O)/userspace/net/%.o: CFLAGS += $(SLIRP_CFLAGS)

$(O)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(O)/hyvm: $(O)/userspace/cli/main.o $(CORE_OBJS) $(O)/demo_guest.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/unit-tests: $(UNIT_OBJS) $(CORE_OBJS) $(O)/demo_guest.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(O)/mkbadelf: $(O)/tests/cli/mkbadelf.o $(O)/tests/unit/elf_builder.o $(O)/tests/unit/bzimage_builder.o
	$(CC) $(LDFLAGS) -o $@ $^

# Random 16-bit instruction blocks as a guest image (tests/bt/random16.sh).
$(O)/random16-gen: $(O)/tests/bt/random16.o
	$(CC) $(LDFLAGS) -o $@ $^ -lZydis

# The block layer alone, for tests/block/crash.sh.
BLOCK_OBJS := $(filter $(O)/userspace/block/% $(O)/userspace/files/%,$(CORE_OBJS))
$(O)/crash-driver: $(O)/tests/block/crash_driver.o $(BLOCK_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

# LD_PRELOAD of tests/linux/ckpt-disk-busy.sh: slower disk writes
$(O)/slow_writes.so: tests/linux/slow_writes.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -shared -fPIC -o $@ $< -ldl

$(O)/cli/%.bin: tests/cli/%.asm tests/cli/multiboot_flat.inc
	@mkdir -p $(dir $@)
	nasm -f bin -i tests/cli/ -o $@ $<

# hyvm top's guests: ELF with symbols, so the console names exit sites.
$(O)/top/%.elf: tests/top/%.asm
	@mkdir -p $(dir $@)
	nasm -f elf32 -Werror -o $(O)/top/$*.o $<
	ld -m elf_i386 -N -Ttext=0x100000 -z noexecstack --no-warn-rwx-segments -e start -o $@ $(O)/top/$*.o

include tests/guests/guests.mk
include tests/hostile/hostile.mk
include tests/fuzz/fuzz.mk
include bench/bt/bench.mk
include bench/nano/nano.mk
include bench/storms/storms.mk
include bench/linux/linux.mk
include bench/issue13.mk
include docs/man/man.mk
include dist/install.mk

# The demo guest is linked into hyvm so `hyvm run` with no GUEST works
# from any directory.
$(O)/demo_guest.o: $(GUEST_DIR)/demo.elf
	@mkdir -p $(dir $@)
	cd $(GUEST_DIR) && ld -r -b binary -m elf_x86_64 -o $(abspath $@) demo.elf

# make test: the host-side tests, again under ASan/UBSan, the QEMU oracle
# run of the guest suite, bt against QEMU TCG (tests/bt/differential.sh),
# the hostile guests on bt, plain and under ASan/UBSan (tests/hostile/run.sh
# and random-pages.sh: about 2 minutes plain, 4-5 under SAN=1 on a loaded
# 2-core machine, the random-code pages 0.5-1.5 minutes of each),
# the libFuzzer harnesses for 10 s each (tests/fuzz/fuzz.mk: 11, ~2.5 minutes,
# plus their first clang build),
# DKMS's build of hyvm.ko, the Debian packages, hyvm.ko in emulated AMD and Intel hosts, then the guest
# suite on this machine's engines.
test: test-host
ifneq ($(SAN),1)
	$(MAKE) --no-print-directory SAN=1 test-host
endif
	tests/run-guests.sh --qemu --guests $(GUEST_DIR)
	tests/bt/differential.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR)
	tests/bt/random16.sh --hyvm $(O)/hyvm --gen $(O)/random16-gen
	$(MAKE) --no-print-directory test-hostile
	$(MAKE) --no-print-directory SAN=1 test-hostile
	$(MAKE) --no-print-directory test-fuzz
	$(MAKE) --no-print-directory test-linux
	$(MAKE) --no-print-directory test-dkms
	$(MAKE) --no-print-directory test-deb
	$(MAKE) --no-print-directory test-kmod-svm
	$(MAKE) --no-print-directory test-kmod-vmx
	$(MAKE) --no-print-directory test-kmod-vmx-linux
	tests/run-guests.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR) --engines all

# The host-side tests (what SAN=1 is for): CUnit, bad input, guest faults,
# the console, the guest suite on this machine's engines.
test-host: all
	$(O)/unit-tests
	tests/cli/bad-input.sh $(O)/hyvm $(O)/mkbadelf $(O)/crash-driver
	tests/block/crash.sh $(O)/hyvm $(O)/crash-driver
	tests/cli/net-backend.sh $(O)/hyvm $(O)/cli
	tests/cli/guest-faults.sh $(O)/hyvm $(O)/cli
	tests/cli/memory-map.sh $(O)/hyvm $(O)/cli $(GUEST_DIR)
	tests/cli/emulated-io.sh $(O)/hyvm $(O)/cli bt
	tests/cli/pci-devices.sh $(O)/hyvm $(GUEST_DIR) bt
	tests/cli/reboot.sh $(O)/hyvm $(O)/cli bt
	tests/cli/console-tty.sh $(O)/hyvm $(O)/cli bt
	tests/ctl/qmp.sh $(O)/hyvm $(GUEST_DIR)
	tests/ctl/ckpt-guest.sh $(O)/hyvm $(GUEST_DIR)
	tests/ctl/power-button.sh $(O)/hyvm $(O)/cli bt
	tests/top/run.sh $(O)/hyvm $(O)/top
	tests/bench/run.sh $(O)/hyvm $(NANO_ELF)
	tests/bench/storms.sh $(O)/hyvm $(STORMS_ELF)
	tests/hybrid/run.sh $(O)/hyvm $(GUEST_DIR)
	tests/gdb/run.sh $(O)/hyvm $(GUEST_DIR) bt
	tests/gdb/steps.sh $(O)/hyvm $(GUEST_DIR) bt
	tests/gdb/run.sh $(O)/hyvm $(GUEST_DIR) kvm
	tests/gdb/steps.sh $(O)/hyvm $(GUEST_DIR) kvm
	tests/cpu/same-cpuid.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR)
	tests/run-guests.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR) --engines all
	tests/firmware/boot-chain.sh $(O)/hyvm --engine qemu --kind sector
	tests/firmware/boot-chain.sh $(O)/hyvm --engine bt --kind sector
	$(MAKE) --no-print-directory test-man
	$(MAKE) --no-print-directory test-install

test-unit: $(O)/unit-tests
	$(O)/unit-tests

test-guests: $(O)/hyvm guests
	tests/run-guests.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR) --engines all

# Each engine against QEMU TCG, guest by guest: same serial output, exit
# status and STATE line (registers and a memory CRC32).
test-bt-diff: $(O)/hyvm guests $(O)/random16-gen
	tests/bt/differential.sh --hyvm $(O)/hyvm --guests $(GUEST_DIR)
	tests/bt/random16.sh --hyvm $(O)/hyvm --gen $(O)/random16-gen

test-guests-qemu: guests
	tests/run-guests.sh --qemu --guests $(GUEST_DIR)

# Debian's i386 kernel through the Linux boot protocol (not in test-host:
# it apt-get downloads the kernel and busybox into $(O)/linux, SKIP when it
# cannot). test-linux (in make test): the scripted session of
# tests/linux/init-session.sh to the guest's power-off, with the APICs and
# ACPI tables as a stock kernel finds them, on bt and on hybrid (SKIP where
# no hardware engine is), ~20-40 s each, and on bt with acpi=off (no PM
# timer: Linux calibrates the TSC on the PIT, or keeps time by its
# ticks); then the early lines with
# `nolapic noapic` (the 8259-only path), ~10 s; then virtio-blk with an
# ext4 image: plain, snapshot + hyvm disk commit, read-only (~45 s); then
# SIGKILL during the guest's flushed writes, 3 x (plain, snapshot) (~60-100 s);
# then virtio-net on libslirp: DHCP, an HTTP fetch from 127.0.0.1 through
# the gateway, hostfwd into the guest's httpd (~40 s); then gdb on bt: a
# breakpoint at the kernel's uname system call, registers (~35 s); then a
# checkpoint of the interactive shell: a file and a background process,
# hyvm ctl save --quit, hyvm restore, the shell answers with both (~30-70 s:
# one boot, the restore ~2-3 s); the same with --cpu pentium3 restored on
# hybrid, kvm and bt (~20 s: on kvm_pvm a SKIP at kvm, which cannot run
# 32-bit paging); then a checkpoint with a snapshot disk:
# the overlay travels in the checkpoint, three restores of one checkpoint
# read the guest's write back after dropping its page cache (~35 s, one
# boot); then a checkpoint taken while the guest writes to that disk
# (slow_writes.so keeps requests in flight): the restored sync returns
# (~40-60 s, one boot); then a checkpoint with virtio-net on slirp: after the restore the
# DHCP address is kept and a new HTTP fetch from 127.0.0.1 works (~25 s,
# one boot); then the PC boot chain on bt: SeaBIOS ->
# GRUB 2 -> the i386 session from a virtio disk, and SeaBIOS -> --kernel
# through fw_cfg (tests/firmware/boot-chain.sh, ~25 s each). test-linux-full: the session
# on bt with `nolapic noapic` too.
.PHONY: test-linux test-linux-full test-linux-reboot
test-linux: $(O)/hyvm $(O)/slow_writes.so
	tests/linux/boot.sh $(O)/hyvm --full --engine bt
	tests/linux/boot.sh $(O)/hyvm --full --engine bt --append-extra "acpi=off"
	tests/linux/boot.sh $(O)/hyvm --full --engine hybrid
	tests/linux/boot.sh $(O)/hyvm --append-extra "nolapic noapic"
	tests/linux/disk.sh $(O)/hyvm
	tests/linux/crash.sh $(O)/hyvm --runs 3
	tests/linux/net.sh $(O)/hyvm
	tests/gdb/linux.sh $(O)/hyvm bt
	tests/linux/ckpt.sh $(O)/hyvm
	tests/linux/ckpt.sh $(O)/hyvm --cpu pentium3 --restore hybrid,kvm,bt
	tests/linux/ckpt-disk.sh $(O)/hyvm
	tests/linux/ckpt-disk-busy.sh $(O)/hyvm
	tests/linux/ckpt-net.sh $(O)/hyvm
	tests/firmware/boot-chain.sh $(O)/hyvm --engine bt --kind linux
	tests/firmware/boot-chain.sh $(O)/hyvm --engine bt --kind kernel
test-linux-full: test-linux
	tests/linux/boot.sh $(O)/hyvm --full --append-extra "nolapic noapic"
# reboot -f in the guest: reset and boot again, then --no-reboot (~5 min)
test-linux-reboot: $(O)/hyvm
	tests/linux/reboot.sh $(O)/hyvm
# Not in make test (issue 15, crash safety and soak). test-linux-soak: the
# i386 guest on bt under disk, network and timer load, hyvm's RSS and fds
# sampled into $(O)/soak.csv, for SOAK_MINUTES (default 10; ~11 min in all).
# With bt's bounded translation cache: passed once at load 8-14, failed once
# at load 13-14 by 6.5% (docs/SECURITY.md), so not in make test.
# test-linux-crash-long: SIGKILL during flushed writes, 25 x (plain,
# snapshot), 50 kills (~10-15 min on a loaded 2-core machine).
SOAK_MINUTES ?= 10
.PHONY: test-linux-soak test-linux-crash-long
test-linux-soak: $(O)/hyvm
	tests/linux/soak.sh $(O)/hyvm --minutes $(SOAK_MINUTES)
test-linux-crash-long: $(O)/hyvm
	tests/linux/crash.sh $(O)/hyvm --runs 25 --limit 180

KDIR ?= /lib/modules/$(shell uname -r)/build
kmod:
	@if [ ! -d "$(KDIR)" ]; then KD=$$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1); \
	  if [ -z "$$KD" ]; then echo "make kmod: no kernel headers (apt-get install linux-headers-amd64)"; exit 2; fi; \
	  $(MAKE) -C $$KD M=$(CURDIR)/kmod modules; \
	else $(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules; fi

# DKMS: dkms add/build of what make install puts in src/hyvm-VERSION, for
# every kernel with headers here (tests/pkg/dkms.sh, temporary DKMS trees;
# ~60 s; SKIP without dkms, headers or root). HYVM_TEST_DKMS_INSTALL=1:
# dkms install/uninstall too.
.PHONY: test-dkms
test-dkms: $(O)/hyvm
	tests/pkg/dkms.sh

# The Debian packages built in a copy of the tree, their files, lintian
# (tests/pkg/deb.sh; ~2.5 min; SKIP without debhelper/dh-dkms).
# HYVM_TEST_DEB_INSTALL=1 (root): dpkg -i, hyvm as a user in group kvm, purge.
.PHONY: test-deb
test-deb:
	tests/pkg/deb.sh

# hyvm.ko inside Debian's kernel booted in QEMU TCG with SVM+NPT (tests/kmod/).
# It also runs tests/linux/disk.sh, net.sh and crash.sh there with Debian's
# amd64 kernel on --engine svm (--linux-io: disk 52-53 s, net 13-15 s,
# crash 46-79 s of the run, measured; each shows as a TIME line), and
# (--linux-kvm) the amd64 kernel on --engine kvm, the emulated host's own
# kvm_amd (20-41 s; 4 of 4 runs passed at load 2-17; a run in which the
# emulated host locks up is retried once, then SKIP). The whole run at load
# 7-8: 543 s, QEMU 494 s (disk 125 s, net 50 s, crash 169 s), so its bound
# is 1200 s rather than run-svm.sh's 600.
.PHONY: test-kmod-svm test-kmod-svm-kvm test-kmod-svm-linux test-kmod-svm-linux32
test-kmod-svm:
	tests/kmod/run-svm.sh --linux-io --linux-kvm --timeout 1200

# Also the kvm and hybrid engines on the emulated host's own kvm_amd (not
# in make test: the emulated host locks up in some of these runs).
test-kmod-svm-kvm:
	tests/kmod/run-svm.sh --kvm

# hyvm.ko's ioctl fuzzer alone (tests/kmod/hyvm_fuzz.c through
# tests/kmod/fuzz-stage.sh) for FUZZ_SECONDS (180) in the emulated AMD
# host, then dmesg, pinned pages and rmmod (~2-3 min of this machine's
# time at load 15). make test-kmod-svm runs it for 45 s of the emulated
# host's clock with every kind of call, make test-kmod-vmx (haswell) for
# 30 s with every kind of call too; the ways they stopped the
# emulated AMD host are closed (docs/SECURITY.md, tests/kmod/run-svm.sh).
# FUZZ_SEED=N repeats a run's calls; FUZZ_ARGS="--ops MASK --trace 1" (or
# 2: every state, run and mapping) narrows a finding; FUZZ_ABUSE=1 runs
# hyvm_abuse first.
.PHONY: test-kmod-svm-fuzz test-kmod-vmx-fuzz
test-kmod-svm-fuzz:
	tests/kmod/run-svm.sh --only-fuzz

# Only the guest suite on --engine svm, GUESTS_REPEAT rounds (default 1),
# GUESTS_ONLY="a b" for some guests: for chasing an intermittent failure
# (make test-kmod-svm runs the suite once, with everything else). One
# round of the 36 guests: 50-80 s at load 10-14, plus ~60 s of boot and build.
.PHONY: test-kmod-svm-guests
test-kmod-svm-guests:
	tests/kmod/run-svm.sh --only-guests --timeout $$((600 + 120 * $${GUESTS_REPEAT:-1}))

# Only the gdb stub on --engine svm (tests/gdb/run.sh and steps.sh with
# Debian's gdb-minimal in the emulated AMD host; make test-kmod-svm runs them).
.PHONY: test-kmod-svm-gdb
test-kmod-svm-gdb: all
	tests/kmod/run-svm.sh --only-gdb

# Only the 64-bit Linux guest on --engine svm (make test-kmod-svm runs it
# too, with everything else); LINUX_KVM=1 adds --engine kvm first.
test-kmod-svm-linux:
	tests/kmod/run-svm.sh --only-linux $(if $(LINUX_KVM),--kvm)
# Debian's i386 kernel through the session of tests/linux/ on --engine
# hybrid (bt + kvm) and kvm, on the emulated host's own kvm_amd (the sleep
# 10 within 10%: 9.76 s and 9.81 s). Not in make test: 8 min (the emulated
# host 296 s of it) at load 13-14.
test-kmod-svm-linux32:
	tests/kmod/run-svm.sh --only-linux32

# tests/linux/disk.sh, net.sh and crash.sh (virtio-blk with ext4,
# virtio-net on slirp, SIGKILL during flushed writes) with Debian's amd64
# kernel on --engine svm inside the emulated
# host, only those; LINUX_KVM=1 adds --engine kvm first. make test runs
# them on svm within test-kmod-svm.
.PHONY: test-kmod-svm-linux-io
test-kmod-svm-linux-io:
	tests/kmod/run-svm.sh --only-linux-io $(if $(LINUX_KVM),--kvm)

# Through Debian's SeaBIOS (hyvm run --bios): tests/firmware/boot-chain.sh,
# a boot sector and GRUB -> Debian's i386 kernel, on --engine kvm (the
# emulated host's kvm_amd) and svm, only those.
.PHONY: test-kmod-svm-firmware
test-kmod-svm-firmware:
	tests/kmod/run-svm.sh --only-firmware

# Checkpoints of Debian's i386 shell across engines inside the emulated
# AMD host (tests/linux/ckpt.sh: booted on svm, restored on bt, kvm, svm;
# booted on kvm, restored on bt, svm; booted on bt on this machine,
# restored on svm, kvm in the emulated host; the tmpfs file and a
# background process checked at each hop), only those; kvm_amd beside
# hyvm.ko.
# Not yet reliable: svm:bt,kvm,svm passed in both runs that got that far
# (53-90 s); in the last run (load 11-17) the shell restored on bt from svm
# and from kvm met kernel faults (an oops, CR2 0xffffffd6, during the
# file check) and bt -> svm then triple-faulted on svm; earlier kvm -> bt
# -> svm passed every check but the final power-off. With bt's event fix
# (bt/cpu/events.c) it still fails (two runs, load 12-14): svm -> bt 2 of 2
# (an oops at EIP 0xffffffd6; a NULL read at 0 within 50 s of guest
# time), kvm -> bt 2 of 2 (the shell answers, then a NULL read, CR2 8
# and 0xc, during the file check; once a triple fault on bt after it);
# the two full oopses show EFLAGS.DF set in kernel code (0x446, 0x612),
# which Linux never runs with: a lead, not yet followed. bt -> bt here
# passes 20 of 20. Issue 14 (load 10-13, CKPT_LINUX_LIMIT=600): bt ->
# svm -> kvm (booted on bt on the outer machine) passed every check in 3
# of 3 runs (12-14 s in the emulated host); in the one run of all three
# chains kvm -> bt and svm -> bt oopsed again (the
# shell answers, then a NULL read at 0x3c and at 0 during the file check;
# both oopses stopped printing after their "*pde = 00000000" line), and
# the hop after each lacked the background process the oops had killed.
# CUnit bt_state_in finds bt's set_state/get_state right for RFLAGS (DF
# too), the SYSENTER MSRs, PAT and the TSC. bt alone showed user-space
# segfaults here too (busybox: init at boot, sh before a save, cat after
# a bt -> bt restore whose file restored fine twice more; about 1 in 15
# runs of tests/linux/ckpt-disk.sh), so the faults may be bt's own rather
# than the state's crossing. The DF lead followed (2026-12-05,
# CKPT_LINUX_LIMIT=300, a trace of the blocks after which DF went from 0
# to 1 at CPL 0, not committed): kvm -> bt fails with main's bt too (5 of
# 8 runs; 0cfce55 2 of 2, 1 of 1 with ef1b582), so ef1b582 is not the
# fix. In every traced failure (5) DF first went to 1 in the block ending
# in SLUB's `cmpxchg8b %fs:(%esi)` (this_cpu_cmpxchg_double), entered with
# DF=0, left with DF=1 and OF=1; a memset in blake2s_final then ran
# downwards over its return address (the oops "EIP: 0x0", EFLAGS 0x446),
# or slab lists went bad. That block's host code, dumped there, is a right
# translation (gs-prefixed, addr32 cmpxchg8b; CUnit bt_fs_cmpxchg8b runs it
# right), and no host signal reached bt inside it. The same DF flip shows
# after bt -> bt (a checkpoint booted and saved by bt on this machine,
# restored on bt in the emulated host: both runs, which passed their
# checks): so it is bt under QEMU 7.2's TCG, the emulated host's CPU, not
# the kvm or svm state; the same traced hyvm on this machine (ckpt.sh
# --restore bt,bt) showed no DF flip. A plain page-faulting cmpxchg8b in
# an emulated-host process kept DF (20480 of 20480); bt's own block does
# not: QEMU 7.2 TCG's CMPXCHG8B takes its flags from the lazy-flags state
# stored at the block's POPFQ, so the block's ADD source operand lands in
# RFLAGS (make test-kmod-tcg-cmpxchg8b: src 0xc00 -> rflags 0xe42, as the
# trace's 0x86 -> 0xc42). ~10-30 min (each failing hop waits out its bound; the bt
# chain alone ~5 min).
.PHONY: test-kmod-svm-ckpt-linux
test-kmod-svm-ckpt-linux:
	tests/kmod/run-svm.sh --only-ckpt-linux --timeout 2400

# Issue 14's cause: CMPXCHG8B's flags on this machine's CPU and in the
# emulated AMD host (QEMU 7.2 TCG, a busybox initramfs of its own, 10-30
# s). Not in make test: it fails (status 1) while that QEMU is the emulated
# host, whose CMPXCHG8B computes the flags from the lazy-flags state last
# stored, not from the instructions before it in the same translation
# block, so bt's SLUB block gets its ADD's source operand ORed into RFLAGS
# (DF, OF) (tests/kmod/tcg-cmpxchg8b/).
.PHONY: test-kmod-tcg-cmpxchg8b
test-kmod-tcg-cmpxchg8b:
	tests/kmod/tcg-cmpxchg8b/run.sh

# Not a test: SeaBIOS to the boot sector and to the Linux shell on hyvm
# svm, kvm and QEMU -accel kvm inside the emulated AMD host
# (build/bench-firmware-svm/boot-time.csv); bench-firmware: here (QEMU TCG,
# and every engine here that runs the BIOS).
.PHONY: bench-firmware-svm bench-firmware
bench-firmware-svm:
	tests/kmod/run-svm.sh --bench-firmware
bench-firmware: all
	bench/firmware/boot-time.sh --hyvm $(O)/hyvm --out $(O)/bench-firmware

# Here: the boot sector through SeaBIOS in QEMU (the reference) and on bt
# (make test-linux runs the GRUB and --kernel chains on bt).
.PHONY: test-firmware
test-firmware: all
	tests/firmware/boot-chain.sh $(O)/hyvm --engine qemu --kind sector
	tests/firmware/boot-chain.sh $(O)/hyvm --engine bt --kind sector

# hyvm.ko's vmx backend inside Debian's kernel booted in Bochs, on three
# Intel CPU models (tests/kmod/run-vmx.sh).
.PHONY: test-kmod-vmx
test-kmod-vmx: all
	tests/kmod/run-vmx.sh --jobs 2
# Only the gdb stub on --engine vmx and checkpoints across vmx and bt, in
# Bochs haswell (make test-kmod-vmx runs them on haswell too).
.PHONY: test-kmod-vmx-gdb
test-kmod-vmx-gdb: all
	tests/kmod/run-vmx.sh --gdb
# The same in Bochs (haswell) for FUZZ_SECONDS (120) of the emulated
# host's clock (60 s of it: 305 s of this machine's at load 15).
test-kmod-vmx-fuzz: all
	tests/kmod/run-vmx.sh --fuzz
# make test's Bochs Linux stage: ONE boot of Debian's amd64 kernel on vmx
# in Bochs (haswell), after hyvm_run (the module's exits, the interrupt
# window across a kick), with three virtio disks (plain, snapshot,
# read-only) and virtio-net on slirp: tests/linux/disk-net.sh through
# linux-io.sh. Its boot check is the plain boot's (the guest's busybox
# /init runs to its end and powers off, status 0, no kernel oops), then
# lspci's IDs, mount, write, sync, the read-only write refused, HTTP from
# the emulated host's busybox httpd with its sha256; debugfs, e2fsck and
# hyvm disk commit afterwards; DIAG lines on a stall. The guest's limit is
# 600 s of the emulated host's clock, Bochs's 2400 s of this machine's.
# After hyvm.ko's interrupt-window fix it passed 3 of 3 runs (the first
# with the 64-80M images it had then; load 3-15,
# five or six Bochs on the machine): the guest powered off in 87-88 s; with
# the 16-24M images it has now (every byte is hashed twice there) the
# stage took 157 s of the emulated host's time (it powered off at 174 s;
# Bochs 1355 s, 22.8 min, 4.0 CPU-minutes against 3.1 for the plain boot's
# 19.6 min run at the same load; at load 3-8 Bochs 474 s, 8.2 min, where
# the plain boot took 515 s, 8.9 min at load 7-8). Before the fix a run stalled (load
# 4-7: nothing of /init within the guest's limit), as the plain boot did
# once in CI. test-kmod-vmx-linux-virtio: the same.
.PHONY: test-kmod-vmx-linux test-kmod-vmx-linux-virtio test-kmod-vmx-linux-plain
test-kmod-vmx-linux test-kmod-vmx-linux-virtio: all
	tests/kmod/run-vmx.sh --linux-virtio
# The plain boot, not in make test (test-kmod-vmx-linux's one boot does
# its checks too): Debian's amd64 kernel to its shell and power-off on vmx
# inside Bochs (haswell), after hyvm_run (the module's exits, the interrupt window
# across a kick); the guest has 600 s of the emulated host's clock (a
# pass: 82 s), Bochs 1800 s of this machine's, and a stall ends in DIAG
# lines (hyvm's stop report: RIP, IF, HLT, recent exits, LAPIC/IOAPIC/8259
# state; the guest's last console lines). 8.9 min at load 7-8 (Bochs
# 515 s), 19.6 min at load 10-15 with six Bochs on the machine.
test-kmod-vmx-linux-plain: all
	tests/kmod/run-vmx.sh --linux
# The plain boot, then tests/linux/disk.sh, net.sh and crash.sh (one run) with the
# same kernel on vmx in Bochs (tests/kmod/linux-io.sh). Not in make test:
# Bochs takes 81 s of its own time for one boot, 13 min of this machine's
# at load 10-15, and these are six more boots. Not yet seen to pass: the
# one run (Bochs at nice 19, load 10-17) hit its 3000 s bound in disk.sh.
.PHONY: test-kmod-vmx-linux-io
test-kmod-vmx-linux-io: all
	tests/kmod/run-vmx.sh --linux-io

# Not a test: the floor under bt's exits, what this host's primitives cost
# in TSC ticks (rdtsc, the vDSO clock, a system call, poll(2), mprotect, a
# SIGFPE and a SIGSEGV round trip; bench/floor/exit_floor.c, ~1 s; read
# with docs/perf/bt-exits.md).
.PHONY: bench-floor
$(O)/bench/floor/exit_floor: bench/floor/exit_floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<
bench-floor: $(O)/bench/floor/exit_floor
	$(O)/bench/floor/exit_floor

# SeaBIOS (hyvm run --bios) to the boot sector (tests/firmware/boot-chain.sh
# --kind sector) in Bochs: on vmx in haswell, on hybrid (bt for real mode,
# vmx for the rest) in lynnfield; the hybrid's switches and time on each
# side in build/kmod-host/firmware-hybrid.csv. FIRMWARE_KINDS="sector
# linux" adds GRUB -> Debian's i386 kernel (one PASS each on haswell and
# lynnfield; one earlier lynnfield run stalled: run-vmx.sh's header). Not in make
# test: two Bochs boots, one after the other, ~8 min at load 15-19
# (lynnfield 302 s, haswell 160 s).
.PHONY: test-kmod-vmx-firmware test-kmod-vmx-firmware-linux
test-kmod-vmx-firmware: all
	tests/kmod/run-vmx.sh --firmware
# The same with GRUB -> Debian's i386 kernel -> the session of tests/linux/
# only (FIRMWARE_KINDS=linux), haswell's vmx then lynnfield's hybrid, one
# at a time: ~30 min each at load 11-15 (not in make test).
test-kmod-vmx-firmware-linux: all
	FIRMWARE_KINDS=linux tests/kmod/run-vmx.sh --firmware

# Not a test: the slirp backend's TCP throughput each way between a fake
# guest NIC and 127.0.0.1 (bench/net/slirp_throughput.c), the ceiling it
# puts on virtio-net. BENCH_NET_MIB: MiB each way (default 64).
.PHONY: bench-net
$(O)/bench/net/slirp_throughput: $(O)/bench/net/slirp_throughput.o $(O)/tests/unit/net_frames.o \
		$(filter $(O)/userspace/net/%,$(CORE_OBJS))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench-net: $(O)/bench/net/slirp_throughput
	$(O)/bench/net/slirp_throughput $(BENCH_NET_MIB)

# Not a test: Debian's amd64 kernel to its shell inside the emulated AMD
# host on hyvm svm, hyvm kvm and qemu-system-x86_64 -accel kvm (kvm_amd), in
# one run, with hyvm's exits by category (bench/linux/boot-time.sh; CSV and
# SVG in $(O)/bench-linux-svm).
.PHONY: bench-linux-svm
bench-linux-svm: all
	tests/kmod/run-svm.sh --bench-linux

# Not a test: hyvm.ko's cost per exit as a ratio to the guest kernel's own
# KVM, inside each emulated host (bench/kmod_exitcost.c): kvm_amd in QEMU
# TCG (the svm harness, which also runs its tests), kvm_intel in Bochs.
.PHONY: bench-kmod
bench-kmod: all
	tests/kmod/run-svm.sh --bench
	tests/kmod/run-vmx.sh --bench

clean:
	rm -rf build build-san
	-$(MAKE) -C kmod -f Kbuild.clean clean 2>/dev/null || true

-include $(CORE_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(O)/userspace/cli/main.d $(O)/tests/block/crash_driver.d

# Linux boot time, to the shell and to the guest's own power-off
# (bench/linux/init-boot.sh), on each engine here and under QEMU in one run,
# with hyvm's exits by category (bench/linux/boot-time.sh; CSV and SVG in
# $(O)/bench-linux; 1-2 min here). BENCH_LINUX_ARGS: e.g. --append-extra
# "nolapic noapic", --initrd build/linux/initramfs.cpio.gz for the session.
# The other bench targets: bench/README.md.
.PHONY: bench-linux
bench-linux: $(O)/hyvm
	bench/linux/boot-time.sh --hyvm $(O)/hyvm --out $(O)/bench-linux $(BENCH_LINUX_ARGS)

# Not a test: checkpoint and restore time and file size of Debian's i386
# kernel at its shell on bt with --mem 256 and 2048 (bench/ckpt/ckpt.sh:
# two boots, saves and restores per size, zstd and raw RAM; ~4-8 min
# here). BENCH_CKPT_ARGS: e.g. --mem 512.
.PHONY: bench-ckpt
bench-ckpt: $(O)/hyvm
	bench/ckpt/ckpt.sh --hyvm $(O)/hyvm --out $(O)/bench-ckpt $(BENCH_CKPT_ARGS)

# Not a test: disk and network throughput inside Debian's i386 guest on bt
# and in QEMU TCG with the same kernel, initramfs and virtio devices, in one
# run (bench/io/io.sh; table, CSV and SVG in $(O)/bench-io). The guest's
# timer tool is built -m32 -static. BENCH_IO_ARGS: e.g. --mib 64 --netmib 64.
.PHONY: bench-io
$(O)/bench/io/iobench32: bench/io/iobench.c
	@mkdir -p $(dir $@)
	$(CC) -m32 -static -O2 -Wall -Wextra -o $@ $<
bench-io: $(O)/hyvm $(O)/bench/io/iobench32
	bench/io/io.sh --hyvm $(O)/hyvm --tool $(O)/bench/io/iobench32 --out $(O)/bench-io $(BENCH_IO_ARGS)
