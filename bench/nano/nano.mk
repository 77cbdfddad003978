# hyvm bench's guest (bench/nano/nano.c) and `make bench`. Included by the
# top-level Makefile after guests.mk (GUEST_* come from it). The guest is
# part of `all`: `hyvm bench` looks for it beside the hyvm binary.

NANO_DIR := $(O)/bench/nano
NANO_ELF := $(NANO_DIR)/nano.elf

$(NANO_DIR)/nano.o: bench/nano/nano.c $(GUEST_SRC)/lib/guest.h $(GUEST_SRC)/lib/x86.h
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -c $< -o $@

$(NANO_ELF): $(NANO_DIR)/nano.o $(GUEST_LIB_OBJS) $(GUEST_LDSCRIPT)
	ld $(GUEST_LDFLAGS) -T $(GUEST_LDSCRIPT) -o $@ $(filter %.o,$^) $(GUEST_LIBGCC)

all: $(NANO_ELF)

# bench_report.c draws its chart on a log scale.
LDLIBS += -lm

# Not a test: figures only, nothing is asserted about them.
.PHONY: bench test-bench
bench: $(O)/hyvm $(NANO_ELF)
	$(O)/hyvm bench --guest $(NANO_ELF) --csv $(O)/bench/nano.csv --chart $(O)/bench/nano.svg

# A functional check that `hyvm bench` runs and writes a CSV that parses.
test-bench: $(O)/hyvm $(NANO_ELF)
	tests/bench/run.sh $(O)/hyvm $(NANO_ELF)
