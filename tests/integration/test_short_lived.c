// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Processes that come and go before leaktrace reads their /proc/PID/maps: under -a
 * and in run mode their stacks are symbolized from the mappings captured as they
 * were made (exec, mmap, fork), frame for frame.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(short_lived, .fini = procs__cleanup);

/*
 * The frames leaky-fp's leak_NAME has under --unwind fp: its callers keep frame
 * pointers down to main; libc's __libc_start_call_main, which keeps none, ends the walk.
 */
static void assert_frames(json_t *proc, const char *leak, long long bytes, long long allocs)
{
	static const char *const callers[] = { "run_scenarios", "main", "__libc_start_call_main",
					       NULL };
	json_t *stack = stack__find(proc, leak, "heap");
	struct stack_sum sum = stack__sum(proc, leak, "heap");

	cr_assert_not_null(stack, "no stack of %s", leak);
	cr_assert_eq(sum.bytes, bytes, "%s: %lld bytes", leak, sum.bytes);
	cr_assert_eq(sum.allocs, allocs, "%s: %lld allocations", leak, sum.allocs);
	stack__assert_frames(stack, 1, callers, true);
}

/* A copy of leaky-fp named for this test alone, so that -a --comm sees no other's processes. */
static void copy_fixture(struct tmpdir *t, char *path, size_t len, char *comm, size_t comm_len)
{
	char cmd[3 * PATH_MAX];
	char *fx = env__fixture("leaky-fp");

	snprintf(comm, comm_len, "ltshort%d", (int)getpid());
	snprintf(path, len, "%s", tmpdir__file(t, comm));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fx, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(fx);
}

/* The two processes of snap: the parent's leak_fork holds 20,000 bytes, the child's 1,500. */
static void parent_and_child(json_t *snap, json_t **parent, json_t **child)
{
	json_t *procs = json_object_get(snap, "processes"), *p;
	size_t i;

	*parent = *child = NULL;
	cr_assert_eq(json_array_size(procs), 2, "%zu processes", json_array_size(procs));
	json_array_foreach(procs, i, p) {
		if (stack__sum(p, "leak_fork", "heap").bytes == 20000)
			*parent = p;
		else
			*child = p;
	}
	cr_assert(*parent && *child, "no parent with leak_fork's 20,000 bytes, or two");
}

/*
 * Under -a, a process that lives a few milliseconds (it leaks, forks a child that
 * leaks too, and exits: far less than the 0.2 s between two reads of new processes)
 * is named frame for frame, and so is its child, which exited before it.
 */
Test(short_lived, all_names_a_process_and_its_child_gone_before_a_refresh, .timeout = 120)
{
	char exe[PATH_MAX], comm[32], json[PATH_MAX], err[PATH_MAX];
	char *argv[16] = { (char *)env__leaktrace(),
			   "-a",
			   "--comm",
			   comm,
			   "--unwind",
			   "fp",
			   "-i",
			   "3600",
			   "-o",
			   json,
			   NULL };
	char *fx_argv[] = { exe, "run", "malloc", "fork", NULL };
	json_t *snap, *parent, *child;
	struct run_result r;
	struct tmpdir t;
	int status, fd;
	pid_t lt;

	tmpdir__new(&t);
	copy_fixture(&t, exe, sizeof(exe), comm, sizeof(comm));
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "all.json"));
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "all.err"));
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	lt = proc__spawn(argv, -1, -1, fd);
	close(fd);
	file__assert_tracing(err, "leaktrace: tracing");
	run__cmd(fx_argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "truth leak_fork(child) 1500 5\n"), "%s", r.out);
	kill(lt, SIGINT);
	cr_assert_eq(proc__wait(lt, 60000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status), "status 0x%x", status);
	snap = snapshot__load(json);
	parent_and_child(snap, &parent, &child);
	cr_assert(json_is_false(json_object_get(parent, "alive")));
	cr_assert(json_is_false(json_object_get(child, "alive")));
	cr_assert_str_eq(json_string_value(json_object_get(parent, "exe")), exe);
	cr_assert_str_eq(json_string_value(json_object_get(child, "exe")), exe);
	assert_frames(parent, "leak_malloc", 100000, 1000);
	assert_frames(parent, "leak_fork", 20000, 100);
	assert_frames(child, "leak_fork", 1500, 5);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * Run mode: the command and the child it forked, both gone at the end, named frame
 * for frame; the child holds its parent's leak_malloc blocks too (a copy of its heap).
 */
Test(short_lived, run_mode_names_a_command_and_its_child, .timeout = 120)
{
	const char *const opts[] = { "--unwind", "fp", "--no-scan", NULL };
	const char *const args[] = { "run", "malloc", "fork", NULL };
	char exe[PATH_MAX], comm[32];
	json_t *snap, *parent, *child;
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	copy_fixture(&t, exe, sizeof(exe), comm, sizeof(comm));
	snap = trace__run(&t, exe, opts, args, &r);
	parent_and_child(snap, &parent, &child);
	assert_frames(parent, "leak_malloc", 100000, 1000);
	assert_frames(parent, "leak_fork", 20000, 100);
	assert_frames(child, "leak_malloc", 100000, 1000);
	assert_frames(child, "leak_fork", 1500, 5);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}
