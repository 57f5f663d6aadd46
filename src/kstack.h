/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A kernel stack's frames (--kernel): symbolized from kallsyms, from the allocator's caller on. */
#ifndef LT_KSTACK_H
#define LT_KSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

struct kallsyms;

/*
 * The frames of the return addresses ips (innermost first) into out (nr of
 * them at most), without the tracing machinery's and the allocator's own:
 * frame 0 is the one at call_site (the allocator's caller, as its tracepoint
 * says; 0 when it says none), else the first past the allocator's functions.
 * Returns the number of frames.
 */
int kstack__frames(const struct kallsyms *ks, const uint64_t *ips, int nr, uint64_t call_site,
		   struct frame *out);

#endif
