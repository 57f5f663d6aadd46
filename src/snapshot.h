/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A snapshot: the outstanding memory of every traced process, by stack, symbolized. */
#ifndef LT_SNAPSHOT_H
#define LT_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "frame.h"

struct arena;

/*
 * What a stack's memory is: the malloc family's blocks, the program's own
 * mappings, or (--kernel) the kernel's allocations, by kernel stack.
 */
enum stack_kind {
	STACK_HEAP,
	STACK_MMAP,
	STACK_KERNEL,
};

/* What was lost, counted so that nothing is lost silently (the tracer's counters first). */
enum lost_counter {
	LOST_ALLOCS_UNTRACKED,	   /* the allocation map was full */
	LOST_STACKS_DROPPED,	   /* the stack map was full: bytes kept, stack unknown */
	LOST_FREES_UNMATCHED,	   /* a free of a block we should have seen allocated */
	LOST_FREES_BEFORE_ATTACH,  /* a free of a block allocated before the attach */
	LOST_THREADS_UNTRACKED,	   /* the per-thread call state map was full */
	LOST_MUNMAPS_PARTIAL_LOST, /* a munmap inside a mapping we could not split */
	LOST_FREES_INTERNAL,	   /* frees by the allocator of memory of its own */
	/* --kernel's (bpf/kmem.bpf.c): */
	LOST_KERNEL_ALLOCS_UNTRACKED, /* the kernel blocks' or totals' map was full */
	LOST_KERNEL_STACKS_DROPPED,   /* the kernel stack map was full */
	LOST_KERNEL_FREES_UNKNOWN,    /* frees of kernel blocks from before the start */
	LOST_KERNEL_MISSED,	      /* events the kernel skipped or a busy map refused */
	NR_LOST,
};

/* The most frames a stack has. */
#define SNAP_MAX_FRAMES 127

/*
 * The largest byte or allocation count a saved snapshot may hold (2^53, exact in
 * a double). Sums of counts saturate (count__add): a merge of many such stays defined.
 */
#define LT_MAX_COUNT (1LL << 53)

static inline int64_t count__add(int64_t a, int64_t b)
{
	int64_t sum;

	if (__builtin_add_overflow(a, b, &sum))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return sum;
}

/* Where a stack or process of a merged snapshot came from (leaktrace report --merge). */
struct origin {
	const char *host;
	pid_t pid;
};

/*
 * A module of a process's frames: its GNU build ID (hex), and where its code was
 * mapped, for exports (pprof mappings).
 */
struct module_id {
	const char *path;
	const char *build_id; /* NULL when unknown */
	struct text_mapping text;
	bool has_text;
};

/* How a stack's outstanding bytes moved over the last snapshots. */
enum trend {
	TREND_UNKNOWN, /* fewer than three snapshots yet */
	TREND_GROWING, /* rises steadily: the shape of a leak */
	TREND_STABLE,  /* plateaued, like a warm cache */
	TREND_SHRINKING,
};

const char *trend__name(enum trend t);
/* "heap", "mmap" or "kernel". */
const char *stack_kind__name(enum stack_kind k);

struct stack_stat {
	uint64_t stack_id; /* identifies the frames shown, within the process */
	enum stack_kind kind;
	int64_t bytes;
	int64_t allocs;
	double oldest_s; /* age of the oldest allocation; < 0 when unknown */
	double growth;	 /* bytes per second since the previous snapshot */
	enum trend trend;
	double slope; /* bytes per second over the last snapshots (least squares) */
	/*
	 * Innermost first; the frames themselves shared between stacks (frame_table.h),
	 * owned by the snapshot source's cache or the snapshot's arena.
	 */
	const struct frame *const *frames;
	int nr_frames;
	bool truncated;	    /* the walk stopped before a thread's start */
	bool table_pending; /* ... at a library whose unwind table was not built yet */
	/* --scan: how much of it the process can still reach, as valgrind's leak check says. */
	bool scanned;
	int64_t lost_bytes, lost_allocs;	 /* "definitely lost": nothing points to them */
	int64_t indirect_bytes, indirect_allocs; /* only lost blocks point to them */
	int64_t reachable_bytes, reachable_allocs;
	/* "possibly lost": only chains with a pointer into a block's middle reach them. */
	int64_t possible_bytes, possible_allocs;
	bool final;		      /* of a command's final report: verdicts make it a suspect */
	const struct origin *origins; /* merged snapshots only: where it was seen */
	size_t nr_origins;
	const char *suppressed; /* the name of the suppression that matched it, or NULL */
	/*
	 * mmap kind: the bytes of its mappings' pages present in memory, read from
	 * /proc/PID/pagemap (has_resident); bytes are what they reserve.
	 */
	bool has_resident;
	int64_t resident_bytes;
	/* glibc's thread stacks (has_cached): of its mappings, those in glibc's cache. */
	bool has_cached;
	int64_t cached_bytes, cached_allocs;
	/* The allocator whose own memory it is (stack_stat__tell_allocator), or NULL. */
	const char *allocator;
	/* STACK_KERNEL: the allocating task's process (its first block's), the slab cache. */
	pid_t task_pid;
	char task_comm[17];
	uint64_t task_cgroup; /* cgroup v2 id, 0 when unknown */
	char slab_cache[32];  /* "" when unknown (kmalloc's, pages) */
};

/*
 * What a stack holds: a mapping's resident pages where they were read, else its
 * bytes (a heap block's bytes are held). Growth, trends and ranking go by it.
 */
int64_t stack_stat__held(const struct stack_stat *s);
/* Of bytes of s (lost, say), those it holds: a mapping's no more than its resident pages. */
int64_t stack_stat__held_of(const struct stack_stat *s, int64_t bytes);
/*
 * The allocator or runtime whose own memory a stack is ("glibc", "jemalloc",
 * "tcmalloc", "go"; a static string), or NULL for the program's: a mapping its
 * code made for itself (glibc's thread stacks, kept in its cache once their
 * threads exit, and per-thread arenas; the others' retained extents; the Go
 * runtime's reservations through cgo, x_cgo_mmap), told from its frames while
 * they are valid, kept in its allocator field. Never a suspect, never a leak.
 */
const char *stack_stat__tell_allocator(const struct stack_stat *s);
/* Adds one stack's resident and cached bytes to another's, when two stacks become one. */
void stack_stat__add_resident(struct stack_stat *to, const struct stack_stat *from);

/* Adds one stack's verdicts to another's, when two stacks become one. */
void stack_stat__add_verdicts(struct stack_stat *to, const struct stack_stat *from);
/* Lost (definitely or indirectly): what the process cannot reach any more. */
int64_t stack_stat__unreachable(const struct stack_stat *s);

/* Adds one stack's slope and trend to another's, when two stacks become one. */
void trend__merge(struct stack_stat *to, const struct stack_stat *from);
/*
 * Suspects, as every report ranks them: stacks with lost or possibly lost
 * bytes, stacks that grow steadily, or, before three snapshots tell, that grew
 * since the last one; the growth of a process that is gone (a command's final
 * report) is no sign. Lost and growing first, then lost, then growing; within
 * each, by definitely, indirectly and possibly lost bytes, by rate (the slope,
 * or the growth since the last snapshot), then by bytes.
 */
bool stack_stat__suspect(const struct stack_stat *s);
double stack_stat__rate(const struct stack_stat *s);
int stack_stat__cmp_suspicion(const struct stack_stat *x, const struct stack_stat *y);
/* Why a suspect ranks: "lost", "possible", "growing" or "both" (lost and growing). */
const char *stack_stat__reason(const struct stack_stat *s);

/* Kinds of leak, by valgrind's names: what --fail-on-leak counts. */
enum {
	LEAK_KIND_DEFINITE = 1,
	LEAK_KIND_INDIRECT = 2,
	LEAK_KIND_POSSIBLE = 4,
};

struct proc_stat {
	pid_t pid;
	char comm[17];
	char exe[PATH_MAX];
	const char **argv; /* its command line, in the snapshot's arena; argc 0 when unknown */
	size_t argc;
	bool alive;
	int64_t bytes;
	int64_t allocs;
	double growth;
	bool scanned;	    /* --scan: the sums below are known */
	int64_t lost_bytes; /* definitely lost */
	int64_t indirect_bytes;
	int64_t reachable_bytes;
	int64_t possible_bytes, possible_allocs;
	/* How its scan chose roots: exact (run mode, at exit) or conservative; NULL: unknown. */
	const char *scan_roots;
	double scan_held_ms;	   /* the longest its live scans held it stopped */
	bool final;		   /* run mode reported it at its exit: its growth is no sign */
	bool has_resident;	   /* some mmap stack's resident bytes were read */
	int64_t resident_bytes;	   /* its mmap stacks' resident bytes, summed */
	struct stack_stat *stacks; /* largest first */
	size_t nr_stacks;
	const struct origin *origins; /* merged snapshots only: the processes merged */
	size_t nr_origins;
	const struct module_id *modules; /* build IDs known for its frames' modules */
	size_t nr_modules;
	/* Its stacks a suppression matched (suppress.c): counted here, not as leaks. */
	int64_t suppressed_bytes, suppressed_allocs;
	int64_t suppressed_lost_bytes; /* of them, definitely and indirectly lost */
};

/*
 * --fail-on-leak: the bytes of the kinds (LEAK_KIND_* bits) of stacks no
 * suppression matched; *suppressed, when given, gets those of the others.
 */
int64_t proc_stat__leaked(const struct proc_stat *p, unsigned int kinds, int64_t *suppressed);
/* The module p's modules list for path, or NULL. */
const struct module_id *proc_stat__module(const struct proc_stat *p, const char *path);
/* The build ID p's modules list for path, or NULL. */
const char *proc_stat__build_id(const struct proc_stat *p, const char *path);

/* A suppression that matched stacks of a snapshot, and what it took out of the leaks. */
struct suppression_use {
	const char *name;
	const char *where; /* "FILE:LINE" of its entry ("default:LINE": the built-in set) */
	int64_t stacks, bytes, allocs;
	int64_t lost_bytes; /* definitely and indirectly lost */
};

struct snapshot {
	char host[256];
	struct timespec started; /* CLOCK_REALTIME */
	struct timespec taken;
	double elapsed_s;
	uint64_t lost[NR_LOST];
	bool kernel;		 /* --kernel: kernel allocations traced (pid 0, STACK_KERNEL) */
	uint64_t sample_bytes;	 /* 0: exact; else the mean bytes between samples */
	struct proc_stat *procs; /* most outstanding bytes first */
	size_t nr_procs;
	const char *const *hosts; /* merged snapshots only: every host merged */
	size_t nr_hosts;
	/* The suppressions that matched, most bytes first. */
	const struct suppression_use *suppressions;
	size_t nr_suppressions;
	/* Owns the frames and strings of a loaded, merged or demangled snapshot; may be NULL. */
	struct arena *arena;
};

void snapshot__free(struct snapshot *snap);
/* True when some stack of snap was scanned: --lost has something to show. */
bool snapshot__has_verdicts(const struct snapshot *snap);
/* p's argv from a command line of len bytes, each argument NUL-terminated, into snap's arena. */
int proc_stat__set_argv(struct proc_stat *p, struct snapshot *snap, const char *cmdline,
			size_t len);
/* A copy of from's argv for to, into snap's arena. */
int proc_stat__copy_argv(struct proc_stat *to, struct snapshot *snap, const struct proc_stat *from);

#endif
