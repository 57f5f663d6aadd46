/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Processes the unit tests make to stand for targets in a given state. */
#ifndef LT_TEST_PROCS_H
#define LT_TEST_PROCS_H

#include <sys/types.h>

/* The pid of a child that has exited and been reaped: no process has it (for now). */
pid_t procs__dead(void);

#endif
