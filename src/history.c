// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's history ring and the line it keeps per snapshot. */
#include <errno.h>
#include <stdlib.h>

#include "export_metrics.h"
#include "history.h"
#include "json_writer.h"

struct history {
	char **lines;
	size_t cap, first, len;
};

int history__new(size_t cap, struct history **out)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h || !cap || !(h->lines = calloc(cap, sizeof(*h->lines)))) {
		free(h);
		return -ENOMEM;
	}
	h->cap = cap;
	*out = h;
	return 0;
}

void history__free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->cap; i++)
		free(h->lines[i]);
	free(h->lines);
	free(h);
}

void history__push(struct history *h, char *line)
{
	size_t at = (h->first + h->len) % h->cap;

	if (h->len == h->cap) {
		free(h->lines[h->first]);
		h->first = (h->first + 1) % h->cap;
	} else {
		h->len++;
	}
	h->lines[at] = line;
}

size_t history__len(const struct history *h)
{
	return h->len;
}

void history__write(const struct history *h, FILE *f)
{
	for (size_t i = 0; i < h->len; i++) {
		fputs(h->lines[(h->first + i) % h->cap], f);
		fputc('\n', f);
	}
}

static void write_procs(struct json_writer *w, const struct snapshot *snap)
{
	json__key(w, "processes");
	json__array_begin(w);
	for (size_t i = 0; i < snap->nr_procs && i < HISTORY_MAX_PROCS; i++) {
		json__object_begin(w);
		json__key(w, "pid");
		json__int(w, snap->procs[i].pid);
		json__key(w, "comm");
		json__string(w, snap->procs[i].comm);
		json__key(w, "bytes");
		json__int(w, snap->procs[i].bytes);
		json__key(w, "allocs");
		json__int(w, snap->procs[i].allocs);
		json__object_end(w);
	}
	json__array_end(w);
}

static void write_stacks(struct json_writer *w, const struct top_stack *v, size_t n)
{
	json__key(w, "stacks");
	json__array_begin(w);
	for (size_t i = 0; i < n; i++) {
		json__object_begin(w);
		json__key(w, "pid");
		json__int(w, v[i].proc->pid);
		json__key(w, "comm");
		json__string(w, v[i].proc->comm);
		json__key(w, "function");
		json__string(w, v[i].function);
		json__key(w, "module");
		json__string(w, v[i].module);
		json__key(w, "bytes");
		json__int(w, v[i].bytes);
		json__key(w, "growth_bytes_per_s");
		json__double(w, v[i].rate);
		json__key(w, "suspect");
		json__bool(w, v[i].suspect);
		json__object_end(w);
	}
	json__array_end(w);
}

int history__line(const struct snapshot *snap, int top, char **out)
{
	struct json_writer w;
	struct top_stack *v;
	size_t n, len;
	FILE *f;

	if (top_stacks__collect(snap, top, &v, &n))
		return -ENOMEM;
	f = open_memstream(out, &len);
	if (!f) {
		free(v);
		return -ENOMEM;
	}
	json__init(&w, f);
	json__object_begin(&w);
	json__key(&w, "t");
	json__double(&w, snap->taken.tv_sec + snap->taken.tv_nsec / 1e9);
	write_procs(&w, snap);
	write_stacks(&w, v, n);
	json__object_end(&w);
	free(v);
	if (fclose(f)) {
		free(*out);
		return -ENOMEM;
	}
	/* The writer ends a document with a newline: the ring adds its own. */
	if (len && (*out)[len - 1] == '\n')
		(*out)[len - 1] = 0;
	return 0;
}
