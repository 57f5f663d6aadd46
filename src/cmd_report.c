// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `leaktrace report`: convert, diff and merge saved snapshots, with the writers of trace mode. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_report.h"
#include "demangle.h"
#include "debuginfo.h"
#include "diag.h"
#include "export.h"
#include "output_file.h"
#include "report_diff.h"
#include "resymbolize.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

static const char usage[] =
	"Usage: leaktrace report [OPTIONS] SNAPSHOT.json\n"
	"       leaktrace report --diff [OPTIONS] OLD.json NEW.json\n"
	"       leaktrace report --merge [OPTIONS] A.json B.json ...\n"
	"\n"
	"Converts a snapshot saved with leaktrace -o FILE.json, shows what grew between\n"
	"two of them, or merges snapshots of many hosts into one (identical stacks summed,\n"
	"each keeping the hosts and processes it came from). A file named - is stdin.\n"
	"The text of a merged snapshot ranks its stacks across the hosts, one line per\n"
	"stack however many hosts hold it (function, process, hosts, bytes, growth,\n"
	"trend), the growing ones first, then the frames of each.\n"
	"\n"
	"  -o, --output FILE    write to FILE instead of stdout (-o - is stdout); the\n"
	"                       format comes from --format or the extension (below),\n"
	"                       else text\n"
	"      --format FMT     one of these (folded --diff: \"stack OLD NEW\" lines):\n";

/* After the formats, made from their table (format__help). */
static const char usage_tail[] =
	"  -n, --top N          text: stacks per process, or in a merged snapshot's\n"
	"                       ranking (default 10)\n"
	"      --count          folded: allocation counts instead of bytes\n"
	"      --reserved       folded, svg: mmap stacks weighed by the bytes they\n"
	"                       reserve (default: by their resident pages)\n"
	"      --lost           only what a scan found lost, definitely and indirectly\n"
	"                       (a snapshot taken with --scan, or in run mode): the\n"
	"                       flamegraph of the leaks themselves\n"
	"      --lines          folded: frames as \"fn (file.c:LINE)\" where the line is\n"
	"                       known\n"
	"      --no-demangle    keep C++ and Rust names mangled\n"
	"      --symbolize      name the frames again here, by each frame's build ID and\n"
	"                       module offset: a snapshot of a production host's stripped\n"
	"                       binaries gets functions, file:line and inlined calls\n"
	"                       from DIR/.build-id/xx/rest.debug (--debug-dir, then\n"
	"                       /usr/lib/debug), the module's own path when it is the\n"
	"                       same build, or debuginfod (DEBUGINFOD_URLS); the next\n"
	"                       two options go with it\n" DEBUGINFO_USAGE
	"      --host NAME      the snapshot is one host's, named NAME: the host it\n"
	"                       names itself, and any hosts or origins it claims, are\n"
	"                       replaced (tools/leak-sweep names each host as it\n"
	"                       reached it, whatever the host says)\n"
	"  -h, --help           this text\n"
	"\n"
	"Examples:\n"
	"  leaktrace report leak.json -o leak.svg           flamegraph of a saved snapshot\n"
	"  leaktrace report leak.json --format folded | flamegraph.pl > leak.svg\n"
	"  leaktrace report leak.json -o leak.pb.gz && go tool pprof -top leak.pb.gz\n"
	"  leaktrace report --diff monday.json tuesday.json  what grew in between\n"
	"  leaktrace report --symbolize --debug-dir dbg prod.json  file:line for a stripped host\n"
	"  leaktrace report --merge host*.json -o fleet.svg  one flamegraph of a fleet\n";

enum mode { MODE_CONVERT, MODE_DIFF, MODE_MERGE };

struct report_args {
	enum mode mode;
	const char *output;
	enum lt_format format;
	struct export_opts opts;
	bool demangle;
	const char *host;		 /* --host */
	bool symbolize;			 /* --symbolize */
	struct debuginfo_args debuginfo; /* --debug-dir, --no-debuginfod */
	char **files;
	int nr_files;
};

enum {
	OPT_FORMAT = 0x100,
	OPT_DIFF,
	OPT_MERGE,
	OPT_COUNT,
	OPT_LOST,
	OPT_NO_DEMANGLE,
	OPT_HOST,
	OPT_SYMBOLIZE,
	OPT_LINES,
	OPT_RESERVED,
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "top", required_argument, NULL, 'n' },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "count", no_argument, NULL, OPT_COUNT },
	{ "lost", no_argument, NULL, OPT_LOST },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "symbolize", no_argument, NULL, OPT_SYMBOLIZE },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "reserved", no_argument, NULL, OPT_RESERVED },
	DEBUGINFO_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_top(const char *arg, int *top)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < 1 || v > 100000) {
		diag__error("-n: '%s' is not a whole number from 1 to "
			    "100000",
			    arg);
		return -EINVAL;
	}
	*top = (int)v;
	return 0;
}

static int parse_option(int c, const char *arg, struct report_args *a)
{
	char list[128];

	switch (c) {
	case 'o':
		/* -o - is stdout: as without -o. */
		a->output = output_file__is_stdout(arg) ? NULL : arg;
		return 0;
	case 'n':
		return parse_top(arg, &a->opts.top);
	case OPT_FORMAT:
		if (!format__by_name(arg, &a->format))
			return 0;
		diag__error("--format: '%s' is not a format: use %s", arg,
			    format__list(list, sizeof(list), 0, false));
		return -EINVAL;
	case OPT_DIFF:
	case OPT_MERGE:
		if (a->mode != MODE_CONVERT) {
			diag__error("give --diff or --merge, not both");
			return -EINVAL;
		}
		a->mode = c == OPT_DIFF ? MODE_DIFF : MODE_MERGE;
		return 0;
	case OPT_RESERVED:
		a->opts.reserved = true;
		return 0;
	case OPT_COUNT:
		a->opts.counts = true;
		return 0;
	case OPT_LOST:
		a->opts.lost = true;
		return 0;
	case OPT_NO_DEMANGLE:
		a->demangle = false;
		return 0;
	case OPT_HOST:
		/* The snapshot's host field holds 255 bytes (struct snapshot). */
		if (!*arg || strlen(arg) > 255) {
			diag__error("--host: give a name of 1 to 255 "
				    "characters");
			return -EINVAL;
		}
		a->host = arg;
		return 0;
	case OPT_SYMBOLIZE:
		a->symbolize = true;
		return 0;
	case OPT_LINES:
		a->opts.lines = true;
		return 0;
	case DEBUGINFO_OPT_DIR:
	case DEBUGINFO_OPT_NO_DEBUGINFOD:
		return debuginfo__parse_option(&a->debuginfo, c, arg);
	}
	return -EINVAL;
}

static int check_args(struct report_args *a)
{
	char list[128];
	static const char *const what[] = {
		[MODE_CONVERT] = "one snapshot",
		[MODE_DIFF] = "two snapshots, old then new",
		[MODE_MERGE] = "the snapshots to merge",
	};
	bool count_ok = a->mode == MODE_CONVERT ? a->nr_files == 1 :
			a->mode == MODE_DIFF	? a->nr_files == 2 :
						  a->nr_files >= 1;

	if (!count_ok) {
		diag__error("give %s (see leaktrace report --help)", what[a->mode]);
		return -EINVAL;
	}
	if (a->format == LT_FORMAT_NONE && a->output && format__by_path(a->output, &a->format)) {
		diag__error("-o %s: cannot tell the format from the "
			    "extension: use %s, or give --format",
			    a->output, format__list(list, sizeof(list), 0, true));
		return -EINVAL;
	}
	if (a->host && a->mode != MODE_CONVERT) {
		diag__error("--host names the host of one snapshot: not with "
			    "--diff or --merge");
		return -EINVAL;
	}
	if ((a->debuginfo.nr_dirs || a->debuginfo.no_debuginfod) && !a->symbolize) {
		diag__error("--debug-dir and --no-debuginfod go with "
			    "--symbolize");
		return -EINVAL;
	}
	if (a->format == LT_FORMAT_NONE)
		a->format = LT_FORMAT_TEXT;
	if (a->mode == MODE_DIFF && !format__has(a->format, FORMAT_DIFF)) {
		diag__error("--diff writes %s only",
			    format__list(list, sizeof(list), FORMAT_DIFF, false));
		return -EINVAL;
	}
	if (a->opts.lost && (a->mode == MODE_DIFF || !format__has(a->format, FORMAT_LOST))) {
		diag__error("--lost writes %s only, of one snapshot or a "
			    "merge",
			    format__list(list, sizeof(list), FORMAT_LOST, false));
		return -EINVAL;
	}
	if (a->opts.reserved && !format__has(a->format, FORMAT_HELD)) {
		diag__error("--reserved weighs %s only",
			    format__list(list, sizeof(list), FORMAT_HELD, false));
		return -EINVAL;
	}
	if (format__has(a->format, FORMAT_BINARY) && !a->output && isatty(STDOUT_FILENO)) {
		diag__error("%s is binary: give -o FILE%s or redirect "
			    "stdout",
			    format__get(a->format)->name, format__get(a->format)->ext);
		return -EINVAL;
	}
	return 0;
}

/* 0 to go on, 1 after --help, or -EINVAL after one error line. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
	int c;

	*a = (struct report_args){ .opts = { .top = 10 }, .demangle = true };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:n:h", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			format__help(stdout, FORMAT_DIFF | FORMAT_LOST);
			fputs(usage_tail, stdout);
			return 1;
		}
		if (c == ':' || c == '?') {
			if (c == ':')
				diag__error("%s needs a value", argv[optind - 1]);
			else
				diag__error("unknown option '%s' (see "
					    "leaktrace report --help)",
					    argv[optind - 1]);
			return -EINVAL;
		}
		if (parse_option(c, optarg, a))
			return -EINVAL;
	}
	a->files = &argv[optind];
	a->nr_files = argc - optind;
	return check_args(a);
}

static void free_all(struct snapshot **snaps, int n)
{
	for (int i = 0; snaps && i < n; i++)
		snapshot__free(snaps[i]);
	free(snaps);
}

/* --symbolize: the frames named again here; what was not found is said once. */
static int symbolize(const struct report_args *a, struct debuginfo *d, struct snapshot *snap,
		     const char *file)
{
	int found, missing, err;

	err = resymbolize__snapshot(snap, d, &found, &missing);
	if (err)
		diag__error("--symbolize %s: %s", file, strerror(-err));
	else if (missing)
		diag__error("--symbolize %s: %d of %d modules not found "
			    "by build ID with debug info or symbols (%s%s): their frames keep what "
			    "was saved",
			    file, missing, found + missing,
			    a->debuginfo.nr_dirs ? "--debug-dir, " : "",
			    a->debuginfo.no_debuginfod ? "/usr/lib/debug, their paths" :
							 "/usr/lib/debug, their paths, debuginfod");
	return err;
}

static int load_all(const struct report_args *a, struct snapshot ***out)
{
	struct snapshot **snaps = calloc(a->nr_files, sizeof(*snaps));
	struct debuginfo_opts dopts = debuginfo__opts(&a->debuginfo);
	struct debuginfo *d = a->symbolize ? debuginfo__new(&dopts) : NULL;
	char err[512];
	int ret = snaps && (d || !a->symbolize) ? 0 : -ENOMEM;

	for (int i = 0; i < a->nr_files && !ret; i++) {
		ret = snapshot_json__load(a->files[i], &snaps[i], err, sizeof(err));
		if (!ret && a->opts.lost && !snapshot__has_verdicts(snaps[i])) {
			snprintf(err, sizeof(err),
				 "--lost: %s has no lost bytes to show: it was "
				 "taken without --scan",
				 a->files[i]);
			ret = -EINVAL;
		}
		if (ret) {
			diag__error("%s", err);
			break;
		}
		/* Before demangling: what is found here is as raw as what was saved. */
		if (d)
			ret = symbolize(a, d, snaps[i], a->files[i]);
		if (!ret && a->demangle)
			demangle__snapshot(snaps[i]); /* names stay raw if it fails */
	}
	debuginfo__free(d);
	if (ret) {
		free_all(snaps, a->nr_files);
		return ret;
	}
	*out = snaps;
	return 0;
}

/* --host: one host's snapshot under the name given; what it claims of other hosts goes. */
static void set_host(struct snapshot *snap, const char *host)
{
	snprintf(snap->host, sizeof(snap->host), "%s", host);
	snap->hosts = NULL;
	snap->nr_hosts = 0;
	for (size_t i = 0; i < snap->nr_procs; i++) {
		snap->procs[i].origins = NULL;
		snap->procs[i].nr_origins = 0;
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++) {
			snap->procs[i].stacks[j].origins = NULL;
			snap->procs[i].stacks[j].nr_origins = 0;
		}
	}
}

static int write_result(FILE *f, const struct report_args *a, struct snapshot **snaps)
{
	struct snapshot *merged = NULL;
	int err;

	if (a->mode == MODE_DIFF && a->format == LT_FORMAT_FOLDED)
		return export__write_folded_diff(f, snaps[0], snaps[1], &a->opts);
	if (a->mode == MODE_DIFF)
		return report_diff__text(f, snaps[0], a->files[0], snaps[1], a->files[1],
					 a->opts.top);
	if (a->mode == MODE_CONVERT)
		return export__write(f, snaps[0], a->format, &a->opts);
	err = snapshot__merge((const struct snapshot *const *)snaps, a->nr_files, &merged);
	if (!err)
		err = export__write(f, merged, a->format, &a->opts);
	snapshot__free(merged);
	return err;
}

int cmd_report(int argc, char **argv)
{
	struct snapshot **snaps = NULL;
	struct output_file o = { .fd = -1 };
	struct report_args a;
	const char *name;
	int err;

	diag__set_prefix("leaktrace report");
	err = parse_args(argc, argv, &a);
	if (err)
		return err > 0 ? 0 : 2;
	if (load_all(&a, &snaps))
		return 1;
	if (a.host)
		set_host(snaps[0], a.host);
	name = a.output ? a.output : "stdout";
	err = a.output ? output_file__open(&o, a.output) : 0;
	if (!err)
		err = write_result(a.output ? o.f : stdout, &a, snaps);
	if (a.output && !err)
		err = output_file__close(&o, true);
	else if (a.output)
		output_file__close(&o, false);
	else if ((fflush(stdout) || ferror(stdout)) && !err)
		err = -EIO;
	free_all(snaps, a.nr_files);
	if (err) {
		diag__error("cannot write %s: %s", name, strerror(-err));
		return 1;
	}
	return 0;
}
