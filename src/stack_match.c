// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Stacks matched across snapshots by a key, for --merge and --diff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack_match.h"

/* Separators no name contains: unit, record and group separators. */
#define SEP_FIELD '\x1f'
#define SEP_FRAME '\x1e'
#define SEP_PROC '\x1d'

static char *make_key(const struct proc_stat *p, const struct stack_stat *s, size_t *proc_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s%c%s%c", p->comm, SEP_FIELD, p->exe, SEP_PROC);
	fflush(f);
	*proc_len = len;
	fputs(stack_kind__name(s->kind), f);
	for (int i = 0; i < s->nr_frames; i++)
		fprintf(f, "%c%s%c%s", SEP_FRAME, s->frames[i]->module ? s->frames[i]->module : "",
			SEP_FIELD, s->frames[i]->symbol ? s->frames[i]->symbol : "");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int by_key(const void *a, const void *b)
{
	const struct stack_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->snap < y->snap ? -1 : x->snap > y->snap;
}

int stack_match__build(const struct snapshot *const *snaps, size_t n, struct stack_ref **out,
		       size_t *nr)
{
	struct stack_ref *refs;
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < snaps[i]->nr_procs; j++)
			total += snaps[i]->procs[j].nr_stacks;
	refs = calloc(total + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < snaps[i]->nr_procs; j++) {
			const struct proc_stat *p = &snaps[i]->procs[j];

			for (size_t s = 0; s < p->nr_stacks; s++, k++) {
				refs[k] = (struct stack_ref){ .snap = i,
							      .proc = p,
							      .stack = &p->stacks[s] };
				refs[k].key = make_key(p, &p->stacks[s], &refs[k].proc_len);
				if (!refs[k].key) {
					stack_match__free(refs, k);
					return -ENOMEM;
				}
			}
		}
	}
	qsort(refs, total, sizeof(*refs), by_key);
	*out = refs;
	*nr = total;
	return 0;
}

size_t stack_match__run(const struct stack_ref *refs, size_t nr, size_t i)
{
	size_t j = i + 1;

	while (j < nr && !strcmp(refs[j].key, refs[i].key))
		j++;
	return j - i;
}

bool stack_match__same_process(const struct stack_ref *a, const struct stack_ref *b)
{
	return a->proc_len == b->proc_len && !memcmp(a->key, b->key, a->proc_len);
}

void stack_match__free(struct stack_ref *refs, size_t nr)
{
	if (!refs)
		return;
	for (size_t i = 0; i < nr; i++)
		free(refs[i].key);
	free(refs);
}
