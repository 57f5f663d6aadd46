// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The output formats' table: a new format is a writer and one row here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export_folded.h"
#include "export_pprof.h"
#include "export_svg.h"
#include "format.h"
#include "report_fleet.h"
#include "report_text.h"
#include "snapshot_json.h"

static int write_json(FILE *f, const struct snapshot *snap, const struct export_opts *opts)
{
	snapshot_json__write(f, snap);
	return 0;
}

static int write_text(FILE *f, const struct snapshot *snap, const struct export_opts *opts)
{
	/* A merged snapshot reads best as one ranking across its hosts. */
	if (snap->nr_hosts)
		return report_fleet__write(f, snap, opts->top);
	report_text__write(f, snap, opts->top);
	return 0;
}

static int write_folded(FILE *f, const struct snapshot *snap, const struct export_opts *opts)
{
	return export_folded__write(f, snap, opts->counts, opts->lines);
}

static int write_svg(FILE *f, const struct snapshot *snap, const struct export_opts *opts)
{
	return export_svg__write(f, snap);
}

static int write_pprof(FILE *f, const struct snapshot *snap, const struct export_opts *opts)
{
	return export_pprof__write(f, snap);
}

static const struct format formats[] = {
	{ LT_FORMAT_JSON, "json", ".json", "snapshot, schema v1 (for tools)", 0, write_json },
	{ LT_FORMAT_TEXT, "text", ".txt", "what leaktrace prints", FORMAT_DIFF, write_text },
	{ LT_FORMAT_FOLDED, "folded", ".folded", "flamegraph.pl, inferno, speedscope",
	  FORMAT_DIFF | FORMAT_LOST | FORMAT_HELD, write_folded },
	{ LT_FORMAT_SVG, "svg", ".svg", "interactive flamegraph", FORMAT_LOST | FORMAT_HELD,
	  write_svg },
	{ LT_FORMAT_PPROF, "pprof", ".pb.gz", "heap profile (go tool pprof)", FORMAT_BINARY,
	  write_pprof },
};

#define NR_FORMATS (sizeof(formats) / sizeof(formats[0]))

const struct format *format__get(enum lt_format id)
{
	for (size_t i = 0; i < NR_FORMATS; i++)
		if (formats[i].id == (id == LT_FORMAT_NONE ? LT_FORMAT_TEXT : id))
			return &formats[i];
	return NULL;
}

bool format__has(enum lt_format id, unsigned int flags)
{
	const struct format *fmt = format__get(id);

	return fmt && (fmt->flags & flags) == flags;
}

int format__by_name(const char *name, enum lt_format *out)
{
	for (size_t i = 0; i < NR_FORMATS; i++) {
		if (!strcmp(name, formats[i].name)) {
			*out = formats[i].id;
			return 0;
		}
	}
	return -EINVAL;
}

int format__by_path(const char *path, enum lt_format *out)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < NR_FORMATS; i++) {
		size_t e = strlen(formats[i].ext);

		if (n > e && !strcmp(path + n - e, formats[i].ext)) {
			*out = formats[i].id;
			return 0;
		}
	}
	return -EINVAL;
}

const char *format__list(char *buf, size_t size, unsigned int flags, bool ext)
{
	size_t n = 0, len = 0, left;

	for (size_t i = 0; i < NR_FORMATS; i++)
		n += (formats[i].flags & flags) == flags;
	left = n;
	buf[0] = '\0';
	for (size_t i = 0; i < NR_FORMATS && len < size; i++) {
		if ((formats[i].flags & flags) != flags)
			continue;
		left--;
		len += snprintf(buf + len, size - len, "%s%s",
				ext ? formats[i].ext : formats[i].name,
				!left	  ? "" :
				left == 1 ? " or " :
					    ", ");
	}
	return buf;
}

void format__help(FILE *f, unsigned int notes)
{
	char list[128];

	for (size_t i = 0; i < NR_FORMATS; i++)
		fprintf(f, "%25s%-7s %-7s %s\n", "", formats[i].name, formats[i].ext,
			formats[i].help);
	if (notes & FORMAT_DIFF)
		fprintf(f, "%23s--diff writes %s\n", "",
			format__list(list, sizeof(list), FORMAT_DIFF, false));
	if (notes & FORMAT_LOST)
		fprintf(f, "%23s--lost writes %s\n", "",
			format__list(list, sizeof(list), FORMAT_LOST, false));
}
