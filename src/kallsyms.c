// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's function symbols, read once from /proc/kallsyms and sorted by
 * address. The file is read as untrusted input: its size, its lines and its
 * symbols are bounded, and a line that does not parse is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kallsyms.h"

/* A kernel of 2025 has ~200,000 symbols (~12 MB of kallsyms): room for ten times that. */
#define MAX_SYMS (2u << 20)
#define MAX_BYTES (256u << 20)
#define MAX_MODULES 4096
/* A return address this far past a symbol's start is in no function we know. */
#define MAX_FUNC_SIZE (1u << 20)

struct ksym {
	uint64_t addr;
	uint32_t name;	 /* offset in names */
	uint32_t module; /* index in modules */
};

struct kallsyms {
	struct ksym *syms;
	size_t nr, cap;
	char *names;
	size_t names_len, names_cap;
	char *modules[MAX_MODULES];
	size_t nr_modules;
};

/* Appends s to the names; its offset, or -1. */
static int64_t name_add(struct kallsyms *ks, const char *s, size_t len)
{
	size_t off = ks->names_len;

	if (ks->names_len + len + 1 > MAX_BYTES)
		return -1;
	if (ks->names_len + len + 1 > ks->names_cap) {
		size_t cap = ks->names_cap ? ks->names_cap * 2 : 1 << 16;
		char *n = realloc(ks->names, cap);

		if (!n)
			return -1;
		ks->names = n;
		ks->names_cap = cap;
	}
	memcpy(ks->names + off, s, len);
	ks->names[off + len] = 0;
	ks->names_len += len + 1;
	return off;
}

/* The index of module "[name]" (0: the kernel itself), added on first sight; -1 when full. */
static int module_index(struct kallsyms *ks, const char *name, size_t len)
{
	char buf[72];

	if (!len)
		return 0;
	if (len > 64)
		len = 64;
	snprintf(buf, sizeof(buf), "[%.*s]", (int)len, name);
	for (size_t i = 0; i < ks->nr_modules; i++)
		if (!strcmp(ks->modules[i], buf))
			return i;
	if (ks->nr_modules == MAX_MODULES)
		return -1;
	ks->modules[ks->nr_modules] = strdup(buf);
	return ks->modules[ks->nr_modules] ? (int)ks->nr_modules++ : -1;
}

static int sym_add(struct kallsyms *ks, uint64_t addr, const char *name, size_t len, int module)
{
	int64_t off;

	if (ks->nr == MAX_SYMS)
		return -E2BIG;
	if (ks->nr == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 4096;
		struct ksym *v = realloc(ks->syms, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ks->syms = v;
		ks->cap = cap;
	}
	off = name_add(ks, name, len);
	if (off < 0)
		return -E2BIG;
	ks->syms[ks->nr++] = (struct ksym){ .addr = addr, .name = off, .module = module };
	return 0;
}

/*
 * One line: "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]". Functions only
 * (t, T, w, W): a data symbol between two functions would name their frames.
 * 0 when added or skipped.
 */
static int parse_line(struct kallsyms *ks, char *line, bool *nonzero)
{
	char *end, *name, *mod, type;
	size_t len, mlen = 0;
	uint64_t addr;
	int m;

	addr = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
		return 0;
	type = end[1];
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	name = end + 3;
	len = strcspn(name, "\t\n ");
	if (!len || len > 512)
		return 0;
	mod = name + len;
	if (*mod == '\t' && mod[1] == '[') {
		mod += 2;
		mlen = strcspn(mod, "]\n");
		if (mod[mlen] != ']')
			return 0;
	}
	*nonzero |= addr != 0;
	m = module_index(ks, mod, mlen);
	if (m < 0)
		return 0;
	return sym_add(ks, addr, name, len, m);
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_file(struct kallsyms *ks, FILE *f)
{
	char line[640];
	bool nonzero = false;
	size_t bytes = 0;
	int err = 0;

	while (!err && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		bytes += len;
		if (bytes > MAX_BYTES)
			return -E2BIG;
		if (len && line[len - 1] != '\n' && !feof(f)) {
			/* A line longer than any symbol's: skipped to its end. */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				bytes++;
			continue;
		}
		err = parse_line(ks, line, &nonzero);
	}
	if (!err && ks->nr && !nonzero)
		err = -EPERM;
	if (!err && !ks->nr)
		err = -EINVAL;
	return err;
}

int kallsyms__load(const char *path, struct kallsyms **out)
{
	struct kallsyms *ks = calloc(1, sizeof(*ks));
	int fd, err;
	FILE *f;

	if (!ks)
		return -ENOMEM;
	ks->modules[ks->nr_modules++] = strdup(KALLSYMS_KERNEL);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		kallsyms__free(ks);
		return err;
	}
	err = ks->modules[0] ? read_file(ks, f) : -ENOMEM;
	fclose(f);
	if (err) {
		kallsyms__free(ks);
		return err;
	}
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), by_addr);
	*out = ks;
	return 0;
}

int kallsyms__lookup(const struct kallsyms *ks, uint64_t addr, const char **name, uint64_t *offset,
		     const char **module)
{
	size_t lo = 0, hi = ks->nr;
	const struct ksym *s;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	s = &ks->syms[lo - 1];
	if (addr - s->addr >= MAX_FUNC_SIZE)
		return -ENOENT;
	*name = ks->names + s->name;
	*offset = addr - s->addr;
	*module = ks->modules[s->module];
	return 0;
}

void kallsyms__free(struct kallsyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->nr_modules; i++)
		free(ks->modules[i]);
	free(ks->syms);
	free(ks->names);
	free(ks);
}
