// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Processes the unit tests make to stand for targets in a given state. */
#include <criterion/criterion.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs.h"

pid_t procs__dead(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}
