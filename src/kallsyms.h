/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel's function symbols from /proc/kallsyms: kernel stacks' frames, modules named. */
#ifndef LT_KALLSYMS_H
#define LT_KALLSYMS_H

#include <stdint.h>

struct kallsyms;

/* The module name of the kernel's own symbols, as perf names it. */
#define KALLSYMS_KERNEL "[kernel.kallsyms]"

/*
 * Reads a kallsyms file (bounded: lines, symbols, bytes; bad lines skipped).
 * -EPERM when every address reads 0 (kptr_restrict: not root); -ENOENT, -EINVAL.
 */
int kallsyms__load(const char *path, struct kallsyms **out);
/*
 * The function at addr: its name and the offset in it, and its module
 * ("[kernel.kallsyms]" or "[NAME]"); -ENOENT when no function holds it.
 * The strings live until kallsyms__free.
 */
int kallsyms__lookup(const struct kallsyms *ks, uint64_t addr, const char **name, uint64_t *offset,
		     const char **module);
void kallsyms__free(struct kallsyms *ks);

#endif
