# make install / make uninstall (included by the Makefile).
#   make install [PREFIX=/usr/local] [DESTDIR=]
# PREFIX/bin/hyvm, the man pages, bash completion, the udev rule for
# /dev/hyvm, hyvm bench's guest and hyvm.ko's source for DKMS in
# PREFIX/src/hyvm-VERSION (dkms add that folder; the hyvm-dkms package
# puts it in /usr/src). Overridable: BINDIR MANDIR BASHCOMPDIR UDEVRULESDIR
# LIBDIR DKMSDIR (udev reads /usr/lib/udev/rules.d and /etc/udev/rules.d,
# not /usr/local: with PREFIX=/usr/local, add UDEVRULESDIR=/etc/udev/rules.d).
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
MANDIR       ?= $(PREFIX)/share/man
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
LIBDIR       ?= $(PREFIX)/lib/hyvm
DKMSDIR      ?= $(PREFIX)/src/hyvm-$(HYVM_VERSION)
INSTALL      ?= install

HYVM_VERSION := $(shell sed -n 's/^\#define HYVM_VERSION "\(.*\)"/\1/p' userspace/cli/commands.h)
# hyvm.ko's source as DKMS builds it: kmod/ (no build products) and the
# headers it shares with user space.
KMOD_SRCS := kmod/Kbuild $(sort $(wildcard kmod/*.[chS] kmod/svm/*.[chS] kmod/vmx/*.[chS])) \
             $(sort $(wildcard include/hyvm/*.h))
KMOD_SRCS := $(filter-out %.mod.c,$(KMOD_SRCS))

.PHONY: install uninstall
install: $(O)/hyvm $(NANO_ELF) man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(LIBDIR)
	$(INSTALL) -m 755 $(O)/hyvm $(DESTDIR)$(BINDIR)/hyvm
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 dist/hyvm.bash-completion $(DESTDIR)$(BASHCOMPDIR)/hyvm
	$(INSTALL) -m 644 dist/60-hyvm.rules $(DESTDIR)$(UDEVRULESDIR)/60-hyvm.rules
	$(INSTALL) -m 644 $(NANO_ELF) $(DESTDIR)$(LIBDIR)/nano.elf
	for f in $(KMOD_SRCS); do $(INSTALL) -D -m 644 $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; done
	sed 's/#MODULE_VERSION#/$(HYVM_VERSION)/' kmod/dkms.conf > $(DESTDIR)$(DKMSDIR)/dkms.conf
	chmod 644 $(DESTDIR)$(DKMSDIR)/dkms.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hyvm $(DESTDIR)$(BASHCOMPDIR)/hyvm \
		$(DESTDIR)$(UDEVRULESDIR)/60-hyvm.rules $(DESTDIR)$(LIBDIR)/nano.elf \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES)))
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null
	rm -rf $(DESTDIR)$(DKMSDIR)

# ~5 s: make install into a temporary DESTDIR and back out
# (tests/pkg/install.sh), then the bash completion (tests/pkg/completion.sh).
.PHONY: test-install
test-install: $(O)/hyvm
	tests/pkg/install.sh SAN=$(SAN)
	tests/pkg/completion.sh $(O)/hyvm
