// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Production tracing: every process (-a) and --comm, processes that start,
 * fork, exec and exit mid-trace, threads that hand blocks to each other, full
 * maps, containers, and no probe left behind when leaktrace is killed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

/*
 * The fixtures, copied under names of this test's own: -a --comm NAME must not see
 * the processes of other tests on the host (other worktrees run leaky-nofp too).
 */
static char *fx_nofp, *fx_fp;
static char comm_nofp[16], comm_fp[16], own_dir[32];

static char *own_copy(const char *fixture, const char *comm)
{
	char *from = env__fixture(fixture), to[64], cmd[PATH_MAX + 128];

	snprintf(to, sizeof(to), "%s/%s", own_dir, comm);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(from);
	return strdup(to);
}

static void fixtures_init(void)
{
	snprintf(own_dir, sizeof(own_dir), "/tmp/lt-system-XXXXXX");
	cr_assert_not_null(mkdtemp(own_dir));
	snprintf(comm_nofp, sizeof(comm_nofp), "lts%d-n", (int)getpid());
	snprintf(comm_fp, sizeof(comm_fp), "lts%d-f", (int)getpid());
	fx_nofp = own_copy("leaky-nofp", comm_nofp);
	fx_fp = own_copy("leaky-fp", comm_fp);
}

static void fixtures_fini(void)
{
	procs__cleanup();
	unlink(fx_nofp);
	unlink(fx_fp);
	rmdir(own_dir);
}

TestSuite(system, .init = fixtures_init, .fini = fixtures_fini);

/* leaktrace in the background with ARGS, "-o DIR/NAME.json" added, stderr in DIR/NAME.err. */
static pid_t lt_start_as(struct tmpdir *t, const char *name, const char *const args[], char *json,
			 size_t json_len)
{
	char *argv[32] = { (char *)env__leaktrace() };
	char err_path[PATH_MAX], file[64];
	int argc = 1, out, err;

	snprintf(file, sizeof(file), "%s.json", name);
	snprintf(json, json_len, "%s", tmpdir__file(t, file));
	snprintf(file, sizeof(file), "%s.err", name);
	snprintf(err_path, sizeof(err_path), "%s", tmpdir__file(t, file));
	argv[argc++] = "-o";
	argv[argc++] = json;
	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	snprintf(file, sizeof(file), "%s.out", name);
	out = open(tmpdir__file(t, file), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(out >= 0 && err >= 0);
	pid_t pid = proc__spawn(argv, -1, out, err);

	close(out);
	close(err);
	file__assert_tracing(err_path, "leaktrace: tracing");
	return pid;
}

static pid_t lt_start(struct tmpdir *t, const char *const args[], char *json, size_t json_len)
{
	return lt_start_as(t, "lt", args, json, json_len);
}

static void lt_wait_ok(pid_t pid)
{
	int status;

	cr_assert_eq(proc__wait(pid, 60000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "leaktrace failed: status 0x%x",
		  status);
}

/* The fixtures have done their part: SIGINT, the final snapshot, exit 0 (no -d to guess). */
static void lt_stop(pid_t pid)
{
	kill(pid, SIGINT);
	lt_wait_ok(pid);
}

static char *read_file(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A process started after `leaktrace -a` is traced from its exec: exact, nothing unmatched. */
Test(system, all_traces_a_process_started_later, .timeout = 90)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-i", "100", NULL };
	const char *fx[] = { "malloc", NULL };
	char json[PATH_MAX], *exe = env__fixture("leaky-nofp");
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	fixture__start(&f, fx_nofp, fx);
	fixture__trigger(&f);
	lt_stop(lt);
	json_t *snap = snapshot__load(json);
	json_t *proc = snapshot__process(snap, f.pid);

	cr_assert_not_null(proc, "pid %d is not in the snapshot", f.pid);
	struct stack_sum s = stack__sum(proc, "leak_malloc", "heap");

	cr_assert_eq(s.bytes, 100000);
	cr_assert_eq(s.allocs, 1000);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_before_attach"), 0);
	fixture__stop(&f);
	json_decref(snap);
	free(exe);
	tmpdir__free(&t);
}

/* --comm keeps other processes out, also ones that allocate. */
Test(system, comm_narrows_all, .timeout = 90)
{
	const char *args[] = { "-a", "--comm", comm_fp, "-i", "100", NULL };
	const char *fx[] = { "malloc", NULL };
	char json[PATH_MAX];
	struct fixture f, g;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	fixture__start(&f, fx_nofp, fx);
	fixture__start(&g, fx_fp, fx);
	fixture__trigger(&f);
	fixture__trigger(&g);
	lt_stop(lt);
	json_t *snap = snapshot__load(json);

	cr_assert_null(snapshot__process(snap, f.pid), "%s was traced", comm_nofp);
	cr_assert_not_null(snapshot__process(snap, g.pid), "%s was not traced", comm_fp);
	cr_assert_eq(stack__sum(snapshot__process(snap, g.pid), "leak_malloc", "heap").bytes,
		     100000);
	fixture__stop(&f);
	fixture__stop(&g);
	json_decref(snap);
	tmpdir__free(&t);
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

/* Waits up to 30 s until PATH holds at least N text reports. */
static void wait_for_reports(const char *path, int n)
{
	for (int i = 0; i < 3000 && count_of(read_file(path), "] leaktrace on ") < n; i++)
		usleep(10 * 1000);
	cr_assert_geq(count_of(read_file(path), "] leaktrace on "), n, "%s", read_file(path));
}

/*
 * An exited process is reported once as exited and its records dropped from the
 * maps; the final snapshot still has it, gone, with what it held.
 */
Test(system, exited_process_reported_once_then_kept_for_the_end, .timeout = 90)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-i", "1", NULL };
	const char *fx[] = { "malloc", NULL };
	char json[PATH_MAX], needle[PATH_MAX + 64], *text, *out;
	int times = 0, reports;
	struct fixture f;
	struct tmpdir t;
	pid_t lt, pid;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	out = strdup(tmpdir__file(&t, "lt.out"));
	fixture__start(&f, fx_nofp, fx);
	fixture__trigger(&f);
	pid = f.pid;
	/* A report sees it alive and symbolizes it; then it ends. */
	snprintf(needle, sizeof(needle), "pid %d (%s) %s: ", pid, comm_nofp, fx_nofp);
	cr_assert(file__wait_for(out, needle, 30000), "no report of pid %d", pid);
	fixture__stop(&f);
	snprintf(needle, sizeof(needle), "pid %d (%s) %s [exited]", pid, comm_nofp, fx_nofp);
	cr_assert(file__wait_for(out, needle, 30000), "pid %d not reported as exited", pid);
	/* The report after the one that said it exited: its records are gone by then. */
	wait_for_reports(out, count_of(read_file(out), "] leaktrace on ") + 1);
	kill(lt, SIGINT);
	lt_wait_ok(lt);
	text = read_file(out);
	times = count_of(text, needle);
	/* Once when it exited, once in the final report. */
	cr_assert_eq(times, 2, "reported as exited %d times:\n%s", times, text);
	reports = count_of(text, "] leaktrace on ");
	cr_assert_geq(reports, 3, "%s", text);
	json_t *snap = snapshot__load(json);
	json_t *proc = snapshot__process(snap, pid);

	cr_assert_not_null(proc, "pid %d is not in the final snapshot", pid);
	cr_assert(json_is_false(json_object_get(proc, "alive")));
	cr_assert_str_eq(json_string_value(json_object_get(proc, "exe")), fx_nofp);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").bytes, 100000);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").allocs, 1000);
	json_decref(snap);
	free(out);
	tmpdir__free(&t);
}

/* The snapshot at json holds leak_malloc's 100,000 bytes in 1,000 blocks for each of f[n]. */
static void assert_each_leaked(const char *json, struct fixture *f, int n)
{
	json_t *snap = snapshot__load(json);

	for (int i = 0; i < n; i++) {
		json_t *proc = snapshot__process(snap, f[i].pid);

		cr_assert_not_null(proc, "pid %d missing", f[i].pid);
		cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").bytes, 100000, "pid %d",
			     f[i].pid);
		cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").allocs, 1000);
		fixture__stop(&f[i]);
	}
	json_decref(snap);
}

/* Fifty traced processes at once, each exact. */
Test(system, fifty_processes_each_exact, .timeout = 180)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-i", "100", NULL };
	const char *fx[] = { "malloc", NULL };
	struct fixture f[50];
	char json[PATH_MAX];
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	for (int i = 0; i < 50; i++)
		fixture__start(&f[i], fx_nofp, fx);
	for (int i = 0; i < 50; i++)
		fixture__trigger(&f[i]);
	lt_stop(lt);
	assert_each_leaked(json, f, 50);
	tmpdir__free(&t);
}

/*
 * More running processes than the unwinder holds the mappings of at once (1024; 2 here,
 * LEAKTRACE_UNWIND_PROCS): -a starts all the same, says so once, and every process is
 * traced to the byte, its stack cut after its first frame where no table is held.
 */
Test(system, all_starts_with_more_processes_than_unwind_views, .timeout = 180)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-i", "100", NULL };
	const char *fx[] = { "malloc", NULL };
	char json[PATH_MAX], err[PATH_MAX];
	struct fixture f[6];
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	/* Running before leaktrace: -a's start takes them one by one. */
	for (int i = 0; i < 6; i++)
		fixture__start(&f[i], fx_nofp, fx);
	setenv("LEAKTRACE_UNWIND_PROCS", "2", 1);
	lt = lt_start(&t, args, json, sizeof(json));
	unsetenv("LEAKTRACE_UNWIND_PROCS");
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "lt.err"));
	cr_assert(file__wait_for(err,
				 "leaktrace: unwind tables: the mappings of 2 processes at "
				 "most are held at once",
				 0),
		  "no warning of the unwind views' limit");
	for (int i = 0; i < 6; i++)
		fixture__trigger(&f[i]);
	lt_stop(lt);
	assert_each_leaked(json, f, 6);
	tmpdir__free(&t);
}

/* A child's frees of blocks inherited from its parent are not charged to the parent. */
Test(system, child_frees_do_not_touch_parent, .timeout = 90)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-i", "100", NULL };
	const char *fx[] = { "fork", NULL };
	char json[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	fixture__start(&f, fx_nofp, fx);
	fixture__trigger(&f);
	lt_stop(lt);
	json_t *snap = snapshot__load(json);
	struct stack_sum s = stack__sum(snapshot__process(snap, f.pid), "leak_fork", "heap");

	cr_assert_eq(s.bytes, 20000);
	cr_assert_eq(s.allocs, 100);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	fixture__stop(&f);
	json_decref(snap);
	tmpdir__free(&t);
}

/* The callers of leaky's leak_NAME in `leaky run NAME`, walked whole to _start. */
static const char *const run_callers[] = { "run_scenarios",	"main",	  "__libc_start_call_main",
					   "__libc_start_main", "_start", NULL };

/* lt_start, its stderr's path in err (PATH_MAX). */
static pid_t lt_start_err(struct tmpdir *t, const char *const args[], char *json, char *err)
{
	pid_t pid = lt_start(t, args, json, PATH_MAX);

	snprintf(err, PATH_MAX, "%s", tmpdir__file(t, "lt.err"));
	return pid;
}

/*
 * A fixture of exe in attach mode with args, once leaktrace -v (stderr in err) has
 * read its mappings: -v says so once per process.
 */
static void fixture_read(struct fixture *f, const char *exe, const char *const args[],
			 const char *err)
{
	char want[64];

	fixture__start(f, exe, args);
	snprintf(want, sizeof(want), "leaktrace: pid %d: ", (int)f->pid);
	cr_assert(file__wait_for(err, want, 60000), "leaktrace never read pid %d", (int)f->pid);
}

/* The tables no process maps now, as the last of leaktrace -v's lines in err_path says. */
static long idle_tables(const char *err_path)
{
	const char *text = read_file(err_path), *at, *last = NULL;
	long n = -1;

	for (at = text; (at = strstr(at, " mapped by no process now")); at++)
		last = at;
	while (last && last > text && last[-1] >= '0' && last[-1] <= '9')
		last--;
	if (last)
		n = strtol(last, NULL, 10);
	return n;
}

/* Until leaktrace -v says that tables are kept that no process maps. */
static void wait_idle_tables(const char *err_path)
{
	long long deadline = clock__now_ms() + POLL_BOUND_MS;

	while (idle_tables(err_path) <= 0) {
		cr_assert_lt(clock__now_ms(), deadline, "no table kept idle:\n%s",
			     read_file(err_path));
		clock__sleep_ms(50);
	}
}

/* exe run with ARGS... to its end: its output has the truth line of leak_malloc. */
static void run_malloc(char *exe)
{
	char *argv[] = { exe, "run", "malloc", NULL };
	struct run_result r;

	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "truth leak_malloc 100000 1000\n"), "%s", r.out);
	run__free(&r);
}

/*
 * In the snapshot at json, the stack from frame0 of the process other than not that
 * has one: bytes and allocations, and its callers whole from frame 1 on.
 */
static void assert_other_whole(const char *json, pid_t not, const char *frame0, long long bytes,
			       long long allocs, const char *const callers[])
{
	json_t *snap = snapshot__load(json), *procs = json_object_get(snap, "processes"), *p;
	json_t *proc = NULL, *stack;
	size_t i;

	json_array_foreach(procs, i, p) {
		if (json__int(p, "pid") != not &&stack__find(p, frame0, "heap"))
			proc = p;
	}
	cr_assert_not_null(proc, "no other process with a stack from %s", frame0);
	stack = stack__find(proc, frame0, "heap");
	cr_assert_eq(stack__sum(proc, frame0, "heap").bytes, bytes);
	cr_assert_eq(stack__sum(proc, frame0, "heap").allocs, allocs);
	stack__assert_frames(stack, 1, callers, true);
	cr_assert(!json_is_true(json_object_get(stack, "truncated")));
	cr_assert_null(json_object_get(stack, "table_pending"));
	json_decref(snap);
}

/*
 * A child forked by a process leaktrace -a has read walks by its parent's view of
 * the mappings they share: its blocks, allocated at once before it exits (long
 * before leaktrace could read it), have whole stacks, not stacks cut at frame 0.
 */
Test(system, all_walks_a_forked_child_whole_before_reading_it, .timeout = 120)
{
	static const char *const callers[] = {
		"run_scenarios",     "attach_mode", "main", "__libc_start_call_main",
		"__libc_start_main", "_start",	    NULL
	};
	const char *args[] = { "-a", "--comm", comm_nofp, "-v", "-i", "3600", NULL };
	const char *fx[] = { "fork", NULL };
	char json[PATH_MAX], err[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start_err(&t, args, json, err);
	/* The parent's view is written before it forks. */
	fixture_read(&f, fx_nofp, fx, err);
	fixture__trigger(&f);
	lt_stop(lt);
	assert_other_whole(json, f.pid, "leak_fork", 1500, 5, callers);
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * A process -a meets at its exec, of an executable whose table leaktrace has (another
 * process runs it), is walked whole from its first allocation: the programs add what
 * exec mapped (the executable, ld.so) to its pending mappings, long before leaktrace
 * reads its own (5.17+, bpf_find_vma).
 */
Test(system, all_walks_a_new_process_whole_from_its_first_allocation, .timeout = 120)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-v", "-i", "3600", NULL };
	char json[PATH_MAX], err[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start_err(&t, args, json, err);
	/* Another process of the executable, read: its table is built. */
	fixture_read(&f, fx_nofp, NULL, err);
	run_malloc(fx_nofp);
	lt_stop(lt);
	assert_other_whole(json, f.pid, "leak_malloc", 100000, 1000, run_callers);
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * A command run again under -a after its last process ended: its executable's table
 * was kept, and the new process is walked whole from its first allocation.
 */
Test(system, all_keeps_a_commands_table_for_its_next_run, .timeout = 180)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "-v", "-i", "0.5", NULL };
	char json[PATH_MAX], err[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start_err(&t, args, json, err);
	fixture_read(&f, fx_nofp, NULL, err);
	fixture__stop(&f);
	/* Gone, and leaktrace knows: its tables are mapped by no process. */
	wait_idle_tables(err);
	run_malloc(fx_nofp);
	lt_stop(lt);
	assert_other_whole(json, 0, "leak_malloc", 100000, 1000, run_callers);
	tmpdir__free(&t);
}

/*
 * An executable written anew in place (its content replaced: the same inode) after its
 * last process ended: the table kept for it is not used again, the new content's is
 * built, and its symbols are read again.
 */
Test(system, all_builds_a_table_anew_for_an_executable_written_in_place, .timeout = 180)
{
	char json[PATH_MAX], err[PATH_MAX], comm[16], cmd[2 * PATH_MAX];
	const char *args[] = { "-a", "--comm", comm, "-v", "-i", "0.5", NULL };
	char *exe, *fp = env__fixture("leaky-fp");
	struct stat before, after;
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	snprintf(comm, sizeof(comm), "lts%d-r", (int)getpid());
	exe = own_copy("leaky-nofp", comm);
	tmpdir__new(&t);
	lt = lt_start_err(&t, args, json, err);
	fixture_read(&f, exe, NULL, err);
	fixture__stop(&f);
	wait_idle_tables(err);
	/* The frame-pointer build over it, in place. */
	cr_assert_eq(stat(exe, &before), 0);
	snprintf(cmd, sizeof(cmd), "cat '%s' > '%s'", fp, exe);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(stat(exe, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "not written in place");
	/* A process of the new content, read: the table the run is walked by is built now. */
	fixture_read(&f, exe, NULL, err);
	run_malloc(exe);
	lt_stop(lt);
	assert_other_whole(json, f.pid, "leak_malloc", 100000, 1000, run_callers);
	fixture__stop(&f);
	tmpdir__free(&t);
	unlink(exe);
	free(exe);
	free(fp);
}

/* exec starts a process's records afresh: the old image's leak is not reported. */
Test(system, exec_starts_afresh)
{
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	/* "leaky exec malloc" leaks from leak_before_exec, then execs "leaky run malloc". */
	char *argv[] = {
		(char *)env__leaktrace(), "-q", "-o", NULL, "--", exe, "exec", "malloc", NULL
	};

	argv[3] = (char *)tmpdir__file(&t, "exec.json");
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s", r.err);
	json_t *snap = snapshot__load(tmpdir__file(&t, "exec.json"));
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);

	cr_assert_eq(stack__sum(proc, "leak_before_exec", NULL).stacks, 0);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").bytes, 100000);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").allocs, 1000);
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

/* One thread allocates, another frees (and reallocs some first): those count zero. */
Test(system, handoff_between_threads_counts_zero)
{
	const char *args[] = { "run", "handoff", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, NULL, args, &r);
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);
	struct stack_sum s = stack__sum(proc, "handoff_producer", "heap");

	cr_assert_eq(s.bytes, 1000);
	cr_assert_eq(s.allocs, 10);
	cr_assert_eq(stack__sum(proc, "consumer", NULL).stacks, 0);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

/*
 * A full map: counting goes on, the loss is reported, nothing crashes. --max-allocs N
 * tracks at least N blocks whatever their addresses (the hash alone holds N; with 16-byte
 * blocks, which take every other block slot, the slots fill unevenly) and at most 7/4 N
 * (three quarters of N are block slots).
 */
Test(system, full_map_reports_untracked)
{
	const char *opts[] = { "--max-allocs", "1024", NULL };
	const char *args[] = { "run", "small", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);
	json_t *lost = json_object_get(snap, "lost");
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);
	long long untracked = json__int(lost, "allocs_untracked");
	long long tracked = json__int(proc, "outstanding_allocs");

	/* 4,000 blocks are kept, plus stdio's buffer; churn's blocks come and go. */
	cr_assert_geq(tracked, 1024, "%lld of 4001 blocks tracked with --max-allocs 1024", tracked);
	cr_assert_leq(tracked, 1024 / 4 * 7);
	cr_assert_geq(tracked + untracked, 4001, "tracked %lld, untracked %lld", tracked,
		      untracked);
	cr_assert_str_eq(r.out, "truth leak_small 64000 4000\n");
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

/* As many blocks as --max-allocs says, of 16 bytes each: every one is tracked. */
Test(system, max_allocs_holds_that_many_small_blocks)
{
	const char *opts[] = { "--max-allocs", "4096", NULL };
	const char *args[] = { "run", "small", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);
	struct stack_sum s = stack__sum(proc, "leak_small", "heap");

	cr_assert_eq(json__int(json_object_get(snap, "lost"), "allocs_untracked"), 0,
		     "%lld allocations untracked",
		     json__int(json_object_get(snap, "lost"), "allocs_untracked"));
	cr_assert_eq(s.bytes, 64000);
	cr_assert_eq(s.allocs, 4000);
	cr_assert_str_eq(r.out, "truth leak_small 64000 4000\n");
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

/*
 * The ids of the BPF links on the host, in ids[], at most max: uprobes (perf_event
 * links, or uprobe_multi ones, "type 12" to Debian 12's bpftool) and tracepoints.
 */
static int bpf_links(int *ids, int max)
{
	FILE *p = popen("bpftool link list 2>/dev/null", "r");
	char line[256];
	int n = 0, id;

	cr_assert_not_null(p, "cannot run bpftool");
	while (fgets(line, sizeof(line), p))
		if (line[0] >= '0' && line[0] <= '9' && sscanf(line, "%d:", &id) == 1 && n < max)
			ids[n++] = id;
	pclose(p);
	return n;
}

static bool contains(const int *ids, int n, int id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * The ids of the BPF links pid holds, from the fdinfo of its descriptors: only its own,
 * whatever other tracers on the host (an agent's) attach meanwhile.
 */
static int held_links(pid_t pid, int *ids, int max)
{
	char path[PATH_MAX], line[128];
	struct dirent *d;
	int n = 0, id;
	FILE *f;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	cr_assert_not_null(dir, "cannot read %s", path);
	while ((d = readdir(dir)) && n < max) {
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "link_id: %d", &id) == 1 && n < max)
				ids[n++] = id;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n;
}

/* SIGKILL leaves no probe or link behind: the kernel drops them with leaktrace's descriptors. */
Test(system, sigkill_leaves_no_probe, .timeout = 60)
{
	static int during[4096], after[4096];
	int nd, na, left = -1;
	const char *fx[] = { "malloc", NULL };
	char pid[16], json[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	fixture__start(&f, fx_nofp, fx);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	const char *args[] = { "-p", pid, NULL };

	lt = lt_start(&t, args, json, sizeof(json));
	nd = held_links(lt, during, 4096);
	cr_assert_gt(nd, 0, "no probe was attached");
	kill(lt, SIGKILL);
	proc__wait(lt, 5000, NULL);
	for (int i = 0; i < 100 && left; i++) {
		usleep(100 * 1000);
		na = bpf_links(after, 4096);
		left = 0;
		for (int j = 0; j < nd; j++)
			left += contains(after, na, during[j]);
	}
	cr_assert_eq(left, 0, "%d of leaktrace's %d links left after SIGKILL", left, nd);
	cr_assert(proc__running(f.pid), "the target did not survive");
	fixture__trigger(&f); /* and it still allocates and frees normally */
	fixture__stop(&f);
	tmpdir__free(&t);
}

/* "name+N" for each "probed NAME at ... (entry +N)" line of a leaktrace -v stderr, in order. */
static void placements(const char *err, char *out, size_t len)
{
	const char *p = err;
	size_t used = 0;
	unsigned int n;
	char name[64];

	out[0] = '\0';
	while ((p = strstr(p, "probed "))) {
		const char *entry = strstr(p, "(entry +");

		if (sscanf(p, "probed %63s", name) == 1 && entry &&
		    sscanf(entry, "(entry +%u)", &n) == 1)
			used += snprintf(out + used, len - used, "%s+%u ", name, n);
		p++;
		cr_assert_lt(used, len);
	}
}

/* The probe places of "leaktrace -v -- leaky-nofp run malloc", as placements() gives them. */
static void run_placements(struct tmpdir *t, char *out, size_t len)
{
	char *argv[] = { (char *)env__leaktrace(),
			 "-v",
			 "-q",
			 "-o",
			 NULL,
			 "--",
			 fx_nofp,
			 "run",
			 "malloc",
			 NULL };
	struct run_result r;

	argv[4] = (char *)tmpdir__file(t, "run.json");
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s", r.err);
	placements(r.err, out, len);
	run__free(&r);
}

/*
 * Another tracer's probes on every process (here leaktrace -a, which probes the
 * system's libc) put int3 into the code of each mapping of libc that may execute;
 * the probe places, decided from libc's code, must stay those of the file.
 */
Test(system, probe_places_unchanged_by_another_tracers_probes, .timeout = 60)
{
	const char *args[] = { "-a", "--comm", "no-such-comm", "-i", "100", NULL };
	char alone[1024], beside[1024], json[PATH_MAX];
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	run_placements(&t, alone, sizeof(alone));
	cr_assert(strstr(alone, "free+"), "no probe on free: '%s'", alone);
	lt = lt_start_as(&t, "all", args, json, sizeof(json));
	run_placements(&t, beside, sizeof(beside));
	kill(lt, SIGINT);
	lt_wait_ok(lt);
	cr_assert_str_eq(beside, alone, "with leaktrace -a running: '%s', alone: '%s'", beside,
			 alone);
	tmpdir__free(&t);
}

/* Outstanding bytes of PID in the snapshot at PATH (0 when it holds nothing). */
static long long outstanding(const char *path, pid_t pid)
{
	json_t *snap = snapshot__load(path);
	json_t *proc = snapshot__process(snap, pid);
	long long bytes = proc ? json__int(proc, "outstanding_bytes") : 0;

	cr_assert_eq(json__int(json_object_get(snap, "lost"), "allocs_untracked"), 0);
	json_decref(snap);
	return bytes;
}

static bool redis_up(char *const ping[])
{
	struct run_result r;
	bool up;

	run__cmd(ping, NULL, 5, &r);
	up = r.out && !strncmp(r.out, "PONG", 4);
	run__free(&r);
	return up;
}

/*
 * redis-server allocates through jemalloc: load tens of thousands of keys, FLUSHALL,
 * and what is outstanding goes back to where it was (no false leaks from missed frees).
 * Two traces at once: one over the load only, one over the load and the flush.
 */
Test(system, redis_jemalloc_flushall_returns_to_baseline, .timeout = 120)
{
	char port[16], pidstr[16], whole[PATH_MAX], load[PATH_MAX];
	struct run_result r;
	struct tmpdir t;
	pid_t redis, lt_whole, lt_load;
	int status;

	tmpdir__new(&t);
	snprintf(port, sizeof(port), "%d", 20000 + getpid() % 20000);
	char *server[] = { "redis-server", "--port", port,	     "--bind", "127.0.0.1",
			   "--save",	   "",	     "--appendonly", "no",     NULL };
	char *bench[] = { "redis-benchmark", "-p", port,  "-t", "set", "-n", "50000", "-r",
			  "30000",	     "-d", "100", "-q", NULL };
	char *flush[] = { "redis-cli", "-p", port, "flushall", "sync", NULL };
	char *ping[] = { "redis-cli", "-p", port, "ping", NULL };

	redis = proc__spawn(server, -1, -1, -1);
	for (int i = 0; i < 50 && !redis_up(ping); i++)
		usleep(100 * 1000);
	snprintf(pidstr, sizeof(pidstr), "%d", redis);
	const char *whole_args[] = { "-p", pidstr, "-i", "100", NULL };
	const char *load_args[] = { "-p", pidstr, "-i", "100", NULL };

	lt_whole = lt_start_as(&t, "whole", whole_args, whole, sizeof(whole));
	lt_load = lt_start_as(&t, "load", load_args, load, sizeof(load));
	run__cmd(bench, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "redis-benchmark: %s", r.err);
	run__free(&r);
	lt_stop(lt_load);
	run__cmd(flush, NULL, 10, &r);
	cr_assert_str_eq(r.out, "OK\n");
	run__free(&r);
	lt_stop(lt_whole);
	long long loaded = outstanding(load, redis), after = outstanding(whole, redis);

	/* At least the 30,000 values of 100 bytes were held; after the flush, buffers only. */
	cr_assert_gt(loaded, 3000000, "only %lld bytes outstanding with the keys loaded", loaded);
	cr_assert_lt(after, 512 * 1024, "%lld bytes still outstanding after FLUSHALL", after);
	kill(redis, SIGTERM);
	proc__wait(redis, 10000, &status);
	tmpdir__free(&t);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[PATH_MAX * 2 + 32];

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'", to, from, to);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * A process in another mount namespace, chrooted, with its own copy of libc
 * (another inode): traced with -p and with -a, symbolized as it sees its files.
 */
static void run_in_container(const char *mode)
{
	char root[PATH_MAX], to[PATH_MAX + 64], json[PATH_MAX], pid[16];
	struct fixture f;
	struct tmpdir t;
	pid_t lt;

	tmpdir__new(&t);
	snprintf(root, sizeof(root), "%s", tmpdir__file(&t, "root"));
	snprintf(to, sizeof(to), "%s/%s", root, comm_nofp);
	copy_file(fx_nofp, to);
	snprintf(to, sizeof(to), "%s/lib/x86_64-linux-gnu/libc.so.6", root);
	copy_file("/lib/x86_64-linux-gnu/libc.so.6", to);
	snprintf(to, sizeof(to), "%s/lib64/ld-linux-x86-64.so.2", root);
	copy_file("/lib64/ld-linux-x86-64.so.2", to);
	char inside[32];

	snprintf(inside, sizeof(inside), "/%s", comm_nofp);
	char *argv[] = { "unshare", "-m", "chroot", root, inside, "attach", "malloc", NULL };

	if (!strcmp(mode, "-a")) {
		const char *args[] = { "-a", "--comm", comm_nofp, "-v", "-i", "100", NULL };
		char probed[96];

		lt = lt_start(&t, args, json, sizeof(json));
		fixture__start_argv(&f, argv);
		/* Its libc is new to leaktrace: probed within 0.2 s, said with -v (munmap last). */
		snprintf(probed, sizeof(probed), "munmap at /proc/%d/map_files/", f.pid);
		cr_assert(file__wait_for(tmpdir__file(&t, "lt.err"), probed, 30000),
			  "the container's libc was not probed");
	} else {
		fixture__start_argv(&f, argv);
		snprintf(pid, sizeof(pid), "%d", f.pid);
		const char *args[] = { "-p", pid, "-i", "100", NULL };

		lt = lt_start(&t, args, json, sizeof(json));
	}
	fixture__trigger(&f);
	lt_stop(lt);
	json_t *snap = snapshot__load(json);
	json_t *proc = snapshot__process(snap, f.pid);
	json_t *stack = stack__find(proc, "leak_malloc", "heap");

	cr_assert_not_null(stack, "no leak_malloc stack");
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").bytes, 100000);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").allocs, 1000);
	const char *module = json_string_value(
		json_object_get(json_array_get(json_object_get(stack, "frames"), 0), "module"));

	/* Its maps name files as leaktrace's root sees them; they are the container's. */
	cr_assert(module && strlen(module) >= strlen(inside) &&
			  !strcmp(module + strlen(module) - strlen(inside), inside),
		  "module %s", module ? module : "(none)");
	fixture__stop(&f);
	json_decref(snap);
	tmpdir__free(&t);
}

Test(system, container_with_own_libc_by_pid, .timeout = 60)
{
	run_in_container("-p");
}

Test(system, container_with_own_libc_under_all, .timeout = 60)
{
	run_in_container("-a");
}

/* -a --scan: every traced process is scanned at each report, with its own verdicts. */
Test(system, all_with_scan_gives_each_process_its_verdicts, .timeout = 90)
{
	const char *args[] = { "-a", "--comm", comm_nofp, "--scan", "-i", "100", NULL };
	const char *fx[] = { "lost", NULL };
	char json[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	json_t *snap, *proc, *s;
	pid_t lt;

	tmpdir__new(&t);
	lt = lt_start(&t, args, json, sizeof(json));
	fixture__start(&f, fx_nofp, fx);
	fixture__trigger(&f);
	lt_stop(lt);
	snap = snapshot__load(json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "pid %d is not in the snapshot", f.pid);
	cr_assert_eq(json__int(proc, "lost_bytes"), 7770 + 64);
	cr_assert_eq(json__int(proc, "indirect_bytes"), 144);
	s = stack__find(proc, "keep_cache", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "reachable_bytes"), 50000);
	fixture__stop(&f);
	json_decref(snap);
	tmpdir__free(&t);
}
