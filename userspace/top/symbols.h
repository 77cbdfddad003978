/* Guest code addresses named from the guest ELF's symbol table (libelf). */
#ifndef HYVM_SYMBOLS_H
#define HYVM_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symtab;

/* NULL and one line in err if the file has no readable symbol table. */
struct symtab *symtab_load(const char *elf_path, char *err, size_t errlen);
/* "function+0x1a", "function" at its start; "" if no symbol covers addr. */
void symtab_name(const struct symtab *t, uint64_t addr, char *buf, size_t len);
size_t symtab_count(const struct symtab *t);
void symtab_free(struct symtab *t);

#endif
