// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every output format behind one writer, so that -o and `leaktrace report` write the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_folded.h"
#include "snapshot_json.h"

static void view_free(struct snapshot *view)
{
	for (size_t i = 0; i < view->nr_procs; i++)
		free(view->procs[i].stacks);
	free(view->procs);
}

/*
 * A flamegraph's view of snap, its stacks weighed by what they hold (lost:
 * only their lost blocks, definitely and indirectly, for the flamegraphs of
 * what leaked; else mappings by their resident pages). Frames and strings
 * stay snap's; view_free() frees what this allocates, and on failure nothing
 * is left to free.
 */
static int held_view(const struct snapshot *snap, struct snapshot *view, bool lost)
{
	*view = *snap;
	view->arena = NULL;
	view->procs = calloc(snap->nr_procs ? snap->nr_procs : 1, sizeof(*view->procs));
	if (!view->procs)
		return -ENOMEM; /* nothing to free */
	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];
		struct proc_stat *q = &view->procs[i];

		*q = *p;
		q->nr_stacks = 0;
		q->bytes = q->allocs = 0;
		q->stacks = calloc(p->nr_stacks ? p->nr_stacks : 1, sizeof(*q->stacks));
		if (!q->stacks) {
			view->nr_procs = i;
			view_free(view);
			return -ENOMEM;
		}
		for (size_t j = 0; j < p->nr_stacks; j++) {
			struct stack_stat s = p->stacks[j];

			if (lost && stack_stat__unreachable(&s) <= 0)
				continue;
			s.bytes = lost ? stack_stat__unreachable(&s) : stack_stat__held(&s);
			if (lost)
				s.allocs = count__add(s.lost_allocs, s.indirect_allocs);
			q->stacks[q->nr_stacks++] = s;
			q->bytes = count__add(q->bytes, s.bytes);
			q->allocs = count__add(q->allocs, s.allocs);
		}
	}
	return 0;
}

int export__write(FILE *f, const struct snapshot *snap, enum lt_format fmt,
		  const struct export_opts *opts)
{
	bool lost = opts->lost && format__has(fmt, FORMAT_LOST);

	if (lost || (!opts->reserved && format__has(fmt, FORMAT_HELD))) {
		struct export_opts plain = *opts;
		struct snapshot view;
		int err = held_view(snap, &view, lost);

		if (err)
			return err;
		plain.lost = false;
		plain.reserved = true; /* the view is made */
		err = export__write(f, &view, fmt, &plain);
		view_free(&view);
		return err;
	}
	return format__get(fmt)->write(f, snap, opts);
}

int export__write_folded_diff(FILE *f, const struct snapshot *old, const struct snapshot *new,
			      const struct export_opts *opts)
{
	struct snapshot views[2];
	int err;

	if (opts->reserved)
		return export_folded__diff(f, old, new, opts->counts);
	err = held_view(old, &views[0], false);
	if (err)
		return err;
	err = held_view(new, &views[1], false);
	if (!err) {
		err = export_folded__diff(f, &views[0], &views[1], opts->counts);
		view_free(&views[1]);
	}
	view_free(&views[0]);
	return err;
}

int export__write_saved(FILE *f, const struct snapshot *snap, enum lt_format fmt,
			const struct export_opts *opts)
{
	struct snapshot *saved = NULL;
	char *json = NULL, err[256];
	size_t len = 0;
	FILE *m;
	int ret;

	if (fmt == LT_FORMAT_JSON) {
		snapshot_json__write(f, snap);
		return 0;
	}
	m = open_memstream(&json, &len);
	if (!m)
		return -ENOMEM;
	snapshot_json__write(m, snap);
	ret = fclose(m) ? -ENOMEM :
			  snapshot_json__load_text(json, "snapshot", &saved, err, sizeof(err));
	if (!ret)
		ret = export__write(f, saved, fmt, opts);
	snapshot__free(saved);
	free(json);
	return ret;
}
