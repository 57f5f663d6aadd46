/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The block slots' publication protocol (struct lt_block_slot), one copy for the
 * programs, which write slots, and user space, which reads them and frees stale
 * ones. key.addr is 0 while a slot is free and LT_SLOT_BUSY while a program
 * writes it: a writer takes the slot with a compare-and-swap, writes the key and
 * record, then publishes the address with an exchange; a reader copies the
 * record between two reads of the address, so that it never sees half a record.
 */
#ifndef LT_BLOCK_SLOT_H
#define LT_BLOCK_SLOT_H

#ifndef __bpf__
#include <stdbool.h>
#include <string.h>
#endif

#include "leaktrace.h"

/* Takes s for writing when its address is expect (0: a free slot); true when taken. */
static inline bool lt_slot_take(struct lt_block_slot *s, __u64 expect)
{
	return __sync_val_compare_and_swap(&s->key.addr, expect, LT_SLOT_BUSY) == expect;
}

/* Publishes the record written into a slot taken by lt_slot_take: readers see all of it. */
static inline void lt_slot_publish(struct lt_block_slot *s, __u64 addr)
{
	__sync_lock_test_and_set(&s->key.addr, addr);
}

/* Frees s when it still holds the block at addr; true when this call freed it. */
static inline bool lt_slot_release(struct lt_block_slot *s, __u64 addr)
{
	return __sync_val_compare_and_swap(&s->key.addr, addr, 0) == addr;
}

/*
 * Adds delta to the count of heap blocks in allocs whose first slot s is: a
 * free looks in allocs only when its block's first slot counts some. Any side
 * adds, at any time (user space too, when it copies or deletes records of allocs).
 */
static inline void lt_slot_count_hashed(struct lt_block_slot *s, __s64 delta)
{
	__sync_fetch_and_add(&s->hashed, delta);
}

#ifndef __bpf__
/*
 * Copies the block slot's record; false when it is free, being written, or
 * changed while read (user space: the programs only write slots).
 */
static inline bool lt_slot_read(const struct lt_block_slot *s, struct lt_alloc_key *key,
				struct lt_alloc *rec)
{
	__u64 addr = __atomic_load_n(&s->key.addr, __ATOMIC_ACQUIRE);

	if (addr <= LT_SLOT_BUSY)
		return false;
	memcpy(key, &s->key, sizeof(*key));
	memcpy(rec, &s->rec, sizeof(*rec));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	key->addr = addr;
	return __atomic_load_n(&s->key.addr, __ATOMIC_RELAXED) == addr;
}
#endif

#endif
