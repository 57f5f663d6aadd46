// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The unwind tables in the kernel: one per file (device and inode), shared by
 * every process that maps it, dropped when none does; and per process, its
 * executable mappings with the table each one uses.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_syms.h"
#include "procmaps.h"
#include "target_file.h"
#include "unwind_table.h"
#include "unwinder.h"

struct object {
	struct lt_unwind_file_key key;
	uint32_t first;
	uint32_t nr; /* 0: no table (none in the file, or no room) */
	int users;   /* processes that map it; files added by hand keep one more */
	bool used;
	bool fp; /* --unwind auto: built with frame pointers, walked by them */
	/* No process maps it since this (idle_clock), 0 while one does: kept for the next. */
	uint64_t idle_since;
	/* The file as its table was built (st_nlink 0: not told): one written since is built again. */
	struct stat built;
};

struct process {
	pid_t pid;
	uint32_t slot;	/* of its sorted ranges, LT_UNWIND_NO_SLOT for none */
	uint64_t image; /* they are of (lt_unwind_image) */
	uint32_t nr_ranges;
	struct lt_unwind_range *ranges; /* a copy of those in its slot, to compare a reread with */
	uint32_t *objs;			/* the objects it maps, each once */
	size_t nr;
	uint32_t *held; /* run mode: the objects its exec will map, built before it runs */
	size_t nr_held;
	bool retry;   /* a mapping changed while it was read (dlopen under way): read it again */
	bool no_slot; /* none was free at its last read: not read again while none is */
};

/* A free stretch of the rows array. */
struct extent {
	uint32_t first;
	uint32_t nr;
};

/* What building one file's table gives, before it goes into the kernel: made in any thread. */
struct build {
	const char *path;
	struct stat st; /* the file as built; st_nlink 0 when it could not be told */
	bool fp;	/* --unwind auto: kept frame pointers, no table */
	struct unwind_table *t;
	int err;
	uint64_t ns;
};

struct unwinder {
	struct unwinder_maps maps;
	struct object objs[LT_UNWIND_MAX_OBJS]; /* by id; 0 is LT_UNWIND_FP_OBJ */
	struct process *procs;
	size_t nr_procs;
	bool slot_used[LT_UNWIND_MAX_PROCS];
	uint32_t slot_gen[LT_UNWIND_MAX_PROCS]; /* changed each time a slot is given out */
	uint32_t max_slots; /* LT_UNWIND_MAX_PROCS; LEAKTRACE_UNWIND_PROCS: fewer, for the tests */
	uint32_t slots_used;
	struct extent *free; /* sorted, never two touching */
	size_t nr_free;
	uint64_t rows_used;
	uint64_t build_ns;
	uint64_t idle_clock;
	bool fp_where_kept; /* --unwind auto */
	bool retry;	    /* process_read: a mapping was gone when its file was opened */
	bool verbose;
	FILE *log; /* -v lines held until the ranges that use the tables are written */
	/* The tables of a process's new files, built side by side before they are loaded. */
	struct lt_unwind_file_key *pre_keys;
	struct build *pre;
	char (*pre_paths)[64];
	size_t nr_pre;
	/* Every unwinder__ function and the waker hold it. */
	pthread_mutex_t lock;
	struct ring_buffer *wake; /* the BPF side's wakeups */
	pthread_t waker;
	int stop_fd; /* written at the end: the waker's wait ends at once (detach) */
	bool has_waker;
	bool woken;
	bool stopping;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int refresh(struct unwinder *u, bool every);
static bool object_evict(struct unwinder *u);
static int process_add(struct unwinder *u, pid_t pid);

/* Wakeups come apart at least this much: an address in no mapping may mark its process again. */
#define WAKE_GAP_NS (20 * 1000000L)

static int on_wake(void *ctx, void *data, size_t size)
{
	struct unwinder *u = ctx;

	(void)data;
	(void)size;
	u->woken = true;
	return 0;
}

/*
 * The processes the BPF side marks (a new mapping, an address in none) are read
 * again as soon as it marks them, not at the main loop's next tick (0.2 s): a
 * library dlopened now has its table after its build only.
 */
static void *waker_run(void *arg)
{
	struct timespec gap = { .tv_nsec = WAKE_GAP_NS };
	struct unwinder *u = arg;
	struct pollfd fds[] = {
		{ .fd = ring_buffer__epoll_fd(u->wake), .events = POLLIN },
		{ .fd = u->stop_fd, .events = POLLIN },
	};

	while (!__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE)) {
		/* The timeout only bounds a wait whose stop was missed. */
		if (poll(fds, 2, 1000) <= 0 || fds[1].revents)
			continue;
		if (ring_buffer__consume(u->wake) < 0 || !u->woken)
			continue;
		u->woken = false;
		pthread_mutex_lock(&u->lock);
		refresh(u, false);
		pthread_mutex_unlock(&u->lock);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

/*
 * Its signals stay blocked: the main loop takes them. LEAKTRACE_NO_WAKE (for the
 * tests) leaves it off, as if it were always late on a loaded host: walks then
 * have only what was read at exec and what the programs record themselves.
 */
static int waker_start(struct unwinder *u)
{
	sigset_t all, old;
	int err;

	if (u->maps.wake_fd < 0 || getenv("LEAKTRACE_NO_WAKE"))
		return 0;
	u->wake = ring_buffer__new(u->maps.wake_fd, on_wake, u, NULL);
	if (!u->wake)
		return -errno;
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&u->waker, NULL, waker_run, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	u->has_waker = !err;
	if (err)
		close(u->stop_fd);
	return err;
}

int unwinder__new(const struct unwinder_maps *maps, bool fp_where_kept, bool verbose,
		  struct unwinder **out)
{
	struct unwinder *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	u->free = malloc(sizeof(*u->free));
	if (!u->free) {
		free(u);
		return -ENOMEM;
	}
	u->maps = *maps;
	u->free[0] = (struct extent){ .first = 0, .nr = maps->max_rows };
	u->nr_free = maps->max_rows ? 1 : 0;
	u->fp_where_kept = fp_where_kept;
	u->verbose = verbose;
	u->max_slots = LT_UNWIND_MAX_PROCS;
	if (getenv("LEAKTRACE_UNWIND_PROCS") && *getenv("LEAKTRACE_UNWIND_PROCS"))
		u->max_slots = strtoul(getenv("LEAKTRACE_UNWIND_PROCS"), NULL, 0) ?: u->max_slots;
	if (u->max_slots > LT_UNWIND_MAX_PROCS)
		u->max_slots = LT_UNWIND_MAX_PROCS;
	pthread_mutex_init(&u->lock, NULL);
	err = waker_start(u);
	if (err) {
		unwinder__free(u);
		return err;
	}
	*out = u;
	return 0;
}

/*
 * Bytes into a BPF array at start through a mapping of only the pages they
 * cover: a whole array (--max-unwind-mb of rows, the ranges of every process)
 * mapped for good counts in our RSS.
 */
static int window_write(int fd, uint64_t start, const void *data, size_t n)
{
	uint64_t page = sysconf(_SC_PAGESIZE), off = start & ~(page - 1);
	size_t len = start + n - off;
	void *p;

	if (!n)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return -errno;
	memcpy((char *)p + (start - off), data, n);
	munmap(p, len);
	return 0;
}

/* A table's rows into the BPF array. */
static int rows_write(int fd, uint64_t first, const struct lt_unwind_row *rows, size_t n)
{
	return window_write(fd, first * sizeof(*rows), rows, n * sizeof(*rows));
}

/* First fit. */
static int rows_alloc(struct unwinder *u, uint32_t nr, uint32_t *first)
{
	for (size_t i = 0; i < u->nr_free; i++) {
		struct extent *e = &u->free[i];

		if (e->nr < nr)
			continue;
		*first = e->first;
		e->first += nr;
		e->nr -= nr;
		if (!e->nr)
			memmove(e, e + 1, (--u->nr_free - i) * sizeof(*e));
		u->rows_used += nr;
		return 0;
	}
	return -ENOSPC;
}

static void rows_free(struct unwinder *u, uint32_t first, uint32_t nr)
{
	struct extent *grown, *e;
	size_t i = 0;

	while (i < u->nr_free && u->free[i].first < first)
		i++;
	u->rows_used -= nr;
	/* Joined to the stretch before, the one after, or both. */
	if (i > 0 && u->free[i - 1].first + u->free[i - 1].nr == first) {
		e = &u->free[i - 1];
		e->nr += nr;
		if (i < u->nr_free && e->first + e->nr == u->free[i].first) {
			e->nr += u->free[i].nr;
			memmove(&u->free[i], &u->free[i + 1], (--u->nr_free - i) * sizeof(*e));
		}
		return;
	}
	if (i < u->nr_free && first + nr == u->free[i].first) {
		u->free[i].first = first;
		u->free[i].nr += nr;
		return;
	}
	grown = realloc(u->free, (u->nr_free + 1) * sizeof(*grown));
	if (!grown)
		return; /* those rows stay unused: the budget shrinks, nothing breaks */
	u->free = grown;
	memmove(&u->free[i + 1], &u->free[i], (u->nr_free - i) * sizeof(*grown));
	u->free[i] = (struct extent){ .first = first, .nr = nr };
	u->nr_free++;
}

static bool built_with_frame_pointers(const char *path)
{
	struct elf_syms *syms;
	bool fp;
	int err;

	syms = elf_syms__open(path, NULL, &err);
	fp = syms && elf_syms__built_with_frame_pointers(syms);
	elf_syms__free(syms);
	return fp;
}

static void build_run(struct build *b, bool fp_where_kept)
{
	uint64_t t0 = now_ns();

	if (target_file__stat(b->path, &b->st))
		memset(&b->st, 0, sizeof(b->st));
	b->fp = fp_where_kept && built_with_frame_pointers(b->path);
	if (!b->fp)
		b->err = unwind_table__build(b->path, &b->t);
	b->ns = now_ns() - t0;
}

static void build_log(const struct unwinder *u, const struct build *b, const char *name)
{
	FILE *out = u->log ?: stderr;

	if (!u->verbose)
		return;
	if (b->fp)
		fprintf(out, "leaktrace: %s keeps frame pointers: walked by them\n", name);
	else if (b->err)
		fprintf(out, "leaktrace: no unwind table for %s: %s\n", name,
			b->err == -ENOSPC  ? "--max-unwind-mb is full" :
			b->err == -ENODATA ? "it has no .eh_frame" :
			b->err == -EREMOTE ? "it is on FUSE, whose daemon may never answer a read" :
					     strerror(-b->err));
	else
		fprintf(out, "leaktrace: unwind table of %s: %zu rows, %zu KiB, %.1f ms\n", name,
			b->t->nr, b->t->nr * sizeof(*b->t->rows) / 1024, b->ns / 1e6);
}

/* A built table into the kernel: rows first, so the BPF side never sees them missing. */
static int object_install(struct unwinder *u, uint32_t id, struct build *b, const char *name)
{
	struct object *o = &u->objs[id];
	struct lt_unwind_file f = { .obj = id, .size = LT_UNWIND_ANY_SIZE };
	struct lt_unwind_obj v = {};

	/* The file as built, told apart from one written over it later (object_current). */
	o->built = b->st;
	if (b->st.st_nlink)
		f.size = b->st.st_size;

	u->build_ns += b->ns;
	if (b->fp) {
		/* --unwind auto: its frame pointers are followed, as BPF does without a table. */
		o->fp = true;
		f.obj = LT_UNWIND_FP_OBJ;
		build_log(u, b, name);
		bpf_map_update_elem(u->maps.files_fd, &o->key, &f, BPF_ANY);
		return 0;
	}
	/* Not opened (the process is gone, say): tried again with the next process that maps it. */
	if (b->err == -ENOENT && !b->t && access(b->path, F_OK))
		return b->err;
	/* Cut short (a stop signal: run mode goes on after it): built again next time. */
	if (b->err == -ESRCH || b->err == -EACCES || b->err == -EPERM || b->err == -EINTR)
		return b->err;
	if (!b->err && b->t->nr > UINT32_MAX)
		b->err = -E2BIG;
	if (!b->err)
		b->err = rows_alloc(u, b->t->nr, &o->first);
	while (b->err == -ENOSPC && object_evict(u))
		b->err = rows_alloc(u, b->t->nr, &o->first);
	if (!b->err)
		b->err = rows_write(u->maps.rows_fd, o->first, b->t->rows, b->t->nr);
	if (!b->err) {
		o->nr = v.nr = b->t->nr;
		v.first = o->first;
		f.delta = b->t->delta;
	}
	build_log(u, b, name);
	/* A file without a table is listed too: its code stops the walk, and is not built again. */
	bpf_map_update_elem(u->maps.objs_fd, &id, &v, BPF_ANY);
	bpf_map_update_elem(u->maps.files_fd, &o->key, &f, BPF_ANY);
	return 0;
}

/* The build of key done ahead (prebuild), taken: NULL when there is none. */
static struct build *prebuilt_take(struct unwinder *u, const struct lt_unwind_file_key *key)
{
	for (size_t i = 0; i < u->nr_pre; i++) {
		if (u->pre[i].path && !memcmp(&u->pre_keys[i], key, sizeof(*key))) {
			u->pre[i].path = NULL; /* taken: its table goes with the taker */
			return &u->pre[i];
		}
	}
	return NULL;
}

static int object_load(struct unwinder *u, uint32_t id, const char *path, const char *name)
{
	struct build b = { .path = path }, *pre = prebuilt_take(u, &u->objs[id].key);
	int err;

	if (pre) {
		b.fp = pre->fp;
		b.st = pre->st;
		b.t = pre->t;
		b.err = pre->err;
		b.ns = pre->ns;
	} else {
		build_run(&b, u->fp_where_kept);
	}
	err = object_install(u, id, &b, name);
	unwind_table__free(b.t);
	return err;
}

/* Rows cached by the BPF side may have changed: they are looked up again. */
static void cache_invalidate(struct unwinder *u)
{
	__atomic_fetch_add(u->maps.gen, 1, __ATOMIC_SEQ_CST);
}

/* An object's table out of the kernel, its id free. */
static void object_free(struct unwinder *u, uint32_t id)
{
	struct object *o = &u->objs[id];
	struct lt_unwind_obj none = {};

	bpf_map_delete_elem(u->maps.files_fd, &o->key);
	bpf_map_update_elem(u->maps.objs_fd, &id, &none, BPF_ANY);
	if (o->nr)
		rows_free(u, o->first, o->nr);
	memset(o, 0, sizeof(*o));
	cache_invalidate(u);
}

/*
 * The last process that maps a file gone, its table stays until its room is
 * needed: a command run again and again (a build's compilers, a cron job under
 * -a) is walked whole from its exec, its table found by the programs.
 */
static void object_put(struct unwinder *u, uint32_t id)
{
	struct object *o = &u->objs[id];

	if (--o->users > 0)
		return;
	o->idle_since = ++u->idle_clock;
}

/* Frees the table no process has mapped for the longest; false when every table is in use. */
static bool object_evict(struct unwinder *u)
{
	uint32_t idlest = 0;

	for (uint32_t id = 1; id < LT_UNWIND_MAX_OBJS; id++) {
		const struct object *o = &u->objs[id];

		if (o->used && !o->users && (!idlest || o->idle_since < u->objs[idlest].idle_since))
			idlest = id;
	}
	if (idlest)
		object_free(u, idlest);
	return idlest;
}

/*
 * Whether the file at path is another than the one o's table was built from: 1, 0,
 * or -ESRCH when it cannot be told now (its process is gone: the next one will say).
 */
static int object_changed(const struct object *o, const char *path)
{
	struct stat st;

	if (target_file__stat(path, &st))
		return -ESRCH;
	return !o->built.st_nlink || !target_file__unchanged(&o->built, &st);
}

static int object_find(const struct unwinder *u, const struct lt_unwind_file_key *key)
{
	for (uint32_t id = 1; id < LT_UNWIND_MAX_OBJS; id++)
		if (u->objs[id].used && !memcmp(&u->objs[id].key, key, sizeof(*key)))
			return id;
	return -ENOENT;
}

/*
 * One more user of the object found (id), the file at path: a table kept since its
 * last process, of a file written since (the same inode), goes instead: -ENOENT,
 * to build it anew. One that cannot be told now stays kept: -ESRCH.
 */
static int object_use(struct unwinder *u, int id, const char *path)
{
	int changed = id > 0 && !u->objs[id].users ? object_changed(&u->objs[id], path) : 0;

	if (changed < 0)
		return changed;
	if (changed) {
		object_free(u, id);
		return -ENOENT;
	}
	if (id > 0) {
		u->objs[id].users++;
		u->objs[id].idle_since = 0;
	}
	return id;
}

static int object_new(struct unwinder *u, const struct lt_unwind_file_key *key)
{
	do {
		for (uint32_t id = 1; id < LT_UNWIND_MAX_OBJS; id++) {
			if (!u->objs[id].used) {
				u->objs[id] = (struct object){ .key = *key,
							       .users = 1,
							       .used = true };
				return id;
			}
		}
	} while (object_evict(u));
	return -ENOSPC;
}

/* The object of a file, loaded if new, with one more user; its id, or a negative errno. */
static int object_get(struct unwinder *u, const struct lt_unwind_file_key *key, const char *path,
		      const char *name)
{
	int id = object_use(u, object_find(u, key), path), err;

	if (id > 0 || id == -ESRCH)
		return id;
	id = object_new(u, key);
	if (id < 0)
		return id;
	err = object_load(u, id, path, name);
	if (err) {
		memset(&u->objs[id], 0, sizeof(u->objs[id]));
		return err;
	}
	return id;
}

static struct lt_unwind_file_key file_key(unsigned int major, unsigned int minor, uint64_t ino)
{
	/* The kernel's own dev_t encoding (MKDEV), which the BPF side reads from the inode. */
	return (struct lt_unwind_file_key){ .dev = major << 20 | minor, .ino = ino };
}

static int file_add(struct unwinder *u, const char *path)
{
	struct stat st;
	struct lt_unwind_file_key key;
	int id, err;

	err = target_file__stat(path, &st);
	if (err)
		return err;
	key = file_key(major(st.st_dev), minor(st.st_dev), st.st_ino);
	for (id = 1; id < LT_UNWIND_MAX_OBJS; id++)
		if (u->objs[id].used && u->objs[id].users &&
		    !memcmp(&u->objs[id].key, &key, sizeof(key)))
			return 0; /* pinned already, or kept by a process mapping it */
	id = object_get(u, &key, path, path);
	return id < 0 ? id : 0;
}

static struct process *process_find(struct unwinder *u, pid_t pid)
{
	for (size_t i = 0; i < u->nr_procs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	return NULL;
}

/* The range of one executable mapping; false for one the walk has no use for. */
static bool range_of(struct unwinder *u, pid_t pid, const struct procmap *m,
		     struct lt_unwind_range *r, uint32_t *ids, size_t *nr_ids)
{
	struct lt_unwind_file_key key;
	char path[64];
	int id;

	*r = (struct lt_unwind_range){ .start = m->start, .end = m->end, .obj = LT_UNWIND_FP_OBJ };
	if (!procmap__is_file(m))
		return !m->path[0]; /* anonymous: JIT code; [vdso], [uprobes]: no */
	key = file_key(m->dev_major, m->dev_minor, m->inode);
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	id = object_get(u, &key, path, m->path);
	/*
	 * Gone since the maps were read: its loader is remapping it (a dlopen under
	 * way). Walks through it say the table is pending until the next read.
	 */
	if (id == -ENOENT) {
		r->obj = LT_UNWIND_UNBUILT_OBJ;
		u->retry = true;
		return true;
	}
	if (id < 0) {
		r->obj = LT_UNWIND_NO_OBJ;
		return true;
	}
	r->obj = u->objs[id].fp ? LT_UNWIND_FP_OBJ : (uint32_t)id;
	if (u->objs[id].nr) {
		struct lt_unwind_file f;

		bpf_map_lookup_elem(u->maps.files_fd, &key, &f);
		r->bias = m->start - (m->offset + f.delta);
	}
	/* One user per process, however many mappings of the file it has. */
	for (size_t i = 0; i < *nr_ids; i++) {
		if (ids[i] == (uint32_t)id) {
			object_put(u, id);
			return true;
		}
	}
	ids[(*nr_ids)++] = id;
	return true;
}

/*
 * A free slot, in a generation of its own before its ranges are written: a child's
 * view borrowed from a process that had it (unwind_fork) stops holding.
 */
static uint32_t slot_get(struct unwinder *u)
{
	for (uint32_t i = 0; i < u->max_slots; i++) {
		if (u->slot_used[i])
			continue;
		u->slot_gen[i]++;
		if (bpf_map_update_elem(u->maps.slot_gens_fd, &i, &u->slot_gen[i], BPF_ANY))
			return LT_UNWIND_NO_SLOT;
		u->slot_used[i] = true;
		u->slots_used++;
		return i;
	}
	return LT_UNWIND_NO_SLOT;
}

static void slot_put(struct unwinder *u, uint32_t slot)
{
	if (slot != LT_UNWIND_NO_SLOT) {
		u->slot_used[slot] = false;
		u->slots_used--;
	}
}

static struct process *process_new(struct unwinder *u, pid_t pid)
{
	struct process *grown = realloc(u->procs, (u->nr_procs + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	u->procs = grown;
	grown[u->nr_procs] = (struct process){ .pid = pid, .slot = LT_UNWIND_NO_SLOT };
	return &grown[u->nr_procs++];
}

/* The ranges p has in its view now, for the same image. */
static bool unchanged(const struct process *p, uint64_t image, const struct lt_unwind_range *ranges,
		      uint32_t nr)
{
	return p->slot != LT_UNWIND_NO_SLOT && p->image == image && p->nr_ranges == nr &&
	       !memcmp(p->ranges, ranges, nr * sizeof(*ranges));
}

/* Builds side by side: each worker takes the next file to build. */
struct build_pool {
	struct build *b;
	int n;
	int next;
	bool fp_where_kept;
};

static void *build_worker(void *arg)
{
	struct build_pool *pool = arg;
	int i;

	while ((i = __atomic_fetch_add(&pool->next, 1, __ATOMIC_RELAXED)) < pool->n)
		build_run(&pool->b[i], pool->fp_where_kept);
	return NULL;
}

/* Every build of b, on as many threads as there are CPUs (this one too). */
static void build_all(struct unwinder *u, struct build *b, int n)
{
	struct build_pool pool = { .b = b, .n = n, .fp_where_kept = u->fp_where_kept };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t threads[16];
	int nr = 0;

	while (nr < 16 && nr + 1 < cpus && nr + 1 < n &&
	       !pthread_create(&threads[nr], NULL, build_worker, &pool))
		nr++;
	build_worker(&pool);
	for (int i = 0; i < nr; i++)
		pthread_join(threads[i], NULL);
}

static void prebuild_free(struct unwinder *u)
{
	for (size_t i = 0; i < u->nr_pre; i++)
		if (u->pre[i].path)
			unwind_table__free(u->pre[i].t);
	free(u->pre);
	free(u->pre_keys);
	free(u->pre_paths);
	u->pre = NULL;
	u->pre_keys = NULL;
	u->pre_paths = NULL;
	u->nr_pre = 0;
}

/*
 * The tables of the files pid maps that have none yet, built side by side on
 * every CPU (-p of a large program, a new process under -a, dlopen): object_load
 * takes them as it meets the files.
 */
static void prebuild(struct unwinder *u, pid_t pid, const struct procmaps *maps)
{
	struct lt_unwind_file_key key;
	size_t n = 0, j;

	u->pre = calloc(maps->n, sizeof(*u->pre));
	u->pre_keys = calloc(maps->n, sizeof(*u->pre_keys));
	u->pre_paths = calloc(maps->n, sizeof(*u->pre_paths));
	for (size_t i = 0; u->pre && u->pre_keys && u->pre_paths && i < maps->n; i++) {
		const struct procmap *m = &maps->v[i];

		if (!m->executable || !procmap__is_file(m))
			continue;
		key = file_key(m->dev_major, m->dev_minor, m->inode);
		for (j = 0; j < n && memcmp(&u->pre_keys[j], &key, sizeof(key)); j++)
			;
		if (j < n || object_find(u, &key) > 0)
			continue;
		u->pre_keys[n] = key;
		snprintf(u->pre_paths[n], sizeof(u->pre_paths[n]), "/proc/%d/map_files/%llx-%llx",
			 pid, (unsigned long long)m->start, (unsigned long long)m->end);
		u->pre[n].path = u->pre_paths[n];
		n++;
	}
	/* One file alone is built where it is met, as before. */
	if (n < 2) {
		u->nr_pre = 0;
		prebuild_free(u);
		return;
	}
	u->nr_pre = n;
	build_all(u, u->pre, n);
}

/*
 * The ranges go to a fresh slot, then the process's view points to it: a walk
 * running meanwhile reads the old slot or the new one, never half of one. The
 * view says which image they are of, read before the maps (an exec meanwhile
 * makes them count for nothing, never for the wrong image), and how many of
 * the mappings the BPF side met the maps include (those made since stay its).
 */
static int process_read(struct unwinder *u, pid_t pid)
{
	struct process *p = process_find(u, pid);
	struct lt_unwind_range *ranges = NULL;
	struct lt_unwind_proc *before = NULL;
	struct lt_unwind_view v = { .slot = LT_UNWIND_NO_SLOT };
	uint64_t end_code, start_stack;
	struct procmaps *maps = NULL;
	uint32_t *ids = NULL, slot = LT_UNWIND_NO_SLOT;
	size_t nr_ids = 0;
	__u32 key = pid;
	bool same;
	int err;

	if (!p && !(p = process_new(u, pid)))
		return -ENOMEM;
	before = calloc(1, sizeof(*before));
	if (!before)
		return -ENOMEM;
	err = proc__image(pid, &end_code, &start_stack);
	/* Its value, made if the BPF side has none yet, so that refresh() finds it. */
	if (!err)
		bpf_map_update_elem(u->maps.procs_fd, &key, before, BPF_NOEXIST);
	if (!err)
		err = bpf_map_lookup_elem(u->maps.procs_fd, &key, before) ? -errno : 0;
	if (!err)
		err = procmaps__read(pid, &maps);
	if (err)
		goto out;
	v.image = lt_unwind_image(end_code, start_stack);
	v.seen = before->count;
	v.marks = before->marks;
	ids = calloc(LT_UNWIND_MAX_RANGES, sizeof(*ids));
	ranges = calloc(LT_UNWIND_MAX_RANGES, sizeof(*ranges));
	if (!ids || !ranges) {
		err = -ENOMEM;
		goto out;
	}
	prebuild(u, pid, maps);
	u->retry = false;
	for (size_t i = 0; i < maps->n && v.nr < LT_UNWIND_MAX_RANGES; i++) {
		if (maps->v[i].executable &&
		    range_of(u, pid, &maps->v[i], &ranges[v.nr], ids, &nr_ids))
			v.nr++;
	}
	same = unchanged(p, v.image, ranges, v.nr);
	if (same) {
		v.slot = p->slot;
		v.slot_gen = u->slot_gen[p->slot];
	} else {
		slot = slot_get(u);
		err = slot == LT_UNWIND_NO_SLOT ? -ENOSPC : 0;
		v.slot = slot;
		v.slot_gen = err ? 0 : u->slot_gen[slot];
		p->no_slot = err == -ENOSPC;
	}
	if (!err && !same)
		err = window_write(u->maps.ranges_fd,
				   (uint64_t)slot * LT_UNWIND_MAX_RANGES * sizeof(*ranges), ranges,
				   v.nr * sizeof(*ranges));
	if (!err)
		err = bpf_map_update_elem(u->maps.views_fd, &key, &v, BPF_ANY) ? -errno : 0;
	/*
	 * Marked again since, or mapped more meanwhile (a mapping made while the
	 * view still had the old marks did not mark it again): read again at the
	 * waker's next turn.
	 */
	p->retry = u->retry;
	if (!err && (p->retry || (!bpf_map_lookup_elem(u->maps.procs_fd, &key, before) &&
				  (before->marks != v.marks || before->count != v.seen))))
		u->woken = true;
	if (err || same) {
		for (size_t i = 0; i < nr_ids; i++)
			object_put(u, ids[i]);
		goto out;
	}
	cache_invalidate(u); /* a mapping replaced by another at its address */
	/* The old mappings' objects go after the new ones are held: a file kept is not rebuilt. */
	for (size_t i = 0; i < p->nr; i++)
		object_put(u, p->objs[i]);
	free(p->objs);
	p->objs = ids;
	ids = NULL;
	p->nr = nr_ids;
	/* -v: its view is written, its stacks walked whole from now on (the tests wait for it). */
	if (u->verbose && p->slot == LT_UNWIND_NO_SLOT)
		fprintf(u->log ?: stderr, "leaktrace: pid %d: %u executable mappings read\n", pid,
			v.nr);
	slot_put(u, p->slot);
	p->slot = slot;
	p->image = v.image;
	p->nr_ranges = v.nr;
	free(p->ranges);
	p->ranges = ranges;
	ranges = NULL;
	slot = LT_UNWIND_NO_SLOT;
out:
	free(ids);
	free(ranges);
	free(before);
	prebuild_free(u);
	slot_put(u, slot);
	procmaps__free(maps);
	return err;
}

/* A path as its process names it: /proc/PID/exe's target, /proc/PID/root/X as /X. */
static void path_name(const char *path, char *name, size_t size)
{
	const char *root = strstr(path, "/root/");
	ssize_t n;

	if (!strncmp(path, "/proc/", 6) && root) {
		snprintf(name, size, "%s", root + 5);
		return;
	}
	n = readlink(path, name, size - 1);
	if (n <= 0 || strncmp(path, "/proc/", 6))
		snprintf(name, size, "%s", path);
	else
		name[n] = '\0';
}

/* The objects of paths held for p: those loaded already get one more user, the others are built. */
static size_t exec_hold(struct unwinder *u, char *const *paths, int n, uint32_t *held,
			struct build *b, struct lt_unwind_file_key *keys)
{
	size_t nr_held = 0;
	struct stat st;
	int m = 0, id;

	for (int i = 0; i < n; i++) {
		if (target_file__stat(paths[i], &st))
			continue;
		keys[m] = file_key(major(st.st_dev), minor(st.st_dev), st.st_ino);
		id = object_use(u, object_find(u, &keys[m]), paths[i]);
		if (id > 0)
			held[nr_held++] = id;
		if (id > 0 || id == -ESRCH)
			continue;
		for (id = 0; id < m && memcmp(&keys[id], &keys[m], sizeof(keys[m])); id++)
			;
		if (id == m)
			b[m++] = (struct build){ .path = paths[i] };
	}
	build_all(u, b, m);
	for (int i = 0; i < m; i++) {
		char name[PATH_MAX];

		path_name(b[i].path, name, sizeof(name));
		id = object_new(u, &keys[i]);
		if (id > 0 && object_install(u, id, &b[i], name)) {
			memset(&u->objs[id], 0, sizeof(u->objs[id]));
			id = -1;
		}
		if (id > 0)
			held[nr_held++] = id;
		unwind_table__free(b[i].t);
	}
	return nr_held;
}

static int exec_add(struct unwinder *u, pid_t pid, char *const *paths, int n)
{
	struct process *p = process_find(u, pid);
	struct lt_unwind_file_key *keys;
	uint32_t *held;
	struct build *b;
	size_t nr_held;
	int err = 0;

	if (!p && !(p = process_new(u, pid)))
		return -ENOMEM;
	held = calloc(n + 1, sizeof(*held));
	b = calloc(n + 1, sizeof(*b));
	keys = calloc(n + 1, sizeof(*keys));
	if (!held || !b || !keys) {
		err = -ENOMEM;
		goto out;
	}
	nr_held = exec_hold(u, paths, n, held, b, keys);
	/* The old image's objects go after the new ones are held: a file kept is not rebuilt. */
	for (size_t i = 0; i < p->nr_held; i++)
		object_put(u, p->held[i]);
	free(p->held);
	p->held = held;
	p->nr_held = nr_held;
	held = NULL;
	err = process_add(u, pid);
out:
	free(held);
	free(b);
	free(keys);
	return err;
}

/* A table said ready (-v) is in use: its lines come after the ranges are written. */
static int process_add(struct unwinder *u, pid_t pid)
{
	char *log = NULL;
	size_t len = 0;
	int err;

	u->log = u->verbose ? open_memstream(&log, &len) : NULL;
	err = process_read(u, pid);
	if (u->log) {
		fclose(u->log);
		u->log = NULL;
		fputs(log, stderr);
	}
	free(log);
	return err;
}

static void process_remove(struct unwinder *u, pid_t pid)
{
	struct process *p = process_find(u, pid);
	__u32 key = pid;

	bpf_map_delete_elem(u->maps.procs_fd, &key);
	bpf_map_delete_elem(u->maps.views_fd, &key);
	if (!p)
		return;
	for (size_t i = 0; i < p->nr; i++)
		object_put(u, p->objs[i]);
	for (size_t i = 0; i < p->nr_held; i++)
		object_put(u, p->held[i]);
	free(p->objs);
	free(p->held);
	free(p->ranges);
	slot_put(u, p->slot);
	*p = u->procs[--u->nr_procs];
}

static int refresh(struct unwinder *u, bool every)
{
	struct lt_unwind_proc *v = malloc(sizeof(*v));
	struct process *p;
	__u32 *keys = NULL, *grown, *prev = NULL, next;
	size_t n = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < u->nr_procs;) {
		if (kill(u->procs[i].pid, 0) && errno == ESRCH)
			process_remove(u, u->procs[i].pid);
		else
			i++;
	}
	/* The stale ones, and those the BPF side met first (-a), not known here yet. */
	while (!bpf_map_get_next_key(u->maps.procs_fd, prev, &next)) {
		grown = realloc(keys, (n + 1) * sizeof(*keys));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		keys = grown;
		keys[n] = next;
		prev = &keys[n++];
	}
	for (size_t i = 0; i < n; i++) {
		struct lt_unwind_view view = {};

		if (bpf_map_lookup_elem(u->maps.procs_fd, &keys[i], v))
			continue;
		bpf_map_lookup_elem(u->maps.views_fd, &keys[i], &view);
		/*
		 * Marked, mapped more since its last read, to read again (see process_read),
		 * or walked by its parent's view since its fork.
		 */
		p = process_find(u, keys[i]);
		if (!every && v->marks == view.marks && v->count == view.seen && p && !p->retry &&
		    !view.borrowed)
			continue;
		/* Past the slots' end (-a on a busy host): read again once one is free. */
		if (p && p->no_slot && u->slots_used == u->max_slots)
			continue;
		if (process_add(u, keys[i]) && kill(keys[i], 0) && errno == ESRCH)
			process_remove(u, keys[i]); /* gone meanwhile */
	}
	free(keys);
	free(v);
	return err;
}

int unwinder__add_file(struct unwinder *u, const char *path)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = file_add(u, path);
	pthread_mutex_unlock(&u->lock);
	return err;
}

int unwinder__add_exec(struct unwinder *u, pid_t pid, char *const *paths, int n)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = exec_add(u, pid, paths, n);
	pthread_mutex_unlock(&u->lock);
	return err;
}

int unwinder__add_process(struct unwinder *u, pid_t pid)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = process_add(u, pid);
	pthread_mutex_unlock(&u->lock);
	return err;
}

unsigned unwinder__max_processes(const struct unwinder *u)
{
	return u->max_slots;
}

int unwinder__refresh(struct unwinder *u, bool every)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = refresh(u, every);
	pthread_mutex_unlock(&u->lock);
	return err;
}

void unwinder__stats(struct unwinder *u, struct unwinder_stats *st)
{
	pthread_mutex_lock(&u->lock);
	*st = (struct unwinder_stats){ .rows = u->rows_used,
				       .max_rows = u->maps.max_rows,
				       .build_ns = u->build_ns };
	for (uint32_t id = 1; id < LT_UNWIND_MAX_OBJS; id++) {
		st->idle += u->objs[id].used && !u->objs[id].users;
		if (u->objs[id].used && u->objs[id].nr)
			st->objects++;
		else if (u->objs[id].used && u->objs[id].fp)
			st->frame_pointers++;
		else if (u->objs[id].used)
			st->failed++;
	}
	pthread_mutex_unlock(&u->lock);
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->has_waker) {
		__atomic_store_n(&u->stopping, true, __ATOMIC_RELEASE);
		eventfd_write(u->stop_fd, 1);
		pthread_join(u->waker, NULL);
		close(u->stop_fd);
	}
	ring_buffer__free(u->wake);
	pthread_mutex_destroy(&u->lock);
	for (size_t i = 0; i < u->nr_procs; i++) {
		free(u->procs[i].objs);
		free(u->procs[i].held);
		free(u->procs[i].ranges);
	}
	free(u->procs);
	free(u->free);
	free(u);
}
