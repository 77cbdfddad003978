# make bench-bt: compute kernels as a guest on bt (and QEMU TCG when
# installed) and as a native 32-bit host program (each repetition timed
# alone, the fastest x reps counts), printed as ratios with
# their geometric mean; each runs 5 times and keeps its fastest (10-60 s
# here). BENCH_BT_ARGS: e.g. --csv FILE --runs 5.
# Included by the top-level Makefile after guests.mk (GUEST_* come from it).

BENCH_BT_DIR := $(O)/bench/bt
BENCH_KERNEL_CFLAGS := -m32 -march=i686 -O2 -fno-tree-loop-distribute-patterns -mgeneral-regs-only

$(BENCH_BT_DIR)/%.guest.o: bench/bt/%.c bench/bt/kernels.h
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -c $< -o $@

$(BENCH_BT_DIR)/bench_bt.elf: $(BENCH_BT_DIR)/kernels.guest.o $(BENCH_BT_DIR)/guest_main.guest.o $(GUEST_LIB_OBJS) $(GUEST_LDSCRIPT)
	ld $(GUEST_LDFLAGS) -T $(GUEST_LDSCRIPT) -o $@ $(filter %.o,$^) $(GUEST_LIBGCC)

$(BENCH_BT_DIR)/bench_bt_native: bench/bt/kernels.c bench/bt/native_main.c bench/bt/kernels.h
	@mkdir -p $(dir $@)
	gcc $(BENCH_KERNEL_CFLAGS) -c bench/bt/kernels.c -o $(BENCH_BT_DIR)/kernels.native.o
	gcc -m32 -O2 -o $@ bench/bt/native_main.c $(BENCH_BT_DIR)/kernels.native.o

bench-bt: $(O)/hyvm $(BENCH_BT_DIR)/bench_bt.elf $(BENCH_BT_DIR)/bench_bt_native
	bench/bt/run.sh --hyvm $(O)/hyvm --guest $(BENCH_BT_DIR)/bench_bt.elf --native $(BENCH_BT_DIR)/bench_bt_native $(BENCH_BT_ARGS)
