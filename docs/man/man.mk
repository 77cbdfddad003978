# Man pages: docs/man/*.scd (scdoc's format) -> $(O)/man/*.1.
#   make man        build them (scdoc, from scripts/install-deps)
#   make test-man   lint them and check them against every --help
MAN_SRCS  := $(sort $(wildcard docs/man/*.scd))
MAN_PAGES := $(MAN_SRCS:docs/man/%.scd=$(O)/man/%)
SCDOC     ?= scdoc

.PHONY: man test-man
man: $(MAN_PAGES)

$(O)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	@command -v $(SCDOC) >/dev/null || { echo "make man: scdoc not found (scripts/install-deps, or apt-get install scdoc)"; exit 2; }
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

# ~1 s: mandoc/groff lint, then options of `hyvm CMD --help` == the page's.
test-man: $(O)/hyvm
	@if command -v $(SCDOC) >/dev/null; then $(MAKE) --no-print-directory man && \
	  tests/pkg/man-lint.sh $(MAN_PAGES); \
	else echo "SKIP man-lint: scdoc not installed (scripts/install-deps)"; fi
	tests/pkg/man-options.sh $(O)/hyvm docs/man
