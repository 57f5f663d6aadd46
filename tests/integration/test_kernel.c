// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --kernel: the kernel's allocations for a fixture that holds N pipes, exact
 * (N at each of alloc_pipe_info's two allocations, under the fixture's pid),
 * and gone once it closes them; kernel frames marked in the exports.
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

#define PIPES 64
#define PIPES_ARG "64"

/* leaktrace --kernel in the background, its snapshot and stderr in files. */
struct ktrace {
	pid_t pid;
	char json[PATH_MAX];
	char err[PATH_MAX];
};

static void ktrace__start(struct ktrace *k, struct tmpdir *t, const char *name,
			  const char *const opts[])
{
	/* Not -q, which silences the tracing line; no periodic report comes within an hour. */
	char *argv[32] = { (char *)env__leaktrace(), "--kernel", "-i", "3600", "-o", k->json };
	char file[64];
	int argc = 6, err;

	snprintf(file, sizeof(file), "%s.json", name);
	snprintf(k->json, sizeof(k->json), "%s", tmpdir__file(t, file));
	snprintf(file, sizeof(file), "%s.err", name);
	snprintf(k->err, sizeof(k->err), "%s", tmpdir__file(t, file));
	for (int i = 0; opts && opts[i]; i++)
		argv[argc++] = (char *)opts[i];
	argv[argc] = NULL;
	err = open(k->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(err, 0, "cannot create %s", k->err);
	k->pid = proc__spawn(argv, -1, -1, err);
	close(err);
	file__assert_tracing(k->err, "leaktrace: tracing");
}

/* SIGINT, then its exit 0 and its snapshot. */
static json_t *ktrace__stop(struct ktrace *k)
{
	int status = 0, waited;

	kill(k->pid, SIGINT);
	waited = proc__wait(k->pid, 60000, &status);
	if (waited)
		proc__kill(k->pid);
	cr_assert_eq(waited, 0, "leaktrace --kernel did not end within 60 s of SIGINT");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "leaktrace --kernel: wait status 0x%x, expected exit 0", status);
	return snapshot__load(k->json);
}

struct ksum {
	long long bytes, allocs;
	int stacks;
};

/* The kernel's (process 0's) stacks that pid allocated whose frame 0 is frame0. */
static struct ksum kernel_sum(json_t *snap, pid_t pid, const char *frame0, json_t **last)
{
	json_t *kernel = snapshot__process(snap, 0), *stack;
	struct ksum sum = { 0 };
	size_t i;

	cr_assert_not_null(kernel, "the snapshot has no process 0 (the kernel)");
	cr_assert_str_eq(json_string_value(json_object_get(kernel, "comm")), "kernel");
	json_array_foreach(json_object_get(kernel, "stacks"), i, stack) {
		json_t *task = json_object_get(stack, "task");
		const char *f0 = stack__symbol(stack, 0);

		cr_assert_str_eq(json_string_value(json_object_get(stack, "kind")), "kernel");
		if (!task || json__int(task, "pid") != pid || !f0 || strcmp(f0, frame0))
			continue;
		sum.bytes += json__int(stack, "bytes");
		sum.allocs += json__int(stack, "allocs");
		sum.stacks++;
		cr_assert_eq(json__int(stack, "allocs"), PIPES,
			     "a stack of alloc_pipe_info: %lld allocations, expected %d",
			     json__int(stack, "allocs"), PIPES);
		if (last)
			*last = stack;
	}
	return sum;
}

Test(kernel, pipes_held_are_counted_exactly_and_gone_once_closed, .timeout = 300)
{
	struct tmpdir t;
	struct fixture f;
	struct ktrace held, closed;
	const char *const args[] = { PIPES_ARG, NULL };
	json_t *snap, *stack = NULL;
	struct ksum s;

	tmpdir__new(&t);
	fixture__start(&f, env__fixture("kpipes-nofp"), args);
	ktrace__start(&held, &t, "held", NULL);
	ktrace__start(&closed, &t, "closed", NULL);
	fixture__trigger(&f); /* the pipes opened */

	snap = ktrace__stop(&held);
	s = kernel_sum(snap, f.pid, "alloc_pipe_info", &stack);
	cr_assert_eq(s.stacks, 2,
		     "alloc_pipe_info: %d stacks of pid %d, expected 2 (the pipe and "
		     "its buffers)",
		     s.stacks, (int)f.pid);
	cr_assert_eq(s.allocs, 2 * PIPES);
	cr_assert_gt(s.bytes, 0);
	cr_assert_str_eq(json_string_value(
				 json_object_get(json_array_get(json_object_get(stack, "frames"),
								0),
						 "module")),
			 "[kernel.kallsyms]");
	cr_assert_not_null(json_object_get(json_object_get(snap, "lost"), "kernel_frees_unknown"));
	json_decref(snap);

	fixture__trigger(&f); /* closed */
	snap = ktrace__stop(&closed);
	s = kernel_sum(snap, f.pid, "alloc_pipe_info", NULL);
	cr_assert_eq(s.allocs, 0, "alloc_pipe_info: %lld allocations of pid %d after the close",
		     s.allocs, (int)f.pid);
	cr_assert_eq(s.bytes, 0);
	json_decref(snap);
	fixture__stop(&f);
	tmpdir__free(&t);
}

Test(kernel, folded_marks_kernel_frames, .timeout = 300)
{
	struct tmpdir t;
	struct fixture f;
	struct ktrace k;
	struct run_result r;
	const char *const args[] = { PIPES_ARG, NULL };
	char *argv[] = { (char *)env__leaktrace(), "report", NULL, "--format", "folded", NULL };
	char want[64];
	json_t *snap;

	tmpdir__new(&t);
	fixture__start(&f, env__fixture("kpipes-nofp"), args);
	ktrace__start(&k, &t, "k", NULL);
	fixture__trigger(&f);
	snap = ktrace__stop(&k);
	json_decref(snap);
	argv[2] = k.json;
	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "leaktrace report: %s", r.err);
	/* Each line "kernel;frames outermost first;...;alloc_pipe_info_[k] BYTES". */
	snprintf(want, sizeof(want), ";alloc_pipe_info_[k] ");
	cr_assert_not_null(strstr(r.out, want), "no line ending in alloc_pipe_info_[k]:\n%.2000s",
			   r.out);
	run__free(&r);
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * --sample-bytes 64: a block of 16 times the mean or more stands for itself and
 * is missed with a probability of e^-16 (1e-7): the pipes' 1 KiB buffers are all
 * counted, exactly; the 192-byte pipes are sampled (estimates, not asserted).
 */
Test(kernel, sampled_blocks_of_16_means_are_exact, .timeout = 300)
{
	struct tmpdir t;
	struct fixture f;
	struct ktrace k;
	const char *const args[] = { PIPES_ARG, NULL };
	const char *const opts[] = { "--sample-bytes", "64", NULL };
	json_t *snap, *kernel, *stack;
	long long buffers = 0;
	size_t i;

	tmpdir__new(&t);
	fixture__start(&f, env__fixture("kpipes-nofp"), args);
	ktrace__start(&k, &t, "k", opts);
	fixture__trigger(&f);
	snap = ktrace__stop(&k);
	cr_assert_str_eq(json_string_value(
				 json_object_get(json_object_get(snap, "sampling"), "mode")),
			 "bytes");
	kernel = snapshot__process(snap, 0);
	cr_assert_not_null(kernel);
	json_array_foreach(json_object_get(kernel, "stacks"), i, stack) {
		json_t *task = json_object_get(stack, "task");
		const char *f0 = stack__symbol(stack, 0);

		if (task && json__int(task, "pid") == f.pid && f0 &&
		    !strcmp(f0, "alloc_pipe_info") &&
		    json__int(stack, "bytes") == 1024 * json__int(stack, "allocs"))
			buffers += json__int(stack, "allocs");
	}
	cr_assert_eq(buffers, PIPES, "alloc_pipe_info's 1 KiB buffers: %lld, expected %d", buffers,
		     PIPES);
	json_decref(snap);
	fixture__stop(&f);
	tmpdir__free(&t);
}
