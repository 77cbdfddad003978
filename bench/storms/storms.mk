# make bench-storms: issue 13's storms (bench/storms/storms.c: INT 0x80 and
# IRET at CPL0, page-table rewrites, code rewrites) on bt and in QEMU TCG
# in one run (bench/storms/storms.sh; table, CSV and SVG in
# $(O)/bench-storms). Not a test. Cost at the issue's sizes (10^6, 2x10^5,
# 2x10^5): QEMU a few seconds; bt as slow as it is today, minutes (the
# issue measured ~5,700 INT 0x80 a second). BENCH_STORMS_ARGS: e.g.
# --scale 0.1. The guest is part of `all` for tests/bench/storms.sh (in
# test-host: the script at 1/1000 of the sizes, about 5 s, CSV and chart
# checked). Included by the top-level Makefile after guests.mk.

STORMS_DIR := $(O)/bench/storms
STORMS_ELF := $(STORMS_DIR)/storms.elf

$(STORMS_DIR)/storms.o: bench/storms/storms.c $(GUEST_SRC)/lib/guest.h $(GUEST_SRC)/lib/x86.h
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -c $< -o $@

$(STORMS_ELF): $(STORMS_DIR)/storms.o $(GUEST_LIB_OBJS) $(GUEST_LDSCRIPT)
	ld $(GUEST_LDFLAGS) -T $(GUEST_LDSCRIPT) -o $@ $(filter %.o,$^) $(GUEST_LIBGCC)

all: $(STORMS_ELF)

.PHONY: bench-storms
bench-storms: $(O)/hyvm $(STORMS_ELF)
	bench/storms/storms.sh --hyvm $(O)/hyvm --guest $(STORMS_ELF) --out $(O)/bench-storms $(BENCH_STORMS_ARGS)
