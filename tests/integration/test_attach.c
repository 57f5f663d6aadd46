// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attach mode (leaktrace -p PID): exact counts of what happens after the
 * attach, frees of older blocks counted apart, a clean stop on a signal, and a
 * target that runs on untouched after leaktrace is gone.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* leaktrace in the background, attached to a fixture, its output in files. */
struct tracer {
	pid_t pid;
	char json[PATH_MAX];
	char err[PATH_MAX];
};

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;

	if (fp) {
		n = fread(buf, 1, len - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
}

static int open_log(struct tmpdir *t, const char *name)
{
	int fd = open(tmpdir__file(t, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "cannot create %s", t->file);
	return fd;
}

/*
 * Start "leaktrace -p PID -o DIR/attach.json OPTS..." and wait until it says it
 * is tracing: from then on its probes are in place.
 */
static void tracer__start(struct tracer *tr, struct tmpdir *t, pid_t target,
			  const char *const opts[])
{
	char *argv[32] = { (char *)env__leaktrace(), "-p", NULL, "-o", tr->json };
	char pid[16], log[4096];
	int argc = 5, out, err, status;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	argv[2] = pid;
	snprintf(tr->json, sizeof(tr->json), "%s", tmpdir__file(t, "attach.json"));
	snprintf(tr->err, sizeof(tr->err), "%s", tmpdir__file(t, "stderr.txt"));
	for (int i = 0; opts && opts[i]; i++)
		argv[argc++] = (char *)opts[i];
	argv[argc] = NULL;
	out = open_log(t, "stdout.txt");
	err = open_log(t, "stderr.txt");
	tr->pid = proc__spawn(argv, -1, out, err);
	close(out);
	close(err);
	if (!file__wait_for(tr->err, "leaktrace: tracing", 60000)) {
		slurp(tr->err, log, sizeof(log));
		cr_assert_fail("leaktrace -p %d did not start tracing within 60 s%s; stderr:\n%s",
			       (int)target, proc__wait(tr->pid, 0, &status) ? "" : " (it exited)",
			       log);
	}
}

/* Wait for leaktrace to end and assert it exited 0. */
static void tracer__wait_ok(struct tracer *tr, int timeout_ms)
{
	char log[4096];
	int status = 0;
	int waited = proc__wait(tr->pid, timeout_ms, &status);

	slurp(tr->err, log, sizeof(log));
	if (waited)
		proc__kill(tr->pid);
	tr->pid = 0;
	cr_assert_eq(waited, 0, "leaktrace did not exit within %d ms; stderr:\n%s", timeout_ms,
		     log);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "leaktrace: wait status 0x%x (exit code %d), expected exit 0; stderr:\n%s",
		  status, WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
}

static void assert_no_negative_counts(json_t *snap)
{
	json_t *proc, *stack;
	size_t i, j;

	json_array_foreach(json_object_get(snap, "processes"), i, proc) {
		cr_assert_geq(json__int(proc, "outstanding_bytes"), 0, "pid %lld: %lld bytes",
			      json__int(proc, "pid"), json__int(proc, "outstanding_bytes"));
		cr_assert_geq(json__int(proc, "outstanding_allocs"), 0, "pid %lld: %lld allocs",
			      json__int(proc, "pid"), json__int(proc, "outstanding_allocs"));
		json_array_foreach(json_object_get(proc, "stacks"), j, stack) {
			cr_assert_gt(json__int(stack, "bytes"), 0, "stack %zu (%s): %lld bytes", j,
				     stack__symbol(stack, 0), json__int(stack, "bytes"));
			cr_assert_gt(json__int(stack, "allocs"), 0, "stack %zu (%s): %lld allocs",
				     j, stack__symbol(stack, 0), json__int(stack, "allocs"));
		}
	}
}

Test(attach_mode, malloc_leak_exact_after_attach, .timeout = 90, .fini = procs__cleanup)
{
	const char *fixture_args[] = { "malloc", NULL };
	const char *opts[] = { "-d", "3", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct tracer tr = { 0 };
	struct fixture f;
	struct stack_sum sum;
	struct tmpdir t;
	json_t *snap, *proc, *lost;
	char log[4096];

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, opts);
	fixture__trigger(&f);
	tracer__wait_ok(&tr, 20000);
	/* The process it attached to did not exec: nothing says it did. */
	slurp(tr.err, log, sizeof(log));
	cr_assert_null(strstr(log, "exec'd"), "stderr:\n%s", log);
	/* Detaching leaves the target running, neither dead nor stopped. */
	cr_assert(proc__running(f.pid), "fixture %d is not running after leaktrace exited",
		  (int)f.pid);

	snap = snapshot__load(tr.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "no entry for pid %d in the snapshot", (int)f.pid);
	sum = stack__sum(proc, "leak_malloc", "heap");
	cr_assert_eq(sum.bytes, 100000, "leak_malloc bytes: got %lld, expected 100000", sum.bytes);
	cr_assert_eq(sum.allocs, 1000, "leak_malloc allocs: got %lld, expected 1000", sum.allocs);
	assert_no_negative_counts(snap);
	lost = json_object_get(snap, "lost");
	cr_assert_geq(json__int(lost, "frees_before_attach"), 100,
		      "frees_before_attach: got %lld, expected >= 100 (blocks from before the "
		      "attach, freed after)",
		      json__int(lost, "frees_before_attach"));
	cr_assert_eq(json__int(lost, "frees_unmatched"), 0, "frees_unmatched: got %lld",
		     json__int(lost, "frees_unmatched"));
	json_decref(snap);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

Test(attach_mode, process_alive_in_snapshot, .timeout = 90, .fini = procs__cleanup)
{
	const char *fixture_args[] = { "malloc", NULL };
	const char *opts[] = { "-d", "2", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct tracer tr = { 0 };
	struct fixture f;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, opts);
	fixture__trigger(&f);
	tracer__wait_ok(&tr, 20000);
	snap = snapshot__load(tr.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "no entry for pid %d in the snapshot", (int)f.pid);
	cr_assert(json_is_true(json_object_get(proc, "alive")),
		  "the target still runs, yet \"alive\" is not true");
	json_decref(snap);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

/* Stop with SIG after about 1.5 s of tracing: exit 0, a snapshot, the target untouched. */
static void assert_signal_stops_cleanly(int sig)
{
	const char *fixture_args[] = { "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct tracer tr = { 0 };
	struct fixture f;
	struct tmpdir t;
	json_t *snap;

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, NULL);
	clock__sleep_ms(1500);
	cr_assert_eq(kill(tr.pid, sig), 0, "kill leaktrace");
	tracer__wait_ok(&tr, 10000);
	cr_assert(proc__running(f.pid), "fixture %d is not running after leaktrace got signal %d",
		  (int)f.pid, sig);
	snap = snapshot__load(tr.json);
	cr_assert_not_null(snapshot__process(snap, f.pid), "no entry for pid %d in the snapshot",
			   (int)f.pid);
	json_decref(snap);
	/* The target goes on as if nothing happened: it still answers. */
	fixture__trigger(&f);
	cr_assert(proc__running(f.pid), "fixture %d died after its run", (int)f.pid);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

Test(attach_mode, sigint_stops_cleanly, .timeout = 90, .fini = procs__cleanup)
{
	assert_signal_stops_cleanly(SIGINT);
}

Test(attach_mode, sigterm_stops_cleanly, .timeout = 90, .fini = procs__cleanup)
{
	assert_signal_stops_cleanly(SIGTERM);
}

Test(attach_mode, sighup_stops_cleanly, .timeout = 90, .fini = procs__cleanup)
{
	assert_signal_stops_cleanly(SIGHUP);
}

/* Leak right after the attach, stop DURATION seconds later; count only blocks OLDER old. */
static struct stack_sum older_run(const char *duration, const char *older)
{
	const char *fixture_args[] = { "malloc", NULL };
	const char *opts[] = { "-d", duration, "--older", older, NULL };
	char *exe = env__fixture("leaky-nofp");
	struct tracer tr = { 0 };
	struct stack_sum sum;
	struct fixture f;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, opts);
	fixture__trigger(&f);
	tracer__wait_ok(&tr, 20000);
	snap = snapshot__load(tr.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "no entry for pid %d in the snapshot", (int)f.pid);
	sum = stack__sum(proc, "leak_malloc", NULL);
	json_decref(snap);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
	return sum;
}

/* The blocks are about 4 s old at the end (the leak happens right after the attach). */
Test(filters, older_keeps_blocks_old_enough, .timeout = 90, .fini = procs__cleanup)
{
	struct stack_sum sum = older_run("4", "2");

	cr_assert_eq(sum.bytes, 100000, "--older 2: leak_malloc bytes: got %lld, expected 100000",
		     sum.bytes);
	cr_assert_eq(sum.allocs, 1000, "--older 2: leak_malloc allocs: got %lld, expected 1000",
		     sum.allocs);
}

Test(filters, older_drops_younger_blocks, .timeout = 90, .fini = procs__cleanup)
{
	struct stack_sum sum = older_run("3", "60");

	cr_assert_eq(sum.stacks, 0, "--older 60: leak_malloc still has %d stacks, %lld bytes",
		     sum.stacks, sum.bytes);
}

/* The state letter of /proc/PID/stat: 'S' sleeping, 't' stopped by a tracer, ... */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	slurp(path, buf, sizeof(buf));
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* KEY summed over proc's heap stacks whose frame 0 is frame0 (whole stacks: one per caller). */
static long long sum_field(json_t *proc, const char *frame0, const char *key)
{
	long long sum = 0;
	json_t *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		if (!strcmp(stack__symbol(stack, 0) ?: "", frame0) &&
		    !strcmp(json_string_value(json_object_get(stack, "kind")) ?: "", "heap"))
			sum += json__int(stack, key);
	}
	return sum;
}

/*
 * --scan on a live process: the blocks lose_blocks and lose_list drop are
 * lost, the list behind the lost node indirectly, keep_cache's reachable;
 * the same verdicts as valgrind's on the same scenario (test_scan.c).
 */
static void assert_live_verdicts(const char *scan_opt)
{
	const char *fixture_args[] = { "lost", NULL };
	const char *opts[] = { scan_opt, "-d", "3", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct tracer tr = { 0 };
	struct fixture f;
	struct tmpdir t;
	json_t *snap, *proc, *s;

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, opts);
	fixture__trigger(&f);
	tracer__wait_ok(&tr, 20000);
	cr_assert(proc__running(f.pid), "fixture %d is gone after the scan", (int)f.pid);
	cr_assert_neq(proc_state(f.pid), 't', "fixture %d is still held stopped", (int)f.pid);

	snap = snapshot__load(tr.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "no entry for pid %d in the snapshot", (int)f.pid);
	s = stack__find(proc, "lose_blocks", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "lost_bytes"), 7770);
	cr_assert_eq(json__int(s, "lost_allocs"), 10);
	s = stack__find(proc, "lose_list", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "lost_bytes"), 64);
	cr_assert_not_null(stack__find(proc, "new_node", "heap"));
	cr_assert_eq(sum_field(proc, "new_node", "lost_bytes"), 0);
	cr_assert_eq(sum_field(proc, "new_node", "indirect_bytes"), 144);
	cr_assert_eq(sum_field(proc, "new_node", "indirect_allocs"), 3);
	s = stack__find(proc, "keep_cache", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "reachable_bytes"), 50000);
	cr_assert_eq(json__int(s, "lost_bytes") + json__int(s, "indirect_bytes"), 0);
	json_decref(snap);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

Test(attach_mode, scan_tells_lost_from_reachable_while_it_runs, .timeout = 90,
     .fini = procs__cleanup)
{
	assert_live_verdicts("--scan");
}

Test(attach_mode, scan_freeze_holds_the_target_and_lets_it_go, .timeout = 90,
     .fini = procs__cleanup)
{
	assert_live_verdicts("--scan-freeze");
}

/*
 * Attaching to four threads that churn the allocator (leaky busy): calls that
 * began before the probes went live must neither blind a thread (its entry
 * seen, its return not) nor leave records whose free went unseen. Each path
 * of probes is checked: sessions (6.13+), uprobe_multi (6.6+), a link per
 * probe. Mid-run the threads' blocks are counted (each thread keeps 2,500);
 * after the threads free them all, nothing is left, to the byte.
 */
static void assert_busy_attach(const char *env)
{
	char *exe = env__fixture("leaky-nofp");
	char *fx_argv[] = { exe, "busy", NULL };
	struct tracer mid = { 0 }, end = { 0 };
	const char *mid_opts[] = { "--no-scan", "-d", "2", NULL };
	const char *end_opts[] = { "--no-scan", "-i", "3600", NULL };
	struct tmpdir t1, t2;
	json_t *snap, *proc;
	struct fixture f;
	pid_t fx;

	if (env)
		setenv(env, "1", 1);
	tmpdir__new(&t1);
	tmpdir__new(&t2);
	/* It churns until told to stop: however slowly the tracers start, they see it churn. */
	fixture__start_argv(&f, fx_argv);
	fx = f.pid;
	tracer__start(&mid, &t1, fx, mid_opts);
	tracer__start(&end, &t2, fx, end_opts);
	tracer__wait_ok(&mid, 60000);
	fixture__trigger(&f); /* its threads free everything */
	kill(end.pid, SIGINT);
	tracer__wait_ok(&end, 60000);
	fixture__stop(&f);
	if (env)
		unsetenv(env);

	snap = snapshot__load(mid.json);
	proc = snapshot__process(snap, fx);
	cr_assert_not_null(proc);
	/* 10,000 blocks held, each replaced within milliseconds: a blind thread loses 2,500. */
	cr_assert_gt(json__int(proc, "outstanding_allocs"), 7500, "%s: %lld blocks mid-run",
		     env ? env : "sessions", json__int(proc, "outstanding_allocs"));
	json_decref(snap);
	snap = snapshot__load(end.json);
	proc = snapshot__process(snap, fx);
	cr_assert_not_null(proc);
	cr_assert_eq(json__int(proc, "outstanding_bytes"), 0, "%s: %lld bytes left",
		     env ? env : "sessions", json__int(proc, "outstanding_bytes"));
	cr_assert_eq(json__int(proc, "outstanding_allocs"), 0);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	json_decref(snap);
	free(exe);
	tmpdir__free(&t1);
	tmpdir__free(&t2);
}

Test(attach_mode, busy_threads_counted_from_the_attach_with_sessions, .timeout = 90,
     .fini = procs__cleanup)
{
	assert_busy_attach(NULL);
}

Test(attach_mode, busy_threads_counted_from_the_attach_with_uprobe_multi, .timeout = 90,
     .fini = procs__cleanup)
{
	assert_busy_attach("LEAKTRACE_NO_SESSION");
}

Test(attach_mode, busy_threads_counted_from_the_attach_with_a_link_per_probe, .timeout = 90,
     .fini = procs__cleanup)
{
	assert_busy_attach("LEAKTRACE_NO_MULTI");
}

/* -o - (given after the helper's -o FILE, so it wins): stdout holds the snapshot, the reports
 * go to stderr. */
Test(attach_mode, dash_o_puts_the_snapshot_on_stdout_and_reports_on_stderr, .timeout = 90,
     .fini = procs__cleanup)
{
	const char *fixture_args[] = { "malloc", NULL };
	const char *opts[] = { "-d", "3", "-i", "1", "-o", "-", "--format", "folded", NULL };
	char *exe = env__fixture("leaky-nofp"), out[65536], err[65536];
	struct tracer tr = { 0 };
	struct fixture f;
	struct tmpdir t;

	tmpdir__new(&t);
	fixture__start(&f, exe, fixture_args);
	tracer__start(&tr, &t, f.pid, opts);
	fixture__trigger(&f);
	tracer__wait_ok(&tr, 20000);
	slurp(tmpdir__file(&t, "stdout.txt"), out, sizeof(out));
	slurp(tr.err, err, sizeof(err));
	cr_assert_eq(strncmp(out, "leaky-nofp;", 11), 0, "stdout:\n%s", out);
	cr_assert_not_null(strstr(out, ";leak_malloc 100000\n"), "stdout:\n%s", out);
	cr_assert_null(strstr(out, "leaktrace on"), "a report on stdout:\n%s", out);
	cr_assert_not_null(strstr(err, "leaktrace on"), "no report on stderr:\n%s", err);
	cr_assert_neq(access(tr.json, F_OK), 0, "%s was written", tr.json);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}
