/*
 * Symbol lookup for hyvm top's exit addresses: the guest ELF's .symtab, kept
 * to the symbols that name code (in executable sections, not files or
 * sections), sorted by address and searched by bisection.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "files/input_file.h"
#include "top/symbols.h"

struct symbol {
	uint64_t addr, size;
	bool func;
	char *name;
};

struct symtab {
	size_t n;
	struct symbol *sym;
};

static int by_addr(const void *pa, const void *pb)
{
	const struct symbol *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	/* At one address a function beats a plain label. */
	return (int)b->func - (int)a->func;
}

static bool code_section(Elf *e, size_t index)
{
	Elf_Scn *scn = elf_getscn(e, index);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR);
}

static int add_symbols(struct symtab *t, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	if (!data)
		return -1;
	struct symbol *grown = realloc(t->sym, (t->n + count) * sizeof(*t->sym));
	if (!grown && count)
		return -1;
	t->sym = grown;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym s;
		if (!gelf_getsym(data, (int)i, &s))
			continue;
		int type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
		    s.st_shndx >= SHN_LORESERVE || !code_section(e, s.st_shndx))
			continue;
		const char *name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !*name || name[0] == '$')
			continue;
		t->sym[t->n++] = (struct symbol){
			.addr = s.st_value, .size = s.st_size,
			.func = type == STT_FUNC, .name = strdup(name),
		};
		if (!t->sym[t->n - 1].name)
			t->n--;
	}
	return 0;
}

struct symtab *symtab_load(const char *path, char *err, size_t errlen)
{
	struct symtab *t = calloc(1, sizeof(*t));
	struct stat st;
	char why[128];
	int fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));
	Elf *e = NULL;

	if (!t || fd < 0) {
		snprintf(err, errlen, "cannot open %s for its symbols: %s", path, t ? why : "out of memory");
		goto fail;
	}
	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_READ, NULL)) ||
	    elf_kind(e) != ELF_K_ELF) {
		snprintf(err, errlen, "%s is not an ELF file: no symbols", path);
		goto fail;
	}
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB &&
		    add_symbols(t, e, scn, &sh) < 0) {
			snprintf(err, errlen, "%s: unreadable symbol table", path);
			goto fail;
		}
	}
	if (!t->n) {
		snprintf(err, errlen, "%s has no code symbols (stripped?)", path);
		goto fail;
	}
	qsort(t->sym, t->n, sizeof(*t->sym), by_addr);
	elf_end(e);
	close(fd);
	return t;
fail:
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	symtab_free(t);
	return NULL;
}

void symtab_name(const struct symtab *t, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = t ? t->n : 0;

	buf[0] = 0;
	/* Last symbol at or below addr; the first of equals is the preferred. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->sym[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	const struct symbol *s = &t->sym[lo - 1];
	while (s > t->sym && s[-1].addr == s->addr)
		s--;
	/* A sized function ends somewhere: past it the address is not its. */
	if (s->size && addr >= s->addr + s->size)
		return;
	if (addr == s->addr)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)(addr - s->addr));
}

size_t symtab_count(const struct symtab *t)
{
	return t ? t->n : 0;
}

void symtab_free(struct symtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->sym[i].name);
	free(t->sym);
	free(t);
}
