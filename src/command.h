/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Run mode: start a command stopped at its exec, let it run, catch its exit before its memory goes. */
#ifndef LT_COMMAND_H
#define LT_COMMAND_H

#include <sys/types.h>
#include <sys/user.h>

struct command;

/*
 * Starts argv[0] (searched in PATH) and stops it right after exec, before its
 * first instruction, so that probes can be attached. Its stdio are leaktrace's.
 * Prints one error line and returns -errno when it cannot be run.
 */
int command__start(char **argv, struct command **out);
pid_t command__pid(const struct command *c);
/* Lets it run. */
int command__resume(struct command *c);
/*
 * Handles what happened to the command since the last call (after SIGCHLD).
 * at_exit, if given, runs while the command is stopped at its exit, its
 * address space still there, with the exiting thread's registers (NULL when
 * they cannot be read). Returns 1 once it has ended, else 0.
 */
typedef void command_exit_fn(void *arg, pid_t pid, const struct user_regs_struct *regs);
int command__poll(struct command *c, command_exit_fn *at_exit, void *arg);
/* Its exit status as a shell gives it: the code, or 128 + the signal. */
int command__exit_code(const struct command *c);
/* Detaches from a command still running (it goes on) and frees; NULL is fine. */
void command__free(struct command *c);

#endif
