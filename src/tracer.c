// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loads the BPF programs, sizes their maps, attaches them to the planned functions. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "block_slot.h"
#include "core_btf.h"
#include "diag.h"
#include "kernel.h"
#include "leaktrace.skel.h"
#include "mmap_sites.h"
#include "procmaps.h"
#include "self_pages.h"
#include "tracer.h"
#include "tracer_int.h"
#include "unwinder.h"

/* A function probed for a process or (-1) every process: its file and offset, probed once. */
struct probed {
	pid_t pid;
	dev_t dev;
	ino_t ino;
	uint64_t offset;
};

/* A file's mmap sites (mmap_sites.h), found once: -a meets the same libc in every process. */
struct site_file {
	dev_t dev;
	ino_t ino;
	int nr; /* 0: none, or a negative errno */
	uint64_t offsets[MMAP_SITES_MAX];
};

/* A link: a perf uprobe link, or a uprobe_multi link's fd; for a process, or (-1) every one. */
struct link {
	struct bpf_link *link;
	int fd;
	pid_t pid;
	bool forgotten; /* its process is gone: closed at the next flush */
};

struct tracer {
	struct leaktrace_bpf *skel;
	/* Per probe, or with uprobe_multi per object, one per direction or a session. */
	struct link *links;
	size_t nr_links;
	pthread_t *closers; /* closing the links of processes gone (tracer__flush) */
	size_t nr_closers;
	bool multi;   /* the kernel has uprobe_multi links (6.6+) */
	bool session; /* ... and uprobe sessions (6.13+) */
	struct probed *probed;
	size_t nr_probed;
	struct unwinder *unwinder; /* --unwind=dwarf */
	/*
	 * -p: the tables of a running process are built on a thread of their own
	 * while its probes go live (tracer__unwind_wait()); every other use of the
	 * unwinder waits for it first.
	 */
	pthread_t builder;
	bool building;
	pid_t build_pid;
	int build_err;
	bool unwind_full; /* a process found no room for its mappings' view: said once */
	uint64_t *gen;	  /* the unwind cache's generation */
	size_t gen_size;
	/*
	 * The block slots, sized to --max-allocs: mapped whole they would all count
	 * in leaktrace's RSS, so a window of them at a time is (tracer__blocks_at()).
	 */
	size_t nr_blocks;
	struct lt_block_slot *window;
	size_t window_first; /* its first slot */
	size_t window_nr;    /* its slots */
	size_t window_size;  /* bytes mapped */
	/*
	 * The mmap hook (bpf/leaktrace.bpf.c), when the unwinder or the mapping
	 * capture wants new mappings: uprobes at the mmap sites of each target's
	 * loader and C library, attached with its allocator probes; where a file
	 * has none, the system-call hook (sys_exit_fallback: run mode, -a) or a
	 * reread of every process's mappings each tick (unhooked).
	 */
	bool mmap_hook;
	bool sys_exit_fallback;
	bool no_sites; /* LEAKTRACE_NO_MMAP_SITES: the fallback for every target, to test it */
	struct bpf_link *sys_exit;
	bool unhooked;
	struct site_file *site_files;
	size_t nr_site_files;
	bool verbose;
};

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* The kernel features leaktrace cannot do without, each with what to do about it. */
static int check_kernel(const struct kernel_features *k)
{
	char why[256];

	if (!kernel__missing(k, why, sizeof(why)))
		return 0;
	fprintf(stderr, "%s\n", why);
	return -ENOTSUP;
}

static int load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		diag__error("cannot load BPF programs: permission denied: run as "
			    "root, or with CAP_BPF and CAP_PERFMON");
	else
		diag__error("cannot load BPF programs: %s (run with -v to see "
			    "the verifier's log)",
			    strerror(-err));
	return err;
}

void tracer__sampling_tables(volatile __u32 *exp_draws, volatile __u32 *est_steps)
{
	for (int i = 0; i < LT_EXP_DRAWS; i++)
		exp_draws[i] = -log((i + 0.5) / LT_EXP_DRAWS) * 65536;
	for (int i = 0; i < LT_EST_STEPS; i++) {
		double x = (i + 0.5) / 256;

		est_steps[i] = x / -expm1(-x) * 65536;
	}
}

static void sampling_tables(struct leaktrace_bpf__rodata *ro, const struct tracer_opts *opts)
{
	ro->sample_bytes = opts->sample_bytes;
	ro->sample_seed = opts->sample_seed;
	tracer__sampling_tables(ro->exp_draws, ro->est_steps);
}

static bool use_uprobe_multi(const struct kernel_features *k)
{
	/* LEAKTRACE_NO_MULTI=1 takes the older kernels' path, to test it. */
	return !getenv("LEAKTRACE_NO_MULTI") && k->uprobe_multi;
}

/*
 * Thread and block slots: arrays where the programs find a thread's call
 * state and most blocks' records without a helper call (see leaktrace.bpf.c).
 * A slot is taken with cmpxchg (5.12), known here by the next release's
 * bpf_for_each_map_elem. LEAKTRACE_THREAD_SLOTS and LEAKTRACE_BLOCK_SLOTS (a
 * power of two, 0 for none) set their numbers, to test the other paths.
 *
 * Block slots: three quarters of --max-allocs, so that few blocks find theirs
 * taken: a block in the allocs hash cost twice the BPF time of one in a slot
 * (many.c, 1M blocks in 262,144 slots: 650 ns per program run against 450-500
 * with 2M slots). The hash holds the rest of --max-allocs: the blocks whose
 * slots others hold (27% of them when they fill every slot), and mappings.
 */
#define LT_THREAD_SLOTS (1u << 15)
/* Block slots mapped at a time when user space reads them in order: 4,096. */
#define LT_BLOCK_WINDOW (256u << 10)
/* The captured mappings' ring buffer: ~5,000 events (820 bytes each) between two reads. */
#define LT_MAP_EVENTS_BYTES (4u << 20)

static __u32 slots(const struct kernel_features *k, const char *env_name, __u32 dflt)
{
	const char *env = getenv(env_name);
	unsigned long n;

	if (!k->for_each_map_elem)
		return 0;
	if (!env || !*env)
		return dflt;
	n = strtoul(env, NULL, 0);
	return n && !(n & (n - 1)) && n <= dflt ? n : 0;
}

static bool use_uprobe_session(const struct kernel_features *k)
{
	/* LEAKTRACE_NO_SESSION=1 takes the path of kernels 6.6 to 6.12, to test it. */
	return !getenv("LEAKTRACE_NO_SESSION") && k->uprobe_session;
}

/* The uprobe programs of the path taken: per probe, uprobe_multi, or session. */
static void choose_programs(struct leaktrace_bpf *skel, bool multi, bool session)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		if (bpf_program__type(prog) != BPF_PROG_TYPE_KPROBE)
			continue;
		bpf_program__set_autoload(prog, !multi);
	}
	bpf_program__set_autoload(skel->progs.entry_multi, multi && !session);
	bpf_program__set_autoload(skel->progs.return_multi, multi && !session);
	bpf_program__set_autoload(skel->progs.free_multi, multi);
	bpf_program__set_autoload(skel->progs.session, session);
	bpf_program__set_expected_attach_type(skel->progs.entry_multi, LT_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.free_multi, LT_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.return_multi, LT_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.session, LT_TRACE_UPROBE_SESSION);
}

/* The unwind maps take kernel memory only with --unwind=dwarf. */
static void unwind_configure(struct leaktrace_bpf *skel, const struct tracer_opts *opts)
{
	bool dwarf = opts->unwind != LT_UNWIND_FP;

	/* auto walks as dwarf does; only the files it gives tables to differ. */
	skel->rodata->unwind_mode = dwarf ? LT_UNWIND_DWARF : LT_UNWIND_FP;
	bpf_map__set_max_entries(skel->maps.unwind_rows, dwarf ? opts->max_unwind_rows : 1);
	bpf_map__set_max_entries(skel->maps.unwind_ranges,
				 dwarf ? LT_UNWIND_MAX_PROCS * LT_UNWIND_MAX_RANGES : 1);
	if (!dwarf) {
		bpf_map__set_max_entries(skel->maps.unwind_objs, 1);
		bpf_map__set_max_entries(skel->maps.unwind_files, 1);
		bpf_map__set_max_entries(skel->maps.unwind_procs, 1);
		bpf_map__set_max_entries(skel->maps.unwind_views, 1);
		bpf_map__set_max_entries(skel->maps.unwind_empty, 1);
		bpf_map__set_max_entries(skel->maps.unwind_cache, 1);
		bpf_map__set_max_entries(skel->maps.walk_memo, 1);
		bpf_map__set_max_entries(skel->maps.unwind_slot_gens, 1);
	}
	skel->rodata->mmap_unwind = dwarf;
}

/* The maps sized by the options alone, which can be made before the kernel's features are read. */
static void size_maps(struct leaktrace_bpf *skel, const struct tracer_opts *opts)
{
	unwind_configure(skel, opts);
	bpf_map__set_max_entries(skel->maps.allocs, opts->max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, opts->max_stacks);
	/* One stack can hold memory in several processes. */
	bpf_map__set_max_entries(skel->maps.totals, 2 * opts->max_stacks);
}

/*
 * Without the mapping capture its ring buffer takes one page. What exec maps is
 * found with bpf_find_vma (5.17), for the capture and the unwinder's pending
 * mappings; older kernels capture libraries and forks only.
 */
static void mappings_configure(struct leaktrace_bpf *skel, const struct tracer_opts *opts,
			       const struct kernel_features *k)
{
	bool on = opts->capture_mappings;

	bpf_map__set_max_entries(skel->maps.map_events, on ? LT_MAP_EVENTS_BYTES : 4096);
	bpf_program__set_autoload(skel->progs.maps_exec,
				  (on || skel->rodata->mmap_unwind) && k->find_vma);
	skel->rodata->mmap_capture = on;
	bpf_program__set_autoload(skel->progs.maps_fork, on);
}

/* An mmapable array map into our memory, its size rounded to pages; NULL on error. */
static void *map_array(struct bpf_map *map, size_t *size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*size = ((size_t)bpf_map__max_entries(map) * bpf_map__value_size(map) + page - 1) / page *
		page;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	return p == MAP_FAILED ? NULL : p;
}

static int unwind_start(struct tracer *t, const struct tracer_opts *opts)
{
	struct leaktrace_bpf *skel = t->skel;
	struct unwinder_maps maps = {
		.objs_fd = bpf_map__fd(skel->maps.unwind_objs),
		.files_fd = bpf_map__fd(skel->maps.unwind_files),
		.procs_fd = bpf_map__fd(skel->maps.unwind_procs),
		.views_fd = bpf_map__fd(skel->maps.unwind_views),
		.slot_gens_fd = bpf_map__fd(skel->maps.unwind_slot_gens),
		.wake_fd = bpf_map__fd(skel->maps.unwind_wake),
		.max_rows = opts->max_unwind_rows,
	};
	int err;

	t->gen = map_array(skel->maps.unwind_gen, &t->gen_size);
	if (!t->gen) {
		err = -errno;
		diag__error("cannot map the unwind tables: %s", strerror(-err));
		return err;
	}
	maps.rows_fd = bpf_map__fd(skel->maps.unwind_rows);
	maps.ranges_fd = bpf_map__fd(skel->maps.unwind_ranges);
	maps.gen = t->gen;
	err = unwinder__new(&maps, opts->unwind == LT_UNWIND_AUTO, opts->verbose, &t->unwinder);
	if (err)
		diag__error("cannot set up the unwinder: %s", strerror(-err));
	return err;
}

static void configure(struct leaktrace_bpf *skel, const struct tracer_opts *opts, bool multi,
		      bool session, const struct kernel_features *k)
{
	struct leaktrace_bpf__rodata *ro = skel->rodata;
	__u32 n, blocks;
	bool hook;

	/*
	 * Three quarters of --max-allocs are block slots, but a block whose two slots are
	 * taken goes to the hash, and slots fill unevenly (1M blocks of 16 bytes leave 18%
	 * of 786,432 slots free): the hash alone holds --max-allocs, so that at least that
	 * many are tracked whatever their addresses. Its elements are allocated as used.
	 */
	blocks = slots(k, "LEAKTRACE_BLOCK_SLOTS", opts->max_allocs / 4 * 3);
	size_maps(skel, opts);
	ro->page_size = sysconf(_SC_PAGESIZE);
	ro->min_size = opts->min_size;
	ro->max_size = opts->max_size;
	sampling_tables(ro, opts);
	ro->follow_new = opts->follow_new;
	ro->follow_children = opts->follow_children;
	/*
	 * -a adds every process the host starts, and its exits make room only at reports: a
	 * busy build host starts thousands in an interval. LEAKTRACE_MAX_TARGETS: smaller,
	 * for the tests of a full map.
	 */
	n = opts->follow_new ? LT_MAX_TARGETS_ALL : LT_MAX_TARGETS;
	if (getenv("LEAKTRACE_MAX_TARGETS") && *getenv("LEAKTRACE_MAX_TARGETS"))
		n = strtoul(getenv("LEAKTRACE_MAX_TARGETS"), NULL, 0) ?: n;
	bpf_map__set_max_entries(skel->maps.targets, n);
	ro->self_tgid = getpid();
	if (opts->comm) {
		ro->has_comm_filter = true;
		strncpy((char *)ro->comm_filter, opts->comm, sizeof(ro->comm_filter) - 1);
	}
	n = slots(k, "LEAKTRACE_THREAD_SLOTS", LT_THREAD_SLOTS);
	ro->thread_slots = n > 0;
	ro->thread_slot_mask = n - 1;
	bpf_map__set_max_entries(skel->maps.threads, n ? n : 1);
	ro->block_slots = blocks > 0;
	ro->block_slot_nr = blocks ? blocks : 1;
	bpf_map__set_max_entries(skel->maps.blocks, blocks ? blocks : 1);
	mappings_configure(skel, opts, k);
	choose_programs(skel, multi, session);
	/*
	 * One mmap hook for both uses: uprobes at the mmap sites, one uprobe_multi
	 * link per file (6.6+; a perf link each before), the system-call hook loaded
	 * as their fallback, attached only when a target needs it. A perf link's
	 * close waits out four grace periods (~190 ms), a uprobe_multi link's two.
	 */
	hook = skel->rodata->mmap_unwind || skel->rodata->mmap_capture;
	bpf_program__set_autoload(skel->progs.mmap_site, hook);
	if (multi)
		bpf_program__set_expected_attach_type(skel->progs.mmap_site, LT_TRACE_UPROBE_MULTI);
	bpf_program__set_autoload(skel->progs.mmap_exit, hook && opts->sys_exit_fallback);
	bpf_program__set_autoattach(skel->progs.mmap_exit, false);
	/* A munmap inside a mapping needs bpf_for_each_map_elem (5.13). */
	if (!multi) {
		bpf_program__set_autoload(skel->progs.munmap_enter, k->for_each_map_elem);
		bpf_program__set_autoload(skel->progs.munmap_enter_simple, !k->for_each_map_elem);
	}
}

/*
 * The largest maps, made ahead of the object's load, which makes the others:
 * the kernel zeroes their memory at creation (the 64 MiB of unwind rows took
 * 7-14 ms of a start, the 48 MiB of block slots 5, the 1M buckets of allocs 2-6).
 * Each is made on a thread of its own: those that need no kernel feature to be
 * sized while the features are read, the others while those run; libbpf then
 * takes their fds. One that cannot be made is left to libbpf, which says why.
 */
#define PREMADE_MAX 6

struct premade_map {
	struct bpf_map *map;
	int fd;
	pthread_t thread;
	bool started;
};

struct premade {
	struct premade_map v[PREMADE_MAX];
	int n;
};

static void premade_add(struct premade *p, struct bpf_map *map)
{
	/* A map of one entry is one not used on this path. */
	if (p->n < PREMADE_MAX && bpf_map__max_entries(map) > 1)
		p->v[p->n++] = (struct premade_map){ .map = map, .fd = -1 };
}

static void *premade_make(void *arg)
{
	struct premade_map *m = arg;
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = bpf_map__map_flags(m->map));

	m->fd = bpf_map_create(bpf_map__type(m->map), bpf_map__name(m->map),
			       bpf_map__key_size(m->map), bpf_map__value_size(m->map),
			       bpf_map__max_entries(m->map), &o);
	return NULL;
}

static void premade_start(struct premade *p)
{
	for (int i = 0; i < p->n; i++) {
		p->v[i].started = !pthread_create(&p->v[i].thread, NULL, premade_make, &p->v[i]);
		if (!p->v[i].started)
			premade_make(&p->v[i]);
	}
}

/* The maps made handed to libbpf, which keeps its own fds of them. */
static void premade_use(struct premade *p, bool use)
{
	for (int i = 0; i < p->n; i++) {
		if (p->v[i].started)
			pthread_join(p->v[i].thread, NULL);
		if (p->v[i].fd < 0)
			continue;
		if (use)
			bpf_map__reuse_fd(p->v[i].map, p->v[i].fd);
		close(p->v[i].fd);
	}
	p->n = 0;
}

/* -v: what the kernel offers and which path leaktrace takes with it. */
static void print_features(const struct tracer *t, const struct kernel_features *k)
{
	bool scan = bpf_program__autoload(t->skel->progs.munmap_enter) || t->multi;

	const struct leaktrace_bpf__rodata *ro = t->skel->rodata;

	kernel__print(stderr, k);
	diag__debug("probes: %s; munmap inside a mapping: %s",
		    t->session ? "one uprobe session link per object, returns only where needed "
				 "(6.13+)" :
		    t->multi   ? "one uprobe_multi link per object and direction (6.6+)" :
				 "one perf uprobe link per probe (kernels before 6.6)",
		    scan ? "split (5.13+)" : "counted as munmaps_partial_lost (before 5.13)");
	diag__debug("slots (5.13+): %u for threads' call state, %u for blocks' "
		    "records; the others in hashes",
		    ro->thread_slots ? ro->thread_slot_mask + 1 : 0,
		    ro->block_slots ? ro->block_slot_nr : 0);
}

/* Configures the object opened for the path chosen, loads it with the maps made ahead. */
static int load(struct tracer *t, const struct tracer_opts *opts, const struct kernel_features *k,
		struct premade *ahead)
{
	struct premade now = {};

	configure(t->skel, opts, t->multi, t->session, k);
	premade_add(&now, t->skel->maps.blocks);
	premade_add(&now, t->skel->maps.threads);
	premade_start(&now);
	premade_use(ahead, true);
	premade_use(&now, true);
	return leaktrace_bpf__load(t->skel);
}

/* The fallback hook on the system call's exit, attached once, for every process of the host. */
static void sys_exit_attach(struct tracer *t, pid_t pid, const char *why)
{
	if (!t->sys_exit_fallback) {
		/* -p and the agent's targets by pid: their mappings reread each tick, as before. */
		if (t->verbose && !t->unhooked)
			diag__debug("mmap hook: none for pid %d (%s): every target's mappings are "
				    "read again each tick",
				    pid, why);
		t->unhooked = true;
		return;
	}
	if (t->sys_exit)
		return;
	t->sys_exit = bpf_program__attach(t->skel->progs.mmap_exit);
	if (!t->sys_exit)
		diag__warn("cannot attach the mmap hook on tp_btf/sys_exit: %s: libraries "
			   "mapped from now on are found late",
			   strerror(errno));
	else if (t->verbose)
		diag__debug("mmap hook: tp_btf/sys_exit, at every system call of the host (%s)",
			    why);
}

/* The object opened; libbpf to find its CO-RE relocations' types in core_path's BTF if given. */
static struct leaktrace_bpf *open_object(const char *core_path)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .btf_custom_path = core_path);

	return leaktrace_bpf__open_opts(&o);
}

/*
 * The kernel's types the object's CO-RE relocations may name (btf: the
 * kernel's, from kernel__btf), written at fd for libbpf. 0 or -errno.
 */
static int write_core_types(struct tracer *t, int fd, const void *btf, size_t size)
{
	unsigned int n = 0;
	int err = btf ? core_btf__write(fd, bpf_object__btf(t->skel->obj), btf, size, &n) : -ENOENT;

	if (err)
		diag__warn("CO-RE: cannot write the kernel's types for libbpf (%s): it reads all "
			   "of the kernel's BTF instead, a slower start",
			   strerror(-err));
	else if (t->verbose)
		diag__debug("CO-RE: %u of the kernel's types, those the object names and what "
			    "they embed (%.1f KiB)%s",
			    n, lseek(fd, 0, SEEK_CUR) / 1024.0,
			    n ? "" : ": none taken, its whole BTF");
	return err;
}

int tracer__new(const struct tracer_opts *opts, struct tracer **out)
{
	struct premade ahead = {};
	struct kernel_features k;
	char core_path[64];
	size_t btf_size = 0;
	int err, open_err, core_fd;
	struct tracer *t;
	void *btf;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->verbose = opts->verbose;
	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);
	/* Written once the kernel is known to have BTF, read by libbpf at load. */
	core_fd = core_btf__reserve(core_path, sizeof(core_path));
	t->skel = open_object(core_fd >= 0 ? core_path : NULL);
	open_err = t->skel ? 0 : -errno;
	if (t->skel) {
		size_maps(t->skel, opts);
		premade_add(&ahead, t->skel->maps.unwind_rows);
		premade_add(&ahead, t->skel->maps.unwind_ranges);
		premade_add(&ahead, t->skel->maps.unwind_cache);
		premade_add(&ahead, t->skel->maps.allocs);
		premade_add(&ahead, t->skel->maps.calls);
		premade_start(&ahead);
	}
	/* Read once, for the features and for CO-RE, and let go before libbpf's load. */
	btf = kernel__btf(&btf_size);
	kernel__probe(&k, btf, btf_size);
	err = check_kernel(&k) ?: open_err;
	if (!err && core_fd >= 0 && write_core_types(t, core_fd, btf, btf_size)) {
		/* libbpf would find no types at core_path: it reads the kernel's BTF itself. */
		close(core_fd);
		core_fd = -1;
		premade_use(&ahead, false); /* made of this object's maps: libbpf makes them */
		leaktrace_bpf__destroy(t->skel);
		t->skel = open_object(NULL);
		err = t->skel ? 0 : -errno;
	}
	kernel__btf_free(btf, btf_size);
	if (err) {
		premade_use(&ahead, false);
		goto err_free;
	}
	t->multi = use_uprobe_multi(&k);
	t->session = t->multi && use_uprobe_session(&k);
	err = load(t, opts, &k, &ahead);
	if (err && t->session) {
		/* A kernel whose session kfuncs differ from 6.13's: take the uprobe_multi path. */
		if (opts->verbose)
			diag__debug("uprobe sessions: cannot load (%s): "
				    "uprobe_multi instead",
				    strerror(-err));
		leaktrace_bpf__destroy(t->skel);
		t->session = false;
		t->skel = open_object(core_fd >= 0 ? core_path : NULL);
		err = t->skel ? load(t, opts, &k, &ahead) : -errno;
	}
	if (core_fd >= 0)
		close(core_fd);
	core_fd = -1;
	if (err) {
		load_error(err);
		goto err_free;
	}
	/* The object, parsed and loaded: its 0.5 MiB in our binary are not read again. */
	self_pages__release(t->skel->skeleton->data, t->skel->skeleton->data_sz);
	if (t->skel->rodata->block_slots)
		t->nr_blocks = bpf_map__max_entries(t->skel->maps.blocks);
	if (opts->verbose)
		print_features(t, &k);
	if (opts->unwind != LT_UNWIND_FP) {
		err = unwind_start(t, opts);
		if (err)
			goto err_free;
	}
	err = leaktrace_bpf__attach(t->skel); /* the fork, exec and exit tracepoints */
	if (err) {
		diag__error("cannot attach the process tracepoints: %s", strerror(-err));
		goto err_free;
	}
	t->mmap_hook = bpf_program__autoload(t->skel->progs.mmap_site);
	t->sys_exit_fallback = opts->sys_exit_fallback;
	/* LEAKTRACE_NO_MMAP_SITES=1 takes the fallback's path, to test it. */
	t->no_sites = t->mmap_hook && getenv("LEAKTRACE_NO_MMAP_SITES");
	if (t->no_sites)
		sys_exit_attach(t, -1, "LEAKTRACE_NO_MMAP_SITES");
	*out = t;
	return 0;

err_free:
	if (core_fd >= 0)
		close(core_fd);
	tracer__free(t);
	return err;
}

static struct bpf_program *entry_prog(struct tracer *t, enum lt_func func)
{
	struct leaktrace_bpf *s = t->skel;

	switch (func) {
	case LT_MALLOC:
		return s->progs.malloc_enter;
	case LT_CALLOC:
		return s->progs.calloc_enter;
	case LT_REALLOC:
		return s->progs.realloc_enter;
	case LT_REALLOCARRAY:
		return s->progs.reallocarray_enter;
	case LT_POSIX_MEMALIGN:
		return s->progs.posix_memalign_enter;
	case LT_ALIGNED_ALLOC:
		return s->progs.aligned_alloc_enter;
	case LT_MEMALIGN:
		return s->progs.memalign_enter;
	case LT_VALLOC:
		return s->progs.valloc_enter;
	case LT_PVALLOC:
		return s->progs.pvalloc_enter;
	case LT_FREE:
		return s->progs.free_enter;
	case LT_MMAP:
		return s->progs.mmap_enter;
	case LT_XALLOCX:
		return s->progs.xallocx_enter;
	case LT_MUNMAP:
		return bpf_program__autoload(s->progs.munmap_enter) ? s->progs.munmap_enter :
								      s->progs.munmap_enter_simple;
	default:
		return NULL;
	}
}

static int link_keep(struct tracer *t, struct bpf_link *link, int fd, pid_t pid)
{
	struct link *links = realloc(t->links, (t->nr_links + 1) * sizeof(*links));

	if (!links) {
		bpf_link__destroy(link);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	t->links = links;
	t->links[t->nr_links++] = (struct link){ .link = link, .fd = fd, .pid = pid };
	return 0;
}

static int add_link(struct tracer *t, struct bpf_program *prog, pid_t pid,
		    const struct alloc_probe *p, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, p->path, p->probe_offset, &opts);
	if (!link)
		return -errno;
	return link_keep(t, link, -1, pid);
}

static int attach_error(pid_t pid, const char *what, int err)
{
	if (err == -ESRCH || err == -ENOENT)
		diag__error("cannot attach to pid %d: no such process", pid);
	else
		diag__error("cannot attach to pid %d (%s): %s", pid, what, strerror(-err));
	return err;
}

static int add_target(struct tracer *t, pid_t pid, bool from_start)
{
	struct lt_target target = { .flags = from_start ? LT_TARGET_FROM_START : 0 }, old;
	__u32 tgid = pid;

	/*
	 * A generation no earlier process of this pid had (the clock's low bits, as BPF's):
	 * user space may still hold an exited one's records. A live entry keeps its own.
	 */
	target.gen = tracer__now_ns();
	if (!bpf_map__lookup_elem(t->skel->maps.targets, &tgid, sizeof(tgid), &old, sizeof(old), 0))
		target.gen = !(old.flags & LT_TARGET_EXITED) ? old.gen :
			     old.gen == target.gen	     ? target.gen + 1 :
							       target.gen;
	proc__read_line(pid, "comm", target.comm, sizeof(target.comm));
	return bpf_map__update_elem(t->skel->maps.targets, &tgid, sizeof(tgid), &target,
				    sizeof(target), BPF_ANY);
}

/*
 * True when the function is probed for pid (or every process) already; else
 * remembers it. A probe for a process outlives its exec: an image that maps the
 * same file again keeps it, and a second one would count every call twice.
 */
static bool probed_already(struct tracer *t, pid_t pid, const struct alloc_probe *p)
{
	struct probed *v;
	struct stat st;

	if (stat(p->path, &st))
		return false;
	for (size_t i = 0; i < t->nr_probed; i++)
		if (t->probed[i].pid == pid && t->probed[i].dev == st.st_dev &&
		    t->probed[i].ino == st.st_ino && t->probed[i].offset == p->offset)
			return true;
	v = realloc(t->probed, (t->nr_probed + 1) * sizeof(*v));
	if (v) {
		t->probed = v;
		v[t->nr_probed++] = (struct probed){ pid, st.st_dev, st.st_ino, p->offset };
	}
	return false;
}

static bool has_return(enum lt_func f)
{
	return f != LT_FREE && f != LT_MUNMAP;
}

/*
 * The uprobe_multi links of an object: free's entries, the other entries, the
 * returns, or one session for the other entries and the returns.
 */
enum multi_kind {
	MULTI_FREE,
	MULTI_ENTRY,
	MULTI_RETURN,
	MULTI_SESSION,
};

/* Whether a link of that kind holds the probe of func. */
static bool in_link(enum multi_kind kind, enum lt_func func)
{
	switch (kind) {
	case MULTI_FREE:
		return func == LT_FREE;
	case MULTI_RETURN:
		return has_return(func);
	default:
		return func != LT_FREE;
	}
}

/* The uprobe_multi or session link attr describes, for pid (-1: every process), kept. */
static int link_multi(struct tracer *t, pid_t pid, struct uprobe_multi_attr *attr)
{
	int fd;

	attr->pid = pid == -1 ? 0 : pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(*attr));
	return fd < 0 ? -errno : link_keep(t, NULL, fd, pid);
}

/* One uprobe_multi link: the probes of path in probes[]. */
static int add_multi(struct tracer *t, pid_t pid, const char *path,
		     const struct alloc_probe *const *probes, int n, enum multi_kind kind)
{
	struct bpf_program *progs[] = {
		[MULTI_FREE] = t->skel->progs.free_multi,
		[MULTI_ENTRY] = t->skel->progs.entry_multi,
		[MULTI_RETURN] = t->skel->progs.return_multi,
		[MULTI_SESSION] = t->skel->progs.session,
	};
	bool ret = kind == MULTI_RETURN;
	__u64 offsets[LT_MAX_PROBES], cookies[LT_MAX_PROBES];
	struct uprobe_multi_attr attr = {};
	int cnt = 0;

	/* The kernel arms them in this order: frees before allocations (see tracer__probe). */
	for (int i = 0; i < 2 * n; i++) {
		const struct alloc_probe *p = probes[i % n];

		if (strcmp(p->path, path) || !in_link(kind, p->func) ||
		    (i < n) == has_return(p->func))
			continue;
		offsets[cnt] = p->probe_offset;
		cookies[cnt++] = p->func;
	}
	if (!cnt)
		return 0;
	attr.prog_fd = bpf_program__fd(progs[kind]);
	attr.attach_type = kind == MULTI_SESSION ? LT_TRACE_UPROBE_SESSION : LT_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = cnt;
	attr.multi_flags = ret ? LT_F_UPROBE_MULTI_RETURN : 0;
	return link_multi(t, pid, &attr);
}

/* The probes to attach: those not attached already for pid (or every process). */
static int probes_to_attach(struct tracer *t, pid_t pid, const struct alloc_plan *plan,
			    const struct alloc_probe **out)
{
	int n = 0;

	for (int i = 0; i < plan->nr_probes; i++)
		if (!probed_already(t, pid, &plan->probes[i]))
			out[n++] = &plan->probes[i];
	return n;
}

/* Each object of the plan once: its entries in one link, its returns in another, or a session. */
static int attach_multi(struct tracer *t, pid_t pid, const struct alloc_probe **probes, int n)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		int j;

		for (j = 0; j < i && strcmp(probes[j]->path, probes[i]->path); j++)
			;
		if (j < i)
			continue;
		/*
		 * Returns first: a call that began between the two links would
		 * otherwise have its entry seen and never its return. Then frees
		 * before allocations, which would leave stale records otherwise.
		 */
		if (!t->session)
			err = add_multi(t, pid, probes[i]->path, probes, n, MULTI_RETURN);
		if (!err)
			err = add_multi(t, pid, probes[i]->path, probes, n, MULTI_FREE);
		if (!err)
			err = add_multi(t, pid, probes[i]->path, probes, n,
					t->session ? MULTI_SESSION : MULTI_ENTRY);
		if (err && pid == -1)
			diag__error("cannot probe %s: %s", probes[i]->path, strerror(-err));
		else if (err)
			attach_error(pid, probes[i]->path, err);
	}
	return err;
}

static void print_probes(pid_t pid, const struct alloc_probe **probes, int n)
{
	for (int i = 0; i < n; i++) {
		const struct alloc_probe *p = probes[i];

		diag__debug("%s: probed %s at %s+0x%llx (entry +%llu)",
			    pid == -1 ? "all processes" : "pid", p->name, p->path,
			    (unsigned long long)p->offset,
			    (unsigned long long)(p->probe_offset - p->offset));
	}
}

/* path's mmap sites, from the cache or found now: their number, or a negative errno. */
static int sites_of(struct tracer *t, const char *path, const uint64_t **offsets)
{
	struct site_file *f;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	for (size_t i = 0; i < t->nr_site_files; i++) {
		f = &t->site_files[i];
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			*offsets = f->offsets;
			return f->nr;
		}
	}
	f = realloc(t->site_files, (t->nr_site_files + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	t->site_files = f;
	f = &f[t->nr_site_files++];
	*f = (struct site_file){ .dev = st.st_dev, .ino = st.st_ino };
	f->nr = mmap_sites__find(path, f->offsets, MMAP_SITES_MAX);
	*offsets = f->offsets;
	return f->nr;
}

/* The mmap sites of path in one uprobe_multi link (6.6+), for pid. */
static int sites_multi(struct tracer *t, pid_t pid, const char *path, const uint64_t *offsets,
		       int cnt)
{
	struct uprobe_multi_attr attr = {
		.prog_fd = bpf_program__fd(t->skel->progs.mmap_site),
		.attach_type = LT_TRACE_UPROBE_MULTI,
		.path = (__u64)(unsigned long)path,
		.offsets = (__u64)(unsigned long)offsets,
		.cnt = cnt,
	};

	return link_multi(t, pid, &attr);
}

/* After cnt mmap sites of path were probed for pid (err: not), -v's line, or the fallback. */
static void site_probed(struct tracer *t, pid_t pid, const char *path, const uint64_t *offsets,
			int cnt, int err)
{
	char why[PATH_MAX + 64];

	if (err) {
		snprintf(why, sizeof(why), "cannot probe %s+0x%llx: %s", path,
			 (unsigned long long)offsets[0], strerror(-err));
		sys_exit_attach(t, pid, why);
		return;
	}
	for (int i = 0; i < cnt && t->verbose; i++)
		diag__debug("pid: mmap hook: uprobe at %s+0x%llx, after the mmap system call", path,
			    (unsigned long long)offsets[i]);
}

/*
 * The mmap hook for pid: a uprobe after each mmap system call of its loader
 * and of its C library, where they have one; else the fallback (also -a's, pid
 * -1, below). The sites go in before the allocator's probes: in run mode the
 * process has not run yet, and its loader maps its libraries first.
 */
static void probe_mmap_sites(struct tracer *t, pid_t pid, const struct alloc_plan *plan)
{
	const char *paths[] = { plan->interp, plan->mmap };
	const uint64_t *offsets = NULL;
	uint64_t todo[MMAP_SITES_MAX];
	char why[PATH_MAX + 64];
	int n, nr_todo = 0, err;

	if (!t->mmap_hook || t->no_sites)
		return;
	/*
	 * -a's probes are in every process: one in the loader stops a valgrind, which runs its
	 * client's loader first thing, before -a has seen it start and let go. -a keeps the hook
	 * on the system call's exit.
	 */
	if (pid == -1) {
		sys_exit_attach(t, pid, "-a");
		return;
	}
	for (int i = 0; i < 2; i++) {
		if (!paths[i][0] || (i && !strcmp(paths[0], paths[1])))
			continue;
		n = sites_of(t, paths[i], &offsets);
		if (n <= 0) {
			snprintf(why, sizeof(why), "no mmap site in %s%s%s", paths[i],
				 n ? ": " : "", n ? strerror(-n) : "");
			sys_exit_attach(t, pid, why);
			continue;
		}
		for (int j = 0; j < n; j++) {
			struct alloc_probe p = { .path = paths[i],
						 .name = "mmap system call",
						 .offset = offsets[j],
						 .probe_offset = offsets[j] };

			if (probed_already(t, pid, &p))
				continue;
			if (t->multi) {
				todo[nr_todo++] = offsets[j];
				continue;
			}
			err = add_link(t, t->skel->progs.mmap_site, pid, &p, false);
			site_probed(t, pid, paths[i], &offsets[j], 1, err);
		}
		if (nr_todo)
			site_probed(t, pid, paths[i], todo, nr_todo,
				    sites_multi(t, pid, paths[i], todo, nr_todo));
		nr_todo = 0;
	}
}

int tracer__probe(struct tracer *t, pid_t pid, const struct alloc_plan *plan)
{
	const struct alloc_probe *probes[LT_MAX_PROBES], *p;
	int err, f, n;

	probe_mmap_sites(t, pid, plan);
	n = probes_to_attach(t, pid, plan, probes);
	if (!n)
		return 0;
	/*
	 * The allocator's objects may not be mapped yet (run mode): tables ready
	 * first. A running process's are being built with the others it maps.
	 */
	for (int i = 0; i < n && !t->building; i++)
		tracer__unwind_file(t, probes[i]->path);
	if (t->multi) {
		err = attach_multi(t, pid, probes, n);
		if (!err && t->verbose)
			print_probes(pid, probes, n);
		if (err)
			return err;
		n = 0;
	}
	/*
	 * One link per probe (before 6.6), in an order that loses nothing while
	 * they go live one by one: every return probe before any entry, so that
	 * no call is entered without its return; the frees' entries before the
	 * allocations', so that no block is recorded whose free goes unseen.
	 */
	for (int i = 0; i < 3 * n; i++) {
		int pass = i / n;

		p = probes[i % n];
		f = p->func;
		if (pass == 0 && has_return(f))
			err = add_link(t, t->skel->progs.alloc_return, pid, p, true);
		else if (pass == 1 && !has_return(f))
			err = add_link(t, entry_prog(t, f), pid, p, false);
		else if (pass == 2 && has_return(f))
			err = add_link(t, entry_prog(t, f), pid, p, false);
		else
			continue;
		if (!err && t->verbose && pass > 0)
			print_probes(pid, &p, 1);
		if (err && pid == -1) {
			diag__error("cannot probe %s in %s: %s", p->name, p->path, strerror(-err));
			return err;
		}
		if (err)
			return attach_error(pid, p->name, err);
	}
	/* A pid that ended during the attach leaves probes that will never fire. */
	if (pid != -1 && kill(pid, 0) && errno == ESRCH)
		return attach_error(pid, "after attach", -ESRCH);
	if (pid != -1 && t->verbose)
		diag__debug("pid %d: probes live%s", pid,
			    t->building ? ", unwind tables being built" : "");
	return 0;
}

static void *build_tables(void *arg)
{
	struct tracer *t = arg;

	t->build_err = unwinder__add_process(t->unwinder, t->build_pid);
	return NULL;
}

/*
 * The end of adding pid's mappings to the unwinder. No room for them (more processes
 * than LT_UNWIND_MAX_PROCS at once, a busy host under -a) is no reason to stop: the
 * process is traced, its stacks cut where no table is found, and that is said once.
 */
static int unwind_added(struct tracer *t, pid_t pid, int err)
{
	if (err == -ENOSPC) {
		if (!t->unwind_full)
			diag__warn(
				"unwind tables: the mappings of %u processes at most are held at "
				"once; pid %d and others past them get stacks cut after the "
				"first frame (\"table not built yet\")",
				unwinder__max_processes(t->unwinder), pid);
		t->unwind_full = true;
		return 0;
	}
	return err ? attach_error(pid, "unwind tables", err) : 0;
}

int tracer__unwind_wait(struct tracer *t)
{
	if (!t->building)
		return 0;
	pthread_join(t->builder, NULL);
	t->building = false;
	/* One that ended meanwhile has nothing left to walk (-a meets many such). */
	if (t->build_err && kill(t->build_pid, 0) && errno == ESRCH)
		t->build_err = 0;
	return unwind_added(t, t->build_pid, t->build_err);
}

int tracer__add_target(struct tracer *t, pid_t pid, bool from_start)
{
	int err = tracer__unwind_wait(t);

	if (err)
		return err;
	err = add_target(t, pid, from_start);
	if (err == -E2BIG)
		return err; /* the map of targets is full: the caller says so, once */
	if (err)
		return attach_error(pid, "target map", err);
	if (!t->unwinder)
		return 0;
	/*
	 * A running process: its probes go live while its tables are built (70
	 * ms of a start for redis-server); what it allocates meanwhile has its
	 * stack cut where a table is missing, as table_pending. Traced since exec,
	 * it waits stopped: its tables are there before it runs.
	 */
	t->build_pid = pid;
	if (!from_start && !pthread_create(&t->builder, NULL, build_tables, t)) {
		t->building = true;
		return 0;
	}
	return unwind_added(t, pid, unwinder__add_process(t->unwinder, pid));
}

/* A heap block put in allocs: its first slot counts it, so that its free looks in allocs. */
static void count_hashed(struct tracer *t, const struct lt_alloc_key *key,
			 const struct lt_alloc *rec)
{
	struct lt_block_slot *slot = tracer__block_slot(t, key, 0);

	if (slot && rec->kind == LT_KIND_HEAP)
		lt_slot_count_hashed(slot, 1);
}

static int by_index(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Adds delta to the count of hashed blocks of the first slots of n records
 * (the heap ones): in slot order, a window mapped for many of them, where a
 * page each at random took a mapping per record.
 */
static void hashed_add(struct tracer *t, const struct lt_alloc_key *keys,
		       const struct lt_alloc *recs, size_t n, int delta)
{
	__u32 *idx = t->nr_blocks && n ? malloc(n * sizeof(*idx)) : NULL;
	struct lt_block_slot *s;
	size_t m = 0, left;

	for (size_t i = 0; idx && i < n; i++) {
		__u64 who = (__u64)keys[i].gen << 32 | keys[i].tgid;

		if (recs[i].kind == LT_KIND_HEAP)
			idx[m++] = lt_block_slot_probe(keys[i].addr, who, 0, t->nr_blocks);
	}
	if (idx)
		qsort(idx, m, sizeof(*idx), by_index);
	for (size_t i = 0; i < m; i++) {
		s = tracer__blocks_at(t, idx[i], &left);
		if (s)
			lt_slot_count_hashed(s, delta);
	}
	for (size_t i = 0; !idx && i < n; i++) {
		s = recs[i].kind == LT_KIND_HEAP ? tracer__block_slot(t, &keys[i], 0) : NULL;
		if (s)
			lt_slot_count_hashed(s, delta);
	}
	free(idx);
}

/*
 * Copies every record of a map whose key starts with from's {tgid, gen} to the
 * same key headed by to's; returns how many could not be stored (a full map).
 * allocs: the map is allocs, whose blocks their slots count.
 */
static size_t copy_records(struct tracer *t, int fd, size_t key_size, const __u32 *from,
			   const __u32 *to, bool allocs)
{
	union {
		struct lt_alloc alloc;
		struct lt_total total;
		__u64 len;
	} val;
	char key[sizeof(struct lt_total_key)], next[sizeof(struct lt_total_key)];
	size_t failed = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		if (memcmp(key, from, 2 * sizeof(__u32)) || bpf_map_lookup_elem(fd, key, &val))
			continue;
		memcpy(next, key, key_size);
		memcpy(next, to, 2 * sizeof(__u32));
		if (bpf_map_update_elem(fd, next, &val, BPF_NOEXIST))
			failed += errno != EEXIST;
		else if (allocs)
			count_hashed(t, (const struct lt_alloc_key *)next, &val.alloc);
	}
	return failed;
}

/* The blocks of from held in slots go to allocs for to: the slots stay the parent's. */
static size_t copy_slots(struct tracer *t, const __u32 *from, const __u32 *to)
{
	int fd = bpf_map__fd(t->skel->maps.allocs);
	struct lt_block_slot *s = NULL;
	struct lt_alloc_key *keys = NULL, *k, key;
	struct lt_alloc *recs = NULL, *r, rec;
	size_t failed = 0, n = 0, m = 0, cap = 0, left = 0;

	/*
	 * Copied first, then counted: counting maps other windows. Read as the
	 * protocol says: the parent's other threads may still be writing slots.
	 */
	for (size_t i = 0; i < t->nr_blocks; i++, left--, s++) {
		if (!left && !(s = tracer__blocks_at(t, i, &left))) {
			failed++; /* not mapped: counted as not copied */
			break;
		}
		if (!lt_slot_read(s, &key, &rec) || key.tgid != from[0] || key.gen != from[1])
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			k = realloc(keys, cap * sizeof(*keys));
			keys = k ? k : keys;
			r = k ? realloc(recs, cap * sizeof(*recs)) : NULL;
			recs = r ? r : recs;
			if (!r)
				break;
		}
		keys[n] = key;
		recs[n++] = rec;
	}
	for (size_t i = 0; i < n; i++) {
		keys[m] = keys[i];
		recs[m] = recs[i];
		keys[m].tgid = to[0];
		keys[m].gen = to[1];
		if (!bpf_map_update_elem(fd, &keys[m], &recs[m], BPF_NOEXIST))
			m++; /* stored: counted below */
		else
			failed += errno != EEXIST;
	}
	hashed_add(t, keys, recs, m, 1);
	free(keys);
	free(recs);
	return failed;
}

int tracer__inherit(struct tracer *t, pid_t parent, pid_t child)
{
	int targets = bpf_map__fd(t->skel->maps.targets),
	    allocs = bpf_map__fd(t->skel->maps.allocs);
	struct lt_target pt, ct;
	__u32 ptgid = parent, ctgid = child, from[2], to[2];
	size_t failed;

	if (bpf_map_lookup_elem(targets, &ptgid, &pt) || bpf_map_lookup_elem(targets, &ctgid, &ct))
		return -ENOENT;
	from[0] = ptgid;
	from[1] = pt.gen;
	to[0] = ctgid;
	to[1] = ct.gen;
	failed = copy_records(t, allocs, sizeof(struct lt_alloc_key), from, to, true);
	failed += copy_slots(t, from, to);
	failed += copy_records(t, bpf_map__fd(t->skel->maps.mmaps), sizeof(struct lt_alloc_key),
			       from, to, false);
	failed += copy_records(t, bpf_map__fd(t->skel->maps.totals), sizeof(struct lt_total_key),
			       from, to, false);
	return failed ? -ENOSPC : 0;
}

int tracer__unwind_file(struct tracer *t, const char *path)
{
	int err = tracer__unwind_wait(t);

	return t->unwinder && !err ? unwinder__add_file(t->unwinder, path) : err;
}

int tracer__unwind_exec(struct tracer *t, pid_t pid, const struct alloc_plan *plan)
{
	int err = tracer__unwind_wait(t);

	if (err || !t->unwinder || !plan->nr_objects)
		return err;
	return unwinder__add_exec(t->unwinder, pid, plan->objects, plan->nr_objects);
}

void tracer__unwind_refresh(struct tracer *t)
{
	tracer__unwind_wait(t);
	if (t->unwinder)
		unwinder__refresh(t->unwinder, t->unhooked);
}

void tracer__unwind_print(struct tracer *t)
{
	struct unwinder_stats st;

	tracer__unwind_wait(t);
	if (!t->unwinder)
		return;
	unwinder__stats(t->unwinder, &st);
	diag__debug("unwind tables: %u objects (%u without a table, %u walked by "
		    "frame pointers; %u mapped by no process now, kept for the next), %llu KiB of "
		    "%llu KiB (--max-unwind-mb), built in %.0f ms",
		    st.objects, st.failed, st.frame_pointers, st.idle,
		    (unsigned long long)(st.rows * sizeof(struct lt_unwind_row) / 1024),
		    (unsigned long long)(st.max_rows * sizeof(struct lt_unwind_row) / 1024),
		    st.build_ns / 1e6);
}

static void *close_link(void *arg)
{
	struct link *l = arg;

	if (l->link)
		bpf_link__destroy(l->link);
	else
		close(l->fd);
	return NULL;
}

/*
 * Removing a uprobe waits for the kernel to be sure no CPU still runs it
 * (~150 ms here for a uretprobe); those waits overlap when the links are
 * closed side by side.
 */
static void close_links(struct link *links, size_t n)
{
	pthread_t *threads = calloc(n ? n : 1, sizeof(*threads));
	size_t i;

	for (i = 0; i < n; i++)
		if (!threads || pthread_create(&threads[i], NULL, close_link, &links[i]))
			break;
	for (size_t j = i; j < n; j++)
		close_link(&links[j]);
	while (i--)
		pthread_join(threads[i], NULL);
	free(threads);
}

void tracer__forget(struct tracer *t, pid_t pid)
{
	size_t out = 0;

	for (size_t i = 0; i < t->nr_links; i++)
		t->links[i].forgotten |= t->links[i].pid == pid;
	for (size_t i = 0; i < t->nr_probed; i++)
		if (t->probed[i].pid != pid)
			t->probed[out++] = t->probed[i];
	t->nr_probed = out;
}

void tracer__forget_ended(struct tracer *t)
{
	for (size_t i = 0; i < t->nr_links; i++) {
		pid_t pid = t->links[i].pid;

		if (pid > 0 && !t->links[i].forgotten && kill(pid, 0) && errno == ESRCH)
			tracer__forget(t, pid);
	}
}

/* A batch of links to close, apart from the thread that runs the command's events. */
struct closing {
	struct link *links;
	size_t n;
};

static void *close_batch(void *arg)
{
	struct closing *c = arg;

	close_links(c->links, c->n);
	free(c->links);
	free(c);
	return NULL;
}

/* Closers that ended are joined: an agent flushes as processes end, for weeks. */
static void reap_closers(struct tracer *t)
{
	size_t out = 0;

	for (size_t i = 0; i < t->nr_closers; i++)
		if (pthread_tryjoin_np(t->closers[i], NULL))
			t->closers[out++] = t->closers[i];
	t->nr_closers = out;
}

void tracer__flush(struct tracer *t)
{
	size_t n = 0, out = 0, i;
	struct closing *c;
	struct link *gone;
	pthread_t *v;

	reap_closers(t);
	for (i = 0; i < t->nr_links; i++)
		n += t->links[i].forgotten;
	gone = n ? malloc(n * sizeof(*gone)) : NULL;
	if (!gone)
		return;
	for (i = 0, n = 0; i < t->nr_links; i++) {
		if (t->links[i].forgotten)
			gone[n++] = t->links[i];
		else
			t->links[out++] = t->links[i];
	}
	t->nr_links = out;
	c = malloc(sizeof(*c));
	v = realloc(t->closers, (t->nr_closers + 1) * sizeof(*v));
	if (v)
		t->closers = v;
	if (c)
		*c = (struct closing){ gone, n };
	if (!c || !v || pthread_create(&t->closers[t->nr_closers], NULL, close_batch, c)) {
		close_links(gone, n);
		free(gone);
		free(c);
		return;
	}
	t->nr_closers++;
}

void tracer__detach(struct tracer *t)
{
	close_links(t->links, t->nr_links);
	t->nr_links = 0;
	bpf_link__destroy(t->sys_exit);
	t->sys_exit = NULL;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	close_links(t->links, t->nr_links);
	free(t->links);
	bpf_link__destroy(t->sys_exit);
	free(t->site_files);
	for (size_t i = 0; i < t->nr_closers; i++)
		pthread_join(t->closers[i], NULL);
	free(t->closers);
	free(t->probed);
	if (t->building)
		pthread_join(t->builder, NULL);
	unwinder__free(t->unwinder);
	if (t->gen)
		munmap(t->gen, t->gen_size);
	if (t->window)
		munmap(t->window, t->window_size);
	leaktrace_bpf__destroy(t->skel);
	free(t);
}

size_t tracer__nr_blocks(const struct tracer *t)
{
	return t->nr_blocks;
}

/* Maps the window of bytes that holds slot i (the last one may be short); 0 or -errno. */
static int window_map(struct tracer *t, size_t i, size_t bytes)
{
	size_t per = bytes / sizeof(struct lt_block_slot), first = i / per * per;
	long page = sysconf(_SC_PAGESIZE);
	size_t nr = t->nr_blocks - first < per ? t->nr_blocks - first : per;
	size_t size = (nr * sizeof(struct lt_block_slot) + page - 1) / page * page;
	void *p;

	if (t->window && t->window_first <= i && i < t->window_first + t->window_nr)
		return 0;
	if (t->window)
		munmap(t->window, t->window_size);
	t->window = NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(t->skel->maps.blocks),
		 first * sizeof(struct lt_block_slot));
	if (p == MAP_FAILED)
		return -errno;
	t->window = p;
	t->window_first = first;
	t->window_nr = nr;
	t->window_size = size;
	return 0;
}

struct lt_block_slot *tracer__blocks_at(struct tracer *t, size_t i, size_t *n)
{
	int err;

	if (i >= t->nr_blocks)
		return NULL;
	err = window_map(t, i, LT_BLOCK_WINDOW);
	if (err) {
		errno = -err;
		return NULL;
	}
	*n = t->window_first + t->window_nr - i;
	return &t->window[i - t->window_first];
}

/* One slot: its page alone, unless the window mapped holds it. */
struct lt_block_slot *tracer__block_slot(struct tracer *t, const struct lt_alloc_key *key, __u32 j)
{
	__u64 who = (__u64)key->gen << 32 | key->tgid;
	size_t i;

	if (!t->nr_blocks)
		return NULL;
	i = lt_block_slot_probe(key->addr, who, j, t->nr_blocks);
	if (window_map(t, i, sysconf(_SC_PAGESIZE)))
		return NULL;
	return &t->window[i - t->window_first];
}

void tracer__hash_dropped(struct tracer *t, const struct lt_alloc_key *keys,
			  const struct lt_alloc *recs, size_t n)
{
	hashed_add(t, keys, recs, n, -1);
}

int tracer__allocs_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.allocs);
}

int tracer__totals_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.totals);
}

int tracer__stacks_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stacks);
}

int tracer__targets_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.targets);
}

int tracer__mmaps_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.mmaps);
}

int tracer__map_events_fd(const struct tracer *t)
{
	return t->skel->rodata->mmap_capture ? bpf_map__fd(t->skel->maps.map_events) : -1;
}

uint64_t tracer__targets_full(const struct tracer *t)
{
	return __atomic_load_n(&t->skel->bss->targets_full, __ATOMIC_RELAXED);
}

uint64_t tracer__map_events_lost(const struct tracer *t)
{
	return __atomic_load_n(&t->skel->bss->map_events_lost, __ATOMIC_RELAXED);
}

int tracer__unmatched_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.unmatched);
}

int tracer__percpu_sums(int fd, uint32_t n, uint64_t *sums)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	__u64 *v;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < n && !err; k++) {
		sums[k] = 0;
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
		for (int cpu = 0; cpu < ncpus && !err; cpu++)
			sums[k] += v[cpu];
	}
	free(v);
	return err;
}

int tracer__counters(const struct tracer *t, uint64_t *c)
{
	return tracer__percpu_sums(bpf_map__fd(t->skel->maps.counters), LT_NR_COUNTERS, c);
}

/* The kernel memory a map is charged for, as its fdinfo says. */
static uint64_t map_memory(int fd)
{
	unsigned long long v = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

uint64_t tracer__map_memory(const struct tracer *t)
{
	struct bpf_map *map;
	uint64_t sum = 0;

	bpf_object__for_each_map(map, t->skel->obj)
		if (bpf_map__fd(map) >= 0)
			sum += map_memory(bpf_map__fd(map));
	return sum;
}

int tracer__run_ns(const struct tracer *t, uint64_t *ns)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	__u32 len;

	*ns = 0;
	bpf_object__for_each_program(prog, t->skel->obj) {
		if (bpf_program__fd(prog) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			return -errno;
		*ns += info.run_time_ns;
	}
	return 0;
}

uint64_t tracer__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
