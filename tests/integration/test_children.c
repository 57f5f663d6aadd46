// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run mode follows every process of the command (fork, vfork, posix_spawn,
 * exec, shells, pipelines, make), each reported on its own and equal to
 * valgrind --trace-children=yes; job control works as untraced; -p follows an
 * exec into another allocator.
 */
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

TestSuite(children, .fini = procs__cleanup);

/* "leaktrace -q -o DIR/run.json OPTS... -- ARGV..." (both NULL-terminated); exits CODE. */
static json_t *run_traced(struct tmpdir *t, const char *const opts[], const char *const argv[],
			  int code, struct run_result *r)
{
	char *args[64], out[PATH_MAX];
	int n = 0;

	snprintf(out, sizeof(out), "%s", tmpdir__file(t, "run.json"));
	args[n++] = (char *)env__leaktrace();
	args[n++] = "-q";
	args[n++] = "-o";
	args[n++] = out;
	for (int i = 0; opts && opts[i]; i++)
		args[n++] = (char *)opts[i];
	args[n++] = "--";
	for (int i = 0; argv[i] && n < 63; i++)
		args[n++] = (char *)argv[i];
	args[n] = NULL;
	run__cmd(args, NULL, RUN_TIMEOUT_S, r);
	cr_assert_eq(run__exit_code(r), code, "leaktrace -- %s: exit %d, expected %d; stderr:\n%s",
		     argv[0], run__exit_code(r), code, r->err);
	return snapshot__load(out);
}

/* The process's argv joined by spaces, into buf. */
static const char *argv_line(json_t *proc, char *buf, size_t len)
{
	json_t *argv = json_object_get(proc, "argv"), *a;
	size_t i, at = 0;

	buf[0] = '\0';
	json_array_foreach(argv, i, a)
		at += snprintf(buf + at, at < len ? len - at : 0, "%s%s", i ? " " : "",
			       json_string_value(a));
	return buf;
}

/* The only process whose argv is LINE; fails the test when not exactly one. */
static json_t *proc_by_argv(json_t *snap, const char *line)
{
	json_t *procs = json_object_get(snap, "processes"), *p, *found = NULL;
	char buf[1024];
	size_t i;
	int n = 0;

	json_array_foreach(procs, i, p) {
		if (!strcmp(argv_line(p, buf, sizeof(buf)), line)) {
			found = p;
			n++;
		}
	}
	cr_assert_eq(n, 1, "%d processes with argv '%s' in the snapshot", n, line);
	return found;
}

/* How many processes the snapshot has; their argv on stderr when not EXPECTED. */
static size_t nr_procs(json_t *snap, size_t expected)
{
	json_t *procs = json_object_get(snap, "processes"), *p;
	char buf[1024];
	size_t i;

	if (json_array_size(procs) != expected)
		json_array_foreach(procs, i, p)
			fprintf(stderr, "process %lld: %s\n", json__int(p, "pid"),
				argv_line(p, buf, sizeof(buf)));
	return json_array_size(procs);
}

static void assert_leak(json_t *proc, const char *func, long long bytes, long long allocs)
{
	struct stack_sum s = stack__sum(proc, func, "heap");
	char buf[1024];

	cr_assert_eq(s.bytes, bytes, "%s in '%s': %lld bytes, expected %lld", func,
		     argv_line(proc, buf, sizeof(buf)), s.bytes, bytes);
	cr_assert_eq(s.allocs, allocs, "%s in '%s': %lld allocs, expected %lld", func,
		     argv_line(proc, buf, sizeof(buf)), s.allocs, allocs);
}

/*
 * valgrind --trace-children=yes --leak-check=full on ARGV, per process (by its
 * "Command:" line): "in use at exit" and the LEAK SUMMARY's four kinds (libc's
 * buffers kept, as leaktrace sees them).
 */
enum vg_kind { VG_IN_USE, VG_DEFINITE, VG_INDIRECT, VG_POSSIBLE, VG_REACHABLE, VG_NR_KINDS };

static const char *const vg_label[VG_NR_KINDS] = { "in use at exit:", "definitely lost:",
						   "indirectly lost:", "possibly lost:",
						   "still reachable:" };
/* leaktrace's JSON fields, summed over a process's heap stacks, for each kind. */
static const char *const vg_field[VG_NR_KINDS][2] = {
	{ "bytes", "allocs" },
	{ "lost_bytes", "lost_allocs" },
	{ "indirect_bytes", "indirect_allocs" },
	{ "possible_bytes", "possible_allocs" },
	{ "reachable_bytes", "reachable_allocs" },
};

struct vg_proc {
	int pid;
	char command[256];
	long long bytes[VG_NR_KINDS], blocks[VG_NR_KINDS];
};

/* The entry of PID in V, added (as a fork child's: no command line) when new. */
static struct vg_proc *vg_proc_of(struct vg_proc *v, int *nr, int max, int pid)
{
	int i;

	for (i = 0; i < *nr && v[i].pid != pid; i++)
		;
	if (i == *nr && *nr < max)
		v[(*nr)++] = (struct vg_proc){ .pid = pid, .command = "(fork)" };
	return i < *nr ? &v[i] : NULL;
}

/* One line of valgrind's stderr, its numbers without their commas, into V. */
static void vg_line(char *line, struct vg_proc *v, int *nr, int max)
{
	char cmd[256], label[32];
	long long bytes, blocks;
	struct vg_proc *p;
	int pid, k;

	if (sscanf(line, "==%d== Command: %255[^\n]", &pid, cmd) == 2) {
		p = vg_proc_of(v, nr, max, pid);
		if (p)
			snprintf(p->command, sizeof(p->command), "%s", cmd);
		return;
	}
	for (char *c = line, *o = line;; c++)
		if (*c != ',' && !(*o++ = *c))
			break;
	if (sscanf(line, "==%d== %31[a-z ]: %lld bytes in %lld blocks", &pid, label, &bytes,
		   &blocks) != 4)
		return;
	strcat(label, ":");
	for (k = 0; k < VG_NR_KINDS && strcmp(vg_label[k], label); k++)
		;
	p = vg_proc_of(v, nr, max, pid);
	if (k < VG_NR_KINDS && p) {
		p->bytes[k] = bytes;
		p->blocks[k] = blocks;
	}
}

static int valgrind_run(const char *const argv[], struct vg_proc *v, int max)
{
	char *args[32] = { "valgrind",
			   "--trace-children=yes",
			   "--run-libc-freeres=no",
			   "--run-cxx-freeres=no",
			   "--leak-check=full",
			   "--show-leak-kinds=none" };
	int n = 6, nr = 0;
	struct run_result r;
	char *line, *save = NULL;

	for (int i = 0; argv[i]; i++)
		args[n++] = (char *)argv[i];
	args[n] = NULL;
	/*
	 * A `leaktrace -a` elsewhere on the host (another test) puts breakpoints in
	 * the code valgrind translates, and it dies of SIGTRAP: then it runs again.
	 */
	for (int tries = 0;; tries++) {
		run__cmd(args, NULL, 120, &r);
		if ((run__exit_code(&r) != -1 && run__exit_code(&r) < 128) || tries == 4)
			break;
		run__free(&r);
	}
	cr_assert_eq(run__exit_code(&r), 0, "valgrind: exit %d:\n%s", run__exit_code(&r), r.err);
	/* A process without a LEAK SUMMARY ("All heap blocks were freed") has zeros. */
	for (line = strtok_r(r.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		vg_line(line, v, &nr, max);
	run__free(&r);
	return nr;
}

/*
 * Processes that copy their environment (sh, make) allocate by its size, and Debian's
 * valgrind adds to its clients' (its /usr/bin/valgrind script exports PWD,
 * LD_LIBRARY_PATH and GLIBCXX_FORCE_NEW; valgrind sets LD_PRELOAD, and VALGRIND_LIB
 * in its children's). Before leaktrace's run of a command valgrind runs too: the
 * same variables, with an LD_PRELOAD as long as valgrind's that loads nothing new
 * (libc, which every process loads anyway). VALGRIND_LIB stays for valgrind's run,
 * so that its first process has it too. env_restore() undoes the rest.
 */
static const char vg_preload[] = "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so:"
				 "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so";
static char *saved_ldlp, *saved_pwd;

static void env_as_under_valgrind(void)
{
	static const char libc[] = "/lib/x86_64-linux-gnu/libc.so.6";
	char preload[sizeof(vg_preload)], ldlp[PATH_MAX], cwd[PATH_MAX];
	const char *old = getenv("LD_LIBRARY_PATH");

	cr_assert_null(getenv("LD_PRELOAD"), "the tests run without LD_PRELOAD");
	saved_ldlp = old ? strdup(old) : NULL;
	saved_pwd = getenv("PWD") ? strdup(getenv("PWD")) : NULL;
	/* "//////.../lib/x86_64-linux-gnu/libc.so.6", as long as valgrind's list. */
	memset(preload, '/', sizeof(preload) - sizeof(libc));
	memcpy(preload + sizeof(preload) - sizeof(libc), libc, sizeof(libc));
	snprintf(ldlp, sizeof(ldlp), "%s%s/usr/lib/debug", old ?: "", old ? ":" : "");
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	setenv("LD_PRELOAD", preload, 1);
	setenv("LD_LIBRARY_PATH", ldlp, 1);
	setenv("GLIBCPP_FORCE_NEW", "1", 1);
	setenv("GLIBCXX_FORCE_NEW", "1", 1);
	setenv("PWD", cwd, 1);
	setenv("VALGRIND_LIB", "/usr/libexec/valgrind", 1);
}

static void env_restore(void)
{
	unsetenv("LD_PRELOAD");
	unsetenv("GLIBCPP_FORCE_NEW");
	unsetenv("GLIBCXX_FORCE_NEW");
	if (saved_ldlp)
		setenv("LD_LIBRARY_PATH", saved_ldlp, 1);
	else
		unsetenv("LD_LIBRARY_PATH");
	if (saved_pwd)
		setenv("PWD", saved_pwd, 1);
	else
		unsetenv("PWD");
	free(saved_ldlp);
	free(saved_pwd);
}

/* PROC's "in use at exit" and each verdict equal those of valgrind's process CMD. */
static void assert_equals_valgrind(json_t *proc, const struct vg_proc *v, int n, const char *cmd)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].command, cmd))
			continue;
		for (int k = 0; k < VG_NR_KINDS; k++) {
			long long bytes = 0, blocks = 0;
			json_t *stack;
			size_t j;

			json_array_foreach(json_object_get(proc, "stacks"), j, stack) {
				if (strcmp(json_string_value(json_object_get(stack, "kind")),
					   "heap"))
					continue; /* valgrind judges no mapping */
				bytes += json__int(stack, vg_field[k][0]);
				blocks += json__int(stack, vg_field[k][1]);
			}
			cr_assert_eq(bytes, v[i].bytes[k], "'%s': %s %lld bytes, valgrind %lld",
				     cmd, vg_label[k], bytes, v[i].bytes[k]);
			cr_assert_eq(blocks, v[i].blocks[k], "'%s': %s %lld blocks, valgrind %lld",
				     cmd, vg_label[k], blocks, v[i].blocks[k]);
		}
		return;
	}
	cr_assert_fail("valgrind did not report '%s'", cmd);
}

Test(children, pipeline_each_process_equals_valgrind, .timeout = 240)
{
	char *leaky = env__fixture("leaky-nofp"), script[PATH_MAX + 32], line[PATH_MAX + 64];
	const char *argv[] = { "sh", "-c", script, NULL };
	struct vg_proc vg[8];
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *p;
	int n;

	snprintf(script, sizeof(script), "%s run lost | cat", leaky);
	tmpdir__new(&t);
	env_as_under_valgrind();
	snap = run_traced(&t, NULL, argv, 0, &r);
	env_restore();
	cr_assert_eq(nr_procs(snap, 3), 3, "sh, leaky and cat");
	snprintf(line, sizeof(line), "%s run lost", leaky);
	p = proc_by_argv(snap, line);
	assert_leak(p, "lose_blocks", 7770, 10);
	assert_leak(p, "keep_cache", 50000, 100);
	cr_assert_eq(json__int(p, "lost_bytes"), 7834);
	cr_assert_eq(json__int(p, "indirect_bytes"), 144);
	cr_assert(json_is_false(json_object_get(p, "alive")));
	n = valgrind_run(argv, vg, 8);
	assert_equals_valgrind(p, vg, n, line);
	assert_equals_valgrind(proc_by_argv(snap, "cat"), vg, n, "/usr/bin/cat");
	snprintf(line, sizeof(line), "sh -c %s", script);
	p = proc_by_argv(snap, line);
	cr_assert_eq(json__int(p, "lost_bytes"), 0);
	/* valgrind's Command: line escapes the spaces inside an argument. */
	snprintf(line, sizeof(line), "sh -c %s\\ run\\ lost\\ |\\ cat", leaky);
	assert_equals_valgrind(p, vg, n, line);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

Test(children, make_recipe_is_traced, .timeout = 120)
{
	char *leaky = env__fixture("leaky-nofp"), line[PATH_MAX + 32], dir[PATH_MAX];
	const char *argv[] = { "make", "-s", "-C", NULL, NULL };
	struct vg_proc vg[8];
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *p, *m;
	FILE *f;
	int n;

	tmpdir__new(&t);
	/* A directory of its own: make reads it, and run.json beside would be one more entry. */
	snprintf(dir, sizeof(dir), "%s", tmpdir__file(&t, "mk"));
	cr_assert_eq(mkdir(dir, 0755), 0);
	argv[3] = dir;
	f = fopen(tmpdir__file(&t, "mk/Makefile"), "w");
	cr_assert_not_null(f);
	fprintf(f, "all:\n\t%s run malloc\n", leaky);
	fclose(f);
	env_as_under_valgrind();
	snap = run_traced(&t, NULL, argv, 0, &r);
	env_restore();
	snprintf(line, sizeof(line), "%s run malloc", leaky);
	p = proc_by_argv(snap, line);
	assert_leak(p, "leak_malloc", 100000, 1000);
	cr_assert_eq(json__int(p, "lost_bytes"), 0, "leak_malloc's blocks are held to the end");
	snprintf(line, sizeof(line), "make -s -C %s", dir);
	m = proc_by_argv(snap, line);
	assert_leak(m, "leak_malloc", 0, 0);
	n = valgrind_run(argv, vg, 8);
	assert_equals_valgrind(m, vg, n, line);
	snprintf(line, sizeof(line), "%s run malloc", leaky);
	assert_equals_valgrind(p, vg, n, line);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

Test(children, fork_vfork_posix_spawn_each_reported, .timeout = 240)
{
	char *exe = env__fixture("children-nofp");
	const char *argv[] = { exe, "spawn", NULL };
	struct vg_proc vg[8];
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *procs, *p;
	char line[PATH_MAX + 32];
	size_t i;
	int n, forked = 0;

	tmpdir__new(&t);
	snap = run_traced(&t, NULL, argv, 0, &r);
	cr_assert_eq(nr_procs(snap, 4), 4, "parent, fork, vfork and spawn");
	/* The parent and its fork child have the same argv: one leaks from leak_in_fork. */
	procs = json_object_get(snap, "processes");
	json_array_foreach(procs, i, p) {
		if (stack__sum(p, "leak_in_fork", "heap").allocs) {
			assert_leak(p, "leak_in_fork", 1500, 5);
			forked++;
		}
	}
	cr_assert_eq(forked, 1, "%d processes leak from leak_in_fork", forked);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_before_attach"), 0);
	p = proc_by_argv(snap, "children leak 100 10");
	assert_leak(p, "leak_here", 1000, 10);
	n = valgrind_run(argv, vg, 8);
	snprintf(line, sizeof(line), "%s leak 100 10", exe);
	assert_equals_valgrind(p, vg, n, line);
	p = proc_by_argv(snap, "children leak 200 20");
	assert_leak(p, "leak_here", 4000, 20);
	snprintf(line, sizeof(line), "%s leak 200 20", exe);
	assert_equals_valgrind(p, vg, n, line);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/* A wrapper sets LD_PRELOAD and execs: the program's own allocator is the one probed. */
static void assert_preload_wrapper(const char *lib)
{
	char *leaky = env__fixture("leaky-nofp"), preload[64], line[PATH_MAX + 32];
	const char *argv[] = { "env", preload, leaky, "run", "malloc", NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
	tmpdir__new(&t);
	snap = run_traced(&t, NULL, argv, 0, &r);
	cr_assert_eq(nr_procs(snap, 1), 1, "env execs the program: one process");
	snprintf(line, sizeof(line), "%s run malloc", leaky);
	assert_leak(proc_by_argv(snap, line), "leak_malloc", 100000, 1000);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

Test(children, ld_preload_tcmalloc_wrapper, .timeout = 60)
{
	assert_preload_wrapper("libtcmalloc.so.4");
}

Test(children, ld_preload_jemalloc_wrapper, .timeout = 60)
{
	assert_preload_wrapper("libjemalloc.so.2");
}

Test(children, no_children_reports_only_the_command, .timeout = 60)
{
	char *leaky = env__fixture("leaky-nofp"), script[PATH_MAX + 32], line[PATH_MAX + 64];
	const char *argv[] = { "sh", "-c", script, NULL };
	const char *opts[] = { "--no-children", NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap;

	snprintf(script, sizeof(script), "%s run malloc | cat", leaky);
	tmpdir__new(&t);
	snap = run_traced(&t, opts, argv, 0, &r);
	cr_assert_eq(nr_procs(snap, 1), 1, "--no-children: only sh");
	snprintf(line, sizeof(line), "sh -c %s", script);
	assert_leak(proc_by_argv(snap, line), "leak_malloc", 0, 0);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

static void assert_gate(const char *fmt)
{
	char *leaky = env__fixture("leaky-nofp"), script[PATH_MAX + 32];
	char *argv[] = { (char *)env__leaktrace(),
			 "-q",
			 "--fail-on-leak",
			 "1",
			 "--",
			 "sh",
			 "-c",
			 script,
			 NULL };
	struct run_result r;

	snprintf(script, sizeof(script), fmt, leaky);
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 3, "sh -c '%s': exit %d, expected 3; stderr:\n%s", script,
		     run__exit_code(&r), r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: 7,978 bytes lost, --fail-on-leak 1: "
					 "failing"),
			   "stderr:\n%s", r.err);
	run__free(&r);
	free(leaky);
}

Test(children, fail_on_leak_counts_an_execd_program, .timeout = 60)
{
	assert_gate("%s run lost");
}

Test(children, fail_on_leak_counts_a_child, .timeout = 60)
{
	assert_gate("%s run lost; exit 0");
}

/* The state letter of pid in /proc (R, S, T, t, Z...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], line[256], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "State: %c", &state) == 1)
			break;
	if (f)
		fclose(f);
	return state;
}

static bool wait_state(pid_t pid, const char *states)
{
	for (int i = 0; i < 30000; i++) {
		char s = proc_state(pid);

		if (s && strchr(states, s))
			return true;
		usleep(1000);
	}
	return false;
}

/* "leaktrace -q -- children ARGS..." in the background, its stdin a pipe. */
static pid_t start_traced(const char *mode, const char *code, int *in_fd, int out_fd)
{
	char *exe = env__fixture("children-nofp");
	char *argv[] = {
		(char *)env__leaktrace(), "-q", "--", exe, (char *)mode, (char *)code, NULL
	};
	int fds[2];
	pid_t pid;

	/* Close-on-exec: the command must not hold the end we write, or it never sees EOF. */
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = proc__spawn(argv, fds[0], out_fd, -1);
	close(fds[0]);
	*in_fd = fds[1];
	free(exe);
	return pid;
}

Test(children, stop_and_continue_as_untraced, .timeout = 120)
{
	struct tmpdir t;
	char line[64];
	int in_fd, out_fd, status;
	pid_t lt, cmd = 0;

	tmpdir__new(&t);
	out_fd = open(tmpdir__file(&t, "out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	lt = start_traced("wait", "6", &in_fd, out_fd);
	close(out_fd);
	cr_assert(file__wait_for(t.file, "ready ", 30000), "the command never said ready");
	FILE *f = fopen(t.file, "r");

	cr_assert(f && fgets(line, sizeof(line), f) && sscanf(line, "ready %d", &cmd) == 1);
	fclose(f);
	kill(cmd, SIGSTOP);
	cr_assert(wait_state(cmd, "Tt"), "SIGSTOP did not stop it: state %c", proc_state(cmd));
	kill(cmd, SIGCONT);
	cr_assert(wait_state(cmd, "RS"), "SIGCONT did not continue it: state %c", proc_state(cmd));
	cr_assert_eq(write(in_fd, "go\n", 3), 3);
	close(in_fd);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 6, "leaktrace: status 0x%x", status);
	tmpdir__free(&t);
}

Test(children, command_stopping_itself_continues, .timeout = 120)
{
	struct tmpdir t;
	char line[64];
	int in_fd, out_fd, status;
	pid_t lt, cmd = 0;
	FILE *f;

	tmpdir__new(&t);
	out_fd = open(tmpdir__file(&t, "out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	lt = start_traced("stopself", "5", &in_fd, out_fd);
	close(out_fd);
	cr_assert(file__wait_for(t.file, "stopping ", 30000), "the command never said stopping");
	f = fopen(t.file, "r");
	cr_assert(f && fgets(line, sizeof(line), f) && sscanf(line, "stopping %d", &cmd) == 1);
	fclose(f);
	cr_assert(wait_state(cmd, "Tt"), "it did not stop itself: state %c", proc_state(cmd));
	kill(cmd, SIGCONT);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5, "leaktrace: status 0x%x", status);
	close(in_fd);
	tmpdir__free(&t);
}

Test(children, attach_follows_exec_into_a_static_binary, .timeout = 120)
{
	char *dyn = env__fixture("children-nofp"), *stat = env__fixture("children-static");
	char *fx[] = { dyn, "exec", stat, "hold", "1000", "7", NULL };
	char *lt_argv[] = { (char *)env__leaktrace(), "-p", NULL, "-o", NULL, "-i", "100", NULL };
	char pid[16], line[128], json[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	int err_fd, status;
	json_t *snap, *p;
	pid_t lt;

	tmpdir__new(&t);
	fixture__start_argv(&f, fx);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "attach.json"));
	lt_argv[2] = pid;
	lt_argv[4] = json;
	err_fd = open(tmpdir__file(&t, "stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	lt = proc__spawn(lt_argv, -1, -1, err_fd);
	close(err_fd);
	file__assert_tracing(t.file, "leaktrace: tracing");
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 30000);
	cr_assert(!strncmp(line, "ready ", 6), "the static image said '%s'", line);
	snprintf(line, sizeof(line), "leaktrace: pid %d exec'd %s: its allocator is probed", f.pid,
		 stat);
	cr_assert(file__wait_for(tmpdir__file(&t, "stderr.txt"), line, 30000),
		  "leaktrace never said it follows the exec");
	fixture__trigger(&f);
	kill(lt, SIGINT);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "leaktrace: status 0x%x", status);
	snap = snapshot__load(json);
	p = snapshot__process(snap, f.pid);
	cr_assert_not_null(p);
	cr_assert_str_eq(json_string_value(json_object_get(p, "exe")), stat);
	assert_leak(p, "leak_here", 7000, 7);
	json_decref(snap);
	fixture__stop(&f);
	tmpdir__free(&t);
	free(dyn);
	free(stat);
}

/* A fork child starts with its parent's blocks, as valgrind's does: frees of them match. */
Test(children, fork_child_inherits_its_parents_blocks, .timeout = 240)
{
	char *leaky = env__fixture("leaky-nofp"), line[PATH_MAX + 16];
	const char *argv[] = { leaky, "run", "fork", NULL };
	json_t *snap, *procs, *p, *parent = NULL, *child = NULL;
	struct vg_proc vg[8];
	struct run_result r;
	struct tmpdir t;
	size_t i;
	int n;

	tmpdir__new(&t);
	snap = run_traced(&t, NULL, argv, 0, &r);
	cr_assert_eq(nr_procs(snap, 2), 2, "parent and child");
	procs = json_object_get(snap, "processes");
	json_array_foreach(procs, i, p) {
		if (stack__sum(p, "leak_fork", "heap").bytes == 20000)
			parent = p;
		else
			child = p;
	}
	cr_assert_not_null(parent, "no process holds the parent's 100 blocks of leak_fork");
	assert_leak(parent, "leak_fork", 20000, 100);
	assert_leak(child, "leak_fork", 1500, 5);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_before_attach"), 0,
		     "the child's frees of inherited blocks matched no record");
	n = valgrind_run(argv, vg, 8);
	snprintf(line, sizeof(line), "%s run fork", leaky);
	assert_equals_valgrind(parent, vg, n, line);
	assert_equals_valgrind(child, vg, n, "(fork)");
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

/*
 * A stripped static shell (busybox: no allocator to probe) still has its
 * children traced, each process once.
 */
Test(children, static_shell_children_traced, .timeout = 120)
{
	char *leaky = env__fixture("leaky-nofp"), script[PATH_MAX + 32], line[PATH_MAX + 64];
	const char *argv[] = { "busybox", "sh", "-c", script, NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *p;

	cr_assert_eq(access("/bin/busybox", X_OK), 0, "busybox is not installed");
	snprintf(script, sizeof(script), "%s run lost | cat", leaky);
	tmpdir__new(&t);
	snap = run_traced(&t, NULL, argv, 0, &r);
	cr_assert_eq(nr_procs(snap, 3), 3, "sh, leaky and cat, each once");
	snprintf(line, sizeof(line), "%s run lost", leaky);
	p = proc_by_argv(snap, line);
	assert_leak(p, "lose_blocks", 7770, 10);
	cr_assert_eq(json__int(p, "lost_bytes"), 7834);
	cr_assert_not_null(strstr(r.err, "the processes it starts are traced"), "%s", r.err);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(leaky);
}

/* LeakSanitizer ptraces its process at exit: leaktrace lets it go once probed, and it works. */
Test(children, leak_sanitizer_works_under_run_mode, .timeout = 120)
{
	char *exe = env__fixture("children-asan");
	const char *argv[] = { exe, "leak", "100", "10", NULL };
	struct run_result r;
	struct tmpdir t;
	json_t *snap;

	tmpdir__new(&t);
	snap = run_traced(&t, NULL, argv, 0, &r);
	cr_assert_null(strstr(r.err, "LeakSanitizer has encountered a fatal error"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "uses LeakSanitizer, which must ptrace it"), "%s", r.err);
	assert_leak(snapshot__process_by_exe(snap, exe), "leak_here", 1000, 10);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/* The TracerPid of pid in /proc, or -1. */
static int tracer_pid(pid_t pid)
{
	char path[64], line[256];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer;
}

/* Whether signal sig is pending for pid's process (leaktrace blocks it until it waits). */
static bool sig_pending(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ShdPnd: %llx", &mask) == 1)
			break;
	if (f)
		fclose(f);
	return mask & (1ULL << (sig - 1));
}

/*
 * A command that ignores SIGINT: the first one goes to it, the second ends
 * leaktrace at once, and the command runs on, neither stopped nor traced.
 */
Test(children, second_sigint_lets_the_command_go, .timeout = 120)
{
	char *exe = env__fixture("children-nofp"), script[PATH_MAX + 64], line[64];
	char *argv[] = { (char *)env__leaktrace(), "-q", "--", "sh", "-c", script, NULL };
	int fds[2], out_fd, status;
	struct tmpdir t;
	pid_t lt, cmd = 0;
	FILE *f;

	snprintf(script, sizeof(script), "trap '' INT; exec %s wait 4", exe);
	tmpdir__new(&t);
	out_fd = open(tmpdir__file(&t, "out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* Close-on-exec: the command must not hold the end we write, or it never sees EOF. */
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	lt = proc__spawn(argv, fds[0], out_fd, -1);
	close(fds[0]);
	close(out_fd);
	cr_assert(file__wait_for(t.file, "ready ", 30000), "the command never said ready");
	f = fopen(t.file, "r");
	cr_assert(f && fgets(line, sizeof(line), f) && sscanf(line, "ready %d", &cmd) == 1);
	fclose(f);
	kill(lt, SIGINT);
	/* Two at once would be one: the second after leaktrace took the first. */
	for (int i = 0; i < 30000 && sig_pending(lt, SIGINT); i++)
		usleep(1000);
	kill(lt, SIGINT);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end on two SIGINTs");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "leaktrace: status 0x%x",
		  status);
	cr_assert_eq(tracer_pid(cmd), 0, "the command is still traced");
	cr_assert(wait_state(cmd, "RS"), "the command is not running: state %c", proc_state(cmd));
	cr_assert_eq(write(fds[1], "go\n", 3), 3);
	close(fds[1]);
	tmpdir__free(&t);
	free(exe);
}
