/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Processes that -a must leave alone. Its probes are system-wide: the kernel
 * writes their breakpoints into every process that maps the probed allocator,
 * and a program that reads its own code to translate it (valgrind, DynamoRIO,
 * Pin, qemu-user) sees them and dies of SIGTRAP. The same for the names given
 * with --exclude-comm.
 */
#ifndef LT_EXCLUDE_H
#define LT_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * True when pid translates its own code (told by its executable and mappings;
 * only when translators is set) or is named one of comms[0..nr); why gets a
 * few words on which ("valgrind").
 */
bool exclude__match(pid_t pid, bool translators, const char *const *comms, int nr, char *why,
		    size_t size);
/* True for an executable path or mapped file that marks a code translator; which one in *name. */
bool exclude__translator_file(const char *path, const char **name);

#endif
