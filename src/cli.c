// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command line parsing: every option is checked here, so the rest can trust the config. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define LT_VERSION "0.1.0"

static const char usage[] =
"Usage: leaktrace [OPTIONS] -p PID [-p PID ...]\n"
"       leaktrace [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Find memory leaks in running processes without restarting them. leaktrace puts\n"
"BPF probes on the allocator the process uses (malloc, calloc, realloc,\n"
"reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, free,\n"
"mmap, munmap), keeps every outstanding allocation in kernel maps, and reports\n"
"which call stacks hold memory that is not freed: how much, how old, and how\n"
"fast it grows. The target keeps running; detaching leaves it as it was.\n"
"\n"
"Targets:\n"
"  -p, --pid PID        attach to a running process (repeatable, up to 64);\n"
"                       only allocations made after the attach are seen\n"
"  -- COMMAND [ARGS]    run COMMAND traced from its first allocation; its\n"
"                       stdin, stdout and stderr pass through, what it still\n"
"                       holds at exit is reported (valgrind's \"in use at\n"
"                       exit\"), and leaktrace exits with its exit status\n"
"\n"
"Reports:\n"
"  -i, --interval SEC   seconds between reports (default 5)\n"
"  -d, --duration SEC   stop after SEC seconds (default: until the targets\n"
"                       exit or leaktrace gets SIGINT, SIGTERM or SIGHUP)\n"
"  -n, --top N          stacks shown per report (default 10)\n"
"  -q, --quiet          no periodic reports; only the final one\n"
"  -o, --output FILE    write the final snapshot to FILE; the format comes\n"
"                       from --format or the extension (.json, .txt)\n"
"      --format FMT     json or text\n"
"  -v, --verbose        say which objects and functions are probed\n"
"\n"
"Filters (what is counted in the reports):\n"
"      --older SEC      only allocations at least SEC seconds old; each report\n"
"                       then reads every outstanding allocation, which costs\n"
"                       about 0.3 s per million\n"
"      --min-size SIZE  only allocations of at least SIZE bytes\n"
"      --max-size SIZE  only allocations of at most SIZE bytes\n"
"                       (SIZE takes a K, M or G suffix, powers of 1024)\n"
"\n"
"Limits (kernel memory):\n"
"      --max-allocs N   outstanding allocations tracked (default 1048576);\n"
"                       beyond it, allocations are counted as untracked\n"
"      --max-stacks N   distinct stacks stored (default 16384); beyond it,\n"
"                       bytes are kept under an unknown stack\n"
"\n"
"  -h, --help           this text\n"
"  -V, --version        the version\n"
"\n"
"Each stack line gives the outstanding bytes and allocations, the age of the\n"
"oldest allocation, the growth since the previous report in bytes per second,\n"
"and the frames, innermost first: frame 0 is the function that called the\n"
"allocator; outer frames are shown as far as frame pointers make the walk sound.\n"
"Every report also states what was not tracked: allocations beyond the map\n"
"size, stacks dropped, and frees that matched no allocation (frees of blocks\n"
"allocated before the attach are normal and counted apart).\n"
"\n"
"Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF and uprobes.\n"
"\n"
"Examples:\n"
"  leaktrace -p 4242                    report every 5 s until Ctrl-C\n"
"  leaktrace -p 4242 -d 60 -o leak.json one minute, then save a snapshot\n"
"  leaktrace -- ./unit-tests            what the tests leave allocated\n";

static int parse_seconds(const char *opt, const char *arg, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min) {
		fprintf(stderr, "leaktrace: %s: '%s' is not a number of seconds%s\n", opt, arg,
			min > 0 ? " above 0" : " (0 or more)");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || !isdigit((unsigned char)arg[0]) || v < min ||
	    v > max) {
		fprintf(stderr, "leaktrace: %s: '%s' is not a whole number from %llu to %llu\n",
			opt, arg, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* A byte size with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *opt, const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!errno && end != arg && isdigit((unsigned char)arg[0])) {
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
		if ((*end == 'b' || *end == 'B') && shift)
			end++;
		if (!*end && v <= (UINT64_MAX >> shift)) {
			*out = (uint64_t)v << shift;
			return 0;
		}
	}
	fprintf(stderr, "leaktrace: %s: '%s' is not a size in bytes (like 4096, 64K or 2M)\n",
		opt, arg);
	return -EINVAL;
}

static int parse_format(const char *arg, enum lt_format *out)
{
	if (!strcmp(arg, "json"))
		*out = LT_FORMAT_JSON;
	else if (!strcmp(arg, "text"))
		*out = LT_FORMAT_TEXT;
	else {
		fprintf(stderr, "leaktrace: --format: '%s' is not a format: use json or text\n",
			arg);
		return -EINVAL;
	}
	return 0;
}

static int format_from_extension(const char *path, enum lt_format *out)
{
	const char *dot = strrchr(path, '.');

	if (dot && !strcmp(dot, ".json"))
		*out = LT_FORMAT_JSON;
	else if (dot && !strcmp(dot, ".txt"))
		*out = LT_FORMAT_TEXT;
	else {
		fprintf(stderr, "leaktrace: -o %s: cannot tell the format from the extension: "
			"use .json or .txt, or give --format\n", path);
		return -EINVAL;
	}
	return 0;
}

static int add_pid(struct config *cfg, const char *arg)
{
	uint64_t pid;

	if (parse_count("-p", arg, 1, INT_MAX, &pid))
		return -EINVAL;
	if (cfg->nr_pids == LT_MAX_PIDS) {
		fprintf(stderr, "leaktrace: -p: at most %d processes at once\n", LT_MAX_PIDS);
		return -EINVAL;
	}
	cfg->pids[cfg->nr_pids++] = (pid_t)pid;
	return 0;
}

enum {
	OPT_FORMAT = 0x100,
	OPT_OLDER,
	OPT_MIN_SIZE,
	OPT_MAX_SIZE,
	OPT_MAX_ALLOCS,
	OPT_MAX_STACKS,
};

static const struct option options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "older", required_argument, NULL, OPT_OLDER },
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

static int parse_option(int c, const char *arg, struct config *cfg)
{
	uint64_t n;

	switch (c) {
	case 'p':
		return add_pid(cfg, arg);
	case 'i':
		return parse_seconds("-i", arg, 0.001, &cfg->interval);
	case 'd':
		return parse_seconds("-d", arg, 0.001, &cfg->duration);
	case 'n':
		if (parse_count("-n", arg, 1, 100000, &n))
			return -EINVAL;
		cfg->top = (int)n;
		return 0;
	case 'o':
		cfg->output = arg;
		return 0;
	case 'q':
		cfg->quiet = true;
		return 0;
	case 'v':
		cfg->verbose = true;
		return 0;
	case OPT_FORMAT:
		return parse_format(arg, &cfg->format);
	case OPT_OLDER:
		return parse_seconds("--older", arg, 0, &cfg->older);
	case OPT_MIN_SIZE:
		return parse_size("--min-size", arg, &cfg->min_size);
	case OPT_MAX_SIZE:
		return parse_size("--max-size", arg, &cfg->max_size);
	case OPT_MAX_ALLOCS:
		return parse_count("--max-allocs", arg, 1024, 1ULL << 28, &cfg->max_allocs);
	case OPT_MAX_STACKS:
		return parse_count("--max-stacks", arg, 64, 1ULL << 22, &cfg->max_stacks);
	default:
		return -EINVAL;
	}
}

/* getopt's own messages name argv[0]; ours name leaktrace and point to --help. */
static void option_error(int c, char **argv)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		fprintf(stderr, "leaktrace: %s needs a value (see leaktrace --help)\n", opt);
	else if (optopt && optopt < 0x100 && isprint(optopt))
		fprintf(stderr, "leaktrace: unknown option '-%c' (see leaktrace --help)\n", optopt);
	else
		fprintf(stderr, "leaktrace: unknown option '%s' (see leaktrace --help)\n", opt);
}

static int check_config(struct config *cfg)
{
	if (!cfg->nr_pids && !cfg->command) {
		fprintf(stderr, "leaktrace: nothing to trace: give -p PID or -- COMMAND "
			"(see leaktrace --help)\n");
		return -EINVAL;
	}
	if (cfg->nr_pids && cfg->command) {
		fprintf(stderr, "leaktrace: give either -p PID or -- COMMAND, not both\n");
		return -EINVAL;
	}
	if (cfg->min_size > cfg->max_size) {
		fprintf(stderr, "leaktrace: --min-size is larger than --max-size: nothing would "
			"be counted\n");
		return -EINVAL;
	}
	if (cfg->output && cfg->format == LT_FORMAT_NONE)
		return format_from_extension(cfg->output, &cfg->format);
	if (!cfg->output && cfg->format != LT_FORMAT_NONE) {
		fprintf(stderr, "leaktrace: --format needs -o FILE\n");
		return -EINVAL;
	}
	return 0;
}

enum cli_result cli__parse(int argc, char **argv, struct config *cfg)
{
	int c;

	*cfg = (struct config){
		.interval = 5,
		.top = 10,
		.max_size = UINT64_MAX,
		.max_allocs = 1 << 20,
		.max_stacks = 1 << 14,
	};
	optind = 0;	/* 0, not 1: glibc then also forgets a half-parsed "-abc" */
	opterr = 0;
	/* '+': stop at the first non-option, so COMMAND's own options are its own. */
	while ((c = getopt_long(argc, argv, "+:p:i:d:n:o:qvhV", options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			option_error(c, argv);
			return CLI_EXIT_USAGE;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'V') {
			printf("leaktrace %s\n", LT_VERSION);
			return CLI_EXIT_OK;
		}
		if (parse_option(c, optarg, cfg))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			fprintf(stderr, "leaktrace: unexpected argument '%s': a command to run "
				"goes after --\n", argv[optind]);
			return CLI_EXIT_USAGE;
		}
		cfg->command = &argv[optind];
	}
	return check_config(cfg) ? CLI_EXIT_USAGE : CLI_RUN;
}
