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
#include <unistd.h>

#include <linux/types.h>

#include "cli.h"
#include "debuginfo.h"
#include "diag.h"
#include "format.h"
#include "http_server.h"
#include "leaktrace.h"
#include "output_file.h"
#include "suppress.h"

#define LT_VERSION "0.1.0"
#define LT_MAX_SECONDS (365 * 24 * 3600)

static const char usage[] =
	"Usage: leaktrace [OPTIONS] -p PID [-p PID ...]\n"
	"       leaktrace [OPTIONS] -a [--comm NAME]\n"
	"       leaktrace [OPTIONS] -- COMMAND [ARGS...]\n"
	"       leaktrace [OPTIONS] --kernel [-p PID ... | -a]\n"
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
	"  -a, --all            every process on the host, also those started later\n"
	"                       (traced from exec; children follow their parent;\n"
	"                       mappings captured as made, so that one that exits\n"
	"                       at once is still named); -p and --comm narrow it\n"
	"      --comm NAME      with -a: only processes named NAME (as in ps -o comm)\n"
	"      --exclude-comm NAME\n"
	"                       with -a: processes named NAME must not be probed;\n"
	"                       as for code translators (valgrind, DynamoRIO, Pin,\n"
	"                       qemu-user), whose code -a's system-wide breakpoints\n"
	"                       would break: -a does not start while one runs, and\n"
	"                       stops (probes detached) when one starts; repeatable\n"
	"      --allow-translators\n"
	"                       with -a: start and go on while a code translator\n"
	"                       runs (it may die of SIGTRAP): without it, any user\n"
	"                       can hold -a off by running valgrind\n"
	"      --lib PATH       also probe the allocator functions PATH defines (a\n"
	"                       custom allocator leaktrace does not find by itself);\n"
	"                       repeatable\n"
	"  -- COMMAND [ARGS]    run COMMAND traced from its first allocation; its\n"
	"                       stdin, stdout and stderr pass through, what it still\n"
	"                       holds at exit is reported (valgrind's \"in use at\n"
	"                       exit\"), and leaktrace exits with its exit status.\n"
	"                       Every process it starts (fork, vfork, clone, exec:\n"
	"                       shells, pipelines, make) is traced too, each exec'd\n"
	"                       image with its own allocator, and reported on its own\n"
	"      --no-children    run mode: trace the command's process only\n"
	"      --kernel         also the kernel's own allocations, alone or beside -p\n"
	"                       or -a: slab objects (kmalloc, kmem_cache_alloc), pages\n"
	"                       and per-CPU blocks outstanding, by kernel stack and\n"
	"                       allocating process, as process 0 (\"kernel\"); frees of\n"
	"                       blocks from before the start are counted apart.\n"
	"                       --sample-bytes, --max-allocs and --max-stacks apply\n"
	"                       to them too; --older, the size filters and the scan\n"
	"                       do not\n"
	"\n"
	"Reports:\n"
	"  -i, --interval SEC   seconds between reports (default 5)\n"
	"  -d, --duration SEC   stop after SEC seconds (default: until the targets\n"
	"                       exit or leaktrace gets SIGINT, SIGTERM or SIGHUP);\n"
	"                       every SEC is at most 31536000 (a year)\n"
	"  -n, --top N          stacks shown per report (default 10)\n"
	"  -q, --quiet          no periodic reports; only the final one\n"
	"  -o, --output FILE    write the final snapshot to FILE; the format comes\n"
	"                       from --format or the extension (below). FILE is\n"
	"                       checked before tracing, written to a new file\n"
	"                       beside it and renamed over it once whole: complete\n"
	"                       or absent. Under -a it also holds the processes\n"
	"                       that exited during the trace. -o - writes it to\n"
	"                       stdout (format: --format, else text); the reports\n"
	"                       then go to stderr\n"
	"      --format FMT     the format of -o FILE, one of:\n";

/* After the formats, made from their table (format__help). */
static const char usage_tail[] =
	"      --count          folded: allocation counts instead of bytes\n"
	"      --reserved       folded, svg: mmap stacks weighed by the bytes they\n"
	"                       reserve (default: by their resident pages, as read\n"
	"                       from /proc/PID/pagemap)\n"
	"      --lost           only what the scan found lost (needs the scan: --scan,\n"
	"                       or run mode): a flamegraph of the leaks\n"
	"      --host NAME      the host's name in the saved snapshot (default: its\n"
	"                       hostname); tools/leak-sweep names each host as it\n"
	"                       reached it\n"
	"      --no-demangle    keep C++ and Rust names mangled\n"
	"      --lines          folded: frames as \"fn (file.c:LINE)\" where the line is\n"
	"                       known (one flamegraph box per line, not per function)\n"
	"  -v, --verbose        print what the kernel offers (uprobe_multi, uretprobe\n"
	"                       syscall, uprobe sessions, ...) and the path taken with\n"
	"                       it, the architecture's path (x86-64 or arm64), and\n"
	"                       which functions are probed where\n"
	"\n"
	"Leak verdicts:\n"
	"      --scan           at each report, scan the targets' memory for pointers\n"
	"                       (data, bss, heap, stacks, registers where known) and\n"
	"                       tell every outstanding block lost or reachable, as\n"
	"                       valgrind's leak check does: \"lost\" is definitely lost\n"
	"                       (nothing points to it), \"indirect\" is only pointed to\n"
	"                       by lost blocks, \"possible\" only reached through\n"
	"                       pointers into a block's middle. A target is held (a\n"
	"                       few ms) only to confirm blocks a scan left unreached.\n"
	"                       In run mode the final report scans by default, as\n"
	"                       the command exits, with valgrind's roots (--scan: the\n"
	"                       periodic reports too)\n"
	"      --no-scan        run mode: no scan at exit\n"
	"      --scan-freeze[=SEC], --scan-freeze SEC\n"
	"                       hold each target still for the whole scan (ptrace,\n"
	"                       invisible to it and its parent), at most SEC seconds\n"
	"                       (default 2), instead of only to confirm; implies --scan\n"
	"      --fail-on-leak SIZE\n"
	"                       exit with status 3 (run mode: the command's status if\n"
	"                       it failed, else 3) when the final report's lost bytes\n"
	"                       (of --leak-kinds), of every process, reach SIZE: a CI\n"
	"                       gate (SIZE above 0); suppressed stacks and the\n"
	"                       allocators' own memory (glibc's thread stacks, ...) are\n"
	"                       not counted, a lost mapping counts by its resident pages\n"
	"      --leak-kinds LIST\n"
	"                       what --fail-on-leak counts, valgrind's names separated\n"
	"                       by commas: definite, indirect, possible, or all\n"
	"                       (default definite,indirect)\n"
	"      --suppress FILE  stacks matching an entry of FILE (valgrind's\n"
	"                       suppressions format: fun:GLOB, obj:GLOB and ... lines,\n"
	"                       innermost frame first) are suppressed: counted and\n"
	"                       shown apart, never as leaks; repeatable\n"
	"      --no-default-suppressions\n"
	"                       do not suppress the one-time allocations of glibc and\n"
	"                       libstdc++ (stdio buffers, locale data, thread stacks\n"
	"                       and TLS, the exception pool, ...) built into leaktrace\n"
	"      --suppress-list-default\n"
	"                       print that built-in set, in the same format, and exit\n"
	"\n"
	"Stacks:\n"
	"      --unwind MODE    how stacks are walked: auto (default) follows frame\n"
	"                       pointers in files built with them and unwinds the\n"
	"                       others with tables built from their .eh_frame, which\n"
	"                       every Debian library has even without frame pointers\n"
	"                       (code without a table, like JIT code, is walked by\n"
	"                       frame pointer); dwarf unwinds every file with tables;\n"
	"                       fp follows frame pointers only, and shows outer\n"
	"                       frames as far as each function provably keeps one\n"
	"                       (no tables: no kernel memory for them, no mmap hook)\n"
	"      --max-unwind-mb N\n"
	"                       with --unwind auto or dwarf: kernel memory for tables\n"
	"                       (default 64, room for a few hundred libraries; libc\n"
	"                       takes 0.2 MiB, libLLVM 7.4 MiB); objects beyond it get\n"
	"                       none, and stacks through them are shown cut\n"
	"\n"
	"Source lines: frames get file:line and the calls inlined into them from each\n"
	"module's DWARF: its own, its debug file (.gnu_debuglink,\n"
	"/usr/lib/debug/.build-id), then DIR/.build-id/xx/rest.debug, then debuginfod\n"
	"(DEBUGINFOD_URLS, libdebuginfod.so.1), fetched in the background, at most 30 s\n"
	"each: a frame gets its line at a report after the fetch, the final report\n"
	"waits up to 10 s for fetches under way (not after a signal).\n" DEBUGINFO_USAGE "\n"
	"Filters (what is counted in the reports):\n"
	"      --older SEC      only allocations at least SEC seconds old; each report\n"
	"                       then reads every outstanding allocation, which costs\n"
	"                       about 0.3 s per million\n"
	"      --min-size SIZE  only allocations of at least SIZE bytes\n"
	"      --max-size SIZE  only allocations of at most SIZE bytes\n"
	"                       (SIZE takes a K, M or G suffix, powers of 1024)\n"
	"\n"
	"Sampling (for allocation-heavy services):\n"
	"      --sample-bytes SIZE\n"
	"                       record allocations by Poisson sampling over bytes, one\n"
	"                       sample per SIZE bytes on average (as jemalloc and\n"
	"                       tcmalloc do); reports are unbiased estimates, and calls\n"
	"                       not sampled cost no stack walk and no map update; 0:\n"
	"                       exact, every call (the default; leaktrace agent's is\n"
	"                       512K)\n"
	"      --sample-seed N  the sampling's random seed (default: from the clock)\n"
	"\n"
	"Limits (kernel memory):\n"
	"      --max-allocs N   outstanding allocations tracked: at least N, up to 7/4 N\n"
	"                       (default 1048576); beyond it, allocations are counted\n"
	"                       as untracked\n"
	"      --max-stacks N   distinct stacks stored (default 16384); beyond it,\n"
	"                       bytes are kept under an unknown stack\n"
	"\n"
	"  -h, --help           this text\n"
	"  -V, --version        the version\n"
	"\n"
	"Each stack line gives the outstanding bytes and allocations, the age of the\n"
	"oldest allocation, the growth since the previous report in bytes per second,\n"
	"and the frames, innermost first: frame 0 is the function that called the\n"
	"allocator; outer frames are shown as far as the walk is sound (--unwind).\n"
	"Every report also states what was not tracked: allocations beyond the map\n"
	"size, stacks dropped, and frees that matched no allocation (frees of blocks\n"
	"allocated before the attach are normal and counted apart).\n"
	"\n"
	"Needs root (or CAP_BPF and CAP_PERFMON) and Linux 5.8 or newer with BTF and\n"
	"uprobes; a kernel that lacks one is refused with a line naming it.\n"
	"\n"
	"Exit status:\n"
	"  0    done\n"
	"  1    another failure (its line on stderr says what)\n"
	"  2    usage error: the command line or a --suppress file\n"
	"  3    --fail-on-leak: the lost bytes reached SIZE\n"
	"  4    the kernel lacks BTF, uprobes, or another feature of Linux 5.8\n"
	"  5    not permitted: BPF needs root, or CAP_BPF and CAP_PERFMON; -p: the\n"
	"       target's mappings unreadable (CAP_SYS_PTRACE)\n"
	"  6    -p PID: no such process, or none leaktrace can trace\n"
	"  7    -a held off: a process runs that its probes would break (valgrind,\n"
	"       --exclude-comm)\n"
	"  126, 127  run mode: COMMAND cannot run, or is not found; once it ran,\n"
	"       leaktrace exits with COMMAND's status (3 for a leak if that is 0)\n"
	"\n"
	"Examples:\n"
	"  leaktrace -p 4242                    report every 5 s until Ctrl-C\n"
	"  leaktrace -p 4242 -d 60 -o leak.json one minute, then save a snapshot\n"
	"  leaktrace -- ./unit-tests            what the tests leave allocated, and\n"
	"                                       what of it they lost (the scan at exit)\n"
	"  leaktrace --fail-on-leak 1 -- ./unit-tests\n"
	"                                       fail CI when the tests lose a byte\n"
	"  leaktrace -o leak.svg -- ./server    a flamegraph of what it leaves\n"
	"  leaktrace -p 4242 --scan-freeze      lost or reachable, held still to tell\n"
	"  leaktrace --unwind fp -p 4242        frame pointers only: the cheapest walk\n"
	"\n"
	"Always on: leaktrace agent --listen ADDR:PORT -p PID serves Prometheus metrics,\n"
	"pprof, JSON and a live page (leaktrace agent --help).\n"
	"\n"
	"Saved snapshots: leaktrace report SNAPSHOT.json [--format F] [-o FILE],\n"
	"--diff OLD.json NEW.json, --merge A.json B.json ... (leaktrace report --help).\n";

static const char agent_usage[] =
	"Usage: leaktrace agent [--listen ADDR:PORT] (-p PID ... | --comm NAME | --cgroup PATH |\n"
	"                        --unit UNIT | -a) [OPTIONS]\n"
	"\n"
	"Always on: trace the targets for days, a snapshot every interval (-i, default 5 s),\n"
	"and serve them over HTTP (libmicrohttpd) to Prometheus, pprof scrapers and a browser:\n"
	"  /metrics             Prometheus text exposition: per process (pid, comm, cgroup,\n"
	"                       unit; the 100 largest) outstanding bytes, allocations,\n"
	"                       growth, lost bytes where scans run (--scan); per top\n"
	"                       stack (pid, comm, function, module; -n of them, suspects\n"
	"                       first) bytes, allocations, growth slope, steady growth,\n"
	"                       lost bytes; leaktrace's own RSS, BPF map memory, BPF run\n"
	"                       time, snapshots, and the untracked and dropped counters\n"
	"  /debug/pprof/heap    the last snapshot as a pprof heap profile (go tool pprof):\n"
	"                       inuse_space, inuse_objects; with --scan also lost_space,\n"
	"                       lost_objects (-sample_index=lost_space)\n"
	"  /snapshot.json       the last snapshot (the JSON of -o FILE.json)\n"
	"  /history.ndjson      one line per snapshot: the top stacks and the 20 largest\n"
	"                       processes, the last --history of them\n"
	"  /flamegraph.svg      the last snapshot's flamegraph\n"
	"  /                    a live page: timelines of the top stacks and processes,\n"
	"                       the flamegraph and the suspects, refreshed every interval\n"
	"\n"
	"Targets (one kind or more):\n"
	"  -p, --pid PID        a running process (repeatable)\n"
	"      --comm NAME      every process named NAME, also those started later, each\n"
	"                       probed on its own (other processes take no trap) once\n"
	"                       seen, up to 0.2 s after its exec: what it allocates\n"
	"                       before is not counted\n"
	"      --cgroup PATH    the processes of a cgroup (v2; /sys/fs/cgroup/PATH or the\n"
	"                       full path) and of the cgroups under it, read again at\n"
	"                       every snapshot and on SIGHUP (at most 64 processes)\n"
	"      --unit UNIT      the processes of a systemd unit's cgroup (UNIT without a\n"
	"                       suffix is UNIT.service), found again likewise\n"
	"  -a, --all            every process (see leaktrace --help)\n"
	"\n"
	"Agent options:\n"
	"      --listen ADDR:PORT, --listen unix:/PATH\n"
	"                       where to serve (default 127.0.0.1:9464; an address that\n"
	"                       is not loopback only when given, with a warning: the page\n"
	"                       names the targets' functions; PORT 0: any free port)\n"
	"      --history N      snapshots kept for /history.ndjson and the page (default\n"
	"                       720: an hour at -i 5)\n"
	"      --state-dir DIR  where the last snapshot of a traced process that exits\n"
	"                       (or the kernel OOM-kills) is written, as\n"
	"                       leaktrace-PID-TIME.json; the 16 newest are kept, each of\n"
	"                       at most 1000 stacks (default /var/lib/leaktrace)\n"
	"  -n, --top N          top stacks in /metrics and the history (default 10, at\n"
	"                       most 100)\n"
	"      --sample-bytes SIZE\n"
	"                       sampled by default: one allocation recorded per 512K\n"
	"                       allocated on average (Go's and jemalloc's rate), its\n"
	"                       bytes and counts unbiased estimates; --sample-bytes 0:\n"
	"                       exact, every call walked and recorded\n"
	"\n"
	"Every option of trace mode applies (-i, -d, -q, --scan, --sample-bytes, --max-*,\n"
	"--unwind, ...; see leaktrace --help). SIGHUP reads the --cgroup and --unit targets\n"
	"again; SIGINT and SIGTERM end the agent. Messages go to stderr (the journal).\n"
	"\n"
	"Example:\n"
	"  leaktrace agent --listen 127.0.0.1:9464 -p 4242\n";

/*
 * Seconds from min to a year: every duration becomes nanoseconds in a u64 (up to
 * 584 years), so none may come near that.
 */
static int parse_seconds(const char *opt, const char *arg, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min) {
		diag__error("%s: '%s' is not a number of seconds%s", opt, arg,
			    min > 0 ? " above 0" : " (0 or more)");
		return -EINVAL;
	}
	if (v > LT_MAX_SECONDS) {
		diag__error("%s: '%s' is out of range: at most %d seconds (a "
			    "year)",
			    opt, arg, LT_MAX_SECONDS);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Whether a whole argument is a number, as --scan-freeze's value given after a space. */
static bool is_number(const char *s)
{
	char *end;

	strtod(s, &end);
	return *s && end != s && !*end;
}

static int parse_count(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || !isdigit((unsigned char)arg[0]) || v < min || v > max) {
		diag__error("%s: '%s' is not a whole number from %llu to %llu", opt, arg,
			    (unsigned long long)min, (unsigned long long)max);
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
		case 'k':
		case 'K':
			shift = 10;
			end++;
			break;
		case 'm':
		case 'M':
			shift = 20;
			end++;
			break;
		case 'g':
		case 'G':
			shift = 30;
			end++;
			break;
		}
		if ((*end == 'b' || *end == 'B') && shift)
			end++;
		if (!*end && v <= (UINT64_MAX >> shift)) {
			*out = (uint64_t)v << shift;
			return 0;
		}
	}
	diag__error("%s: '%s' is not a size in bytes (like 4096, 64K or 2M)", opt, arg);
	return -EINVAL;
}

/* "definite,indirect,possible" or "all", as valgrind's --show-leak-kinds takes them. */
static int parse_leak_kinds(const char *arg, unsigned int *out)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} kinds[] = {
		{ "definite", LEAK_KIND_DEFINITE },
		{ "indirect", LEAK_KIND_INDIRECT },
		{ "possible", LEAK_KIND_POSSIBLE },
		{ "all", LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT | LEAK_KIND_POSSIBLE },
	};
	const char *p = arg;

	*out = 0;
	for (;;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (len == strlen(kinds[i].name) && !strncmp(p, kinds[i].name, len))
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			diag__error("--leak-kinds: unknown kind '%.*s': give "
				    "definite, indirect, possible or all, separated by commas",
				    (int)len, p);
			return -EINVAL;
		}
		*out |= kinds[i].bits;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int parse_format(const char *arg, enum lt_format *out)
{
	char names[128];

	if (format__by_name(arg, out)) {
		diag__error("--format: '%s' is not a format: use %s", arg,
			    format__list(names, sizeof(names), 0, false));
		return -EINVAL;
	}
	return 0;
}

static int format_from_extension(const char *path, enum lt_format *out)
{
	char exts[128];

	if (format__by_path(path, out)) {
		diag__error("-o %s: cannot tell the format from the extension: "
			    "use %s, or give --format",
			    path, format__list(exts, sizeof(exts), 0, true));
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
		diag__error("-p: at most %d processes at once", LT_MAX_PIDS);
		return -EINVAL;
	}
	cfg->pids[cfg->nr_pids++] = (pid_t)pid;
	return 0;
}

static int parse_agent_option(int c, const char *arg, struct config *cfg);

enum {
	OPT_FORMAT = 0x100,
	OPT_OLDER,
	OPT_MIN_SIZE,
	OPT_MAX_SIZE,
	OPT_MAX_ALLOCS,
	OPT_MAX_STACKS,
	OPT_COMM,
	OPT_EXCLUDE_COMM,
	OPT_ALLOW_TRANSLATORS,
	OPT_LIB,
	OPT_SAMPLE_BYTES,
	OPT_SAMPLE_SEED,
	OPT_NO_DEMANGLE,
	OPT_COUNT,
	OPT_UNWIND,
	OPT_MAX_UNWIND_MB,
	OPT_SCAN,
	OPT_NO_SCAN,
	OPT_NO_CHILDREN,
	OPT_SCAN_FREEZE,
	OPT_FAIL_ON_LEAK,
	OPT_LEAK_KINDS,
	OPT_HOST,
	OPT_LOST,
	OPT_SUPPRESS,
	OPT_NO_DEFAULT_SUPPRESSIONS,
	OPT_SUPPRESS_LIST_DEFAULT,
	OPT_LINES,
	OPT_LISTEN,
	OPT_HISTORY,
	OPT_STATE_DIR,
	OPT_CGROUP,
	OPT_UNIT,
	OPT_RESERVED,
	OPT_KERNEL,
};

static const struct option options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "exclude-comm", required_argument, NULL, OPT_EXCLUDE_COMM },
	{ "allow-translators", no_argument, NULL, OPT_ALLOW_TRANSLATORS },
	{ "lib", required_argument, NULL, OPT_LIB },
	{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
	{ "sample-seed", required_argument, NULL, OPT_SAMPLE_SEED },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "scan", no_argument, NULL, OPT_SCAN },
	{ "no-scan", no_argument, NULL, OPT_NO_SCAN },
	{ "no-children", no_argument, NULL, OPT_NO_CHILDREN },
	{ "scan-freeze", optional_argument, NULL, OPT_SCAN_FREEZE },
	{ "fail-on-leak", required_argument, NULL, OPT_FAIL_ON_LEAK },
	{ "leak-kinds", required_argument, NULL, OPT_LEAK_KINDS },
	{ "lost", no_argument, NULL, OPT_LOST },
	{ "suppress", required_argument, NULL, OPT_SUPPRESS },
	{ "no-default-suppressions", no_argument, NULL, OPT_NO_DEFAULT_SUPPRESSIONS },
	{ "suppress-list-default", no_argument, NULL, OPT_SUPPRESS_LIST_DEFAULT },
	{ "older", required_argument, NULL, OPT_OLDER },
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "count", no_argument, NULL, OPT_COUNT },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "max-unwind-mb", required_argument, NULL, OPT_MAX_UNWIND_MB },
	{ "host", required_argument, NULL, OPT_HOST },
	DEBUGINFO_OPTIONS,
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "reserved", no_argument, NULL, OPT_RESERVED },
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
	case 'a':
		cfg->all = true;
		return 0;
	case OPT_KERNEL:
		cfg->kernel = true;
		return 0;
	case OPT_SAMPLE_BYTES:
		if (parse_size("--sample-bytes", arg, &cfg->sample_bytes))
			return -EINVAL;
		/* 0: exact, every allocation recorded (the agent samples unless told so). */
		if (cfg->sample_bytes &&
		    (cfg->sample_bytes < 64 || cfg->sample_bytes > (1ULL << 32))) {
			diag__error("--sample-bytes: '%s' is out of range: 0 (exact) or 64 to 4G",
				    arg);
			return -EINVAL;
		}
		cfg->sample_given = true;
		return 0;
	case OPT_SAMPLE_SEED:
		return parse_count("--sample-seed", arg, 1, UINT64_MAX, &cfg->sample_seed);
	case OPT_LIB:
		if (cfg->nr_libs == LT_MAX_LIBS) {
			diag__error("--lib: at most %d objects", LT_MAX_LIBS);
			return -EINVAL;
		}
		cfg->libs[cfg->nr_libs++] = arg;
		return 0;
	case OPT_COMM:
	case OPT_EXCLUDE_COMM:
		if (!*arg || strlen(arg) >= 16) {
			diag__error("--%scomm: '%s' is not a process name (1 to 15 "
				    "characters, as in ps -o comm)",
				    c == OPT_COMM ? "" : "exclude-", arg);
			return -EINVAL;
		}
		if (c == OPT_COMM) {
			cfg->comm = arg;
		} else if (cfg->nr_excludes == LT_MAX_EXCLUDES) {
			diag__error("--exclude-comm: at most %d names", LT_MAX_EXCLUDES);
			return -EINVAL;
		} else {
			cfg->excludes[cfg->nr_excludes++] = arg;
		}
		return 0;
	case OPT_ALLOW_TRANSLATORS:
		cfg->allow_translators = true;
		return 0;
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
	case OPT_SCAN:
		cfg->scan = true;
		return 0;
	case OPT_NO_SCAN:
		cfg->scan = false;
		cfg->no_scan = true;
		return 0;
	case OPT_NO_CHILDREN:
		cfg->no_children = true;
		return 0;
	case OPT_SCAN_FREEZE:
		cfg->scan = true;
		cfg->scan_freeze = 2;
		return arg ? parse_seconds("--scan-freeze", arg, 0.001, &cfg->scan_freeze) : 0;
	case OPT_LOST:
		cfg->lost = true;
		return 0;
	case OPT_FAIL_ON_LEAK:
		cfg->fail_on_leak = true;
		if (parse_size("--fail-on-leak", arg, &cfg->fail_on_leak_bytes))
			return -EINVAL;
		if (!cfg->fail_on_leak_bytes) {
			diag__error("--fail-on-leak: give a size above 0 (with 0 "
				    "every run would fail)");
			return -EINVAL;
		}
		return 0;
	case OPT_SUPPRESS:
		if (cfg->nr_suppress == LT_MAX_SUPPRESS) {
			diag__error("--suppress: at most %d files", LT_MAX_SUPPRESS);
			return -EINVAL;
		}
		cfg->suppress[cfg->nr_suppress++] = arg;
		return 0;
	case OPT_NO_DEFAULT_SUPPRESSIONS:
		cfg->no_default_suppressions = true;
		return 0;
	case OPT_LEAK_KINDS:
		return parse_leak_kinds(arg, &cfg->leak_kinds);
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
	case OPT_NO_DEMANGLE:
		cfg->demangle = false;
		return 0;
	case OPT_RESERVED:
		cfg->reserved = true;
		return 0;
	case OPT_COUNT:
		cfg->counts = true;
		return 0;
	case OPT_UNWIND:
		if (!strcmp(arg, "fp") || !strcmp(arg, "dwarf") || !strcmp(arg, "auto")) {
			cfg->unwind = !strcmp(arg, "fp")    ? LT_UNWIND_FP :
				      !strcmp(arg, "dwarf") ? LT_UNWIND_DWARF :
							      LT_UNWIND_AUTO;
			return 0;
		}
		diag__error("--unwind: '%s' is not a mode: use fp, dwarf or auto", arg);
		return -EINVAL;
	case OPT_MAX_UNWIND_MB:
		/* The BPF binary search reaches 32M rows of 8 bytes. */
		return parse_count("--max-unwind-mb", arg, 1, 192, &cfg->max_unwind_mb);
	case DEBUGINFO_OPT_DIR:
	case DEBUGINFO_OPT_NO_DEBUGINFOD:
		return debuginfo__parse_option(&cfg->debuginfo, c, arg);
	case OPT_LINES:
		cfg->lines = true;
		return 0;
	case OPT_LISTEN:
	case OPT_HISTORY:
	case OPT_STATE_DIR:
	case OPT_CGROUP:
	case OPT_UNIT:
		return parse_agent_option(c, arg, cfg);
	case OPT_HOST:
		/* The snapshot's host field holds 255 bytes (struct snapshot). */
		if (!*arg || strlen(arg) > 255) {
			diag__error("--host: give a name of 1 to 255 characters");
			return -EINVAL;
		}
		cfg->host = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_agent_option(int c, const char *arg, struct config *cfg)
{
	struct agent_args *a = &cfg->agent;
	char err[160];

	if (!a->on) {
		diag__error("--%s is an option of leaktrace agent", c == OPT_LISTEN  ? "listen" :
								    c == OPT_HISTORY ? "history" :
								    c == OPT_STATE_DIR ?
										       "state-dir" :
								    c == OPT_CGROUP ? "cgroup" :
										      "unit");
		return -EINVAL;
	}
	switch (c) {
	case OPT_LISTEN:
		if (http_listen__check(arg, err, sizeof(err))) {
			diag__error("--listen %s", err);
			return -EINVAL;
		}
		a->listen = arg;
		return 0;
	case OPT_HISTORY:
		return parse_count("--history", arg, 1, 1000000, &a->history);
	case OPT_STATE_DIR:
		a->state_dir = arg;
		return 0;
	case OPT_CGROUP:
		a->cgroup = arg;
		return 0;
	default:
		if (!*arg || strchr(arg, '/') || strlen(arg) > 200) {
			diag__error("--unit: '%s' is not a unit name (like nginx or nginx.service)",
				    arg);
			return -EINVAL;
		}
		a->unit = arg;
		return 0;
	}
}

/* leaktrace agent: its targets and its bounds. */
static int check_agent(struct config *cfg)
{
	struct agent_args *a = &cfg->agent;

	if (cfg->command) {
		diag__error("leaktrace agent traces running processes: give -p, --comm, "
			    "--cgroup, --unit or -a, not a command");
		return -EINVAL;
	}
	if (!cfg->nr_pids && !cfg->comm && !a->cgroup && !a->unit && !cfg->all) {
		diag__error("nothing to trace: give -p PID, --comm NAME, --cgroup PATH, "
			    "--unit UNIT or -a (see leaktrace agent --help)");
		return -EINVAL;
	}
	if (cfg->top > 100) {
		diag__error("-n: at most 100 stacks in leaktrace agent (a series each)");
		return -EINVAL;
	}
	/*
	 * Sampled unless told otherwise: one stack walk per 512 KiB allocated on average, the
	 * rate of Go's runtime.MemProfileRate and jemalloc's lg_prof_sample, which the pprof
	 * readers of /debug/pprof/heap are used to. Calls not sampled skip the walk and the
	 * maps: a service allocating 1 GB/s costs about 2,000 walks a second.
	 */
	if (!cfg->sample_given)
		cfg->sample_bytes = AGENT_SAMPLE_BYTES;
	/* --comm alone is -a narrowed to the name: processes started later are traced too. */
	if (cfg->comm)
		cfg->all = true;
	if (cfg->all && (a->cgroup || a->unit)) {
		diag__error("--%s and -a/--comm: give one kind of target",
			    a->cgroup ? "cgroup" : "unit");
		return -EINVAL;
	}
	return 0;
}

/* getopt's own messages name argv[0]; ours name leaktrace and point to --help. */
static void option_error(int c, char **argv)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		diag__error("%s needs a value (see leaktrace --help)", opt);
	else if (optopt && optopt < 0x100 && isprint(optopt))
		diag__error("unknown option '-%c' (see leaktrace --help)", optopt);
	else
		diag__error("unknown option '%s' (see leaktrace --help)", opt);
}

static int check_config(struct config *cfg)
{
	if (cfg->agent.on && check_agent(cfg))
		return -EINVAL;
	if (!cfg->nr_pids && !cfg->agent.cgroup && !cfg->agent.unit && !cfg->command && !cfg->all &&
	    !cfg->kernel) {
		diag__error("nothing to trace: give -p PID, -a, --kernel or -- COMMAND "
			    "(see leaktrace --help)");
		return -EINVAL;
	}
	if (cfg->kernel && cfg->command) {
		diag__error("--kernel traces alone or beside -p or -a, not with -- COMMAND");
		return -EINVAL;
	}
	if ((cfg->nr_pids || cfg->all) && cfg->command) {
		diag__error("give -p PID or -a, or -- COMMAND, not both");
		return -EINVAL;
	}
	if ((cfg->nr_excludes || cfg->allow_translators) && !cfg->all) {
		diag__error("--%s is for -a: give -a too",
			    cfg->nr_excludes ? "exclude-comm" : "allow-translators");
		return -EINVAL;
	}
	if (cfg->no_children && !cfg->command) {
		diag__error("--no-children is for run mode (-- COMMAND)");
		return -EINVAL;
	}
	if (cfg->comm && !cfg->all) {
		diag__error("--comm narrows -a: give -a too");
		return -EINVAL;
	}
	if (cfg->no_scan && (cfg->scan || cfg->scan_freeze > 0)) {
		diag__error("--no-scan and --scan%s contradict each other",
			    cfg->scan_freeze > 0 ? "-freeze" : "");
		return -EINVAL;
	}
	/* Run mode: the scan at exit is the point (periodic reports scan with --scan). */
	cfg->scan_final = cfg->scan || (cfg->command && !cfg->no_scan);
	if (cfg->fail_on_leak && !cfg->scan_final) {
		diag__error("--fail-on-leak needs the scan: give --scan%s",
			    cfg->command ? " (not --no-scan)" : "");
		return -EINVAL;
	}
	if (cfg->lost && !cfg->scan_final) {
		diag__error("--lost needs the scan: give --scan%s",
			    cfg->command ? " (not --no-scan)" : "");
		return -EINVAL;
	}
	if (cfg->min_size > cfg->max_size) {
		diag__error("--min-size is larger than --max-size: nothing would "
			    "be counted");
		return -EINVAL;
	}
	if (!cfg->output && cfg->host) {
		diag__error("--host names the host in the saved snapshot: give "
			    "-o FILE too");
		return -EINVAL;
	}
	/* Standard output has no extension: text, as leaktrace report writes there. */
	if (cfg->output && cfg->format == LT_FORMAT_NONE && output_file__is_stdout(cfg->output))
		cfg->format = LT_FORMAT_TEXT;
	if (cfg->output && cfg->format == LT_FORMAT_NONE &&
	    format_from_extension(cfg->output, &cfg->format))
		return -EINVAL;
	if (cfg->output && output_file__is_stdout(cfg->output) &&
	    format__has(cfg->format, FORMAT_BINARY) && isatty(STDOUT_FILENO)) {
		diag__error("-o -: %s is binary: give -o FILE%s or redirect stdout",
			    format__get(cfg->format)->name, format__get(cfg->format)->ext);
		return -EINVAL;
	}
	if (!cfg->output && cfg->format != LT_FORMAT_NONE) {
		diag__error("--format needs -o FILE");
		return -EINVAL;
	}
	if (cfg->lost && !format__has(cfg->format, FORMAT_LOST)) {
		char names[128], exts[128];

		diag__error("--lost writes %s only: give -o FILE ending in %s",
			    format__list(names, sizeof(names), FORMAT_LOST, false),
			    format__list(exts, sizeof(exts), FORMAT_LOST, true));
		return -EINVAL;
	}
	if (cfg->reserved && !format__has(cfg->format, FORMAT_HELD)) {
		char names[128], exts[128];

		diag__error("--reserved weighs %s only: give -o FILE ending in %s",
			    format__list(names, sizeof(names), FORMAT_HELD, false),
			    format__list(exts, sizeof(exts), FORMAT_HELD, true));
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
		.leak_kinds = LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT,
		.max_allocs = 1 << 20,
		.max_stacks = 1 << 14,
		.unwind = LT_UNWIND_AUTO,
		.max_unwind_mb = 64,
		.demangle = true,
		.agent = { .listen = "127.0.0.1:9464",
			   .history = 720,
			   .state_dir = "/var/lib/leaktrace" },
	};
	/* leaktrace agent [OPTIONS]: the same options, and the agent's. */
	if (argc > 1 && !strcmp(argv[1], "agent")) {
		cfg->agent.on = true;
		argc--;
		argv++;
	}
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed "-abc" */
	opterr = 0;
	/* '+': stop at the first non-option, so COMMAND's own options are its own. */
	while ((c = getopt_long(argc, argv, "+:p:ai:d:n:o:qvhV", options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			option_error(c, argv);
			return CLI_EXIT_USAGE;
		}
		if (c == 'h' && cfg->agent.on) {
			fputs(agent_usage, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			format__help(stdout, FORMAT_LOST);
			fputs(usage_tail, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'V') {
			printf("leaktrace %s\n", LT_VERSION);
			return CLI_EXIT_OK;
		}
		if (c == OPT_SUPPRESS_LIST_DEFAULT) {
			fputs(suppress__default_text(), stdout);
			return CLI_EXIT_OK;
		}
		/* "--scan-freeze 5": an optional value is taken after a space too. */
		if (c == OPT_SCAN_FREEZE && !optarg && optind < argc && is_number(argv[optind]))
			optarg = argv[optind++];
		if (parse_option(c, optarg, cfg))
			return CLI_EXIT_USAGE;
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			diag__error("unexpected argument '%s': a command to run "
				    "goes after --",
				    argv[optind]);
			return CLI_EXIT_USAGE;
		}
		cfg->command = &argv[optind];
	}
	return check_config(cfg) ? CLI_EXIT_USAGE : CLI_RUN;
}
