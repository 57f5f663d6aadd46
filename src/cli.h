/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line: options into a config, and the help text. */
#ifndef LT_CLI_H
#define LT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "debuginfo.h"
#include "format.h"

#define LT_MAX_PIDS 64
#define LT_MAX_LIBS 16
#define LT_MAX_SUPPRESS 32
#define LT_MAX_EXCLUDES 16
/* leaktrace agent's --sample-bytes when none is given (cli.c says why). */
#define AGENT_SAMPLE_BYTES (512u << 10)

/* leaktrace agent: the always-on mode's own options. */
struct agent_args {
	bool on;	       /* `leaktrace agent` */
	const char *listen;    /* --listen ADDR:PORT or unix:/PATH */
	uint64_t history;      /* --history: snapshots kept for /history.ndjson */
	const char *state_dir; /* --state-dir: exited processes' last snapshots */
	const char *cgroup;    /* --cgroup: the processes of a cgroup (v2) */
	const char *unit;      /* --unit: the processes of a systemd unit's cgroup */
};

struct config {
	pid_t pids[LT_MAX_PIDS];
	int nr_pids;
	bool all;			       /* -a: every process, also later ones */
	bool kernel;			       /* --kernel: the kernel's allocations too */
	const char *comm;		       /* --comm: with -a, only processes of this name */
	const char *excludes[LT_MAX_EXCLUDES]; /* --exclude-comm: -a leaves these alone */
	int nr_excludes;
	bool allow_translators;	       /* --allow-translators: -a goes on while one runs */
	const char *libs[LT_MAX_LIBS]; /* --lib: objects probed by hand */
	int nr_libs;
	uint64_t sample_bytes; /* --sample-bytes: mean bytes between samples, 0 for exact */
	uint64_t sample_seed;  /* --sample-seed */
	bool sample_given;     /* --sample-bytes given (0 too): not the agent's default */
	char **command;	       /* run mode: argv of the command, NULL-terminated */
	bool no_children;      /* --no-children: run mode traces the command's process only */
	double interval;       /* -i: seconds between reports */
	double duration;       /* -d: stop after, 0 for never */
	int top;	       /* -n: stacks per report */
	const char *output;    /* -o */
	const char *host;      /* --host: the host's name in the saved snapshot */
	enum lt_format format;
	bool quiet;
	bool verbose;
	bool demangle;	    /* C++ names demangled; --no-demangle keeps them raw */
	bool counts;	    /* --count: folded values are allocation counts */
	bool reserved;	    /* --reserved: flamegraphs weigh mappings by what they reserve */
	bool lost;	    /* --lost: folded and svg show what the scan found lost */
	bool scan;	    /* --scan: every report tells lost from reachable */
	bool scan_final;    /* the final report does: --scan, or run mode unless --no-scan */
	bool no_scan;	    /* --no-scan */
	double scan_freeze; /* --scan-freeze: seconds a process may be held, 0: not held */
	bool fail_on_leak;  /* --fail-on-leak: exit 3 when lost bytes reach ... */
	uint64_t fail_on_leak_bytes;	       /* ... this many */
	const char *suppress[LT_MAX_SUPPRESS]; /* --suppress: suppressions files */
	int nr_suppress;
	bool no_default_suppressions; /* --no-default-suppressions */
	unsigned int leak_kinds;      /* --leak-kinds: LEAK_KIND_* bits (snapshot.h) */
	double older;		      /* --older: seconds */
	uint64_t min_size;
	uint64_t max_size;
	uint64_t max_allocs;
	uint64_t max_stacks;
	int unwind;			 /* enum lt_unwind_mode (leaktrace.h): --unwind */
	uint64_t max_unwind_mb;		 /* --max-unwind-mb */
	struct debuginfo_args debuginfo; /* --debug-dir, --no-debuginfod */
	bool lines;			 /* --lines: folded frames with their file:line */
	struct agent_args agent;	 /* leaktrace agent */
};

enum cli_result {
	CLI_RUN,	/* config is ready */
	CLI_EXIT_OK,	/* --help, --version or --suppress-list-default was printed */
	CLI_EXIT_USAGE, /* an error was printed */
};

/* Parses argv into cfg; prints help, version or one error line to stdout/stderr. */
enum cli_result cli__parse(int argc, char **argv, struct config *cfg);

#endif
