/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a file's code makes the mmap system call: the places of the mmap
 * hook's uprobe (bpf/leaktrace.bpf.c's mmap_site), just after the call.
 */
#ifndef LT_MMAP_SITES_H
#define LT_MMAP_SITES_H

#include <stdint.h>

/* More than glibc has in one file (one wrapper in libc, one in ld.so or a static binary). */
#define MMAP_SITES_MAX 8

/*
 * The file offsets of the branch on the result of each of path's mmap system
 * calls as glibc's wrapper makes them (arch.h's ARCH_MMAP_SYSCALL), where the
 * call is provably an instruction of a function that .eh_frame describes
 * (decoded from the start of its unwind row). The number found (0: none, musl or an unusual build), at
 * most max, or a negative errno (-ENOEXEC: not ELF of this architecture).
 */
int mmap_sites__find(const char *path, uint64_t *offsets, int max);

#endif
