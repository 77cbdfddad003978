# Hostile guests (tests/hostile/NAME.c): Multiboot ELF32 guests built like
# the guest suite's (tests/guests/lib), but not part of it: each attacks
# the VMM (storms, wild writes) and tests/hostile/run.sh checks how hyvm
# holds up (exit status, peak RSS, a generous time bound).

HOSTILE_DIR := $(O)/hostile
HOSTILE_NAMES := $(sort $(basename $(notdir $(wildcard tests/hostile/*.c))))

.PHONY: hostile-guests test-hostile
hostile-guests: $(HOSTILE_NAMES:%=$(HOSTILE_DIR)/%.elf)

$(HOSTILE_DIR)/obj/%.c.o: tests/hostile/%.c
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -c $< -o $@

$(HOSTILE_DIR)/%.elf: $(HOSTILE_DIR)/obj/%.c.o $(GUEST_LIB_OBJS) $(GUEST_LDSCRIPT)
	ld $(GUEST_LDFLAGS) -T $(GUEST_LDSCRIPT) -o $@ $(filter %.o,$^) $(GUEST_LIBGCC)

# About 2-4 minutes on a loaded 2-core machine (virtio_blk_rings, virtio_net_rings: 1 s; each storm guest on bt:
# smc_storm ~70 s, irq_storm ~20-75 s, pt_storm's 2x10^5 page-table
# rewrites 3 s of CPU, 10-30 s of wall time at load 10-19; the triple_*
# guests ~1 s each on bt and in QEMU).
# Then 500 seeded random-code pages at CPL0 and at CPL3 on bt, compared
# with QEMU TCG against tests/hostile/random-pages.known (~1 minute:
# ~10 s on bt, ~45 s in QEMU, whose CPL0 runs restart after each of ~35
# pages that end the VM).
test-hostile: $(O)/hyvm hostile-guests
	tests/hostile/run.sh $(O)/hyvm $(HOSTILE_DIR)
	tests/hostile/random-pages.sh $(O)/hyvm $(HOSTILE_DIR)/random_pages.elf --pages 500 \
		--known tests/hostile/random-pages.known

# Not in make test: a longer random-code campaign, RANDOM_PAGES pages (default
# 2000) per ring for each of the seeds in RANDOM_SEEDS (default 2 3), on
# bt and in QEMU, differences counted by class (not failing); fails on an
# unclean bt ending (~10-20 minutes on a loaded 2-core machine).
RANDOM_PAGES ?= 2000
RANDOM_SEEDS ?= 2 3
.PHONY: test-hostile-long
test-hostile-long: $(O)/hyvm hostile-guests
	for s in $(RANDOM_SEEDS); do \
		tests/hostile/random-pages.sh $(O)/hyvm $(HOSTILE_DIR)/random_pages.elf --pages $(RANDOM_PAGES) \
			--seed $$s --timeout 120 --report-differences || exit 1; \
	done

-include $(wildcard $(HOSTILE_DIR)/obj/*.d)
