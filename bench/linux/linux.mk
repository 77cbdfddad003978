# make bench-linux-work: issue 13's workloads inside Debian's i386 guest on
# bt and in QEMU TCG in one run (bench/linux/work.sh, /init
# bench/linux/init-work.sh, its clock and page toucher bench/linux/worktool.c
# built -m32 -static; table, CSV and SVG in $(O)/bench-linux-work). Not a
# test. Cost at the issue's sizes (2000 forks, 256 MiB touched, 64 MiB
# piped, sha256sum of 64 MiB) with --mem 512: two boots and runs, about
# 2 min here at load 5, 4.5-6.6 min at load 8-17 (the kernels are fetched once by
# tests/linux/fetch-kernels.sh). BENCH_LINUX_WORK_ARGS: e.g. --forks 500.
.PHONY: bench-linux-work
$(O)/bench/linux/worktool32: bench/linux/worktool.c
	@mkdir -p $(dir $@)
	$(CC) -m32 -static -O2 -Wall -Wextra -o $@ $<
bench-linux-work: $(O)/hyvm $(O)/bench/linux/worktool32
	bench/linux/work.sh --hyvm $(O)/hyvm --tool $(O)/bench/linux/worktool32 --out $(O)/bench-linux-work $(BENCH_LINUX_WORK_ARGS)
