// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bad input: one line on stderr that says what is wrong, and the exit code
 * (2 for a wrong command line, non-zero when tracing cannot start).
 */
#include <errno.h>
#include <signal.h>
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
		cr_assert_eq(run__exit_code(&r), code, "exit code: got %d (status 0x%x), "
						       "expected %d; stderr:\n%s",
			     run__exit_code(&r), r.status, code, r.err);
	else
		cr_assert(run__exit_code(&r) > 0, "exit code: got %d (status 0x%x), expected "
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
	assert_error(args, 1, phrases);
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
				  "or directory\n", NULL };

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
	const char *args[] = { "--lib", "/lib/x86_64-linux-gnu/libz.so.1", "--", "/bin/true", NULL };
	const char *phrases[] = { "defines none of malloc", NULL };

	assert_error(args, 1, phrases);
}

Test(bad_input, comm_without_all, .timeout = 30)
{
	const char *args[] = { "--comm", "redis-server", "-p", "1", NULL };
	const char *phrases[] = { "--comm", "-a", NULL };

	assert_error(args, 2, phrases);
}

/* A static binary without symbols: nothing says where malloc is. */
Test(bad_input, stripped_static_binary, .timeout = 30)
{
	char path[PATH_MAX] = "/tmp/leaktrace-stripped-XXXXXX", cmd[PATH_MAX * 2];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "printf 'int main(void){return 0;}' | cc -static -x c - -o %s "
		 "&& strip %s", path, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	const char *args[] = { "--", path, NULL };
	const char *phrases[] = { "cannot find the allocator", NULL };

	assert_error(args, 1, phrases);
	unlink(path);
}

Test(bad_input, not_root, .timeout = 30)
{
	const char *setpriv = "/usr/bin/setpriv";
	const char *args[] = { "--", "/bin/true", NULL };
	const char *phrases[] = { "permission denied", "root", NULL };
	char *argv[16] = { (char *)setpriv, "--reuid=" NOBODY, "--regid=" NOBODY,
			   "--clear-groups", (char *)env__leaktrace() };
	struct run_result r;
	int argc = 5;

	if (access(setpriv, X_OK))
		cr_skip_test("no %s (util-linux) to run leaktrace as another user", setpriv);
	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 1, "exit code: got %d (status 0x%x), expected 1; "
					    "stderr:\n%s", run__exit_code(&r), r.status, r.err);
	cr_assert_eq(run__err_lines(&r), 1, "stderr has %d lines, expected 1:\n%s",
		     run__err_lines(&r), r.err);
	for (int i = 0; phrases[i]; i++)
		cr_assert_not_null(strstr(r.err, phrases[i]), "stderr lacks '%s':\n%s", phrases[i],
				   r.err);
	run__free(&r);
}
