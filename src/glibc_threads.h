/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * glibc's thread stacks from outside: whether a stack mapping is in glibc's
 * cache (its thread exited and was joined or detached: kept for the next one).
 */
#ifndef LT_GLIBC_THREADS_H
#define LT_GLIBC_THREADS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where struct pthread keeps what tells a cached stack, as libc's libthread_db descriptors say. */
struct glibc_threads {
	uint32_t tid;		 /* offset of tid: 0 once the kernel saw the thread exit */
	uint32_t cancelhandling; /* offset of cancelhandling: TERMINATED once its stack is freed */
};

/*
 * Reads the offsets from the libc at path (its _thread_db_pthread_* symbols, which
 * libthread_db reads); 0, or a negative errno (-ENOENT: a libc without them).
 */
int glibc_threads__open(const char *path, struct glibc_threads *out);
/*
 * Whether the thread stack mapped at [start, end) of pid is in glibc's cache:
 * 1 cached, 0 not (a live thread's, or an exited thread not joined yet), or a
 * negative errno (no thread descriptor at its top, or unreadable).
 */
int glibc_threads__cached(const struct glibc_threads *g, pid_t pid, uint64_t start, uint64_t end);

#endif
