# The self-checking guest suite: every tests/guests/NAME.c and/or NAME.asm
# is one Multiboot ELF32 guest, $(GUEST_DIR)/NAME.elf, linked with lib/.
# Included by the top-level Makefile, which defines O.

GUEST_DIR := $(O)/guests
GUEST_SRC := tests/guests
GUEST_NAMES := $(sort $(basename $(notdir $(wildcard $(GUEST_SRC)/*.c $(GUEST_SRC)/*.asm))))
GUEST_LIB_SRCS := $(wildcard $(GUEST_SRC)/lib/*.c $(GUEST_SRC)/lib/*.asm)
GUEST_LIB_OBJS := $(patsubst $(GUEST_SRC)/%,$(GUEST_DIR)/obj/%.o,$(GUEST_LIB_SRCS))
GUEST_LDSCRIPT := $(GUEST_SRC)/lib/guest.ld

# Freestanding 32-bit code with no SSE (guests that test SSE say so and
# use it explicitly) and nothing gcc would add behind our back.
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                -fno-asynchronous-unwind-tables -fcf-protection=none -mgeneral-regs-only \
                -fno-tree-loop-distribute-patterns -O2 -Wall -Wextra -Wno-unused-parameter -I$(GUEST_SRC)/lib -Iinclude -MMD -MP

.PHONY: guests
guests: $(GUEST_NAMES:%=$(GUEST_DIR)/%.elf)

$(GUEST_DIR)/obj/%.c.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	gcc $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_DIR)/obj/%.asm.o: $(GUEST_SRC)/%.asm $(wildcard $(GUEST_SRC)/lib/*.inc)
	@mkdir -p $(dir $@)
	nasm -f elf32 -Werror -i tests/guests/ -o $@ $<

# libgcc for 64-bit division in printf; guests link no other library.
GUEST_LIBGCC := $(shell gcc -m32 -print-libgcc-file-name)
GUEST_LDFLAGS := -m elf_i386 -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments

define GUEST_LINK_RULE
$(GUEST_DIR)/$(1).elf: $(patsubst $(GUEST_SRC)/%,$(GUEST_DIR)/obj/%.o,$(wildcard $(GUEST_SRC)/$(1).c $(GUEST_SRC)/$(1).asm)) $(GUEST_LIB_OBJS) $(GUEST_LDSCRIPT)
	ld $(GUEST_LDFLAGS) -T $(GUEST_LDSCRIPT) -o $$@ $$(filter %.o,$$^) $(GUEST_LIBGCC)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_LINK_RULE,$(g))))

-include $(wildcard $(GUEST_DIR)/obj/*.d $(GUEST_DIR)/obj/lib/*.d)
