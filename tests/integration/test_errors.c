// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bad input: one line on stderr that says what is wrong, and the exit status of its reason
 * (src/exit_status.h: 2 for a wrong command line, 5 not permitted, 6 no such target, 1 else).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define NOBODY "65534"

/*
 * Run leaktrace with ARGS (NULL-terminated) and assert exit code CODE (-1: any
 * non-zero) and exactly one line on stderr, "leaktrace: ...", holding each of
 * PHRASES (NULL-terminated).
 */
static void assert_error(const char *const args[], int code, const char *const phrases[])
{
	char *argv[32] = { (char *)env__leaktrace() };
	struct run_result r;
	int argc = 1;

	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, 20, &r);
	cr_assert(!r.timed_out, "leaktrace did not stop within 20 s; stderr:\n%s", r.err);
	if (code >= 0)
		cr_assert_eq(run__exit_code(&r), code,
			     "exit code: got %d (status 0x%x), "
			     "expected %d; stderr:\n%s",
			     run__exit_code(&r), r.status, code, r.err);
	else
		cr_assert(run__exit_code(&r) > 0,
			  "exit code: got %d (status 0x%x), expected "
			  "non-zero; stderr:\n%s",
			  run__exit_code(&r), r.status, r.err);
	cr_assert_eq(run__err_lines(&r), 1, "stderr has %d lines, expected 1:\n%s",
		     run__err_lines(&r), r.err);
	cr_assert_eq(strncmp(r.err, "leaktrace: ", 11), 0,
		     "stderr does not start with 'leaktrace: ':\n%s", r.err);
	for (int i = 0; phrases[i]; i++)
		cr_assert_not_null(strstr(r.err, phrases[i]), "stderr lacks '%s':\n%s", phrases[i],
				   r.err);
	cr_assert_eq(r.out_len, 0, "stdout is not empty:\n%s", r.out);
	run__free(&r);
}

Test(bad_input, no_such_pid, .timeout = 30)
{
	const char *args[] = { "-p", "999999", NULL };
	const char *phrases[] = { "999999", "no such process", NULL };

	cr_assert(kill(999999, 0) == -1 && errno == ESRCH, "pid 999999 exists on this host");
	assert_error(args, 6, phrases);
}

Test(bad_input, pid_not_a_number, .timeout = 30)
{
	const char *args[] = { "-p", "abc", NULL };
	const char *phrases[] = { "-p", "'abc'", NULL };

	assert_error(args, 2, phrases);
}

/* A valid target with each bad option, so that the option is what is refused. */
Test(bad_input, zero_interval, .timeout = 30)
{
	const char *args[] = { "-i", "0", "--", "/bin/true", NULL };
	const char *phrases[] = { "-i", "'0'", NULL };

	assert_error(args, 2, phrases);
}

Test(bad_input, min_size_above_max_size, .timeout = 30)
{
	const char *args[] = { "--min-size", "10", "--max-size", "5", "--", "/bin/true", NULL };
	const char *phrases[] = { "--min-size", "--max-size", NULL };

	assert_error(args, 2, phrases);
}

Test(bad_input, unknown_output_extension, .timeout = 30)
{
	const char *args[] = { "-o", "/nonexistent-dir/x.unknown", "-p", "1", NULL };
	const char *phrases[] = { "x.unknown", "extension", NULL };

	assert_error(args, 2, phrases);
}

/* Found before tracing, not after: one line, and no "tracing" line before it. */
Test(bad_input, unwritable_output_is_found_at_start, .timeout = 30)
{
	const char *args[] = { "-o", "/nonexistent-dir/x.json", "-p", "1", NULL };
	const char *phrases[] = { "leaktrace: cannot write /nonexistent-dir/x.json: No such file "
				  "or directory\n",
				  NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, output_that_is_a_directory_is_found_at_start, .timeout = 30)
{
	const char *args[] = { "-o", "/tmp/", "--format", "json", "-p", "1", NULL };
	const char *phrases[] = { "leaktrace: cannot write /tmp/: Is a directory\n", NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, no_arguments, .timeout = 30)
{
	const char *args[] = { NULL };
	const char *phrases[] = { "-p PID", NULL };

	assert_error(args, 2, phrases);
}

Test(bad_input, command_not_found, .timeout = 30)
{
	const char *args[] = { "--", "/nonexistent/cmd", NULL };
	const char *phrases[] = { "cannot run", "/nonexistent/cmd", NULL };

	assert_error(args, 127, phrases);
}

/* A name with ESC in it: the message shows it as \x1b, never as a terminal's command. */
Test(bad_input, control_characters_in_a_message_are_escaped, .timeout = 30)
{
	const char *args[] = { "--", "/nonexistent/\x1b[31mred\x9b\x07", NULL };
	const char *phrases[] = { "cannot run '/nonexistent/\\x1b[31mred\\x9b\\x07'", NULL };

	assert_error(args, 127, phrases);
}

Test(bad_input, lib_that_does_not_exist, .timeout = 30)
{
	const char *args[] = { "--lib", "/nonexistent/libx.so", "--", "/bin/true", NULL };
	const char *phrases[] = { "--lib /nonexistent/libx.so", "No such file", NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, lib_that_is_not_elf, .timeout = 30)
{
	const char *args[] = { "--lib", "/etc/passwd", "--", "/bin/true", NULL };
	const char *phrases[] = { "--lib /etc/passwd", "not an ELF file", NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, lib_without_allocator, .timeout = 30)
{
	const char *args[] = { "--lib", "/lib/x86_64-linux-gnu/libz.so.1", "--", "/bin/true",
			       NULL };
	const char *phrases[] = { "defines none of malloc", NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, comm_without_all, .timeout = 30)
{
	const char *args[] = { "--comm", "redis-server", "-p", "1", NULL };
	const char *phrases[] = { "--comm", "-a", NULL };

	assert_error(args, 2, phrases);
}

/*
 * A static binary without symbols: nothing says where malloc is. With its
 * children followed (the default) it runs, its own allocations not counted,
 * said on stderr (a busybox shell's children are traced); without, an error.
 */
Test(bad_input, stripped_static_binary, .timeout = 30)
{
	char path[PATH_MAX] = "/tmp/leaktrace-stripped-XXXXXX", cmd[PATH_MAX * 2];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "printf 'int main(void){return 0;}' | cc -static -x c - -o %s "
		 "&& strip %s",
		 path, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	const char *args[] = { "--no-children", "--", path, NULL };
	const char *phrases[] = { "cannot find the allocator", NULL };
	char *argv[] = { (char *)env__leaktrace(), "-q", "--", path, NULL };
	struct run_result r;

	assert_error(args, 1, phrases);
	run__cmd(argv, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d; stderr:\n%s", run__exit_code(&r), r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: cannot find the allocator"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "allocates itself is not counted; the processes it "
					 "starts are traced"),
			   "%s", r.err);
	run__free(&r);
	unlink(path);
}

Test(bad_input, not_root, .timeout = 30)
{
	const char *setpriv = "/usr/bin/setpriv";
	const char *args[] = { "--", "/bin/true", NULL };
	const char *phrases[] = { "permission denied", "root", NULL };
	char *argv[16] = { (char *)setpriv, "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups",
			   (char *)env__leaktrace() };
	struct run_result r;
	int argc = 5;

	if (access(setpriv, X_OK))
		cr_skip_test("no %s (util-linux) to run leaktrace as another user", setpriv);
	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 5,
		     "exit code: got %d (status 0x%x), expected 5 (not permitted); "
		     "stderr:\n%s",
		     run__exit_code(&r), r.status, r.err);
	cr_assert_eq(run__err_lines(&r), 1, "stderr has %d lines, expected 1:\n%s",
		     run__err_lines(&r), r.err);
	for (int i = 0; phrases[i]; i++)
		cr_assert_not_null(strstr(r.err, phrases[i]), "stderr lacks '%s':\n%s", phrases[i],
				   r.err);
	run__free(&r);
}

/*
 * Root with CAP_BPF and CAP_PERFMON only (as a container without CAP_SYS_PTRACE): BPF loads,
 * but the target's mappings cannot be read: 5, not permitted, with one line that says so.
 */
Test(bad_input, target_not_readable_is_not_permitted, .timeout = 30)
{
	char pid[16];
	char *argv[] = { "/usr/bin/setpriv",
			 "--bounding-set=-all,+bpf,+perfmon",
			 "--inh-caps=-all",
			 (char *)env__leaktrace(),
			 "-p",
			 pid,
			 "-d",
			 "1",
			 NULL };
	struct run_result r;

	if (access(argv[0], X_OK))
		cr_skip_test("no %s (util-linux) to drop capabilities", argv[0]);
	/* This test's own process: root, with every capability, so ptrace's rules apply. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	run__cmd(argv, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 5, "exit %d; stderr:\n%s", run__exit_code(&r), r.err);
	cr_assert_eq(run__err_lines(&r), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "Permission denied"), "%s", r.err);
	run__free(&r);
}

/* "leaktrace -p PID" must say exactly "leaktrace: cannot attach to pid PID: WHY\n". */
static void assert_attach_error(pid_t pid, const char *why)
{
	char arg[16], line[256];
	const char *args[] = { "-p", arg, NULL };
	const char *phrases[] = { line, NULL };

	snprintf(arg, sizeof(arg), "%d", pid);
	snprintf(line, sizeof(line), "leaktrace: cannot attach to pid %d: %s\n", pid, why);
	assert_error(args, 6, phrases);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

Test(bad_input, zombie_pid_is_called_a_zombie, .timeout = 30)
{
	pid_t pid = fork();
	int i, status;

	cr_assert_geq(pid, 0);
	if (!pid)
		_exit(0);
	for (i = 0; i < 2000 && proc_state(pid) != 'Z'; i++)
		usleep(10 * 1000);
	cr_assert_eq(proc_state(pid), 'Z');
	assert_attach_error(pid, "it is a zombie (it exited; its parent has not reaped it yet): "
				 "nothing left to trace");
	waitpid(pid, &status, 0);
}

Test(bad_input, kernel_thread_is_called_a_kernel_thread, .timeout = 30)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/2/comm", "r");

	/* kthreadd is pid 2 in the host's pid namespace. */
	cr_assert(f && fgets(comm, sizeof(comm), f));
	fclose(f);
	cr_assert_str_eq(comm, "kthreadd\n");
	assert_attach_error(2, "it is a kernel thread: it has no user-space memory to trace");
}

static int thread_fds[2];
static pid_t thread_tid;

static void *blocked_thread(void *arg)
{
	char c;

	__atomic_store_n(&thread_tid, gettid(), __ATOMIC_RELEASE);
	return read(thread_fds[0], &c, 1) < 0 ? NULL : arg;
}

Test(bad_input, thread_id_names_its_process, .timeout = 30)
{
	char why[128];
	pthread_t th;

	cr_assert_eq(pipe(thread_fds), 0);
	cr_assert_eq(pthread_create(&th, NULL, blocked_thread, NULL), 0);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	snprintf(why, sizeof(why), "it is a thread of process %d: trace that process (-p %d)",
		 getpid(), getpid());
	assert_attach_error(thread_tid, why);
	cr_assert_eq(write(thread_fds[1], "x", 1), 1);
	pthread_join(th, NULL);
}
