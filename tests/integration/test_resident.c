// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mappings by what they hold: a reservation's resident pages exact to the page
 * (with PAGEMAP_SCAN and without), a mapping that grows as its pages are
 * touched flagged as growing, an untouched reservation never a suspect nor a
 * leak for --fail-on-leak, flamegraphs weighed by resident pages.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define RESERVED (64ll << 30)
#define TOUCHED (10ll << 20)

/* leaktrace -p PID -o DIR/attach.json OPTS... in the background, its stderr in a file. */
static pid_t attach(struct tmpdir *t, pid_t target, const char *const opts[], char *json, char *err)
{
	char *argv[32] = { (char *)env__leaktrace(), "-p", NULL, "-o", json };
	char pid[16];
	int argc = 5, fd;
	pid_t tr;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	argv[2] = pid;
	snprintf(json, PATH_MAX, "%s", tmpdir__file(t, "attach.json"));
	snprintf(err, PATH_MAX, "%s", tmpdir__file(t, "stderr.txt"));
	for (int i = 0; opts[i]; i++)
		argv[argc++] = (char *)opts[i];
	argv[argc] = NULL;
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "cannot create %s", err);
	tr = proc__spawn(argv, -1, -1, fd);
	close(fd);
	file__assert_tracing(err, "leaktrace: tracing");
	return tr;
}

/* Traces "resident attach ARGS..." with OPTS until leaktrace's -d ends; its snapshot. */
static json_t *trace_fixture(struct tmpdir *t, const char *const args[], const char *const opts[],
			     pid_t *pid)
{
	char *exe = env__fixture("resident-nofp");
	char json[PATH_MAX], err[PATH_MAX];
	struct fixture f;
	int status = -1;
	pid_t tr;

	fixture__start(&f, exe, args);
	tr = attach(t, f.pid, opts, json, err);
	fixture__trigger(&f);
	cr_assert_eq(proc__wait(tr, 120000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status), "leaktrace: status 0x%x", status);
	*pid = f.pid;
	fixture__stop(&f);
	free(exe);
	return snapshot__load(json);
}

static bool is_suspect(json_t *snap, const char *symbol)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(snap, "suspects"), i, s) {
		if (!strcmp(json_string_value(json_object_get(s, "symbol")), symbol))
			return true;
	}
	return false;
}

/* The folded line of the stack whose leaf is FUNCTION, from `leaktrace report`: its value. */
static long long folded_value(const char *json, const char *function, const char *opt)
{
	char cmd[PATH_MAX + 128], out[8192], *line;
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s report %s --format folded %s", env__leaktrace(), json, opt);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *last = strrchr(line, ' ');

		if (last && last - line > (long)strlen(function) &&
		    !strncmp(last - strlen(function), function, strlen(function)))
			return atoll(last + 1);
	}
	return -1;
}

static void assert_reservation(json_t *snap, pid_t pid)
{
	json_t *proc = snapshot__process(snap, pid), *s;

	cr_assert_not_null(proc, "no entry for pid %d", (int)pid);
	s = stack__find(proc, "reserve_untouched", "mmap");
	cr_assert_not_null(s, "no mmap stack from reserve_untouched");
	cr_assert_eq(json__int(s, "bytes"), RESERVED, "reserved: %lld", json__int(s, "bytes"));
	cr_assert_eq(json__int(s, "allocs"), 1);
	cr_assert_eq(json__int(s, "resident_bytes"), TOUCHED, "resident: %lld, expected %lld",
		     json__int(s, "resident_bytes"), TOUCHED);
	cr_assert_eq(json__int(proc, "resident_bytes"), TOUCHED, "the process's resident: %lld",
		     json__int(proc, "resident_bytes"));
}

Test(resident, reservation_of_64_gib_holds_its_10_mib_touched, .timeout = 180,
     .fini = procs__cleanup)
{
	const char *args[] = { "reserve", NULL };
	const char *opts[] = { "-d", "2", NULL };
	struct tmpdir t;
	json_t *snap;
	pid_t pid;

	tmpdir__new(&t);
	snap = trace_fixture(&t, args, opts, &pid);
	assert_reservation(snap, pid);
	/* Flamegraphs weigh a mapping by its resident pages; --reserved by what it reserves. */
	cr_assert_eq(folded_value(tmpdir__file(&t, "attach.json"), "reserve_untouched", ""),
		     TOUCHED);
	cr_assert_eq(folded_value(tmpdir__file(&t, "attach.json"), "reserve_untouched",
				  "--reserved"),
		     RESERVED);
	json_decref(snap);
	tmpdir__free(&t);
}

Test(resident, reservation_exact_without_pagemap_scan, .timeout = 180, .fini = procs__cleanup)
{
	const char *args[] = { "reserve", NULL };
	const char *opts[] = { "-d", "2", NULL };
	struct tmpdir t;
	json_t *snap;
	pid_t pid;

	/* The path of kernels before 6.7: one pagemap entry per page, 16M of them here. */
	setenv("LEAKTRACE_NO_PAGEMAP_SCAN", "1", 1);
	tmpdir__new(&t);
	snap = trace_fixture(&t, args, opts, &pid);
	assert_reservation(snap, pid);
	json_decref(snap);
	tmpdir__free(&t);
}

/*
 * The fixture touches 256 KiB more of a 1 GiB mapping every 20 ms (until full,
 * 80 s on): a report a second sees it rise every time.
 */
Test(resident, mapping_growing_by_its_pages_is_the_top_suspect, .timeout = 180,
     .fini = procs__cleanup)
{
	const char *args[] = { "reserve", "grow", NULL };
	const char *opts[] = { "-i", "1", "-d", "6", NULL };
	json_t *snap, *proc, *grow, *top;
	struct tmpdir t;
	pid_t pid;

	tmpdir__new(&t);
	snap = trace_fixture(&t, args, opts, &pid);
	proc = snapshot__process(snap, pid);
	grow = stack__find(proc, "grow_touched", "mmap");
	cr_assert_not_null(grow, "no mmap stack from grow_touched");
	cr_assert_eq(json__int(grow, "bytes"), 1ll << 30);
	cr_assert_gt(json__int(grow, "resident_bytes"), 0);
	cr_assert_lt(json__int(grow, "resident_bytes"), 1ll << 30, "resident %lld",
		     json__int(grow, "resident_bytes"));
	cr_assert_str_eq(json_string_value(json_object_get(grow, "trend")), "growing");
	top = json_array_get(json_object_get(snap, "suspects"), 0);
	cr_assert_not_null(top, "no suspect");
	cr_assert_str_eq(json_string_value(json_object_get(top, "symbol")), "grow_touched");
	cr_assert_str_eq(json_string_value(json_object_get(top, "reason")), "growing");
	/* The reservation is the largest stack, its 10 MiB touched before the first report: no suspect. */
	cr_assert_str_eq(json_string_value(
				 json_object_get(stack__find(proc, "reserve_untouched", "mmap"),
						 "trend")),
			 "stable");
	cr_assert_not(is_suspect(snap, "reserve_untouched"));
	json_decref(snap);
	tmpdir__free(&t);
}

/* Run mode: "resident run ARGS..." under --fail-on-leak 1; its exit code and snapshot. */
static json_t *fail_on_leak(struct tmpdir *t, const char *const args[], struct run_result *r)
{
	char *exe = env__fixture("resident-nofp");
	char *argv[16] = {
		(char *)env__leaktrace(), "-q", "--fail-on-leak", "1", "-o", NULL, "--", exe, "run"
	};
	char json[PATH_MAX];
	int argc = 9;

	snprintf(json, sizeof(json), "%s", tmpdir__file(t, "run.json"));
	argv[5] = json;
	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, RUN_TIMEOUT_S, r);
	free(exe);
	return snapshot__load(json);
}

Test(resident, untouched_lost_reservation_is_no_leak, .timeout = 120, .fini = procs__cleanup)
{
	const char *args[] = { "untouched", NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *s;

	tmpdir__new(&t);
	snap = fail_on_leak(&t, args, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d; stderr:\n%s", run__exit_code(&r), r.err);
	s = stack__find(json_array_get(json_object_get(snap, "processes"), 0), "drop_untouched",
			"mmap");
	cr_assert_not_null(s);
	/* The scan finds it unreachable: lost, but it holds nothing. */
	cr_assert_eq(json__int(s, "lost_bytes"), RESERVED);
	cr_assert_eq(json__int(s, "resident_bytes"), 0);
	cr_assert_eq(json_array_size(json_object_get(snap, "suspects")), 0, "suspects: %zu",
		     json_array_size(json_object_get(snap, "suspects")));
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

Test(resident, lost_mapping_leaks_its_touched_pages, .timeout = 120, .fini = procs__cleanup)
{
	const char *args[] = { "untouched", "dropped", NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *top;

	tmpdir__new(&t);
	snap = fail_on_leak(&t, args, &r);
	cr_assert_eq(run__exit_code(&r), 3, "exit %d; stderr:\n%s", run__exit_code(&r), r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: 4,194,304 bytes lost, --fail-on-leak 1"),
			   "stderr:\n%s", r.err);
	top = json_array_get(json_object_get(snap, "suspects"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(top, "symbol")), "drop_touched");
	cr_assert_eq(json_array_size(json_object_get(snap, "suspects")), 1);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * A pool of 8 threads with 1 MiB stacks, all joined: glibc keeps the 8 stacks
 * in its cache, counted as its own, cached, never a suspect. A thread still
 * running and one that exited unjoined have stacks of glibc's too, not cached.
 */
Test(resident, thread_pool_stacks_are_glibcs_cache, .timeout = 180, .fini = procs__cleanup)
{
	const char *args[] = { "live", "unjoined", "threads", "8", "1048576", NULL };
	const char *opts[] = { "-d", "2", NULL };
	long long stack = 1048576 + sysconf(_SC_PAGESIZE); /* the guard page, mapped with it */
	json_t *snap, *proc, *pool, *live, *unjoined;
	struct tmpdir t;
	pid_t pid;

	tmpdir__new(&t);
	snap = trace_fixture(&t, args, opts, &pid);
	proc = snapshot__process(snap, pid);
	pool = live = unjoined = NULL;
	for (size_t i = 0; i < json_array_size(json_object_get(proc, "stacks")); i++) {
		json_t *s = json_array_get(json_object_get(proc, "stacks"), i);
		const char *caller = stack__symbol(s, 2); /* allocate_stack, pthread_create, ... */

		if (strcmp(json_string_value(json_object_get(s, "kind")), "mmap") || !caller)
			continue;
		pool = !strcmp(caller, "pool") ? s : pool;
		live = !strcmp(caller, "start_live") ? s : live;
		unjoined = !strcmp(caller, "start_unjoined") ? s : unjoined;
	}
	cr_assert(pool && live && unjoined, "the three stacks of pthread_create's mappings");
	cr_assert_str_eq(stack__symbol(pool, 1), "pthread_create");
	cr_assert_eq(json__int(pool, "allocs"), 8);
	cr_assert_eq(json__int(pool, "bytes"), 8 * stack);
	cr_assert_str_eq(json_string_value(json_object_get(pool, "allocator")), "glibc");
	cr_assert_eq(json__int(pool, "cached_allocs"), 8);
	cr_assert_eq(json__int(pool, "cached_bytes"), 8 * stack);
	cr_assert_str_eq(json_string_value(json_object_get(live, "allocator")), "glibc");
	cr_assert_eq(json__int(live, "allocs"), 1);
	cr_assert_eq(json__int(live, "cached_allocs"), 0, "a running thread's stack is cached");
	cr_assert_eq(json__int(unjoined, "cached_allocs"), 0, "kept for its join, not cached");
	cr_assert_not(is_suspect(snap, "allocate_stack"));
	cr_assert_not(is_suspect(snap, "pthread_create"));
	json_decref(snap);
	tmpdir__free(&t);
}

/*
 * A Go program whose C code leaks (cgo): the Go runtime's reservations through
 * x_cgo_mmap (hundreds of MiB of address space) and glibc's arena heaps are
 * their own memory, never suspects nor leaks; the C leak stays the program's.
 */
Test(resident, go_runtime_reservations_are_gos_own, .timeout = 120, .fini = procs__cleanup)
{
	char path[PATH_MAX], *exe;
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *proc, *s, *suspect;
	long long go_bytes = 0, go_held = 0;
	size_t i;

	snprintf(path, sizeof(path), "%s/leaky_cgo", getenv("FIXTURES"));
	if (access(path, X_OK) && !getenv("CI"))
		cr_skip_test(
			"leaky_cgo is not built: go is not installed (apt-get install golang-go)");
	exe = env__fixture("leaky_cgo");
	tmpdir__new(&t);
	run__cmd((char *[]){ (char *)env__leaktrace(), "-q", "--fail-on-leak", "1", "-o",
			     (char *)tmpdir__file(&t, "go.json"), "--", exe, NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d; stderr:\n%s", run__exit_code(&r), r.err);
	snap = snapshot__load(tmpdir__file(&t, "go.json"));
	proc = snapshot__process_by_exe(snap, exe);
	json_array_foreach(json_object_get(proc, "stacks"), i, s) {
		const char *a = json_string_value(json_object_get(s, "allocator"));

		if (strcmp(stack__symbol(s, 0) ? stack__symbol(s, 0) : "", "x_cgo_mmap"))
			continue;
		cr_assert_str_eq(a ? a : "(none)", "go");
		go_bytes += json__int(s, "bytes");
		go_held += json__int(s, "resident_bytes");
	}
	cr_assert_gt(go_bytes, 64ll << 20, "the runtime's reservations: %lld bytes", go_bytes);
	cr_assert_lt(go_held, go_bytes / 16, "held %lld of %lld reserved", go_held, go_bytes);
	s = stack__find(proc, "alloc_new_heap", "mmap");
	if (s) /* a thread's arena, when its first malloc ran on a new thread */
		cr_assert_str_eq(json_string_value(json_object_get(s, "allocator")), "glibc");
	s = stack__find(proc, "leak_c", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "bytes"), 640);
	cr_assert_null(json_object_get(s, "allocator"), "the C leak is the program's");
	json_array_foreach(json_object_get(snap, "suspects"), i, suspect) {
		const char *sym = json_string_value(json_object_get(suspect, "symbol"));

		cr_assert(strcmp(sym, "x_cgo_mmap") && strcmp(sym, "alloc_new_heap"),
			  "%s is a suspect", sym);
	}
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}
