/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Finding a module's separate debug file by build ID: in debug directories
 * (DIR/.build-id/xx/rest.debug), and from debuginfod servers (DEBUGINFOD_URLS)
 * through elfutils' libdebuginfod, fetched by a worker thread, each fetch in a
 * child process killed at its time limit.
 */
#ifndef LT_DEBUGINFO_H
#define LT_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>

/* The default time limit of one debuginfod fetch. */
#define DEBUGINFO_FETCH_TIMEOUT_S 30

/* The most --debug-dir options a command takes. */
#define DEBUGINFO_MAX_DIRS 8

struct debuginfo;

struct debuginfo_opts {
	const char *const *dirs; /* searched in order, then /usr/lib/debug */
	size_t nr_dirs;
	bool debuginfod;	/* false: --no-debuginfod */
	double fetch_timeout_s; /* 0: DEBUGINFO_FETCH_TIMEOUT_S */
};

/* --debug-dir and --no-debuginfod, as every command that reads debug files takes them. */
struct debuginfo_args {
	const char *dirs[DEBUGINFO_MAX_DIRS]; /* --debug-dir, in order */
	int nr_dirs;
	bool no_debuginfod; /* --no-debuginfod */
};

/* Their getopt_long codes, above any command's own, and their rows of its option table. */
enum {
	DEBUGINFO_OPT_DIR = 0x1000,
	DEBUGINFO_OPT_NO_DEBUGINFOD,
};
#define DEBUGINFO_OPTIONS                                                       \
	{ "debug-dir", required_argument, NULL, DEBUGINFO_OPT_DIR },            \
	{                                                                       \
		"no-debuginfod", no_argument, NULL, DEBUGINFO_OPT_NO_DEBUGINFOD \
	}

/* Their lines of --help, in each command's usage text. */
#define DEBUGINFO_USAGE                                                                      \
	"      --debug-dir DIR  also look for modules' debug files (file:line, inlined\n"    \
	"                       calls) as DIR/.build-id/xx/rest.debug, before debuginfod;\n" \
	"                       repeatable, up to 8\n"                                       \
	"      --no-debuginfod  never ask debuginfod servers (DEBUGINFOD_URLS) for debug\n"  \
	"                       files\n"

/*
 * Option c (DEBUGINFO_OPT_*) with its argument into a: 0, or -EINVAL after one
 * error line (too many directories, or c is none of them).
 */
int debuginfo__parse_option(struct debuginfo_args *a, int c, const char *arg);
/* The options of debuginfo__new that a gives; valid while a is. */
struct debuginfo_opts debuginfo__opts(const struct debuginfo_args *a);
struct debuginfo *debuginfo__new(const struct debuginfo_opts *opts);
/* Ends the fetches under way (their child processes killed) and waits for the worker. */
void debuginfo__free(struct debuginfo *d);
/*
 * The debug file of build_id (lower-case hex) in the debug directories, opened
 * as target_file__open does and carrying that build ID: an fd, or -ENOENT.
 */
int debuginfo__open_local(const struct debuginfo *d, const char *build_id);
/*
 * The debug file of build_id from debuginfod: an fd (the caller closes it) once
 * fetched; -EINPROGRESS while its fetch is under way (queued now if it was not);
 * -ENOENT when none can be had (debuginfod off or unavailable, not found, failed,
 * out of time: each build ID is asked once).
 */
int debuginfo__fetch(struct debuginfo *d, const char *build_id);
/* The same, waiting for the answer at most the fetch's time limit: for offline use. */
int debuginfo__fetch_wait(struct debuginfo *d, const char *build_id);
/* Waits at most seconds for the fetches under way; returns how many are still. */
int debuginfo__wait(struct debuginfo *d, double seconds);
/*
 * For a final report: waits for the fetches under way, then lets debuginfo__fetch
 * wait for its answer too, at most seconds in all (a stop request ends any wait).
 */
void debuginfo__wait_budget(struct debuginfo *d, double seconds);
/* How many fetches have ended: when it changes, a -EINPROGRESS may have an answer. */
unsigned int debuginfo__generation(struct debuginfo *d);
/* Whether debuginfod can be asked: on, DEBUGINFOD_URLS set, libdebuginfod.so.1 loadable. */
bool debuginfo__has_debuginfod(struct debuginfo *d);

#endif
