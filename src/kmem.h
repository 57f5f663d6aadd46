/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* --kernel: the kmem and percpu tracepoints' programs (bpf/kmem.bpf.c) from user space. */
#ifndef LT_KMEM_H
#define LT_KMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "leaktrace.h"

struct kmem;

struct kmem_opts {
	uint64_t max_blocks; /* --max-allocs */
	uint64_t max_stacks; /* --max-stacks */
	uint64_t sample_bytes;
	uint64_t sample_seed;
	bool verbose;
};

/* What the kernel lost of its own, summed over CPUs and programs. */
struct kmem_lost {
	uint64_t counters[LT_NR_KCOUNTERS];
	uint64_t missed; /* runs the kernel skipped: a program's tracepoint fired inside it */
};

/*
 * Loads and attaches the programs of the running kernel's tracepoints (read from
 * its BTF); prints one error line and returns -errno.
 */
int kmem__new(const struct kmem_opts *opts, struct kmem **out);
/* Every (stack, space, process) total; *keys and *vals are the caller's to free. */
int kmem__totals(struct kmem *k, struct lt_ktotal_key **keys, struct lt_ktotal **vals, size_t *n);
/* The return addresses of stack (lt_ktotal_key.stack), innermost first; their number. */
int kmem__stack(struct kmem *k, __u64 stack, __u64 *ips, int max);
int kmem__lost(struct kmem *k, struct kmem_lost *lost);
/* Detaches; accepts NULL. */
void kmem__free(struct kmem *k);

#endif
