// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * core_btf: the kernel's types CO-RE relocations name, copied out of the
 * running kernel's BTF: each as libbpf's own parse of the whole BTF has it,
 * member for member, and few; the whole BTF where they cannot be.
 */
#include <criterion/criterion.h>
#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/btf.h>

#include "core_btf.h"
#include "kernel.h"

/* A BTF of the names an object's relocations would have: contents do not matter. */
static struct btf *local_names(void)
{
	struct btf *b = btf__new_empty();

	cr_assert_not_null(b);
	cr_assert_gt(btf__add_struct(b, "task_struct", 0), 0);
	cr_assert_gt(btf__add_struct(b, "file", 0), 0);
	cr_assert_gt(btf__add_struct(b, "mm_struct___flavor", 0), 0); /* libbpf's flavors */
	cr_assert_gt(btf__add_struct(b, "not_a_kernel_type", 0), 0);
	return b;
}

/*
 * Types a and b (of BTFs x and y) are the same: kind, name, size, members
 * with their names, offsets and bitfields, and what they embed, recursively;
 * where x has a pointer, its target is void. seen: a's ids compared already.
 */
static void same_type(const struct btf *x, __u32 a, const struct btf *y, __u32 b, char *seen)
{
	const struct btf_type *s = btf__type_by_id(x, a), *t = btf__type_by_id(y, b);

	if (!a || !b) {
		cr_assert_eq(a, b, "void against type %u", a ? a : b);
		return;
	}
	if (seen[a])
		return;
	seen[a] = 1;
	cr_assert_eq(s->info, t->info, "type %s: kind, vlen or kind_flag differs",
		     btf__name_by_offset(y, t->name_off));
	cr_assert_str_eq(btf__name_by_offset(x, s->name_off), btf__name_by_offset(y, t->name_off));
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
		cr_assert_eq(s->type, 0, "a pointer's target is void");
		return;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		cr_assert_eq(s->size, t->size);
		for (__u16 i = 0; i < btf_vlen(t); i++) {
			const struct btf_member *m = btf_members(s) + i, *n = btf_members(t) + i;

			cr_assert_str_eq(btf__name_by_offset(x, m->name_off),
					 btf__name_by_offset(y, n->name_off));
			cr_assert_eq(m->offset, n->offset, "member %s",
				     btf__name_by_offset(y, n->name_off));
			same_type(x, m->type, y, n->type, seen);
		}
		return;
	case BTF_KIND_ARRAY:
		cr_assert_eq(btf_array(s)->nelems, btf_array(t)->nelems);
		same_type(x, btf_array(s)->type, y, btf_array(t)->type, seen);
		same_type(x, btf_array(s)->index_type, y, btf_array(t)->index_type, seen);
		return;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		same_type(x, s->type, y, t->type, seen);
		return;
	default: /* int, enum, float, fwd: info, name and size say it all */
		cr_assert_eq(s->size, t->size);
		return;
	}
}

Test(core_btf, the_types_named_are_the_kernels_member_for_member_and_few)
{
	const char *names[] = { "task_struct", "file", "mm_struct" };
	struct btf *local = local_names(), *small, *whole;
	unsigned int nr = 0;
	char path[64], *seen;
	size_t size = 0;
	void *kernel;
	int fd;

	kernel = kernel__btf(&size);
	cr_assert_not_null(kernel, "no /sys/kernel/btf/vmlinux: %s", strerror(errno));
	fd = core_btf__reserve(path, sizeof(path));
	cr_assert_geq(fd, 0);
	cr_assert_eq(core_btf__write(fd, local, kernel, size, &nr), 0);
	cr_assert_gt(nr, 0, "the types were taken, not the whole BTF");
	small = btf__parse(path, NULL);
	cr_assert_not_null(small, "libbpf does not take the BTF written: %s", strerror(errno));
	whole = btf__load_vmlinux_btf();
	cr_assert_not_null(whole);
	cr_assert_eq(btf__type_cnt(small), nr + 1);
	cr_assert_lt(btf__type_cnt(small), btf__type_cnt(whole) / 10, "%u of %u types",
		     btf__type_cnt(small), btf__type_cnt(whole));
	seen = calloc(btf__type_cnt(small), 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		__s32 a = btf__find_by_name_kind(small, names[i], BTF_KIND_STRUCT);
		__s32 b = btf__find_by_name_kind(whole, names[i], BTF_KIND_STRUCT);

		cr_assert_gt(a, 0, "struct %s not taken", names[i]);
		cr_assert_gt(b, 0);
		same_type(small, a, whole, b, seen);
	}
	cr_assert_lt(btf__find_by_name(small, "not_a_kernel_type"), 0);
	cr_assert_lt(btf__find_by_name_kind(small, "sk_buff", BTF_KIND_STRUCT), 0,
		     "a type not named is not taken");
	free(seen);
	btf__free(whole);
	btf__free(small);
	btf__free(local);
	kernel__btf_free(kernel, size);
	close(fd);
}

/* What fd holds, as read back from its start. */
static void *contents(int fd, size_t *len)
{
	struct stat st;
	char *buf;

	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	cr_assert_eq(pread(fd, buf, st.st_size, 0), st.st_size);
	*len = st.st_size;
	return buf;
}

/* A BTF this reader cannot walk is handed over whole: libbpf searches it as it would have. */
static void whole_when(const char *why, void (*spoil)(char *raw, size_t *size))
{
	struct btf *local = local_names();
	size_t size = 0, got = 0;
	unsigned int nr = 7;
	char path[64], *raw, *out;
	void *kernel;
	int fd;

	/* A copy to spoil: the kernel's may be its own pages, read-only. */
	kernel = kernel__btf(&size);
	cr_assert_not_null(kernel);
	raw = malloc(size);
	memcpy(raw, kernel, size);
	kernel__btf_free(kernel, size);
	spoil(raw, &size);
	fd = core_btf__reserve(path, sizeof(path));
	cr_assert_eq(core_btf__write(fd, local, raw, size, &nr), 0, "%s", why);
	cr_assert_eq(nr, 0, "%s: nothing taken", why);
	out = contents(fd, &got);
	cr_assert_eq(got, size, "%s", why);
	cr_assert_eq(memcmp(out, raw, size), 0, "%s: the input whole", why);
	free(out);
	free(raw);
	btf__free(local);
	close(fd);
}

static void cut_in_the_types(char *raw, size_t *size)
{
	const struct btf_header *h = (const void *)raw;

	/* The strings moved up to mid-types: the type section runs past them. */
	*size = h->hdr_len + h->type_off + h->type_len / 2;
}

static void unknown_kind(char *raw, size_t *size)
{
	const struct btf_header *h = (const void *)raw;
	struct btf_type *t = (void *)(raw + h->hdr_len + h->type_off);

	(void)size;
	t->info = (t->info & ~(0x1fu << 24)) | (31u << 24);
}

Test(core_btf, a_btf_cut_short_or_of_an_unknown_kind_is_handed_over_whole)
{
	whole_when("cut short", cut_in_the_types);
	whole_when("a kind not known", unknown_kind);
}
