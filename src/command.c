// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run mode. The command is traced with ptrace for two moments only: the stop
 * after exec (probes go live before it runs) and the stop at exit (its
 * mappings are read while they still exist). Everything else passes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"

struct command {
	pid_t pid;
	int status;
	bool ended;
};

/* In the child: become traceable, restore the signals leaktrace blocks, exec. */
static void child_exec(char **argv, int err_fd)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		execvp(argv[0], argv);
	err = errno;
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

int command__start(char **argv, struct command **out)
{
	struct command *c;
	int fds[2], err = 0, status;
	ssize_t n;

	c = calloc(1, sizeof(*c));
	if (!c || pipe2(fds, O_CLOEXEC)) {
		free(c);
		return -ENOMEM;
	}
	c->pid = fork();
	if (c->pid == 0)
		child_exec(argv, fds[1]);
	close(fds[1]);
	if (c->pid < 0)
		err = -errno;
	/* The pipe closes on a successful exec; otherwise it carries the child's errno. */
	else if ((n = read(fds[0], &err, sizeof(err))) == sizeof(err))
		err = -err;
	else
		err = 0;
	close(fds[0]);
	if (!err && (waitpid(c->pid, &status, 0) < 0 || !WIFSTOPPED(status)))
		err = -ECHILD;
	if (err) {
		fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[0], strerror(-err));
		if (c->pid > 0)
			waitpid(c->pid, &status, 0);
		free(c);
		return err;
	}
	/* Exit stops let us read its mappings; exec events must not look like SIGTRAP. */
	ptrace(PTRACE_SETOPTIONS, c->pid, NULL,
	       (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC));
	*out = c;
	return 0;
}

pid_t command__pid(const struct command *c)
{
	return c->pid;
}

int command__resume(struct command *c)
{
	return ptrace(PTRACE_CONT, c->pid, NULL, NULL) ? -errno : 0;
}

/* A stop: our events, a signal to pass on, or a group stop to leave alone. */
static void handle_stop(struct command *c, int status, command_exit_fn *at_exit, void *arg)
{
	int event = status >> 16, sig = WSTOPSIG(status);
	struct user_regs_struct regs;
	siginfo_t si;

	if (event == PTRACE_EVENT_EXIT) {
		if (at_exit)
			at_exit(arg, c->pid,
				ptrace(PTRACE_GETREGS, c->pid, NULL, &regs) ? NULL : &regs);
		sig = 0;
	} else if (event) {
		sig = 0;
	} else if (ptrace(PTRACE_GETSIGINFO, c->pid, NULL, &si) && errno == EINVAL) {
		return;		/* a group stop: it stays stopped until SIGCONT, as untraced */
	}
	ptrace(PTRACE_CONT, c->pid, NULL, (void *)(long)sig);
}

int command__poll(struct command *c, command_exit_fn *at_exit, void *arg)
{
	int status;
	pid_t r;

	while (!c->ended && (r = waitpid(c->pid, &status, WNOHANG)) > 0) {
		if (WIFSTOPPED(status)) {
			handle_stop(c, status, at_exit, arg);
			continue;
		}
		c->status = status;
		c->ended = true;
	}
	return c->ended;
}

int command__exit_code(const struct command *c)
{
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return WEXITSTATUS(c->status);
}

void command__free(struct command *c)
{
	if (!c)
		return;
	if (!c->ended)
		ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
	free(c);
}
