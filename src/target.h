/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a pid given to -p is, when it is not a process that can be traced. */
#ifndef LT_TARGET_H
#define LT_TARGET_H

#include <stddef.h>
#include <sys/types.h>

/*
 * NULL when pid is a live user-space process; else why not, as the end of
 * "cannot attach to pid N: ...": no such process, a thread of process T, a
 * zombie, a kernel thread. The text is in buf (or a constant).
 */
const char *target__why_not(pid_t pid, char *buf, size_t size);
/* The process a thread belongs to (the Tgid of /proc/PID/status); 0 when it cannot be read. */
pid_t target__tgid(pid_t tid);
/* Said when a process passed that check but went before the attach was done. */
extern const char target__exited_during_attach[];

#endif
