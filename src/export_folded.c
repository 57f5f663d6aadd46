// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Folded stacks: "comm;outermost;...;caller_of_malloc VALUE" per line, the input
 * of flamegraph.pl, inferno and speedscope. The process name is the root, so that
 * the processes of a system-wide snapshot stay apart; frames are named by function
 * only (frame__name), so lines are stable across builds and hosts; with
 * --lines by function and source line, "fn (file.c:LINE)" (frame__label).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_folded.h"

struct folded {
	char *stack;
	int64_t value[2]; /* one snapshot's, or a diff's old and new */
};

struct folded_set {
	struct folded *v;
	size_t n, cap;
};

/* Separators and line ends in a name would change the stack's shape: they become '_'. */
static void put_name(FILE *f, const char *name)
{
	for (; *name; name++)
		fputc(*name == ';' || *name == '\n' || *name == '\r' ? '_' : *name, f);
}

static char *stack_line(const struct proc_stat *p, const struct stack_stat *s, bool lines)
{
	char *buf = NULL, tmp[600];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	put_name(f, p->comm[0] ? p->comm : "[unknown]");
	for (int i = s->nr_frames - 1; i >= 0; i--) {
		fputc(';', f);
		put_name(f, lines ? frame__label(s->frames[i], tmp, sizeof(tmp)) :
				    frame__name(s->frames[i], tmp, sizeof(tmp)));
	}
	if (!s->nr_frames)
		fputs(";[stack not recorded]", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int add(struct folded_set *set, const struct snapshot *snap, int side, bool counts,
	       bool lines)
{
	struct folded *nv;

	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];

		for (size_t j = 0; j < p->nr_stacks; j++) {
			if (set->n == set->cap) {
				set->cap = set->cap ? set->cap * 2 : 64;
				nv = realloc(set->v, set->cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				set->v = nv;
			}
			nv = &set->v[set->n];
			nv->stack = stack_line(p, &p->stacks[j], lines);
			if (!nv->stack)
				return -ENOMEM;
			nv->value[side] = counts ? p->stacks[j].allocs : p->stacks[j].bytes;
			nv->value[!side] = 0;
			set->n++;
		}
	}
	return 0;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded *)a)->stack, ((const struct folded *)b)->stack);
}

/* Sorted by stack, equal stacks summed; diff writes both values, a plain export the first. */
static void write_set(FILE *f, struct folded_set *set, bool diff)
{
	size_t i = 0, j;

	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), by_stack);
	while (i < set->n) {
		int64_t v0 = 0, v1 = 0;

		for (j = i; j < set->n && !strcmp(set->v[j].stack, set->v[i].stack); j++) {
			v0 = count__add(v0, set->v[j].value[0]);
			v1 = count__add(v1, set->v[j].value[1]);
		}
		if (diff && (v0 || v1))
			fprintf(f, "%s %" PRId64 " %" PRId64 "\n", set->v[i].stack, v0, v1);
		else if (!diff && v0 > 0)
			fprintf(f, "%s %" PRId64 "\n", set->v[i].stack, v0);
		i = j;
	}
}

static void free_set(struct folded_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].stack);
	free(set->v);
}

int export_folded__write(FILE *f, const struct snapshot *snap, bool counts, bool lines)
{
	struct folded_set set = { 0 };
	int err = add(&set, snap, 0, counts, lines);

	if (!err)
		write_set(f, &set, false);
	free_set(&set);
	return err ? err : ferror(f) ? -EIO : 0;
}

int export_folded__diff(FILE *f, const struct snapshot *old, const struct snapshot *new,
			bool counts)
{
	struct folded_set set = { 0 };
	int err = add(&set, old, 0, counts, false);

	if (!err)
		err = add(&set, new, 1, counts, false);
	if (!err)
		write_set(f, &set, true);
	free_set(&set);
	return err ? err : ferror(f) ? -EIO : 0;
}
