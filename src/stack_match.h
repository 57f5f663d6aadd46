/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The same stack in several snapshots: same process (comm and executable), same
 * kind, and the same module and function in every frame. Addresses are ignored:
 * they differ between runs and hosts (ASLR).
 */
#ifndef LT_STACK_MATCH_H
#define LT_STACK_MATCH_H

#include <stddef.h>

#include "snapshot.h"

struct stack_ref {
	char *key;	 /* the identity: process, then stack */
	size_t proc_len; /* key[0 .. proc_len) identifies the process */
	size_t snap;	 /* which of the snapshots */
	const struct proc_stat *proc;
	const struct stack_stat *stack;
};

/* Every stack of the snapshots, sorted by key, then snapshot; 0 or -ENOMEM. */
int stack_match__build(const struct snapshot *const *snaps, size_t n, struct stack_ref **out,
		       size_t *nr);
/* How many refs from i on share refs[i]'s key. */
size_t stack_match__run(const struct stack_ref *refs, size_t nr, size_t i);
/* Whether two refs are of the same process (comm and executable). */
bool stack_match__same_process(const struct stack_ref *a, const struct stack_ref *b);
void stack_match__free(struct stack_ref *refs, size_t nr);

#endif
