/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Run mode: start a command stopped at its exec, follow the processes it
 * starts (fork, vfork, clone, exec), catch each one's exit before its memory goes.
 */
#ifndef LT_COMMAND_H
#define LT_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/user.h>

struct command;

/*
 * What run mode does at each moment of a traced process, while it is stopped.
 * Any may be NULL.
 */
struct command_ops {
	/*
	 * fork: the parent, stopped in it, and the child, before its first
	 * instruction; the child's memory is a copy of the parent's.
	 */
	void (*forked)(void *arg, pid_t parent, pid_t child);
	/* A new process (fork, vfork, clone), before its first instruction. */
	void (*started)(void *arg, pid_t pid);
	/* A process right after exec, before the new image's first instruction. */
	void (*exec)(void *arg, pid_t pid);
	/*
	 * A process in its exit, its address space still there, with the exiting
	 * thread's registers (NULL when they cannot be read).
	 */
	void (*exiting)(void *arg, pid_t pid, const struct user_regs_struct *regs);
};

/*
 * Starts argv[0] (searched in PATH) and stops it right after exec, before its
 * first instruction, so that probes can be attached. Its stdio are leaktrace's.
 * children: the processes it starts are followed too. Prints one error line
 * and returns -errno when it cannot be run.
 */
int command__start(char **argv, bool children, struct command **out);
pid_t command__pid(const struct command *c);
/* Lets it run. */
int command__resume(struct command *c);
/*
 * Handles what happened to the traced processes since the last call (after
 * SIGCHLD), calling ops at each moment. Returns 1 once the command has
 * ended, else 0.
 */
int command__poll(struct command *c, const struct command_ops *ops, void *arg);
/*
 * Lets pid go from ptrace while it is stopped in an event (LeakSanitizer must
 * ptrace itself): it runs on untraced, its children and exit are not seen.
 */
int command__release(struct command *c, pid_t pid);
/* Its exit status as a shell gives it: the code, or 128 + the signal. */
int command__exit_code(const struct command *c);
/*
 * Lets every process still traced go, as it was (running, or stopped by a
 * signal), within a bounded time; then frees. NULL is fine.
 */
void command__free(struct command *c);

#endif
