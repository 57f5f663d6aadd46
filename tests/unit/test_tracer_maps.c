// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The stack maps pruned from user space (tracer_maps__drop_unnamed), on a real BPF
 * hash map: the unit suite runs as root, as leaktrace does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "tracer_maps.h"

struct value {
	__u64 a, b;
};

/* What the totals name: the first list at the first call, the second after the deletes. */
struct naming {
	const __u64 *lists[2];
	size_t lens[2];
	int calls;
};

static int named(void *arg, __u64 **ids, size_t *n)
{
	struct naming *nm = arg;
	int i = nm->calls++;

	cr_assert_lt(i, 2, "named more than twice");
	*n = nm->lens[i];
	*ids = malloc((*n ? *n : 1) * sizeof(**ids));
	cr_assert_not_null(*ids);
	memcpy(*ids, nm->lists[i], *n * sizeof(**ids));
	return 0;
}

/*
 * Stacks 1-10; the totals name 6, 2, 4 and 99 (a stack the map never had), and
 * 7 too once the deletes are done (a program added a total meanwhile): 2, 4, 6
 * and 7 stay, 7 with its frames as they were.
 */
Test(tracer_maps, unnamed_stacks_go_and_those_named_meanwhile_come_back)
{
	static const __u64 first[] = { 6, 2, 99, 4 }, second[] = { 7, 4, 2, 6 };
	struct naming nm = { .lists = { first, second }, .lens = { 4, 4 } };
	__u64 key, prev;
	struct value v;
	size_t nr = 0;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "lt_test_stacks", sizeof(__u64), sizeof(v), 64,
			    NULL);
	cr_assert_geq(fd, 0, "bpf_map_create: %s (run the unit suite as root)", strerror(errno));
	for (key = 1; key <= 10; key++) {
		v = (struct value){ key, key * 1000 };
		cr_assert_eq(bpf_map_update_elem(fd, &key, &v, BPF_NOEXIST), 0);
	}
	cr_assert_eq(tracer_maps__drop_unnamed(fd, sizeof(v), named, &nm), 0);
	cr_assert_eq(nm.calls, 2);
	for (; !bpf_map_get_next_key(fd, nr ? &prev : NULL, &key); nr++)
		prev = key;
	cr_assert_eq(nr, 4, "%zu stacks left", nr);
	for (key = 1; key <= 10; key++) {
		bool kept = key == 2 || key == 4 || key == 6 || key == 7;
		int err = bpf_map_lookup_elem(fd, &key, &v);

		cr_assert_eq(!err, kept, "stack %llu %s", (unsigned long long)key,
			     kept ? "dropped" : "kept");
		if (kept)
			cr_assert(v.a == key && v.b == key * 1000, "stack %llu's value changed",
				  (unsigned long long)key);
	}
	close(fd);
}
