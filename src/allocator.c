// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finds the object whose malloc family a process really calls, and the file
 * offsets of its functions, so that the probes go where the calls land.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <elf.h>

#include "allocator.h"
#include "arch.h"
#include "diag.h"
#include "elf_syms.h"
#include "procmaps.h"
#include "stop.h"
#include "target.h"
#include "target_file.h"

#define MAX_OBJECTS 256
/* The loader's list (run mode: what an exec will map): how long it may take, how much it says. */
#define LOADER_WAIT_MS 10000
#define LOADER_OUT_MAX (1 << 20)
/* How long a killed loader may take to go: one waiting on FUSE never does. */
#define LOADER_REAP_MS 2000

/*
 * Every error line of a plan for pid goes through here; when pid went meanwhile,
 * that is the reason (its files are gone with it). Under -a, shown with -v only.
 */
static __thread bool plan_quiet; /* a plan made ahead says nothing: it is made again */

static void plan_error(pid_t pid, const char *fmt, ...)
{
	char buf[128], msg[PATH_MAX + 256];
	va_list ap;

	if (plan_quiet)
		return;
	if (pid > 0 && target__why_not(pid, buf, sizeof(buf))) {
		diag__target("cannot attach to pid %d: %s", pid, target__exited_during_attach);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag__target("%s", msg);
}

/* Which object of a plan a symbol is looked up in. */
enum group {
	GROUP_HEAP,
	GROUP_MMAP,
	GROUP_CXX,
};

/*
 * Every symbol probed, with what its program does. Beyond the malloc family:
 * jemalloc's own entry points (its free and malloc do not see these calls),
 * and C++'s operator new and delete in all their variants, probed themselves
 * so that frame 0 is the caller of new (libstdc++ has no frame pointers); the
 * malloc and free they call inside are not counted twice.
 */
static const struct alloc_symbol {
	const char *name;
	enum lt_func func;
	enum group group;
} symbols[] = {
	{ "malloc", LT_MALLOC, GROUP_HEAP },
	{ "calloc", LT_CALLOC, GROUP_HEAP },
	{ "realloc", LT_REALLOC, GROUP_HEAP },
	{ "reallocarray", LT_REALLOCARRAY, GROUP_HEAP },
	{ "posix_memalign", LT_POSIX_MEMALIGN, GROUP_HEAP },
	{ "aligned_alloc", LT_ALIGNED_ALLOC, GROUP_HEAP },
	{ "memalign", LT_MEMALIGN, GROUP_HEAP },
	{ "valloc", LT_VALLOC, GROUP_HEAP },
	{ "pvalloc", LT_PVALLOC, GROUP_HEAP },
	{ "free", LT_FREE, GROUP_HEAP },
	{ "mallocx", LT_MALLOC, GROUP_HEAP },
	{ "rallocx", LT_REALLOC, GROUP_HEAP },
	{ "xallocx", LT_XALLOCX, GROUP_HEAP },
	{ "sdallocx", LT_FREE, GROUP_HEAP },
	{ "dallocx", LT_FREE, GROUP_HEAP },
	{ "mmap", LT_MMAP, GROUP_MMAP },
	{ "munmap", LT_MUNMAP, GROUP_MMAP },
	{ "_Znwm", LT_MALLOC, GROUP_CXX },
	{ "_Znam", LT_MALLOC, GROUP_CXX },
	{ "_ZnwmRKSt9nothrow_t", LT_MALLOC, GROUP_CXX },
	{ "_ZnamRKSt9nothrow_t", LT_MALLOC, GROUP_CXX },
	{ "_ZnwmSt11align_val_t", LT_MALLOC, GROUP_CXX },
	{ "_ZnamSt11align_val_t", LT_MALLOC, GROUP_CXX },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", LT_MALLOC, GROUP_CXX },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", LT_MALLOC, GROUP_CXX },
	{ "_ZdlPv", LT_FREE, GROUP_CXX },
	{ "_ZdaPv", LT_FREE, GROUP_CXX },
	{ "_ZdlPvm", LT_FREE, GROUP_CXX },
	{ "_ZdaPvm", LT_FREE, GROUP_CXX },
	{ "_ZdlPvSt11align_val_t", LT_FREE, GROUP_CXX },
	{ "_ZdaPvSt11align_val_t", LT_FREE, GROUP_CXX },
	{ "_ZdlPvmSt11align_val_t", LT_FREE, GROUP_CXX },
	{ "_ZdaPvmSt11align_val_t", LT_FREE, GROUP_CXX },
	{ "_ZdlPvRKSt9nothrow_t", LT_FREE, GROUP_CXX },
	{ "_ZdaPvRKSt9nothrow_t", LT_FREE, GROUP_CXX },
	{ "_ZdlPvSt11align_val_tRKSt9nothrow_t", LT_FREE, GROUP_CXX },
	{ "_ZdaPvSt11align_val_tRKSt9nothrow_t", LT_FREE, GROUP_CXX },
};

static bool defines(const struct elf_syms *syms, const char *a, const char *b)
{
	uint64_t addr;

	return !elf_syms__find(syms, a, &addr) && !elf_syms__find(syms, b, &addr);
}

/* A function bigger than this keeps its probe at the entry: the jump scan reads all of it. */
#define PLACE_MAX_CODE (64 * 1024)
/* The bytes read of a function whose symbol has no size. */
#define PLACE_NO_SIZE 256

/*
 * What each entry program of bpf/leaktrace.bpf.c reads, for the placement of
 * its probe; args 0: stays at the entry (a function added without a line here).
 */
static const struct placement {
	unsigned int args; /* the argument registers it reads (ARCH_ARG*) */
	bool null_check;   /* may come after the function's own NULL check */
	bool ret;	   /* a return probe shares the site */
} placements[LT_NR_FUNCS] = {
	[LT_MALLOC] = { ARCH_ARG1, false, true },
	[LT_CALLOC] = { ARCH_ARG1 | ARCH_ARG2, false, true },
	[LT_REALLOC] = { ARCH_ARG1 | ARCH_ARG2, false, true },
	[LT_REALLOCARRAY] = { ARCH_ARG1 | ARCH_ARG2 | ARCH_ARG3, false, true },
	[LT_POSIX_MEMALIGN] = { ARCH_ARG1 | ARCH_ARG2 | ARCH_ARG3, false, true },
	[LT_ALIGNED_ALLOC] = { ARCH_ARG1 | ARCH_ARG2, false, true },
	[LT_MEMALIGN] = { ARCH_ARG1 | ARCH_ARG2, false, true },
	[LT_VALLOC] = { ARCH_ARG1, false, true },
	[LT_PVALLOC] = { ARCH_ARG1, false, true },
	[LT_FREE] = { ARCH_ARG1, true, false },
	[LT_MMAP] = { ARCH_ARG1 | ARCH_ARG2 | ARCH_ARG3 | ARCH_ARG4 | ARCH_ARG5, false, true },
	[LT_MUNMAP] = { ARCH_ARG1 | ARCH_ARG2, false, false },
	[LT_XALLOCX] = { ARCH_ARG1 | ARCH_ARG2, false, true },
};

/* What the running kernel emulates, read once: every probe of the run goes on this kernel. */
static unsigned int kernel_emulation(void)
{
	static unsigned int emul;
	static bool known;
	struct utsname u;

	if (!known) {
		emul = uname(&u) ? 0 : arch__uprobe_emulation(u.release);
		known = true;
	}
	return emul;
}

/* Sets p->probe_offset for func at addr; the entry when in doubt. */
static void place_probe(const struct elf_syms *syms, int func, uint64_t addr, struct alloc_probe *p)
{
	const struct placement *pl = &placements[func];
	const struct arch_probe_req req = {
		.args = pl->args,
		.emul = kernel_emulation(),
		.null_check = pl->null_check,
		.same_sp = pl->ret,
	};
	const struct elf_sym *sym = elf_syms__lookup(syms, addr);
	struct arch_probe site;
	uint8_t *code;
	size_t n;

	p->probe_offset = p->offset;
	if (!pl->args || elf_syms__machine(syms) != ARCH_ELF_MACHINE || !sym || sym->addr != addr)
		return;
	n = sym->size ? sym->size : PLACE_NO_SIZE;
	code = n <= PLACE_MAX_CODE ? malloc(n) : NULL;
	if (code && !elf_syms__read(syms, addr, code, n) &&
	    !arch__probe_offset(code, n, &req, &site) && !site.sp_delta) {
		/* A site past a move of the stack pointer would hide free's return address: stay. */
		p->probe_offset = p->offset + site.offset;
	}
	free(code);
}

/*
 * A plan probes each symbol of the table at most once (one object per group), so a plan
 * never holds more probes than the table has rows: none is ever dropped for want of room.
 */
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) <= LT_MAX_PROBES,
	       "more allocator symbols than a plan has probes: raise LT_MAX_PROBES");

/*
 * What planning reads of one file, the same in every process that maps it: -a meets
 * the same libc in hundreds of processes, where reading and sorting its symbols again
 * for each took most of its start. Known by the file's identity, read from the open
 * file itself (target_file__unchanged): a file written since is read anew.
 */
struct object_facts {
	struct stat st; /* the file as read */
	bool heap;	/* defines malloc and free */
	bool lsan;	/* ... LeakSanitizer's */
	bool mmap;	/* defines mmap and munmap */
	bool cxx;	/* defines operator new and delete */
	int nr;		/* the symbols of the table it defines, each placed */
	struct {
		uint8_t sym; /* into symbols[] */
		uint64_t offset, probe_offset;
	} found[sizeof(symbols) / sizeof(symbols[0])];
};

#define FACTS_KEPT 32
static struct object_facts facts_kept[FACTS_KEPT];
static int nr_facts_kept, facts_next; /* the next one replaced when all are taken */
static pthread_mutex_t facts_lock = PTHREAD_MUTEX_INITIALIZER;

/* The facts of the file open at fd (named path), read from it; the fd is taken over. */
static int facts_read(int fd, const char *path, const struct stat *st, struct object_facts *f)
{
	struct elf_syms *syms;
	struct alloc_probe p;
	uint64_t addr;
	int err;

	syms = elf_syms__open_fd(fd, path, AT_FDCWD, NULL, &err);
	if (!syms)
		return err;
	*f = (struct object_facts){ .st = *st };
	f->heap = defines(syms, "malloc", "free");
	f->lsan = defines(syms, "__lsan_do_leak_check", "__lsan_disable");
	f->mmap = defines(syms, "mmap", "munmap");
	f->cxx = defines(syms, "_Znwm", "_ZdlPv");
	for (size_t s = 0; s < sizeof(symbols) / sizeof(symbols[0]); s++) {
		if (elf_syms__find(syms, symbols[s].name, &addr) ||
		    elf_syms__addr_to_offset(syms, addr, &p.offset))
			continue;
		place_probe(syms, symbols[s].func, addr, &p);
		f->found[f->nr].sym = s;
		f->found[f->nr].offset = p.offset;
		f->found[f->nr++].probe_offset = p.probe_offset;
	}
	elf_syms__free(syms);
	return 0;
}

/* What planning needs of the object at path: kept from another process, or read now. */
static int object_facts(const char *path, struct object_facts *out)
{
	int fd = target_file__open(path), err = 0, i;
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&facts_lock);
	for (i = 0; i < nr_facts_kept && !target_file__unchanged(&facts_kept[i].st, &st); i++)
		;
	if (i < nr_facts_kept)
		*out = facts_kept[i];
	pthread_mutex_unlock(&facts_lock);
	if (i < nr_facts_kept) {
		close(fd);
		return 0;
	}
	err = facts_read(fd, path, &st, out);
	if (err)
		return err;
	pthread_mutex_lock(&facts_lock);
	i = nr_facts_kept < FACTS_KEPT ? nr_facts_kept++ : facts_next++ % FACTS_KEPT;
	facts_kept[i] = *out;
	pthread_mutex_unlock(&facts_lock);
	return 0;
}

/* Resolves a group's symbols in one object; several names at one address get one probe. */
static int plan_object(struct alloc_plan *plan, const char *path, enum group group)
{
	struct object_facts f;
	struct alloc_probe *p;
	int err, i;

	err = object_facts(path, &f);
	if (err)
		return err;
	for (int k = 0; k < f.nr; k++) {
		const struct alloc_symbol *sym = &symbols[f.found[k].sym];

		if (sym->group != group)
			continue;
		for (i = 0; i < plan->nr_probes; i++)
			if (!strcmp(plan->probes[i].path, path) &&
			    plan->probes[i].offset == f.found[k].offset)
				break;
		if (i < plan->nr_probes)
			continue;
		p = &plan->probes[plan->nr_probes++];
		p->path = path;
		p->name = sym->name;
		p->func = sym->func;
		p->offset = f.found[k].offset;
		p->probe_offset = f.found[k].probe_offset;
	}
	return 0;
}

/* Picks, from objects in the order the process resolves symbols, those that define the calls. */
static int plan_pick(struct alloc_plan *plan, char **objects, int n, pid_t pid)
{
	struct object_facts f;
	int err, i;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n && (!plan->heap[0] || !plan->mmap[0]); i++) {
		if (object_facts(objects[i], &f))
			continue;
		if (!plan->heap[0] && f.heap) {
			snprintf(plan->heap, sizeof(plan->heap), "%s", objects[i]);
			plan->lsan = f.lsan;
		}
		if (!plan->mmap[0] && f.mmap)
			snprintf(plan->mmap, sizeof(plan->mmap), "%s", objects[i]);
	}
	/* C++'s new and delete: the allocator's own when it has them, else the first. */
	for (i = -1; i < n && !plan->cxx[0]; i++) {
		const char *object = i < 0 ? plan->heap : objects[i];

		if (object[0] && !object_facts(object, &f) && f.cxx)
			snprintf(plan->cxx, sizeof(plan->cxx), "%s", object);
	}
	if (!plan->heap[0]) {
		plan_error(pid,
			   "cannot find the allocator of pid %d: no object it maps "
			   "defines malloc and free (a stripped static binary?)",
			   pid);
		return -ENOENT;
	}
	err = plan_object(plan, plan->heap, GROUP_HEAP);
	/* Gone or changed since it was picked (its owner may truncate it): not probed then. */
	if (!err && plan->mmap[0] && plan_object(plan, plan->mmap, GROUP_MMAP))
		plan->mmap[0] = '\0';
	if (!err && plan->cxx[0] && plan_object(plan, plan->cxx, GROUP_CXX))
		plan->cxx[0] = '\0';
	if (err) {
		plan_error(pid, "cannot read the allocator of pid %d (%s): %s", pid, plan->heap,
			   strerror(-err));
	}
	return err;
}

static bool is_loader(const char *path)
{
	const char *base = strrchr(path, '/');

	return base && !strncmp(base + 1, "ld-", 3);
}

static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	return base && (!strncmp(base + 1, "libc.", 5) || !strncmp(base + 1, "libc-", 5));
}

static void free_objects(char **objects, int n)
{
	while (n--)
		free(objects[n]);
}

/* Adds the object named path (as its process sees it), opened through open_path. */
static int add_object(char **objects, int n, const char *path, const char *open_path)
{
	const char *buf = open_path;

	if (n == MAX_OBJECTS || is_loader(path))
		return n;
	for (int i = 0; i < n; i++)
		if (!strcmp(objects[i], buf))
			return n;
	objects[n] = strdup(buf);
	return objects[n] ? n + 1 : n;
}

int alloc_plan__for_pid(pid_t pid, struct alloc_plan *plan)
{
	char *objects[MAX_OBJECTS], exe[PATH_MAX], link[96];
	struct procmaps *maps;
	int err, n = 0;
	size_t i;

	err = procmaps__read(pid, &maps);
	if (!err)
		err = proc__exe(pid, exe, sizeof(exe));
	if (err) {
		plan_error(pid, "cannot read the mappings of pid %d: %s", pid, strerror(-err));
		procmaps__free(maps); /* read, when the executable was what failed */
		return err;
	}
	/*
	 * The executable binds first, then an allocator library, then libc. Files are
	 * opened through map_files: the maps' paths are as we see them, and in another
	 * mount namespace or chroot they may not exist where we look.
	 */
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = add_object(objects, n, exe, link);
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < maps->n; i++) {
			const struct procmap *m = &maps->v[i];

			if (!procmap__is_file(m) || !m->executable || (!pass && is_libc(m->path)))
				continue;
			snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", pid,
				 (unsigned long long)m->start, (unsigned long long)m->end);
			n = add_object(objects, n, m->path, link);
		}
	}
	err = plan_pick(plan, objects, n, pid);
	for (i = 0; !err && i < maps->n && !plan->interp[0]; i++) {
		const struct procmap *m = &maps->v[i];

		if (procmap__is_file(m) && m->executable && is_loader(m->path))
			snprintf(plan->interp, sizeof(plan->interp), "/proc/%d/map_files/%llx-%llx",
				 pid, (unsigned long long)m->start, (unsigned long long)m->end);
	}
	procmaps__free(maps);
	free_objects(objects, n);
	return err;
}

struct alloc_plan_ahead {
	pthread_t thread;
	pid_t pid;
	int err;
	struct alloc_plan plan;
};

static void *plan_ahead(void *arg)
{
	struct alloc_plan_ahead *a = arg;

	plan_quiet = true;
	a->err = alloc_plan__for_pid(a->pid, &a->plan);
	return NULL;
}

struct alloc_plan_ahead *alloc_plan__ahead(pid_t pid)
{
	struct alloc_plan_ahead *a = calloc(1, sizeof(*a));

	if (a)
		a->pid = pid;
	if (a && pthread_create(&a->thread, NULL, plan_ahead, a)) {
		free(a);
		a = NULL;
	}
	return a;
}

int alloc_plan__ahead_take(struct alloc_plan_ahead *a, pid_t pid, struct alloc_plan *plan)
{
	int err = -ENOENT;

	if (!a)
		return err;
	pthread_join(a->thread, NULL);
	if (!a->err && a->pid == pid && plan) {
		*plan = a->plan;
		/* The probes name their objects by the plan's own paths: the copy's now. */
		for (int i = 0; i < plan->nr_probes; i++) {
			const char *path = plan->probes[i].path;

			if (path == a->plan.heap)
				plan->probes[i].path = plan->heap;
			else if (path == a->plan.mmap)
				plan->probes[i].path = plan->mmap;
			else if (path == a->plan.cxx)
				plan->probes[i].path = plan->cxx;
		}
		err = 0;
	}
	free(a);
	return err;
}

void alloc_plan__release(struct alloc_plan *plan)
{
	free_objects(plan->objects, plan->nr_objects);
	free(plan->objects);
	plan->objects = NULL;
	plan->nr_objects = 0;
}

/*
 * In the loader's child: the variables of pid's environment that change what
 * its loader loads (a wrapper's LD_PRELOAD), and none of leaktrace's own.
 */
static void loader_env(pid_t pid)
{
	static const char *const names[] = { "LD_PRELOAD", "LD_LIBRARY_PATH" };
	char path[64], *env, *v;
	size_t len = 0;
	FILE *f;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "r");
	env = NULL;
	while (f && getdelim(&env, &len, '\0', f) > 0) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t n = strlen(names[i]);

			v = env;
			if (!strncmp(v, names[i], n) && v[n] == '=')
				setenv(names[i], v + n + 1, 1);
		}
	}
	if (f)
		fclose(f);
}

/*
 * In the loader's child: the credentials of pid (effective uid and gid, no
 * supplementary groups). The loader runs what pid's environment and program
 * name (its LD_PRELOAD, its interpreter), and that code must not run with more
 * rights than pid has. 0 or -1.
 */
static int loader_creds(pid_t pid)
{
	char path[64], line[256];
	unsigned int ruid, euid = 0, rgid, egid = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		found += sscanf(line, "Uid: %u %u", &ruid, &euid) == 2;
		found += sscanf(line, "Gid: %u %u", &rgid, &egid) == 2;
	}
	if (f)
		fclose(f);
	if (found != 2)
		return -1;
	if (!euid && !egid && !getuid())
		return 0; /* root's own process: nothing to drop */
	/* setgroups by its system call: <grp.h> would clash with enum group. */
	return syscall(SYS_setgroups, 0, NULL) || setgid(egid) || setuid(euid) ? -1 : 0;
}

/*
 * The loader's output, until it ends or LOADER_WAIT_MS pass (it runs code the
 * target chose: it may never end, or keep the pipe open in another process),
 * at most size - 1 bytes; a stop request ends the wait too.
 */
static size_t read_loader(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec t0, t;
	size_t len = 0;
	ssize_t r = 1;
	long ms = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r > 0 && len < size - 1 && ms < LOADER_WAIT_MS && !stop__requested()) {
		if (poll(&p, 1, 100) > 0)
			r = read(fd, buf + len, size - 1 - len);
		if (r > 0 && (p.revents & POLLIN))
			len += (size_t)r;
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
	}
	buf[len] = '\0';
	return len;
}

/*
 * The loader, killed, reaped: unless it waits on a file system that never
 * answers (a stalled FUSE daemon's), which not even SIGKILL ends. It is left
 * then, a zombie once it ends; waiting would hold leaktrace for ever.
 */
static void reap_loader(pid_t child)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	kill(child, SIGKILL);
	/* Its pidfd is readable once it has ended; without one (before 5.3), a tick at a time. */
	if (pidfd >= 0) {
		poll(&p, 1, LOADER_REAP_MS);
		close(pidfd);
	}
	for (int ms = 0; !waitpid(child, NULL, WNOHANG); ms += 10) {
		if (pidfd >= 0 || ms >= LOADER_REAP_MS) {
			diag__debug("the dynamic loader (pid %d) did not end on SIGKILL: left",
				    (int)child);
			return;
		}
		nanosleep(&tick, NULL);
	}
}

/* Runs the dynamic loader in list mode and adds the objects it would load, in order. */
static int add_needed(char **objects, int n, pid_t pid, const char *interp, const char *exe)
{
	char *out, *line, *next, *arrow, *path, *end, buf[PATH_MAX + 32];
	int fds[2];
	pid_t child;

	out = malloc(LOADER_OUT_MAX);
	if (!out || pipe2(fds, O_CLOEXEC)) {
		free(out);
		return n;
	}
	child = fork();
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		loader_env(pid);
		if (!loader_creds(pid))
			execl(interp, interp, "--list", exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	out[0] = '\0';
	if (child > 0)
		read_loader(fds[0], out, LOADER_OUT_MAX);
	close(fds[0]);
	if (child > 0)
		reap_loader(child); /* done, or out of time: either way it goes */
	for (line = out; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld... (0x...)" */
		arrow = strstr(line, "=> ");
		path = arrow ? arrow + 3 : line + strspn(line, " \t");
		end = strstr(path, " (0x");
		if (path[0] != '/' || !end || end - path >= PATH_MAX)
			continue;
		*end = '\0';
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", pid, path);
		n = add_object(objects, n, path, buf);
	}
	free(out);
	return n;
}

int alloc_plan__for_lib(const char *path, struct alloc_plan *plan)
{
	struct elf_syms *syms;
	int err = 0;

	memset(plan, 0, sizeof(*plan));
	syms = elf_syms__open(path, NULL, &err);
	if (!syms) {
		diag__error("--lib %s: %s", path,
			    err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		return err;
	}
	elf_syms__free(syms);
	snprintf(plan->heap, sizeof(plan->heap), "%s", path);
	for (enum group g = GROUP_HEAP; g <= GROUP_CXX && !err; g++)
		err = plan_object(plan, plan->heap, g);
	if (!err && !plan->nr_probes) {
		diag__error("--lib %s: defines none of malloc, calloc, realloc, "
			    "free and the other allocator functions",
			    path);
		err = -ENOENT;
	}
	return err;
}

int alloc_plan__for_exec(pid_t pid, struct alloc_plan *plan)
{
	char *objects[MAX_OBJECTS], exe[PATH_MAX], interp[PATH_MAX], buf[64];
	struct elf_syms *syms;
	int err, n = 0;

	err = proc__exe(pid, exe, sizeof(exe));
	if (err) {
		diag__error("cannot read the executable of pid %d: %s", pid, strerror(-err));
		return err;
	}
	snprintf(buf, sizeof(buf), "/proc/%d/exe", pid);
	n = add_object(objects, n, exe, buf);
	if (!n) {
		diag__error("%s is a dynamic loader, not a program to trace", exe);
		return -ENOEXEC;
	}
	syms = elf_syms__open(objects[0], NULL, &err);
	if (!syms) {
		diag__error("cannot read %s: %s", exe,
			    err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		free_objects(objects, n);
		return err;
	}
	interp[0] = '\0';
	if (elf_syms__interp(syms))
		snprintf(interp, sizeof(interp), "/proc/%d/root%s", pid, elf_syms__interp(syms));
	elf_syms__free(syms);
	if (interp[0])
		n = add_needed(objects, n, pid, interp, objects[0]);
	err = plan_pick(plan, objects, n, pid);
	if (err) {
		free_objects(objects, n);
		return err;
	}
	snprintf(plan->interp, sizeof(plan->interp), "%s", interp);
	/* The loader too, for the unwind tables: it runs before anything else. */
	if (interp[0] && n < MAX_OBJECTS && (objects[n] = strdup(interp)))
		n++;
	plan->objects = malloc(n * sizeof(*plan->objects));
	if (!plan->objects) {
		free_objects(objects, n);
		return 0; /* the tables are then built as the objects are mapped */
	}
	memcpy(plan->objects, objects, n * sizeof(*objects));
	plan->nr_objects = n;
	return 0;
}
