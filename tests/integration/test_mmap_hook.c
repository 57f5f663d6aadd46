// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mmap hook: a library a target loads with dlopen after the attach is seen
 * mapped and walked whole (its unwind table built), through uprobes right after
 * the mmap system call of the target's loader and libc, with no program on the
 * host's every system call (the kernel's view: leaktrace holds no link to the
 * sys_exit tracepoint); and through that system-call hook where it is the
 * fallback (LEAKTRACE_NO_MMAP_SITES=1 forces it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(mmap_hook, .fini = procs__cleanup);

/* The lines of pid's fdinfo files (its descriptors, as the kernel shows them) that start so. */
static int fdinfo_lines(pid_t pid, const char *start)
{
	char dir[64], path[PATH_MAX], line[256];
	struct dirent *d;
	int n = 0;
	DIR *dp;
	FILE *f;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	dp = opendir(dir);
	cr_assert_not_null(dp, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			n += !strncmp(line, start, strlen(start));
		if (f)
			fclose(f);
	}
	closedir(dp);
	return n;
}

/* The links pid holds to the sys_exit tracepoint (fdinfo's tp_name, the whole line). */
static int sys_exit_links(pid_t pid)
{
	return fdinfo_lines(pid, "tp_name:\tsys_exit\n");
}

/* The links pid holds of any kind (fdinfo's link_type): to tell the check above sees links. */
static int links(pid_t pid)
{
	return fdinfo_lines(pid, "link_type:");
}

/*
 * The stack of plug_leak in the library dlopened: its 8 blocks of 100 bytes in
 * one stack, walked whole from the library through the fixture to _start.
 */
static void assert_plug_stack(json_t *proc, long long bytes, long long allocs)
{
	static const char *const want[] = {
		"plug_leak",	     "plug_step", "plug_run",
		"call_plugin",	     "main",	  "__libc_start_call_main",
		"__libc_start_main", "_start",	  NULL
	};
	struct stack_sum sum = stack__sum(proc, "plug_leak", "heap");
	json_t *stack = stack__find(proc, "plug_leak", "heap"), *frames;
	const char *module;

	if (!stack) {
		char *dump = json_dumps(proc, JSON_COMPACT);

		cr_assert_fail("no stack of plug_leak in %s", dump);
	}
	cr_assert_eq(sum.stacks, 1, "plug_leak in %d stacks", sum.stacks);
	cr_assert_eq(sum.bytes, bytes, "plug_leak: %lld bytes, the fixture says %lld", sum.bytes,
		     bytes);
	cr_assert_eq(sum.allocs, allocs);
	cr_assert(!json_is_true(json_object_get(stack, "truncated")), "the stack is cut");
	cr_assert_null(json_object_get(stack, "table_pending"));
	stack__assert_frames(stack, 0, want, true);
	frames = json_object_get(stack, "frames");
	for (size_t i = 0; i < 3; i++) {
		module = json_string_value(json_object_get(json_array_get(frames, i), "module"));
		cr_assert(module && strstr(module, "/libplug-nofp.so"), "frame %zu in %s", i,
			  module ?: "(none)");
	}
}

/* The fixture's next line, which must start with want; the rest of it into rest. */
static void expect_line(struct fixture *f, const char *want, char *rest, size_t size)
{
	char line[256];

	fixture__read_line(f, line, sizeof(line), 60000);
	cr_assert_eq(strncmp(line, want, strlen(want)), 0, "fixture: '%s', not '%s'", line, want);
	if (rest)
		snprintf(rest, size, "%s", line + strlen(want));
}

/*
 * With the tracer (leaktrace's pid lt, -v stderr in err_path) live on f: the
 * fixture loads the library, leaktrace says it built its table, then it leaks.
 * Its truth into bytes and allocs.
 */
static void load_then_leak(struct fixture *f, pid_t lt, const char *err_path, const char *lib,
			   long long *bytes, long long *allocs)
{
	char want[PATH_MAX + 64], rest[128];

	cr_assert_eq(write(f->in_fd, "go\n", 3), 3);
	expect_line(f, "loaded", NULL, 0);
	snprintf(want, sizeof(want), "leaktrace: unwind table of %s", lib);
	cr_assert(file__wait_for(err_path, want, POLL_BOUND_MS), "no '%s'", want);
	cr_assert_eq(write(f->in_fd, "go\n", 3), 3);
	expect_line(f, "truth plug_leak ", rest, sizeof(rest));
	cr_assert_eq(sscanf(rest, "%lld %lld", bytes, allocs), 2, "truth '%s'", rest);
	expect_line(f, "done", NULL, 0);
	cr_assert(proc__running(lt), "leaktrace ended");
}

static void paths(char *exe, char *lib)
{
	char *e = env__fixture("dlplug-nofp"), *l = env__fixture("libplug-nofp.so");

	cr_assert_not_null(realpath(e, exe), "%s", e);
	cr_assert_not_null(realpath(l, lib), "%s", l);
	free(e);
	free(l);
}

static pid_t spawn_logged(char *const argv[], const char *err_path, int in_fd, int out_fd)
{
	int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t pid;

	cr_assert_geq(fd, 0);
	pid = proc__spawn(argv, in_fd, out_fd, fd);
	close(fd);
	return pid;
}

/*
 * leaktrace -p: uprobes at the target's mmap sites, never the system-call hook
 * (nor with LEAKTRACE_NO_MMAP_SITES=1, where the mappings are reread each tick).
 */
static void pid_attach(bool fallback)
{
	char exe[PATH_MAX], lib[PATH_MAX], pid[16], json[PATH_MAX], err[PATH_MAX];
	char *fargv[] = { exe, lib, NULL };
	long long bytes = -1, allocs = -1;
	json_t *snap, *proc;
	struct fixture f;
	struct tmpdir t;
	int status;
	pid_t lt;

	paths(exe, lib);
	tmpdir__new(&t);
	if (fallback)
		setenv("LEAKTRACE_NO_MMAP_SITES", "1", 1);
	fixture__start_argv(&f, fargv);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "p.json"));
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "stderr.txt"));
	{
		char *argv[] = {
			(char *)env__leaktrace(), "-v", "-i", "3600", "-p", pid, "-o", json, NULL
		};

		lt = spawn_logged(argv, err, -1, -1);
	}
	file__assert_tracing(err, "leaktrace: tracing");
	cr_assert_eq(file__wait_for(err, "mmap hook: uprobe at ", 0), !fallback,
		     "the mmap hook's uprobes %s", fallback ? "attached" : "missing");
	load_then_leak(&f, lt, err, lib, &bytes, &allocs);
	cr_assert_gt(links(lt), 0, "leaktrace holds no link");
	cr_assert_eq(sys_exit_links(lt), 0, "leaktrace -p holds a link to sys_exit");
	/*
	 * 6.6+: a file's mmap sites in one uprobe_multi link, as the allocator's probes, whose
	 * close waits out two grace periods; a perf link's waits out four (~190 ms to detach).
	 */
	if (!fallback && !getenv("LEAKTRACE_NO_MULTI"))
		cr_assert_eq(fdinfo_lines(lt, "link_type:\tperf\n"), 0,
			     "leaktrace -p holds perf links on a kernel with uprobe_multi");
	kill(lt, SIGINT);
	cr_assert_eq(proc__wait(lt, 60000, &status), 0, "leaktrace did not stop");
	snap = snapshot__load(json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	assert_plug_stack(proc, bytes, allocs);
	json_decref(snap);
	fixture__stop(&f);
	tmpdir__free(&t);
}

Test(mmap_hook, p_walks_a_library_dlopened_later_with_no_system_call_hook, .timeout = 240)
{
	pid_attach(false);
}

Test(mmap_hook, p_without_mmap_sites_rereads_and_still_takes_no_system_call_hook, .timeout = 240)
{
	pid_attach(true);
}

/* The agent's /snapshot.json (at url) until pid's plug_leak holds bytes; that snapshot. */
static json_t *agent_snapshot(struct tmpdir *t, const char *url, pid_t pid, long long bytes)
{
	long long deadline = clock__now_ms() + POLL_BOUND_MS;
	char full[256], *file = strdup(tmpdir__file(t, "snapshot.json"));
	char *argv[] = { "curl", "-sSf", "-o", file, full, NULL };
	struct run_result r;
	json_t *snap, *proc;

	snprintf(full, sizeof(full), "%s/snapshot.json", url);
	for (;;) {
		/* 503 until its first snapshot. */
		run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
		snap = run__exit_code(&r) ? NULL : snapshot__load(file);
		run__free(&r);
		proc = snap ? snapshot__process(snap, pid) : NULL;
		if (proc && stack__sum(proc, "plug_leak", "heap").bytes == bytes)
			break;
		json_decref(snap);
		cr_assert_lt(clock__now_ms(), deadline, "no snapshot with plug_leak's %lld bytes",
			     bytes);
		clock__sleep_ms(200);
	}
	free(file);
	return snap;
}

/* leaktrace agent -p: the same, through its /snapshot.json. */
Test(mmap_hook, agent_p_walks_a_library_dlopened_later_with_no_system_call_hook, .timeout = 240)
{
	char exe[PATH_MAX], lib[PATH_MAX], pid[16], err[PATH_MAX], url[128] = "", line[512];
	char *fargv[] = { exe, lib, NULL };
	long long bytes = -1, allocs = -1;
	json_t *snap;
	struct fixture f;
	struct tmpdir t;
	int status;
	pid_t lt;
	FILE *e;

	paths(exe, lib);
	tmpdir__new(&t);
	fixture__start_argv(&f, fargv);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "agent.err"));
	{
		char *argv[] = { (char *)env__leaktrace(),
				 "agent",
				 "-v",
				 "--listen",
				 "127.0.0.1:0",
				 "-i",
				 "1",
				 "--sample-bytes",
				 "0",
				 "--state-dir",
				 (char *)tmpdir__file(&t, "state"),
				 "-p",
				 pid,
				 NULL };

		lt = spawn_logged(argv, err, -1, -1);
	}
	file__assert_tracing(err, "leaktrace: tracing 1 process");
	e = fopen(err, "r");
	while (e && fgets(line, sizeof(line), e))
		if (sscanf(line, "leaktrace: serving %127s", url) == 1)
			break;
	if (e)
		fclose(e);
	cr_assert(!strncmp(url, "http://127.0.0.1:", 17), "no 'serving' line");
	cr_assert(file__wait_for(err, "mmap hook: uprobe at ", 0), "no mmap hook uprobe");
	load_then_leak(&f, lt, err, lib, &bytes, &allocs);
	cr_assert_gt(links(lt), 0, "the agent holds no link");
	cr_assert_eq(sys_exit_links(lt), 0, "leaktrace agent -p holds a link to sys_exit");
	snap = agent_snapshot(&t, url, f.pid, bytes);
	assert_plug_stack(snapshot__process(snap, f.pid), bytes, allocs);
	json_decref(snap);
	kill(lt, SIGTERM);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "the agent did not end on SIGTERM");
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * Run mode: a child of the command (sh forks it, it execs dlplug) loads the
 * library; through the uprobes, or with LEAKTRACE_NO_MMAP_SITES=1 through
 * the sys_exit hook, their fallback there.
 */
static void run_mode(bool fallback)
{
	char exe[PATH_MAX], lib[PATH_MAX], json[PATH_MAX], err[PATH_MAX], cmd[3 * PATH_MAX];
	long long bytes = -1, allocs = -1;
	int in[2], out[2], status, child;
	char line[128];
	json_t *snap, *proc;
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	paths(exe, lib);
	tmpdir__new(&t);
	if (fallback)
		setenv("LEAKTRACE_NO_MMAP_SITES", "1", 1);
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "run.json"));
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "stderr.txt"));
	/* "; true": sh forks the child rather than exec'ing it in its own place. */
	snprintf(cmd, sizeof(cmd), "'%s' '%s'; true", exe, lib);
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	{
		char *argv[] = {
			(char *)env__leaktrace(), "-v", "-o", json, "--", "/bin/sh", "-c", cmd, NULL
		};

		lt = spawn_logged(argv, err, in[0], out[1]);
	}
	close(in[0]);
	close(out[1]);
	f = (struct fixture){ .pid = lt, .in_fd = in[1], .out_fd = out[0] };
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_eq(sscanf(line, "ready %d", &child), 1, "fixture: '%s'", line);
	cr_assert_eq(file__wait_for(err, "mmap hook: uprobe at ", 0), !fallback,
		     "the mmap hook's uprobes %s", fallback ? "attached" : "missing");
	load_then_leak(&f, lt, err, lib, &bytes, &allocs);
	cr_assert_eq(sys_exit_links(lt), fallback ? 1 : 0, "run mode holds %d links to sys_exit",
		     sys_exit_links(lt));
	close(f.in_fd); /* the fixture ends at the end of its stdin */
	cr_assert_eq(proc__wait(lt, 60000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "leaktrace: status %d", status);
	close(f.out_fd);
	snap = snapshot__load(json);
	proc = snapshot__process(snap, child);
	cr_assert_not_null(proc, "no process %d", child);
	assert_plug_stack(proc, bytes, allocs);
	json_decref(snap);
	tmpdir__free(&t);
}

Test(mmap_hook, run_mode_child_walks_a_library_dlopened_with_no_system_call_hook, .timeout = 240)
{
	run_mode(false);
}

Test(mmap_hook, run_mode_without_mmap_sites_falls_back_to_sys_exit, .timeout = 240)
{
	run_mode(true);
}
