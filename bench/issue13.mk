# make bench-issue13: all of issue 13's measurement in one run
# (bench/issue13.sh): hyvm bench's nanobenchmarks on bt and QEMU TCG, the
# compute kernels (geomean x native), Debian's i386 kernel to its shell and
# power-off, the workloads inside it and the storms, bt against QEMU TCG;
# a summary with each target met or not in $(O)/bench-issue13/issue13.csv
# and .svg, each part's files beside it. Not a test. Cost: the sum of
# bench, bench-bt, bench-linux (one bt and one QEMU boot), bench-linux-work
# and bench-storms: 2.5 min measured here at load 5, 7-10 min at load 9-17 (bt's fork loop
# is 2.5-4 min of it).
# BENCH_ISSUE13_ARGS: e.g. --parts boot,storms --storms-scale 0.1.
# Included by the top-level Makefile after the bench/*/*.mk it draws on.
.PHONY: bench-issue13
bench-issue13: $(O)/hyvm $(NANO_ELF) $(BENCH_BT_DIR)/bench_bt.elf $(BENCH_BT_DIR)/bench_bt_native \
		$(STORMS_ELF) $(O)/bench/linux/worktool32
	bench/issue13.sh --hyvm $(O)/hyvm --nano $(NANO_ELF) --bt-guest $(BENCH_BT_DIR)/bench_bt.elf \
		--bt-native $(BENCH_BT_DIR)/bench_bt_native --storms $(STORMS_ELF) \
		--tool $(O)/bench/linux/worktool32 --out $(O)/bench-issue13 $(BENCH_ISSUE13_ARGS)
