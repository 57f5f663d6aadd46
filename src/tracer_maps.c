// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracer's maps read and pruned from user space: batched reads and deletes, and the
 * block slots read as their publication protocol says (block_slot.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "block_slot.h"
#include "mapping_events.h"
#include "tracer_int.h"
#include "tracer_maps.h"

#define BATCH 4096

/* Reads a whole hash map with batched lookups; the arrays are malloc'ed. */
static int map_read_all(int fd, size_t key_size, size_t value_size, void **keys, void **values,
			size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t cap = BATCH, total = 0;
	__u64 token[4] = {}, *in = NULL;
	char *k = NULL, *v = NULL;
	int err = 0;

	for (;;) {
		__u32 count = BATCH;
		char *nk, *nv;

		if (total + BATCH > cap || !k) {
			cap = total + 2 * BATCH;
			nk = realloc(k, cap * key_size);
			nv = nk ? realloc(v, cap * value_size) : NULL;
			if (nk)
				k = nk;
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		err = bpf_map_lookup_batch(fd, in, token, k + total * key_size,
					   v + total * value_size, &count, &opts);
		total += count;
		in = token;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	if (err) {
		free(k);
		free(v);
		return err;
	}
	*keys = k;
	*values = v;
	*n = total;
	return 0;
}

/* Room for at least one more record past n in keys and vals (cap of them now); 0 or -ENOMEM. */
static int records_grow(struct lt_alloc_key **keys, struct lt_alloc **vals, size_t n, size_t *cap)
{
	size_t c = n < *cap ? *cap : n + n / 2 + 4096;
	struct lt_alloc_key *k;
	struct lt_alloc *v;

	if (c == *cap)
		return 0;
	k = realloc(*keys, c * sizeof(*k));
	if (k)
		*keys = k;
	v = k ? realloc(*vals, c * sizeof(*v)) : NULL;
	if (v)
		*vals = v;
	if (!v)
		return -ENOMEM;
	*cap = c;
	return 0;
}

/*
 * The records of every outstanding block: the allocs hash's and the block
 * slots', read a window of slots at a time (tracer__blocks_at()).
 */
int tracer_maps__records(struct tracer *t, struct lt_alloc_key **keys, struct lt_alloc **vals,
			 size_t *n)
{
	size_t nr_slots = tracer__nr_blocks(t), cap, left = 0;
	struct lt_block_slot *s = NULL;
	int err;

	err = map_read_all(tracer__allocs_fd(t), sizeof(**keys), sizeof(**vals), (void **)keys,
			   (void **)vals, n);
	cap = *n;
	for (size_t i = 0; !err && i < nr_slots; i++, left--, s++) {
		if (!left && !(s = tracer__blocks_at(t, i, &left)))
			err = -errno;
		else
			err = records_grow(keys, vals, *n, &cap);
		if (!err)
			*n += lt_slot_read(s, &(*keys)[*n], &(*vals)[*n]);
	}
	if (err) {
		free(*keys);
		free(*vals);
		*keys = NULL;
		*vals = NULL;
	}
	return err;
}

int tracer_maps__mappings(struct tracer *t, struct lt_alloc_key **keys, __u64 **ends, size_t *n)
{
	return map_read_all(tracer__mmaps_fd(t), sizeof(**keys), sizeof(**ends), (void **)keys,
			    (void **)ends, n);
}

/* The record of the block at key now (slot or hash); 0, or -ENOENT when there is none. */
int tracer_maps__record_now(struct tracer *t, const struct lt_alloc_key *key, struct lt_alloc *rec)
{
	struct lt_block_slot *s;
	struct lt_alloc_key k;

	for (__u32 j = 0; j < LT_BLOCK_PROBES; j++) {
		s = tracer__block_slot(t, key, j);
		if (s && lt_slot_read(s, &k, rec) && !memcmp(&k, key, sizeof(k)))
			return 0;
	}
	return bpf_map_lookup_elem(tracer__allocs_fd(t), key, rec) ? -ENOENT : 0;
}

/*
 * Frees the block slots holding stale records. No program touches them: a
 * program takes only a free slot or one of its own process's current image.
 */
static void drop_stale_slots(struct tracer *t, tracer_maps_stale_fn stale, void *arg)
{
	size_t nr_slots = tracer__nr_blocks(t), left = 0;
	struct lt_block_slot *s = NULL;
	struct lt_alloc_key key;
	struct lt_alloc rec;

	for (size_t i = 0; i < nr_slots; i++, left--, s++) {
		if (!left && !(s = tracer__blocks_at(t, i, &left)))
			return; /* not mapped: the next reap frees them */
		if (lt_slot_read(s, &key, &rec) && stale(arg, key.tgid, key.gen))
			lt_slot_release(s, key.addr);
	}
}

/*
 * Deletes the keys of a map whose (tgid, gen) head says they are stale; allocs
 * says the map is allocs, whose records the block slots count.
 */
static int drop_stale(struct tracer *t, int fd, size_t key_size, size_t value_size, bool allocs,
		      tracer_maps_stale_fn stale, void *arg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = NULL, *vals = NULL, *out;
	size_t n = 0, nr = 0;
	int err;

	err = map_read_all(fd, key_size, value_size, (void **)&keys, (void **)&vals, &n);
	out = keys;
	for (size_t i = 0; !err && i < n; i++) {
		/* Every key of these maps starts with {__u32 tgid; __u32 gen;}. */
		const __u32 *head = (const __u32 *)(keys + i * key_size);

		if (!stale(arg, head[0], head[1]))
			continue;
		memmove(vals + nr * value_size, vals + i * value_size, value_size);
		memmove(out + nr++ * key_size, head, key_size);
	}
	if (!err && nr) {
		__u32 count = nr;

		err = bpf_map_delete_batch(fd, keys, &count, &opts) ? -errno : 0;
		if (!err && allocs)
			tracer__hash_dropped(t, (const struct lt_alloc_key *)keys,
					     (const struct lt_alloc *)vals, nr);
	}
	free(keys);
	free(vals);
	return err;
}

int tracer_maps__targets(struct tracer *t, __u32 **tgids, struct lt_target **vals, size_t *n)
{
	return map_read_all(tracer__targets_fd(t), sizeof(**tgids), sizeof(**vals), (void **)tgids,
			    (void **)vals, n);
}

int tracer_maps__target(struct tracer *t, pid_t pid, struct lt_target *val)
{
	__u32 tgid = pid;

	return bpf_map_lookup_elem(tracer__targets_fd(t), &tgid, val) ? -ENOENT : 0;
}

int tracer_maps__totals(struct tracer *t, struct lt_total_key **keys, struct lt_total **vals,
			size_t *n)
{
	return map_read_all(tracer__totals_fd(t), sizeof(**keys), sizeof(**vals), (void **)keys,
			    (void **)vals, n);
}

int tracer_maps__unmatched(struct tracer *t, struct lt_alloc_key **sites, uint64_t **counts,
			   size_t *n)
{
	return map_read_all(tracer__unmatched_fd(t), sizeof(**sites), sizeof(**counts),
			    (void **)sites, (void **)counts, n);
}

int tracer_maps__stack(struct tracer *t, __u64 stack_id, struct lt_stack *out)
{
	return bpf_map_lookup_elem(tracer__stacks_fd(t), &stack_id, out) ? -errno : 0;
}

int tracer_maps__drop_stale_totals(struct tracer *t, tracer_maps_stale_fn stale, void *arg)
{
	return drop_stale(t, tracer__totals_fd(t), sizeof(struct lt_total_key),
			  sizeof(struct lt_total), false, stale, arg);
}

int tracer_maps__drop_stale_records(struct tracer *t, tracer_maps_stale_fn stale, void *arg)
{
	int err;

	drop_stale_slots(t, stale, arg);
	err = drop_stale(t, tracer__allocs_fd(t), sizeof(struct lt_alloc_key),
			 sizeof(struct lt_alloc), true, stale, arg);
	if (!err)
		err = drop_stale(t, tracer__mmaps_fd(t), sizeof(struct lt_alloc_key), sizeof(__u64),
				 false, stale, arg);
	if (!err)
		err = drop_stale(t, tracer__unmatched_fd(t), sizeof(struct lt_alloc_key),
				 sizeof(__u64), false, stale, arg);
	return err;
}

static int id_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The stack ids the totals name. */
static int stacks_in_totals(struct tracer *t, __u64 **ids, size_t *n)
{
	struct lt_total_key *keys;
	struct lt_total *vals;
	__u64 *v;
	int err;

	err = tracer_maps__totals(t, &keys, &vals, n);
	if (err)
		return err;
	v = malloc((*n ? *n : 1) * sizeof(*v));
	for (size_t i = 0; v && i < *n; i++)
		v[i] = keys[i].stack_id;
	free(keys);
	free(vals);
	if (!v)
		return -ENOMEM;
	*ids = v;
	return 0;
}

static int user_stacks_named(void *arg, __u64 **ids, size_t *n)
{
	return stacks_in_totals(arg, ids, n);
}

int tracer_maps__drop_unnamed(int fd, size_t value_size, tracer_maps_named_fn named, void *arg)
{
	size_t nr_used, nr = 0, cap = 0;
	__u64 *used, *ids = NULL, key, last;
	char *vals = NULL;
	bool first = true;
	int err;

	err = named(arg, &used, &nr_used);
	if (err)
		return err;
	qsort(used, nr_used, sizeof(*used), id_cmp);
	while (!bpf_map_get_next_key(fd, first ? NULL : &last, &key)) {
		first = false;
		last = key;
		if (bsearch(&key, used, nr_used, sizeof(*used), id_cmp))
			continue;
		if (nr == cap) {
			__u64 *grown_ids;
			char *grown_vals;

			cap = cap ? 2 * cap : 256;
			grown_ids = realloc(ids, cap * sizeof(*ids));
			if (grown_ids)
				ids = grown_ids;
			grown_vals = grown_ids ? realloc(vals, cap * value_size) : NULL;
			if (!grown_vals) {
				err = -ENOMEM;
				break;
			}
			vals = grown_vals;
		}
		ids[nr] = key;
		if (!bpf_map_lookup_elem(fd, &key, vals + nr * value_size))
			nr++;
	}
	free(used);
	for (size_t i = 0; !err && i < nr; i++)
		bpf_map_delete_elem(fd, &ids[i]);
	/*
	 * A program that found a stack just before its delete adds the total that names it
	 * after: such stacks are put back, or that total's stack would stay unknown.
	 */
	if (!err && nr)
		err = named(arg, &used, &nr_used);
	if (!err && nr)
		qsort(used, nr_used, sizeof(*used), id_cmp);
	for (size_t i = 0; !err && nr && i < nr; i++)
		if (bsearch(&ids[i], used, nr_used, sizeof(*used), id_cmp))
			bpf_map_update_elem(fd, &ids[i], vals + i * value_size, BPF_NOEXIST);
	if (!err && nr)
		free(used);
	free(ids);
	free(vals);
	return err;
}

int tracer_maps__drop_unused_stacks(struct tracer *t)
{
	return tracer_maps__drop_unnamed(tracer__stacks_fd(t), sizeof(struct lt_stack),
					 user_stacks_named, t);
}

void tracer_maps__forget_target(struct tracer *t, __u32 tgid)
{
	bpf_map_delete_elem(tracer__targets_fd(t), &tgid);
}

int tracer_maps__mapping_events(struct tracer *t, struct symbolizer *syms,
				struct mapping_events **out)
{
	int fd = tracer__map_events_fd(t);

	*out = NULL;
	return fd < 0 ? 0 : mapping_events__new(fd, syms, out);
}

uint64_t tracer_maps__mapping_events_lost(const struct tracer *t)
{
	return tracer__map_events_lost(t);
}
