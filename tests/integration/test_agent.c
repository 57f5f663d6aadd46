// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * leaktrace agent against the real kernel: a fixture that leaks one 4096-byte block per line
 * (leaky drip), its exact bytes read back through /metrics (checked by promtool), pprof (read
 * by go tool pprof), /snapshot.json (the schema) and /history.ndjson; targets by cgroup; the
 * last snapshot of a process that ends, in --state-dir.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

struct agent {
	pid_t pid;
	char url[128];
	char err_path[PATH_MAX];
};

/* "leaktrace agent --listen 127.0.0.1:0 -i 1 --sample-bytes 0 OPTS...", up once it says where and what it traces. */
static void agent__start(struct agent *a, struct tmpdir *t, const char *const opts[],
			 const char *tracing)
{
	/* --sample-bytes 0: exact, as every test here asserts exact bytes (the agent samples). */
	char *argv[24] = { (char *)env__leaktrace(), "agent", "--listen", "127.0.0.1:0", "-i", "1",
			   "--sample-bytes",	     "0" };
	char line[512] = "";
	int argc = 8, err_fd;
	FILE *f;

	/* Copies: an option may be tmpdir__file's buffer, which the next call rewrites. */
	for (int i = 0; opts[i]; i++)
		argv[argc++] = strdup(opts[i]);
	argv[argc] = NULL;
	snprintf(a->err_path, sizeof(a->err_path), "%s", tmpdir__file(t, "agent.err"));
	err_fd = open(a->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(err_fd, 0);
	a->pid = proc__spawn(argv, -1, -1, err_fd);
	close(err_fd);
	for (int i = 8; i < argc; i++)
		free(argv[i]);
	file__assert_tracing(a->err_path, tracing);
	f = fopen(a->err_path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "leaktrace: serving %127s", a->url) == 1)
			break;
	if (f)
		fclose(f);
	cr_assert(!strncmp(a->url, "http://127.0.0.1:", 17), "no 'serving' line: %s", line);
}

static void agent__stop(struct agent *a)
{
	int status;

	kill(a->pid, SIGTERM);
	cr_assert_eq(proc__wait(a->pid, 30000, &status), 0, "the agent did not end on SIGTERM");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "agent: status %d", status);
}

/* GET url+path with curl into file (in t); its text, to free. */
static char *get(struct agent *a, struct tmpdir *t, const char *path, const char *file)
{
	char url[256], *argv[] = { "curl", "-sSf", "-o", NULL, url, NULL }, *body;
	struct run_result r;
	long n;
	FILE *f;

	snprintf(url, sizeof(url), "%s%s", a->url, path);
	argv[3] = strdup(tmpdir__file(t, file));
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "curl %s: %s", url, r.err);
	run__free(&r);
	f = fopen(argv[3], "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	body = calloc(1, n + 1);
	cr_assert_eq(fread(body, 1, n, f), (size_t)n);
	fclose(f);
	free(argv[3]);
	return body;
}

/* The fixture's leak grows by one block per line: n lines, their "dripped" answers read. */
static void drip(struct fixture *f, int n)
{
	char line[64];

	for (int i = 0; i < n; i++) {
		cr_assert_eq(write(f->in_fd, "\n", 1), 1);
		fixture__read_line(f, line, sizeof(line), 30000);
		cr_assert(!strncmp(line, "dripped ", 8), "fixture: '%s'", line);
	}
}

static void start_drip(struct fixture *f, const char *name)
{
	char *exe = env__fixture(name);
	char *argv[] = { exe, "drip", NULL };

	fixture__start_argv(f, argv);
	free(exe);
}

/* Polls /metrics until it holds line; the last body, to free. */
static char *wait_metric(struct agent *a, struct tmpdir *t, const char *line)
{
	long long deadline = clock__now_ms() + POLL_BOUND_MS;
	char *m = NULL;

	for (;;) {
		free(m);
		m = get(a, t, "/metrics", "metrics.txt");
		if (strstr(m, line))
			return m;
		cr_assert_lt(clock__now_ms(), deadline, "no line '%s' in /metrics within %d s:\n%s",
			     line + (line[0] == '\n'), POLL_BOUND_MS / 1000, m);
		clock__sleep_ms(200);
	}
}

static char *suspect_line(const char *metric, pid_t pid, const char *exe, long long value)
{
	char *line;

	cr_assert(asprintf(&line,
			   "\n%s{pid=\"%d\",comm=\"leaky-fp\",function=\"leak_drip\","
			   "module=\"%s\"} %lld\n",
			   metric, (int)pid, exe, value) > 0);
	return line;
}

Test(agent, metrics_pprof_json_and_history_carry_the_exact_leak)
{
	struct tmpdir t;
	struct fixture f;
	struct agent a;
	char pid[16], cmd[PATH_MAX + 128], out[4096], *exe = env__fixture("leaky-fp"), *m, *line;
	json_t *snap, *proc;
	struct stack_sum sum;

	tmpdir__new(&t);
	start_drip(&f, "leaky-fp");
	snprintf(pid, sizeof(pid), "%d", f.pid);
	agent__start(&a, &t,
		     (const char *const[]){ "-p", pid, "--history", "3", "--state-dir",
					    tmpdir__file(&t, "state"), NULL },
		     "leaktrace: tracing 1 process");
	drip(&f, 5);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f.pid, exe, 20480);
	m = wait_metric(&a, &t, line);
	free(line);
	line = suspect_line("leaktrace_suspect_outstanding_allocations", f.pid, exe, 5);
	cr_assert_not_null(strstr(m, line), "%s", m);
	free(line);
	free(m);

	/* Prometheus' own checker on what was served. */
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1",
		 tmpdir__file(&t, "metrics.txt"));
	sh__output(cmd, out, sizeof(out));

	/* go tool pprof reads the profile as from a Go service: leak_drip holds 20480 B. */
	snprintf(cmd, sizeof(cmd),
		 "HOME=%s go tool pprof -unit=B -top %s/debug/pprof/heap 2>/dev/null | "
		 "awk '$NF == \"leak_drip\" {print $1}'",
		 t.path, a.url);
	sh__output(cmd, out, sizeof(out));
	cr_assert_str_eq(out, "20480B");

	/* The JSON snapshot, validated against the schema by snapshot__load. */
	free(get(&a, &t, "/snapshot.json", "snapshot.json"));
	snap = snapshot__load(tmpdir__file(&t, "snapshot.json"));
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	sum = stack__sum(proc, "leak_drip", "heap");
	cr_assert_eq(sum.bytes, 20480);
	cr_assert_eq(sum.allocs, 5);
	json_decref(snap);

	/* The history keeps the last 3 snapshots, each with leak_drip's bytes once they are in. */
	free(wait_metric(&a, &t, "\nleaktrace_history_lines 3\n"));
	m = get(&a, &t, "/history.ndjson", "history.ndjson");
	{
		int lines = 0;
		char *p = m, *nl;

		while ((nl = strchr(p, '\n'))) {
			json_error_t jerr;
			json_t *h;

			*nl = 0;
			h = json_loads(p, 0, &jerr);
			cr_assert_not_null(h, "history line %d is not JSON: %s", lines, p);
			json_decref(h);
			lines++;
			p = nl + 1;
		}
		cr_assert_eq(lines, 3);
	}
	free(m);
	agent__stop(&a);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

/*
 * The runs of pid's uprobe programs (BPF_PROG_TYPE_KPROBE: uprobe, uretprobe, uprobe_multi,
 * session) as the kernel counts them while BPF statistics are on (the agent holds them on):
 * the run_cnt of each program descriptor it holds, from /proc/PID/fdinfo.
 */
static unsigned long long uprobe_runs(pid_t pid)
{
	unsigned long long total = 0, cnt;
	char dir[64], path[PATH_MAX], line[128];
	struct dirent *d;
	int type, progs = 0;
	DIR *dp;
	FILE *f;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	dp = opendir(dir);
	cr_assert_not_null(dp, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = d->d_name[0] == '.' ? NULL : fopen(path, "r");
		type = -1;
		cnt = 0;
		while (f && fgets(line, sizeof(line), f)) {
			sscanf(line, "prog_type: %d", &type);
			sscanf(line, "run_cnt: %llu", &cnt);
		}
		if (f)
			fclose(f);
		if (type == 2) { /* BPF_PROG_TYPE_KPROBE */
			total += cnt;
			progs++;
		}
	}
	closedir(dp);
	cr_assert_gt(progs, 0, "pid %d holds no uprobe program", pid);
	return total;
}

/*
 * The target's 3 mallocs run the agent's uprobe programs; 200 of another process of the same
 * libc (kind of target: -p PID, or --comm NAME, the target a copy of the fixture named NAME)
 * run none, not once: the probes are the target's own links (the kernel's uprobe filter puts
 * their breakpoints in its memory only).
 */
static void assert_non_target_untouched(bool by_comm)
{
	char pid[16], comm[16], exe[PATH_MAX + 32], cmd[2 * PATH_MAX + 64];
	char *fixture = env__fixture("leaky-fp"), *argv[] = { exe, "drip", NULL };
	struct fixture target, other;
	unsigned long long before, after;
	struct tmpdir t;
	struct agent a;

	tmpdir__new(&t);
	/* A name of this test's own: other tests on the host run leaky-fp too. */
	snprintf(comm, sizeof(comm), "ltnt%d", (int)getpid());
	snprintf(exe, sizeof(exe), "%s", tmpdir__file(&t, comm));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fixture, exe);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	fixture__start_argv(&target, argv);
	/*
	 * --comm: the other runs under valgrind, which system-wide probes would kill with SIGTRAP
	 * (leaktrace -a holds off while one runs): the agent's own links leave it alone.
	 */
	if (by_comm && !access("/usr/bin/valgrind", X_OK)) {
		char *vg[] = { "valgrind", "-q", fixture, "drip", NULL };

		fixture__start_argv(&other, vg);
	} else {
		start_drip(&other, "leaky-fp");
	}
	snprintf(pid, sizeof(pid), "%d", target.pid);
	if (by_comm)
		agent__start(&a, &t,
			     (const char *const[]){ "--comm", comm, "--state-dir",
						    tmpdir__file(&t, "state"), NULL },
			     "leaktrace: tracing all processes named");
	else
		agent__start(&a, &t,
			     (const char *const[]){ "-p", pid, "--state-dir",
						    tmpdir__file(&t, "state"), NULL },
			     "leaktrace: tracing 1 process");
	before = uprobe_runs(a.pid);
	drip(&other, 200);
	after = uprobe_runs(a.pid);
	cr_assert_eq(after, before, "200 mallocs of pid %d (not a target) ran %llu uprobe programs",
		     other.pid, after - before);
	/* The counter counts: the target's 3 mallocs run the programs (entry and return). */
	drip(&target, 3);
	after = uprobe_runs(a.pid);
	cr_assert_geq(after - before, 3, "the target's 3 mallocs ran %llu uprobe programs",
		      after - before);
	if (by_comm) {
		/* One of that name started later is probed too, once seen: its drips then count. */
		struct fixture later;
		long long deadline = clock__now_ms() + POLL_BOUND_MS;

		fixture__start_argv(&later, argv);
		do {
			before = uprobe_runs(a.pid);
			drip(&later, 1);
			after = uprobe_runs(a.pid);
		} while (after == before && clock__now_ms() < deadline &&
			 (clock__sleep_ms(100), true));
		cr_assert_gt(after, before, "pid %d, named %s, started later, was never probed",
			     later.pid, comm);
		fixture__stop(&later);
	}
	agent__stop(&a);
	fixture__stop(&target);
	fixture__stop(&other);
	free(fixture);
	tmpdir__free(&t);
}

Test(agent, non_target_process_takes_no_trap)
{
	assert_non_target_untouched(false);
}

/*
 * --comm NAME: each process of that name gets links of its own, not the host's every process;
 * a valgrind elsewhere on the host neither holds the agent off nor dies of its breakpoints.
 */
Test(agent, non_target_process_takes_no_trap_under_comm)
{
	assert_non_target_untouched(true);
}

/*
 * With --scan the heap profile carries what the scan found lost beside what is in use:
 * go tool pprof -sample_index=lost_space and lost_objects read the fixture's truth.
 */
Test(agent, pprof_carries_the_scans_lost_bytes)
{
	const char *args[] = { "freed_array", NULL };
	char pid[16], cmd[PATH_MAX + 160], out[4096], line[256], fn[64], kind[16], *want;
	char *exe = env__fixture("verdicts-fp");
	long long bytes = -1, blocks = -1;
	struct tmpdir t;
	struct fixture f;
	struct agent a;

	tmpdir__new(&t);
	fixture__start(&f, exe, args);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	agent__start(&a, &t,
		     (const char *const[]){ "-p", pid, "--scan", "--state-dir",
					    tmpdir__file(&t, "state"), NULL },
		     "leaktrace: tracing 1 process");
	/* The array is freed after the attach: its 100 strings are lost, as the fixture says. */
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	for (;;) {
		fixture__read_line(&f, line, sizeof(line), 30000);
		if (!strcmp(line, "done"))
			break;
		cr_assert_eq(sscanf(line, "truth %63s %15s %lld %lld", fn, kind, &bytes, &blocks),
			     4, "fixture: '%s'", line);
	}
	cr_assert_str_eq(fn, "freed_array");
	cr_assert_str_eq(kind, "definite");
	cr_assert(asprintf(&want,
			   "\nleaktrace_suspect_lost_bytes{pid=\"%d\",comm=\"verdicts-fp\","
			   "function=\"freed_array\",module=\"%s\",kind=\"definite\"} %lld\n",
			   (int)f.pid, exe, bytes) > 0);
	free(wait_metric(&a, &t, want));
	free(want);

	snprintf(cmd, sizeof(cmd),
		 "HOME=%s go tool pprof -sample_index=lost_space -unit=B -top %s/debug/pprof/heap "
		 "2>/dev/null | awk '$NF == \"freed_array\" {print $1}'",
		 t.path, a.url);
	sh__output(cmd, out, sizeof(out));
	snprintf(line, sizeof(line), "%lldB", bytes);
	cr_assert_str_eq(out, line);
	snprintf(cmd, sizeof(cmd),
		 "HOME=%s go tool pprof -sample_index=lost_objects -top %s/debug/pprof/heap "
		 "2>/dev/null | awk '$NF == \"freed_array\" {print $1}'",
		 t.path, a.url);
	sh__output(cmd, out, sizeof(out));
	snprintf(line, sizeof(line), "%lld", blocks);
	cr_assert_str_eq(out, line);

	agent__stop(&a);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

/* A process of the cgroup is traced; one that joins later, after SIGHUP. */
Test(agent, cgroup_targets_and_sighup_reload)
{
	char cg[128], procs[PATH_MAX], pid[32], *exe = env__fixture("leaky-fp"), *line, *m;
	struct fixture f1, f2;
	struct tmpdir t;
	struct agent a;
	FILE *fp;

	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/unified/lt-agent-%d", getpid());
	if (access("/sys/fs/cgroup/unified", F_OK))
		snprintf(cg, sizeof(cg), "/sys/fs/cgroup/lt-agent-%d", getpid());
	cr_assert_eq(mkdir(cg, 0755), 0, "mkdir %s: %s", cg, strerror(errno));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	tmpdir__new(&t);
	start_drip(&f1, "leaky-fp");
	start_drip(&f2, "leaky-fp");
	fp = fopen(procs, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "%d\n", f1.pid);
	cr_assert_eq(fclose(fp), 0);
	agent__start(&a, &t,
		     (const char *const[]){ "--cgroup", cg, "--state-dir",
					    tmpdir__file(&t, "state"), NULL },
		     "leaktrace: tracing 1 process");
	drip(&f1, 2);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f1.pid, exe, 8192);
	free(wait_metric(&a, &t, line));
	free(line);

	fp = fopen(procs, "w");
	fprintf(fp, "%d\n", f2.pid);
	cr_assert_eq(fclose(fp), 0);
	kill(a.pid, SIGHUP);
	snprintf(pid, sizeof(pid), "pid %d joined", f2.pid);
	cr_assert(file__wait_for(a.err_path, pid, POLL_BOUND_MS), "no '%s' after SIGHUP", pid);
	drip(&f2, 3);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f2.pid, exe, 12288);
	m = wait_metric(&a, &t, line);
	free(line);
	free(m);
	agent__stop(&a);

	/* Out of the cgroup, so that it can go. */
	fp = fopen("/sys/fs/cgroup/unified/cgroup.procs", "w");
	if (!fp)
		fp = fopen("/sys/fs/cgroup/cgroup.procs", "w");
	if (fp) {
		fprintf(fp, "%d\n", f1.pid);
		fclose(fp);
		fp = fopen(access("/sys/fs/cgroup/unified", F_OK) ?
				   "/sys/fs/cgroup/cgroup.procs" :
				   "/sys/fs/cgroup/unified/cgroup.procs",
			   "w");
		fprintf(fp, "%d\n", f2.pid);
		fclose(fp);
	}
	fixture__stop(&f1);
	fixture__stop(&f2);
	rmdir(cg);
	free(exe);
	tmpdir__free(&t);
}

/* The end of a traced process: its last snapshot, with its leak, in the state directory. */
Test(agent, ended_process_leaves_its_last_snapshot)
{
	char pid[16], state[PATH_MAX], path[PATH_MAX + 64], *exe = env__fixture("leaky-fp"), *line;
	struct fixture f;
	struct tmpdir t;
	struct agent a;
	json_t *snap, *proc;
	struct stack_sum sum;

	tmpdir__new(&t);
	snprintf(state, sizeof(state), "%s", tmpdir__file(&t, "state"));
	start_drip(&f, "leaky-fp");
	snprintf(pid, sizeof(pid), "%d", f.pid);
	agent__start(&a, &t, (const char *const[]){ "-p", pid, "--state-dir", state, NULL },
		     "leaktrace: tracing 1 process");
	drip(&f, 3);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f.pid, exe, 12288);
	free(wait_metric(&a, &t, line));
	free(line);
	fixture__stop(&f);
	cr_assert(file__wait_for(a.err_path, "ended; its last snapshot: ", POLL_BOUND_MS),
		  "no line about the end of pid %s", pid);
	snprintf(path, sizeof(path), "ls %s/leaktrace-*-%s.json", state, pid);
	sh__output(path, path, sizeof(path));
	snap = snapshot__load(path);
	proc = snapshot__process(snap, atoi(pid));
	cr_assert_not_null(proc);
	cr_assert(json_is_false(json_object_get(proc, "alive")));
	sum = stack__sum(proc, "leak_drip", "heap");
	cr_assert_eq(sum.bytes, 12288);
	cr_assert_eq(sum.allocs, 3);
	json_decref(snap);
	agent__stop(&a);
	free(exe);
	tmpdir__free(&t);
}

/* A metric's value in the /metrics body m (a series without labels); -1 when absent. */
static long long metric(const char *m, const char *name)
{
	char key[128];
	const char *at;

	snprintf(key, sizeof(key), "\n%s ", name);
	at = strstr(m, key);
	return at ? atoll(at + strlen(key)) : -1;
}

/* Polls /metrics until the agent has taken n snapshots more; the last body, to free. */
static char *after_snapshots(struct agent *a, struct tmpdir *t, int n)
{
	char *m = get(a, t, "/metrics", "metrics.txt"), line[64];

	snprintf(line, sizeof(line), "\nleaktrace_snapshots_total %lld\n",
		 metric(m, "leaktrace_snapshots_total") + n);
	free(m);
	return wait_metric(a, t, line);
}

/* A copy of file named name in t, for --comm: a name of the test's own. */
static void copy_as(struct tmpdir *t, const char *file, const char *name, char *path, size_t size)
{
	char cmd[2 * PATH_MAX + 16];

	snprintf(path, size, "%s", tmpdir__file(t, name));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", file, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * Processes of --comm that end holding nothing (short ones, seen after their exit): the agent
 * lets their state go once reported; it holds what runs, for weeks of processes that come
 * and go.
 */
Test(agent, forgets_processes_that_ended_holding_nothing)
{
	char comm[16], exe[PATH_MAX], *m;
	struct run_result r;
	struct tmpdir t;
	struct agent a;

	tmpdir__new(&t);
	snprintf(comm, sizeof(comm), "ltnil%d", (int)getpid());
	copy_as(&t, "/bin/true", comm, exe, sizeof(exe));
	agent__start(&a, &t, (const char *const[]){ "--comm", comm, NULL },
		     "leaktrace: tracing all processes named");
	for (int i = 0; i < 20; i++) {
		run__cmd((char *[]){ exe, NULL }, NULL, RUN_TIMEOUT_S, &r);
		cr_assert_eq(run__exit_code(&r), 0, "%s: %s", exe, r.err);
		run__free(&r);
	}
	/* One snapshot sees them end, the next one's reap lets them go. */
	m = after_snapshots(&a, &t, 3);
	cr_assert_eq(metric(m, "leaktrace_self_processes"), 0, "/metrics:\n%s", m);
	free(m);
	agent__stop(&a);
	tmpdir__free(&t);
}

/*
 * A process of --comm that execs another name is no longer traced: its last snapshot is
 * saved as an ended one's, and the agent lets it go.
 */
Test(agent, lets_go_of_a_process_that_execs_another_name)
{
	char comm[16], exe[PATH_MAX], *fixture = env__fixture("leaky-nofp"), *m, *line;
	char *argv[] = { exe, "drip", NULL };
	struct fixture f;
	struct tmpdir t;
	struct agent a;

	tmpdir__new(&t);
	snprintf(comm, sizeof(comm), "ltexe%d", (int)getpid());
	copy_as(&t, fixture, comm, exe, sizeof(exe));
	fixture__start_argv(&f, argv);
	agent__start(&a, &t,
		     (const char *const[]){ "--comm", comm, "--state-dir",
					    tmpdir__file(&t, "state"), NULL },
		     "leaktrace: tracing all processes named");
	drip(&f, 2);
	cr_assert(asprintf(&line, "\nleaktrace_process_outstanding_bytes{pid=\"%d\",comm=\"%s\"",
			   (int)f.pid, comm) > 0);
	free(wait_metric(&a, &t, line));
	free(line);
	cr_assert_eq(write(f.in_fd, "exec\n", 5), 5);
	cr_assert(file__wait_for(a.err_path, "ended; its last snapshot: ", POLL_BOUND_MS),
		  "no line about the end of pid %d", (int)f.pid);
	m = after_snapshots(&a, &t, 3);
	cr_assert_eq(metric(m, "leaktrace_self_processes"), 0, "/metrics:\n%s", m);
	free(m);
	agent__stop(&a);
	fixture__stop(&f);
	free(fixture);
	tmpdir__free(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0, "%s: %s", path, strerror(errno));
}

/*
 * A memory cgroup of 64 MiB for pid (v2's memory.max, or v1's memory controller); its
 * directory in dir.
 */
static void memory_cgroup(char *dir, size_t size, pid_t pid)
{
	char path[PATH_MAX + 32], text[32];
	bool v2 = !access("/sys/fs/cgroup/cgroup.controllers", F_OK);

	snprintf(dir, size, "/sys/fs/cgroup/%slt-agent-oom-%d", v2 ? "" : "memory/", getpid());
	cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
	write_file(path, "67108864\n");
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	write_file(path, text);
}

/* The kernel kills a leaking process of a small cgroup: its heap at death is kept, exact. */
Test(agent, oom_killed_process_leaves_its_heap)
{
	char pid[16], state[PATH_MAX], cg[PATH_MAX], path[PATH_MAX + 64];
	struct fixture f;
	struct tmpdir t;
	struct agent a;
	json_t *snap, *proc;
	struct stack_sum sum;
	int status;

	tmpdir__new(&t);
	snprintf(state, sizeof(state), "%s", tmpdir__file(&t, "state"));
	start_drip(&f, "leaky-fp");
	memory_cgroup(cg, sizeof(cg), f.pid);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	agent__start(&a, &t, (const char *const[]){ "-p", pid, "--state-dir", state, NULL },
		     "leaktrace: tracing 1 process");
	drip(&f, 2);
	cr_assert_eq(write(f.in_fd, "oom\n", 4), 4);
	cr_assert_eq(proc__wait(f.pid, POLL_BOUND_MS, &status), 0,
		     "the fixture outlived its cgroup");
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	if (!file__wait_for(a.err_path,
			    "was killed by the OOM killer; its last snapshot: ", POLL_BOUND_MS)) {
		snprintf(path, sizeof(path), "cat %s", a.err_path);
		sh__output(path, path, sizeof(path));
		cr_assert_fail("no line about the OOM kill of pid %s:\n%s", pid, path);
	}
	snprintf(path, sizeof(path), "ls %s/leaktrace-*-%s.json", state, pid);
	sh__output(path, path, sizeof(path));
	snap = snapshot__load(path);
	proc = snapshot__process(snap, atoi(pid));
	cr_assert_not_null(proc);
	sum = stack__sum(proc, "leak_drip", "heap");
	cr_assert_eq(sum.bytes, 8192);
	cr_assert_eq(sum.allocs, 2);
	/* What it flooded the cgroup with: whole MiB blocks, at least one. */
	sum = stack__sum(proc, "leak_flood", "heap");
	cr_assert_geq(sum.allocs, 1);
	cr_assert_eq(sum.bytes, sum.allocs * (1LL << 20));
	json_decref(snap);
	agent__stop(&a);
	fixture__stop(&f);
	rmdir(cg);
	tmpdir__free(&t);
}

/* A TCP port free now on loopback, for a server that cannot take port 0. */
static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/*
 * Prometheus's alerts (its API) that are firing, named alertname, for pid: the function label
 * of the first into fn (size 256), and their count.
 */
static int firing(struct tmpdir *t, int port, const char *alertname, pid_t pid, char *fn,
		  bool any_state)
{
	char cmd[256], *argv[] = { "curl", "-sS", cmd, NULL };
	struct run_result r;
	json_error_t jerr;
	json_t *doc, *alert;
	size_t i;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "http://127.0.0.1:%d/api/v1/alerts", port);
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	doc = run__exit_code(&r) ? NULL : json_loads(r.out, 0, &jerr);
	run__free(&r);
	if (!doc)
		return 0; /* not up yet */
	json_array_foreach(json_object_get(json_object_get(doc, "data"), "alerts"), i, alert) {
		json_t *labels = json_object_get(alert, "labels");
		const char *state = json_string_value(json_object_get(alert, "state"));
		const char *name = json_string_value(json_object_get(labels, "alertname"));
		const char *p = json_string_value(json_object_get(labels, "pid"));

		if (!name || strcmp(name, alertname) || !p || atoi(p) != pid || !state ||
		    (!any_state && strcmp(state, "firing")))
			continue;
		if (!n++)
			snprintf(fn, 256, "%s",
				 json_string_value(json_object_get(labels, "function")) ?: "");
	}
	json_decref(doc);
	return n;
}

/*
 * A real Prometheus scrapes the agent and evaluates deploy/prometheus's rules (their "for"
 * cut to 5 s for the test): the growing stack's alert fires naming leak_drip; the fixture
 * that stopped growing (a warm cache) raises none.
 */
Test(agent, prometheus_alert_names_the_leaking_function)
{
	char pid[16], pid2[16], cfg[PATH_MAX], cmd[2 * PATH_MAX + 256], fn[256] = "", out[64];
	char *prom_argv[8], listen[64], storage[PATH_MAX + 32], config[PATH_MAX + 16], *line,
		*exe = env__fixture("leaky-fp");
	long long deadline;
	struct fixture leak, cache;
	struct tmpdir t;
	struct agent a;
	int port;
	FILE *fp;

	if (system("command -v prometheus >/dev/null"))
		cr_skip_test("no prometheus (apt-get install prometheus)");
	tmpdir__new(&t);
	start_drip(&leak, "leaky-fp");
	start_drip(&cache, "leaky-fp");
	snprintf(pid, sizeof(pid), "%d", leak.pid);
	snprintf(pid2, sizeof(pid2), "%d", cache.pid);
	agent__start(&a, &t,
		     (const char *const[]){ "-p", pid, "-p", pid2, "--state-dir",
					    tmpdir__file(&t, "state"), NULL },
		     "leaktrace: tracing 2 processes");
	/* The cache fills once, then holds: its growth stops after a few snapshots. */
	drip(&cache, 4);

	snprintf(cmd, sizeof(cmd),
		 "sed 's/for: 15m/for: 5s/; s/for: 5m/for: 5s/' "
		 "deploy/prometheus/leaktrace-rules.yml > %s",
		 tmpdir__file(&t, "rules.yml"));
	sh__output(cmd, out, sizeof(out));
	snprintf(cfg, sizeof(cfg), "%s", tmpdir__file(&t, "prometheus.yml"));
	fp = fopen(cfg, "w");
	cr_assert_not_null(fp);
	fprintf(fp,
		"global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
		"rule_files: ['%s']\n"
		"scrape_configs:\n"
		"  - job_name: leaktrace\n"
		"    static_configs: [{targets: ['%s']}]\n",
		tmpdir__file(&t, "rules.yml"), a.url + strlen("http://"));
	cr_assert_eq(fclose(fp), 0);
	port = free_port();
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(storage, sizeof(storage), "--storage.tsdb.path=%s", tmpdir__file(&t, "tsdb"));
	prom_argv[0] = "prometheus";
	snprintf(config, sizeof(config), "--config.file=%s", cfg);
	prom_argv[1] = config;
	prom_argv[2] = storage;
	prom_argv[3] = listen;
	prom_argv[4] = NULL;
	proc__spawn(prom_argv, -1, -1, -1);

	/* The leak grows while the test polls: one block per round, until the alert fires. */
	deadline = clock__now_ms() + 3 * POLL_BOUND_MS;
	while (!firing(&t, port, "LeaktraceStackGrowing", leak.pid, fn, false)) {
		cr_assert_lt(clock__now_ms(), deadline,
			     "LeaktraceStackGrowing did not fire for pid %d", leak.pid);
		drip(&leak, 1);
		clock__sleep_ms(200);
	}
	cr_assert_str_eq(fn, "leak_drip");
	line = suspect_line("leaktrace_suspect_growing", leak.pid, exe, 1);
	free(wait_metric(&a, &t, line));
	free(line);
	/* The cache: no alert, not even pending, while the leak's fired. */
	cr_assert_eq(firing(&t, port, "LeaktraceStackGrowing", cache.pid, fn, true), 0,
		     "an alert for the cache (pid %d), which does not grow", cache.pid);
	agent__stop(&a);
	fixture__stop(&leak);
	fixture__stop(&cache);
	free(exe);
	tmpdir__free(&t);
}

/*
 * The live page in headless Chromium: the leaking function's label is drawn with its exact
 * bytes, and its series (the page's own data, in #series) rises to 20480.
 */
Test(agent, live_page_shows_the_leak_rising)
{
	char pid[16], key[64], cmd[PATH_MAX + 256], *exe = env__fixture("leaky-fp"), *line, *page;
	char *dom, *pre, *end;
	struct fixture f;
	struct tmpdir t;
	struct agent a;
	json_error_t jerr;
	json_t *data, *pts, *pt;
	long long prev = -1, first = -1;
	size_t i;

	if (system("command -v chromium >/dev/null"))
		cr_skip_test("no chromium (apt-get install chromium)");
	tmpdir__new(&t);
	start_drip(&f, "leaky-fp");
	snprintf(pid, sizeof(pid), "%d", f.pid);
	agent__start(&a, &t,
		     (const char *const[]){ "-p", pid, "--state-dir", tmpdir__file(&t, "state"),
					    NULL },
		     "leaktrace: tracing 1 process");
	drip(&f, 2);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f.pid, exe, 8192);
	free(wait_metric(&a, &t, line));
	free(line);
	drip(&f, 3);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f.pid, exe, 20480);
	free(wait_metric(&a, &t, line));
	free(line);

	/* Self-contained: nothing but the agent's own paths (the SVG namespace is a name). */
	page = get(&a, &t, "/", "page.html");
	for (char *h = page; (h = strstr(h, "http")); h += 4)
		cr_assert(!strncmp(h, "http://www.w3.org/2000/svg", 26), "the page names %.40s", h);
	free(page);

	snprintf(cmd, sizeof(cmd),
		 "HOME=%s timeout 120 chromium --headless --no-sandbox --disable-gpu "
		 "--virtual-time-budget=5000 --dump-dom %s/ 2>/dev/null > %s; echo",
		 t.path, a.url, tmpdir__file(&t, "dom.html"));
	sh__output(cmd, key, sizeof(key));
	{
		FILE *fp = fopen(tmpdir__file(&t, "dom.html"), "r");
		long n;

		cr_assert_not_null(fp);
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		dom = calloc(1, n + 1);
		cr_assert_eq(fread(dom, 1, n, fp), (size_t)n);
		fclose(fp);
	}
	snprintf(key, sizeof(key), ">leak_drip (leaky-fp %d): 20.0 KiB<", f.pid);
	cr_assert_not_null(strstr(dom, key), "no label '%s' on the page", key);
	pre = strstr(dom, "<pre id=\"series\">");
	cr_assert_not_null(pre);
	pre += strlen("<pre id=\"series\">");
	end = strstr(pre, "</pre>");
	cr_assert_not_null(end);
	*end = 0;
	data = json_loads(pre, 0, &jerr);
	cr_assert_not_null(data, "#series is not JSON: %s", pre);
	snprintf(key, sizeof(key), "leak_drip (leaky-fp %d)", f.pid);
	pts = json_object_get(json_object_get(data, "stacks"), key);
	cr_assert(json_array_size(pts) >= 2, "no series '%s': %s", key, pre);
	json_array_foreach(pts, i, pt) {
		long long b = json_integer_value(json_array_get(pt, 1));

		cr_assert_geq(b, prev, "the series falls: %s", pre);
		if (first < 0)
			first = b;
		prev = b;
	}
	/* From the first snapshot with one block or two (the drips are not timed) to all five. */
	cr_assert(first == 4096 || first == 8192, "first point %lld: %s", first, pre);
	cr_assert_eq(prev, 20480);
	json_decref(data);
	free(dom);
	agent__stop(&a);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

#define UNIT "deploy/systemd/leaktrace-agent.service"

/* systemd-analyze verify finds nothing to say of the unit (ExecStart pointed at $LEAKTRACE). */
Test(agent, systemd_unit_verifies)
{
	char cmd[2 * PATH_MAX], out[4096];
	struct tmpdir t;

	if (system("command -v systemd-analyze >/dev/null"))
		cr_skip_test("no systemd-analyze");
	tmpdir__new(&t);
	snprintf(cmd, sizeof(cmd), "sed 's|/usr/local/bin/leaktrace|%s|' " UNIT " > %s",
		 env__leaktrace(), tmpdir__file(&t, "leaktrace-agent.service"));
	sh__output(cmd, out, sizeof(out));
	snprintf(cmd, sizeof(cmd), "systemd-analyze verify %s 2>&1",
		 tmpdir__file(&t, "leaktrace-agent.service"));
	sh__output(cmd, out, sizeof(out));
	cr_assert_str_eq(out, "", "systemd-analyze verify: %s", out);
	tmpdir__free(&t);
}

/* With the unit's capabilities only (its CapabilityBoundingSet), the agent still counts exactly. */
Test(agent, unit_capabilities_suffice)
{
	char caps[512], set[600] = "--bounding-set=-all", pid[16], *exe = env__fixture("leaky-fp");
	char *argv[24] = { "setpriv",
			   set,
			   (char *)env__leaktrace(),
			   "agent",
			   "--listen",
			   "127.0.0.1:0",
			   "-i",
			   "1",
			   "-p",
			   pid,
			   "--state-dir",
			   NULL,
			   "--sample-bytes",
			   "0",
			   NULL };
	struct fixture f;
	struct tmpdir t;
	struct agent a;
	char *line, *tok, *save;

	if (system("command -v setpriv >/dev/null"))
		cr_skip_test("no setpriv");
	tmpdir__new(&t);
	sh__output("sed -n 's/^CapabilityBoundingSet=//p' " UNIT, caps, sizeof(caps));
	for (tok = strtok_r(caps, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t len = strlen(set);

		/* CAP_BPF: setpriv's name is bpf. */
		snprintf(set + len, sizeof(set) - len, ",+%s", tok + strlen("CAP_"));
		for (char *c = set + len; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	start_drip(&f, "leaky-fp");
	snprintf(pid, sizeof(pid), "%d", f.pid);
	argv[11] = strdup(tmpdir__file(&t, "state"));
	/* agent__start's spawn, by hand: setpriv runs leaktrace with those capabilities. */
	snprintf(a.err_path, sizeof(a.err_path), "%s", tmpdir__file(&t, "agent.err"));
	{
		int fd = open(a.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[512] = "";
		FILE *fp;

		a.pid = proc__spawn(argv, -1, -1, fd);
		close(fd);
		file__assert_tracing(a.err_path, "leaktrace: tracing 1 process");
		fp = fopen(a.err_path, "r");
		while (fp && fgets(buf, sizeof(buf), fp))
			if (sscanf(buf, "leaktrace: serving %127s", a.url) == 1)
				break;
		if (fp)
			fclose(fp);
	}
	drip(&f, 2);
	line = suspect_line("leaktrace_suspect_outstanding_bytes", f.pid, exe, 8192);
	free(wait_metric(&a, &t, line));
	free(line);
	agent__stop(&a);
	fixture__stop(&f);
	free(argv[11]);
	free(exe);
	tmpdir__free(&t);
}

TestSuite(agent, .fini = procs__cleanup);
