// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A BTF of the kernel's types that CO-RE relocations may be rooted at
 * (core_btf.h). The kernel's raw BTF is read as it is laid out (linux/btf.h):
 * one walk finds where each type is, one pass over them takes those whose
 * name is wanted, and the types they embed follow, numbered anew.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "core_btf.h"

/* The kernel's BTF as read: where each type starts, and its strings. */
struct kbtf {
	const char *types; /* the type section */
	size_t types_len;
	const char *strs;
	size_t strs_len;
	uint32_t *off;	/* off[id]: where type id starts in types; id 0 is void */
	uint32_t nr;	/* types, void included */
	size_t map_len; /* of the mapping off starts, with the renumbering's arrays */
};

/* The names wanted, without their flavors: open addressing, a power of two. */
struct names {
	const char **v;
	size_t *len;
	size_t cap;
};

int core_btf__reserve(char *path, size_t len)
{
	int fd = memfd_create("leaktrace-core-btf", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/*
 * The length of name without its flavor, as libbpf matches names: up to the
 * last "X___Y" (X and Y not underscores), X kept; "task_struct___v2" is
 * "task_struct".
 */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;) {
		const char *s = name + i;

		if (s[0] != '_' && s[1] == '_' && s[2] == '_' && s[3] == '_' && s[4] != '_')
			return i + 1;
	}
	return n;
}

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static bool names_has(const struct names *n, const char *s, size_t len)
{
	for (size_t i = name_hash(s, len) & (n->cap - 1); n->v[i]; i = (i + 1) & (n->cap - 1))
		if (n->len[i] == len && !memcmp(n->v[i], s, len))
			return true;
	return false;
}

/* The essential names of local's named structs, unions, enums and typedefs; -ENOMEM. */
static int names_of(const struct btf *local, struct names *n)
{
	uint32_t count = btf__type_cnt(local);
	size_t i;

	n->cap = 64;
	while (n->cap < 2 * (size_t)count)
		n->cap *= 2;
	n->v = calloc(n->cap, sizeof(*n->v));
	n->len = calloc(n->cap, sizeof(*n->len));
	if (!n->v || !n->len)
		return -ENOMEM;
	for (uint32_t id = 1; id < count; id++) {
		const struct btf_type *t = btf__type_by_id(local, id);
		int kind = btf_kind(t);
		const char *name = btf__name_by_offset(local, t->name_off);
		size_t len;

		if ((kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION && kind != BTF_KIND_ENUM &&
		     kind != BTF_KIND_ENUM64 && kind != BTF_KIND_TYPEDEF) ||
		    !name || !*name)
			continue;
		len = essential_len(name);
		if (names_has(n, name, len))
			continue;
		for (i = name_hash(name, len) & (n->cap - 1); n->v[i]; i = (i + 1) & (n->cap - 1))
			;
		n->v[i] = name;
		n->len[i] = len;
	}
	return 0;
}

/* The bytes after a type's struct btf_type, by its kind; -1 for a kind not known here. */
static long trailer(const struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct btf_enum64);
	}
	return -1;
}

/* The new numbering: old ids in the order they were given new ones (from 1). */
struct renum {
	uint32_t *new_id; /* by old id; 0: not taken */
	uint32_t *old_id; /* by new id - 1 */
	uint32_t n;
};

/* The types, void included, with where each starts in off when given; -EBADMSG. */
static long walk(const struct kbtf *k, uint32_t *off)
{
	size_t pos = 0;
	long nr = 1, more;

	while (pos < k->types_len) {
		const struct btf_type *t = (const void *)(k->types + pos);

		if (k->types_len - pos < sizeof(*t) || (more = trailer(t)) < 0 ||
		    (size_t)more > k->types_len - pos - sizeof(*t) || t->name_off >= k->strs_len)
			return -EBADMSG;
		if (off)
			off[nr] = pos;
		nr++;
		pos += sizeof(*t) + more;
	}
	return nr;
}

/*
 * Where each type of the raw BTF starts, and room to renumber them (r), in
 * one mapping (as the BTF read: no large block through malloc); -EBADMSG for
 * a BTF this reader cannot walk.
 */
static int kbtf_index(const void *raw, size_t size, struct kbtf *k, struct renum *r)
{
	const struct btf_header *h = raw;
	long nr;

	if (size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) ||
	    h->hdr_len > size || h->hdr_len % 4 || h->type_off % 4 ||
	    (uint64_t)h->type_off + h->type_len > size - h->hdr_len ||
	    (uint64_t)h->str_off + h->str_len > size - h->hdr_len || !h->str_len)
		return -EBADMSG;
	k->types = (const char *)raw + h->hdr_len + h->type_off;
	k->types_len = h->type_len;
	k->strs = (const char *)raw + h->hdr_len + h->str_off;
	k->strs_len = h->str_len;
	if (k->strs[k->strs_len - 1] || (nr = walk(k, NULL)) < 0)
		return -EBADMSG;
	k->nr = nr;
	k->map_len = 3 * (size_t)nr * sizeof(uint32_t);
	k->off = mmap(NULL, k->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->off == MAP_FAILED) {
		k->off = NULL;
		return -ENOMEM;
	}
	r->new_id = k->off + nr; /* zeroed: none taken */
	r->old_id = r->new_id + nr;
	walk(k, k->off);
	return 0;
}

static const struct btf_type *ktype(const struct kbtf *k, uint32_t id)
{
	return (const void *)(k->types + k->off[id]);
}

/* The new id of old type id, given now if it has none; 0 for void; -EBADMSG out of range. */
static long take(struct renum *r, const struct kbtf *k, uint32_t id)
{
	if (!id)
		return 0;
	if (id >= k->nr)
		return -EBADMSG;
	if (!r->new_id[id]) {
		r->old_id[r->n] = id;
		r->new_id[id] = ++r->n;
	}
	return r->new_id[id];
}

/*
 * The types t refers to, each taken (renumbered), except where a pointer
 * points; with out, written there renumbered (a pointer's to void).
 */
static int refer(struct renum *r, const struct kbtf *k, const struct btf_type *t,
		 struct btf_type *out)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);
	long id;

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_PTR:
		if (out)
			out->type = 0;
		return 0;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		if ((id = take(r, k, t->type)) < 0)
			return id;
		if (out)
			out->type = id;
		return 0;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = (const void *)(t + 1);
		struct btf_array *o = out ? (void *)(out + 1) : NULL;
		long elem = take(r, k, a->type), index = take(r, k, a->index_type);

		if (elem < 0 || index < 0)
			return -EBADMSG;
		if (o) {
			o->type = elem;
			o->index_type = index;
		}
		return 0;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = (const void *)(t + 1);
		struct btf_member *o = out ? (void *)(out + 1) : NULL;

		for (uint32_t i = 0; i < vlen; i++) {
			if ((id = take(r, k, m[i].type)) < 0 || m[i].name_off >= k->strs_len)
				return -EBADMSG;
			if (o)
				o[i].type = id;
		}
		return 0;
	}
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *p = (const void *)(t + 1);
		struct btf_param *o = out ? (void *)(out + 1) : NULL;

		if ((id = take(r, k, t->type)) < 0)
			return id;
		if (out)
			out->type = id;
		for (uint32_t i = 0; i < vlen; i++) {
			if ((id = take(r, k, p[i].type)) < 0 || p[i].name_off >= k->strs_len)
				return -EBADMSG;
			if (o)
				o[i].type = id;
		}
		return 0;
	}
	case BTF_KIND_INT:
	case BTF_KIND_FWD:
	case BTF_KIND_FLOAT:
		return 0;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: {
		size_t each = BTF_INFO_KIND(t->info) == BTF_KIND_ENUM ? sizeof(struct btf_enum) :
									sizeof(struct btf_enum64);

		/* Each value's name first in its record. */
		for (uint32_t i = 0; i < vlen; i++)
			if (*(const uint32_t *)((const char *)(t + 1) + i * each) >= k->strs_len)
				return -EBADMSG;
		return 0;
	}
	}
	return -EBADMSG; /* no member's type is a variable, a function or a section */
}

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	return 0;
}

/* The kernel's strings the copied types name, each kept once, by its offset there. */
struct strtab {
	char *buf;
	size_t len, cap;
	uint32_t *from, *to; /* open addressing, a power of two; from 0: empty */
	size_t slots;
};

/* *off, an offset in the kernel's strings, made one in st's (the string copied the first time). */
static int str_keep(struct strtab *st, const struct kbtf *k, uint32_t *off)
{
	size_t i, n;
	char *grown;

	if (!*off)
		return 0; /* "" is at 0 in both */
	for (i = (*off * 0x9e3779b1u) & (st->slots - 1); st->from[i]; i = (i + 1) & (st->slots - 1))
		if (st->from[i] == *off) {
			*off = st->to[i];
			return 0;
		}
	n = strlen(k->strs + *off) + 1; /* the section ends with a NUL (kbtf_index) */
	if (st->len + n > st->cap) {
		st->cap = 2 * (st->len + n);
		grown = realloc(st->buf, st->cap);
		if (!grown)
			return -ENOMEM;
		st->buf = grown;
	}
	memcpy(st->buf + st->len, k->strs + *off, n);
	st->from[i] = *off;
	st->to[i] = *off = st->len;
	st->len += n;
	return 0;
}

/* Every name of copied type t (its own, its members', values' or parameters') made st's. */
static int str_rename(struct strtab *st, const struct kbtf *k, struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);
	size_t each = 0;
	int err = str_keep(st, k, &t->name_off);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		each = sizeof(struct btf_member);
		break;
	case BTF_KIND_ENUM:
		each = sizeof(struct btf_enum);
		break;
	case BTF_KIND_ENUM64:
		each = sizeof(struct btf_enum64);
		break;
	case BTF_KIND_FUNC_PROTO:
		each = sizeof(struct btf_param);
		break;
	}
	/* Each record's name is its first field. */
	for (uint32_t i = 0; each && !err && i < vlen; i++)
		err = str_keep(st, k, (uint32_t *)((char *)(t + 1) + i * each));
	return err;
}

/*
 * The BTF of the types renumbered: each copied, its references renumbered,
 * its names in a string section of their own (the kernel's is 2.5 MiB).
 */
static int emit(int fd, const struct kbtf *k, struct renum *r)
{
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h) };
	struct strtab st = { .len = 1 };
	size_t len = 0, names = 0, at;
	char *types;
	int err = 0;

	for (uint32_t i = 0; i < r->n; i++) {
		const struct btf_type *t = ktype(k, r->old_id[i]);

		len += sizeof(*t) + trailer(t);
		names += 1 + BTF_INFO_VLEN(t->info);
	}
	for (st.slots = 64; st.slots < 2 * names; st.slots *= 2)
		;
	types = malloc(len ? len : 1);
	st.from = calloc(st.slots, sizeof(*st.from));
	st.to = malloc(st.slots * sizeof(*st.to));
	st.cap = 4096;
	st.buf = calloc(1, st.cap);
	if (!types || !st.from || !st.to || !st.buf)
		err = -ENOMEM;
	at = 0;
	for (uint32_t i = 0; !err && i < r->n; i++) {
		const struct btf_type *t = ktype(k, r->old_id[i]);
		size_t size = sizeof(*t) + trailer(t);

		memcpy(types + at, t, size);
		err = refer(r, k, t, (struct btf_type *)(types + at));
		if (!err)
			err = str_rename(&st, k, (struct btf_type *)(types + at));
		at += size;
	}
	h.type_off = 0;
	h.type_len = len;
	h.str_off = len;
	h.str_len = st.len;
	if (!err)
		err = write_all(fd, &h, sizeof(h));
	if (!err)
		err = write_all(fd, types, len);
	if (!err)
		err = write_all(fd, st.buf, st.len);
	free(types);
	free(st.buf);
	free(st.from);
	free(st.to);
	return err;
}

/* The roots (types named as wanted) and all they embed, renumbered; -errno. */
static int collect(const struct kbtf *k, const struct names *names, struct renum *r)
{
	int err = 0;

	for (uint32_t id = 1; id < k->nr; id++) {
		const struct btf_type *t = ktype(k, id);
		int kind = BTF_INFO_KIND(t->info);
		const char *name = k->strs + t->name_off;

		if ((kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM ||
		     kind == BTF_KIND_ENUM64 || kind == BTF_KIND_TYPEDEF) &&
		    *name && names_has(names, name, essential_len(name)))
			take(r, k, id);
	}
	/* What they embed: each type taken is visited once, in order, taking what it refers to. */
	for (uint32_t i = 0; !err && i < r->n; i++)
		err = refer(r, k, ktype(k, r->old_id[i]), NULL);
	return err ? err : r->n ? 0 : -ENOENT; /* none named: the whole, as libbpf would search */
}

int core_btf__write(int fd, const struct btf *local, const void *kernel, size_t size,
		    unsigned int *nr_types)
{
	struct names names = {};
	struct renum r = {};
	struct kbtf k = {};
	int err;

	err = names_of(local, &names);
	if (!err)
		err = kbtf_index(kernel, size, &k, &r);
	if (!err)
		err = collect(&k, &names, &r);
	if (!err)
		err = emit(fd, &k, &r);
	*nr_types = err ? 0 : r.n;
	/* Not done: the kernel's BTF whole, which libbpf searches as it would have. */
	if (err)
		err = ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) ? -errno :
								   write_all(fd, kernel, size);
	free(names.v);
	free(names.len);
	if (k.off)
		munmap(k.off, k.map_len);
	return err;
}
