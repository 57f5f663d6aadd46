/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * leaktrace's exit statuses: one per reason a script must tell apart without reading the
 * message (tools/leak-sweep, deploy/ansible). Documented in --help and the README; a status
 * once given keeps its meaning.
 */
#ifndef LT_EXIT_STATUS_H
#define LT_EXIT_STATUS_H

enum lt_exit_status {
	LT_EXIT_OK = 0,
	LT_EXIT_FAILURE = 1,	   /* any other failure: its message says what */
	LT_EXIT_USAGE = 2,	   /* a wrong command line or --suppress file */
	LT_EXIT_LEAK = 3,	   /* --fail-on-leak: the lost bytes reached the limit */
	LT_EXIT_NO_BPF = 4,	   /* the kernel lacks BTF, uprobes or a feature of 5.8 */
	LT_EXIT_NOT_PERMITTED = 5, /* BPF refused: not root, nor CAP_BPF and CAP_PERFMON */
	LT_EXIT_NO_TARGET = 6,	   /* -p PID: no such process, or none to trace */
	LT_EXIT_HELD_OFF = 7,	   /* -a: a process runs that its probes would break */
	/* Run mode: 126 and 127 when COMMAND cannot run, else COMMAND's own status. */
};

#endif
