# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c): in-process, each calls the
# parsing or device code directly. Built with clang, ASan, UBSan and
# libFuzzer's coverage into $(O)/fuzz/NAME; the VMM's sources are compiled
# again with the same instrumentation into $(O)/fuzz/libcore.a.
#   make fuzz        build them
#   make test-fuzz   run each over its seed corpus (tests/fuzz/corpus/NAME/)
#                    and then for FUZZ_SECONDS (10) of new inputs; fails on any
#                    crash, leak or sanitizer report. About 2.5 minutes for
#                    the 11 harnesses (2 min 13 s at load 7-9), plus the first build (3-5 minutes).
# A new harness: tests/fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput and
# a seed corpus in tests/fuzz/corpus/NAME/ (at least one file); nothing
# else to list here (tests/fuzz/README.md).

FUZZ_CC      ?= clang
FUZZ_DIR     := $(O)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Iinclude -Iuserspace -I. -Itests/unit -D_GNU_SOURCE -MMD -MP \
                $(SLIRP_CFLAGS) -Wno-unused-command-line-argument $(FUZZ_SAN)
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CORE_OBJS := $(CORE_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
# The unit tests' fake machine (devices, guest RAM, a disk).
FUZZ_FAKE_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,tests/unit/fake_device_env.c \
                  tests/unit/fake_guest_ram.c tests/unit/fake_disk.c)
FUZZ_SECONDS ?= 10

.PHONY: fuzz test-fuzz
fuzz: $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libcore.a: $(FUZZ_CORE_OBJS) $(FUZZ_FAKE_OBJS)
	rm -f $@
	ar rcs $@ $^

# Device models register themselves from constructors (DEVICE_REGISTER),
# which nothing references: their objects are linked whole, not from the
# archive.
FUZZ_DEVICE_OBJS := $(filter $(FUZZ_DIR)/obj/devices/%,$(FUZZ_CORE_OBJS))
.SECONDARY: $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o)

$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DEVICE_OBJS) $(FUZZ_DIR)/libcore.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

FUZZ_CC_FOUND := $(shell command -v $(FUZZ_CC) 2>/dev/null)
test-fuzz:
ifeq ($(FUZZ_CC_FOUND),)
	@echo "SKIP fuzz: no $(FUZZ_CC) for libFuzzer (scripts/install-deps installs clang)"
else
	$(MAKE) --no-print-directory fuzz
	tests/fuzz/run.sh $(FUZZ_DIR) tests/fuzz/corpus $(FUZZ_SECONDS) $(FUZZ_NAMES)
endif

-include $(FUZZ_CORE_OBJS:.o=.d) $(FUZZ_FAKE_OBJS:.o=.d) $(wildcard $(FUZZ_DIR)/obj/tests/fuzz/*.d)
