// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every output format behind one writer, so that -o and `leaktrace report` write the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "report.h"
#include "snapshot_load.h"

static const struct {
	const char *name;
	const char *ext;
	enum lt_format format;
} formats[] = {
	{ "json", ".json", LT_FORMAT_JSON },
	{ "text", ".txt", LT_FORMAT_TEXT },
	{ "folded", ".folded", LT_FORMAT_FOLDED },
	{ "svg", ".svg", LT_FORMAT_SVG },
	{ "pprof", ".pb.gz", LT_FORMAT_PPROF },
};

const char export__format_list[] = "json, text, folded, svg or pprof";

int export__format_by_name(const char *name, enum lt_format *out)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(name, formats[i].name)) {
			*out = formats[i].format;
			return 0;
		}
	}
	return -EINVAL;
}

int export__format_by_path(const char *path, enum lt_format *out)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t e = strlen(formats[i].ext);

		if (n > e && !strcmp(path + n - e, formats[i].ext)) {
			*out = formats[i].format;
			return 0;
		}
	}
	return -EINVAL;
}

bool export__has_verdicts(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nr_procs; i++)
		if (snap->procs[i].scanned)
			return true;
	return false;
}

static void lost_view_free(struct snapshot *view)
{
	for (size_t i = 0; i < view->nr_procs; i++)
		free(view->procs[i].stacks);
	free(view->procs);
}

/*
 * --lost: snap as if only its lost blocks (definitely and indirectly) were
 * outstanding, for the flamegraphs of what leaked. Frames and strings stay
 * snap's; lost_view_free() frees what this allocates, and on failure nothing
 * is left to free.
 */
static int lost_view(const struct snapshot *snap, struct snapshot *view)
{
	*view = *snap;
	view->arena = NULL;
	view->procs = calloc(snap->nr_procs ? snap->nr_procs : 1, sizeof(*view->procs));
	if (!view->procs)
		return -ENOMEM;	/* nothing to free */
	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];
		struct proc_stat *q = &view->procs[i];

		*q = *p;
		q->nr_stacks = 0;
		q->bytes = q->allocs = 0;
		q->stacks = calloc(p->nr_stacks ? p->nr_stacks : 1, sizeof(*q->stacks));
		if (!q->stacks) {
			view->nr_procs = i;
			lost_view_free(view);
			return -ENOMEM;
		}
		for (size_t j = 0; j < p->nr_stacks; j++) {
			struct stack_stat s = p->stacks[j];

			if (stack_stat__unreachable(&s) <= 0)
				continue;
			s.bytes = stack_stat__unreachable(&s);
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
	if (opts->lost && (fmt == LT_FORMAT_FOLDED || fmt == LT_FORMAT_SVG)) {
		struct export_opts plain = *opts;
		struct snapshot view;
		int err = lost_view(snap, &view);

		if (err)
			return err;
		plain.lost = false;
		err = export__write(f, &view, fmt, &plain);
		lost_view_free(&view);
		return err;
	}
	switch (fmt) {
	case LT_FORMAT_JSON:
		report_json__write(f, snap);
		return 0;
	case LT_FORMAT_FOLDED:
		return export_folded__write(f, snap, opts->counts, opts->lines);
	case LT_FORMAT_SVG:
		return export_svg__write(f, snap);
	case LT_FORMAT_PPROF:
		return export_pprof__write(f, snap);
	case LT_FORMAT_NONE:
	case LT_FORMAT_TEXT:
		break;
	}
	/* A merged snapshot reads best as one ranking across its hosts. */
	if (snap->nr_hosts)
		return report_fleet__write(f, snap, opts->top);
	report_text__write(f, snap, opts->top);
	return 0;
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
		report_json__write(f, snap);
		return 0;
	}
	m = open_memstream(&json, &len);
	if (!m)
		return -ENOMEM;
	report_json__write(m, snap);
	ret = fclose(m) ? -ENOMEM : snapshot__load_text(json, "snapshot", &saved, err,
							   sizeof(err));
	if (!ret)
		ret = export__write(f, saved, fmt, opts);
	snapshot__free(saved);
	free(json);
	return ret;
}

const char *export__basename(const char *path)
{
	const char *slash;

	if (!path)
		return "";
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *export__frame_name(const struct frame *fr, char *buf, size_t size)
{
	if (fr->symbol)
		return fr->symbol;
	if (fr->module)
		snprintf(buf, size, "[%s]", export__basename(fr->module));
	else
		snprintf(buf, size, "[unknown]");
	return buf;
}

const char *export__frame_label(const struct frame *fr, char *buf, size_t size)
{
	char name[288];
	const char *n = export__frame_name(fr, name, sizeof(name));

	if (!fr->file || !fr->line)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "%s (%s:%d)", n, export__basename(fr->file), fr->line);
	return buf;
}
