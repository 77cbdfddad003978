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

# About 2-4 minutes on a loaded 2-core machine (each storm guest on bt:
# smc_storm ~70 s, irq_storm ~20-75 s; the triple_* guests ~1 s each on bt
# and in QEMU).
test-hostile: $(O)/hyvm hostile-guests
	tests/hostile/run.sh $(O)/hyvm $(HOSTILE_DIR)

-include $(wildcard $(HOSTILE_DIR)/obj/*.d)
