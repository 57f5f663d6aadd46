// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finds the object whose malloc family a process really calls, and the file
 * offsets of its functions, so that the probes go where the calls land.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocator.h"
#include "elf_syms.h"
#include "procmaps.h"

#define MAX_OBJECTS 256

static const char *const func_names[LT_NR_FUNCS] = {
	[LT_MALLOC] = "malloc",
	[LT_CALLOC] = "calloc",
	[LT_REALLOC] = "realloc",
	[LT_REALLOCARRAY] = "reallocarray",
	[LT_POSIX_MEMALIGN] = "posix_memalign",
	[LT_ALIGNED_ALLOC] = "aligned_alloc",
	[LT_MEMALIGN] = "memalign",
	[LT_VALLOC] = "valloc",
	[LT_PVALLOC] = "pvalloc",
	[LT_FREE] = "free",
	[LT_MMAP] = "mmap",
	[LT_MUNMAP] = "munmap",
};

const char *alloc_func__name(enum lt_func func)
{
	return func < LT_NR_FUNCS ? func_names[func] : "?";
}

static bool is_mmap_func(int func)
{
	return func == LT_MMAP || func == LT_MUNMAP;
}

static bool defines(const struct elf_syms *syms, const char *a, const char *b)
{
	uint64_t addr;

	return !elf_syms__find(syms, a, &addr) && !elf_syms__find(syms, b, &addr);
}

/* Resolves the functions of one object; several names at one address get one probe. */
static int plan_object(struct alloc_plan *plan, const char *path, bool mmap_funcs)
{
	struct elf_syms *syms;
	uint64_t addr, off;
	int err, f, g;

	syms = elf_syms__open(path, NULL, &err);
	if (!syms)
		return err;
	for (f = 0; f < LT_NR_FUNCS; f++) {
		if (is_mmap_func(f) != mmap_funcs || elf_syms__find(syms, func_names[f], &addr) ||
		    elf_syms__addr_to_offset(syms, addr, &off))
			continue;
		for (g = 0; g < f; g++)
			if (plan->probes[g].path == path && plan->probes[g].offset == off)
				break;
		if (g < f)
			continue;
		plan->probes[f].path = path;
		plan->probes[f].offset = off;
	}
	elf_syms__free(syms);
	return 0;
}

/* Picks, from objects in the order the process resolves symbols, those that define the calls. */
static int plan_pick(struct alloc_plan *plan, char **objects, int n, pid_t pid)
{
	struct elf_syms *syms;
	int err, i;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n && (!plan->heap[0] || !plan->mmap[0]); i++) {
		syms = elf_syms__open(objects[i], NULL, &err);
		if (!syms)
			continue;
		if (!plan->heap[0] && defines(syms, "malloc", "free"))
			snprintf(plan->heap, sizeof(plan->heap), "%s", objects[i]);
		if (!plan->mmap[0] && defines(syms, "mmap", "munmap"))
			snprintf(plan->mmap, sizeof(plan->mmap), "%s", objects[i]);
		elf_syms__free(syms);
	}
	if (!plan->heap[0]) {
		fprintf(stderr, "leaktrace: cannot find the allocator of pid %d: no object it maps "
			"defines malloc and free (a stripped static binary?)\n", pid);
		return -ENOENT;
	}
	err = plan_object(plan, plan->heap, false);
	if (!err && plan->mmap[0])
		err = plan_object(plan, plan->mmap, true);
	if (err) {
		fprintf(stderr, "leaktrace: cannot read the allocator of pid %d (%s): %s\n", pid,
			plan->heap, strerror(-err));
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

static int add_object(char **objects, int n, pid_t pid, const char *path)
{
	char buf[PATH_MAX];

	if (n == MAX_OBJECTS || is_loader(path))
		return n;
	snprintf(buf, sizeof(buf), "/proc/%d/root%s", pid, path);
	for (int i = 0; i < n; i++)
		if (!strcmp(objects[i], buf))
			return n;
	objects[n] = strdup(buf);
	return objects[n] ? n + 1 : n;
}

static int exe_path(pid_t pid, char *buf, size_t size)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	len = readlink(link, buf, size - 1);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	return 0;
}

int alloc_plan__for_pid(pid_t pid, struct alloc_plan *plan)
{
	char *objects[MAX_OBJECTS], exe[PATH_MAX];
	struct procmaps *maps;
	int err, n = 0;
	size_t i;

	err = procmaps__read(pid, &maps);
	if (!err)
		err = exe_path(pid, exe, sizeof(exe));
	if (err) {
		fprintf(stderr, "leaktrace: cannot read the mappings of pid %d: %s\n", pid,
			strerror(-err));
		return err;
	}
	/* The executable binds first, then an allocator library, then libc. */
	n = add_object(objects, n, pid, exe);
	for (i = 0; i < maps->n; i++)
		if (procmap__is_file(&maps->v[i]) && maps->v[i].executable &&
		    !is_libc(maps->v[i].path))
			n = add_object(objects, n, pid, maps->v[i].path);
	for (i = 0; i < maps->n; i++)
		if (procmap__is_file(&maps->v[i]) && maps->v[i].executable)
			n = add_object(objects, n, pid, maps->v[i].path);
	procmaps__free(maps);
	err = plan_pick(plan, objects, n, pid);
	free_objects(objects, n);
	return err;
}

/* Runs the dynamic loader in list mode and adds the objects it would load, in order. */
static int add_needed(char **objects, int n, pid_t pid, const char *interp, const char *exe)
{
	char line[PATH_MAX + 64], *arrow, *path, *end;
	int fds[2], status;
	pid_t child;
	FILE *f;

	if (pipe(fds))
		return n;
	child = fork();
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(interp, interp, "--list", exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = child > 0 ? fdopen(fds[0], "r") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld... (0x...)" */
		arrow = strstr(line, "=> ");
		path = arrow ? arrow + 3 : line + strspn(line, " \t");
		end = strstr(path, " (0x");
		if (path[0] != '/' || !end)
			continue;
		*end = '\0';
		n = add_object(objects, n, pid, path);
	}
	if (f)
		fclose(f);
	else
		close(fds[0]);
	if (child > 0)
		waitpid(child, &status, 0);
	return n;
}

int alloc_plan__for_exec(pid_t pid, struct alloc_plan *plan)
{
	char *objects[MAX_OBJECTS], exe[PATH_MAX], interp[PATH_MAX];
	struct elf_syms *syms;
	int err, n = 0;

	err = exe_path(pid, exe, sizeof(exe));
	if (err) {
		fprintf(stderr, "leaktrace: cannot read the executable of pid %d: %s\n", pid,
			strerror(-err));
		return err;
	}
	n = add_object(objects, n, pid, exe);
	syms = elf_syms__open(objects[0], NULL, &err);
	if (!syms) {
		fprintf(stderr, "leaktrace: cannot read %s: %s\n", exe,
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
	free_objects(objects, n);
	return err;
}
