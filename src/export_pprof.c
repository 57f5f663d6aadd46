// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pprof heap profiles: pprof's proto/profile.proto encoded by hand and
 * gzip-compressed with zlib. Sample types inuse_objects/count
 * and inuse_space/bytes, inuse_space the default, as Go's own heap profiles;
 * after a --scan also lost_objects and lost_space (definitely and indirectly);
 * last resident_space: what is held, mappings by their resident pages.
 * Functions are already symbolized (has_functions), so pprof never looks for the
 * binaries; with their source lines (Function.filename, Line.line) and the calls
 * inlined at an address as more Lines of its Location. Mappings carry the build
 * IDs and the code ranges the snapshot knows (proc_stat__module), the main
 * executable's first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "dwarf_lines.h"
#include "export_pprof.h"

/* profile.proto field numbers. */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE,
	PROFILE_MAPPING,
	PROFILE_LOCATION,
	PROFILE_FUNCTION,
	PROFILE_STRING_TABLE,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS,
	PROFILE_PERIOD_TYPE,
	PROFILE_PERIOD,
	PROFILE_COMMENT,
	PROFILE_DEFAULT_SAMPLE_TYPE,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE,
	SAMPLE_LABEL,
	LABEL_KEY = 1,
	LABEL_STR,
	LABEL_NUM,
	MAPPING_ID = 1,
	MAPPING_MEMORY_START,
	MAPPING_MEMORY_LIMIT,
	MAPPING_FILE_OFFSET,
	MAPPING_FILENAME,
	MAPPING_BUILD_ID,
	MAPPING_HAS_FUNCTIONS,
	MAPPING_HAS_FILENAMES,
	MAPPING_HAS_LINE_NUMBERS,
	MAPPING_HAS_INLINE_FRAMES,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID,
	LOCATION_ADDRESS,
	LOCATION_LINE,
	LINE_FUNCTION_ID = 1,
	LINE_LINE,
	FUNCTION_ID = 1,
	FUNCTION_NAME,
	FUNCTION_SYSTEM_NAME,
	FUNCTION_FILENAME,
	FUNCTION_START_LINE,
};

enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };

/* A growing protobuf buffer; err sticks at the first failed allocation. */
struct pb {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void pb_raw(struct pb *b, const void *data, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (b->err)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		buf[n++] |= v ? 0x80 : 0;
	} while (v);
	pb_raw(b, buf, n);
}

/* A varint field; zero is proto3's default and is not written. */
static void pb_uint(struct pb *b, int field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, int field, const void *data, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | WIRE_BYTES);
	pb_varint(b, n);
	pb_raw(b, data, n);
}

/* Appends sub as a message field of b, and empties sub for the next one. */
static void pb_msg(struct pb *b, int field, struct pb *sub)
{
	if (sub->err)
		b->err = sub->err;
	pb_bytes(b, field, sub->p, sub->len);
	sub->len = 0;
}

/* What is interned gets an id from 1 on (strings from 0), in the order first seen. */
struct intern {
	char **keys;
	uint64_t *ids;
	size_t size, n;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int intern_grow(struct intern *t)
{
	struct intern bigger = { .size = t->size ? t->size * 2 : 256, .n = t->n };

	bigger.keys = calloc(bigger.size, sizeof(*bigger.keys));
	bigger.ids = calloc(bigger.size, sizeof(*bigger.ids));
	if (!bigger.keys || !bigger.ids) {
		free(bigger.keys);
		free(bigger.ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->size; i++) {
		size_t j;

		if (!t->keys[i])
			continue;
		j = hash_key(t->keys[i]) & (bigger.size - 1);
		while (bigger.keys[j])
			j = (j + 1) & (bigger.size - 1);
		bigger.keys[j] = t->keys[i];
		bigger.ids[j] = t->ids[i];
	}
	free(t->keys);
	free(t->ids);
	*t = bigger;
	return 0;
}

/* key's id into *id; *is_new tells the caller to write the entity. 0 or -ENOMEM. */
static int intern(struct intern *t, const char *key, uint64_t first_id, uint64_t *id, bool *is_new)
{
	size_t i;

	*is_new = false;
	if (2 * (t->n + 1) > t->size && intern_grow(t))
		return -ENOMEM;
	for (i = hash_key(key) & (t->size - 1); t->keys[i]; i = (i + 1) & (t->size - 1)) {
		if (!strcmp(t->keys[i], key)) {
			*id = t->ids[i];
			return 0;
		}
	}
	t->keys[i] = strdup(key);
	if (!t->keys[i])
		return -ENOMEM;
	*id = t->ids[i] = first_id + t->n++;
	*is_new = true;
	return 0;
}

static void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->size; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->ids);
}

struct profile {
	struct pb out;		      /* the Profile message */
	struct pb sub, packed, label; /* scratch for nested messages */
	struct intern strings, mappings, functions, locations;
	bool lines; /* some frame has a source line */
};

/* The string table index of s, appending s to the table the first time. */
static uint64_t str_id(struct profile *pr, const char *s)
{
	uint64_t id = 0;
	bool is_new;

	if (intern(&pr->strings, s, 0, &id, &is_new))
		pr->out.err = -ENOMEM;
	else if (is_new)
		pb_bytes(&pr->out, PROFILE_STRING_TABLE, s, strlen(s));
	return id;
}

static void value_type(struct profile *pr, int field, const char *type, const char *unit)
{
	uint64_t t = str_id(pr, type), u = str_id(pr, unit);

	pb_uint(&pr->sub, VALUE_TYPE_TYPE, t);
	pb_uint(&pr->sub, VALUE_TYPE_UNIT, u);
	pb_msg(&pr->out, field, &pr->sub);
}

/*
 * One mapping per module and place: where its code was mapped when the snapshot
 * knows it (a module may sit at other addresses in other processes), else none.
 */
static uint64_t mapping_id(struct profile *pr, const struct proc_stat *p, const char *module)
{
	const struct module_id *m = proc_stat__module(p, module);
	uint64_t id = 0, name, bid;
	char key[1100];
	bool is_new;

	if (!module)
		return 0;
	snprintf(key, sizeof(key), "%s\x1f%llx", module,
		 m && m->has_text ? (unsigned long long)m->text.start : 0ULL);
	if (intern(&pr->mappings, key, 1, &id, &is_new)) {
		pr->out.err = -ENOMEM;
		return 0;
	}
	if (is_new) {
		name = str_id(pr, module);
		bid = m && m->build_id ? str_id(pr, m->build_id) : 0;
		pb_uint(&pr->sub, MAPPING_ID, id);
		if (m && m->has_text) {
			pb_uint(&pr->sub, MAPPING_MEMORY_START, m->text.start);
			pb_uint(&pr->sub, MAPPING_MEMORY_LIMIT, m->text.limit);
			pb_uint(&pr->sub, MAPPING_FILE_OFFSET, m->text.offset);
		}
		pb_uint(&pr->sub, MAPPING_FILENAME, name);
		pb_uint(&pr->sub, MAPPING_BUILD_ID, bid);
		pb_uint(&pr->sub, MAPPING_HAS_FUNCTIONS, 1);
		pb_uint(&pr->sub, MAPPING_HAS_FILENAMES, pr->lines);
		pb_uint(&pr->sub, MAPPING_HAS_LINE_NUMBERS, pr->lines);
		pb_uint(&pr->sub, MAPPING_HAS_INLINE_FRAMES, pr->lines);
		pb_msg(&pr->out, PROFILE_MAPPING, &pr->sub);
	}
	return id;
}

static uint64_t function_id(struct profile *pr, const struct frame *fr)
{
	const char *file = fr->file ? fr->file : "";
	uint64_t id = 0, n, f;
	char key[1024], tmp[288];
	const char *name = frame__name(fr, tmp, sizeof(tmp));
	bool is_new;

	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", name, fr->module ? fr->module : "", file);
	if (intern(&pr->functions, key, 1, &id, &is_new)) {
		pr->out.err = -ENOMEM;
		return 0;
	}
	if (is_new) {
		n = str_id(pr, name);
		f = str_id(pr, file);
		pb_uint(&pr->sub, FUNCTION_ID, id);
		pb_uint(&pr->sub, FUNCTION_NAME, n);
		pb_uint(&pr->sub, FUNCTION_SYSTEM_NAME, n);
		pb_uint(&pr->sub, FUNCTION_FILENAME, f);
		pb_uint(&pr->sub, FUNCTION_START_LINE, fr->start_line > 0 ? fr->start_line : 0);
		pb_msg(&pr->out, PROFILE_FUNCTION, &pr->sub);
	}
	return id;
}

/* The frames of one address: those inlined there, innermost first, then the real one. */
static int address_frames(const struct stack_stat *s, int i)
{
	int n = 1;

	while (i + n - 1 < s->nr_frames - 1 && s->frames[i + n - 1]->inlined &&
	       n < DWARF_LINES_MAX_DEPTH)
		n++;
	return n;
}

/* A Location: one address, a Line per frame of it, the last the function it is in. */
static uint64_t location_id(struct profile *pr, const struct proc_stat *p,
			    const struct frame *const *fr, int n)
{
	uint64_t id = 0, fn[DWARF_LINES_MAX_DEPTH], map;
	char key[1200], tmp[288];
	int len;
	bool is_new;

	len = snprintf(key, sizeof(key), "%s\x1f%llx", fr[0]->module ? fr[0]->module : "",
		       (unsigned long long)fr[0]->address);
	for (int i = 0; i < n && len < (int)sizeof(key); i++)
		len += snprintf(key + len, sizeof(key) - len, "\x1f%s:%d",
				frame__name(fr[i], tmp, sizeof(tmp)), fr[i]->line);
	if (intern(&pr->locations, key, 1, &id, &is_new)) {
		pr->out.err = -ENOMEM;
		return 0;
	}
	if (!is_new)
		return id;
	/* Functions and the mapping first: each is written through the scratch message. */
	for (int i = 0; i < n; i++)
		fn[i] = function_id(pr, fr[i]);
	map = mapping_id(pr, p, fr[0]->module);
	pb_uint(&pr->sub, LOCATION_ID, id);
	pb_uint(&pr->sub, LOCATION_MAPPING_ID, map);
	pb_uint(&pr->sub, LOCATION_ADDRESS, fr[0]->address);
	for (int i = 0; i < n; i++) {
		pb_uint(&pr->label, LINE_FUNCTION_ID, fn[i]);
		pb_uint(&pr->label, LINE_LINE, fr[i]->line > 0 ? (uint64_t)fr[i]->line : 0);
		pb_msg(&pr->sub, LOCATION_LINE, &pr->label);
	}
	pb_msg(&pr->out, PROFILE_LOCATION, &pr->sub);
	return id;
}

static void label(struct profile *pr, const char *key, const char *str, int64_t num)
{
	uint64_t k = str_id(pr, key), s = str ? str_id(pr, str) : 0;

	pb_uint(&pr->label, LABEL_KEY, k);
	pb_uint(&pr->label, LABEL_STR, s);
	pb_uint(&pr->label, LABEL_NUM, (uint64_t)num);
	pb_msg(&pr->sub, SAMPLE_LABEL, &pr->label);
}

/* A sample's labels: process, pid, kind, and for a merged snapshot every host it came from. */
static void sample_labels(struct profile *pr, const struct proc_stat *p, const struct stack_stat *s)
{
	label(pr, "process", p->comm, 0);
	if (p->pid)
		label(pr, "pid", NULL, p->pid);
	label(pr, "kind", stack_kind__name(s->kind), 0);
	for (size_t i = 0; i < s->nr_origins; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(s->origins[j].host, s->origins[i].host);
		if (!seen)
			label(pr, "host", s->origins[i].host, 0);
	}
}

static void sample(struct profile *pr, const struct proc_stat *p, const struct stack_stat *s,
		   bool scanned)
{
	static const struct frame not_recorded = { .symbol = "[stack not recorded]" };
	static const struct frame *const none[] = { &not_recorded };
	uint64_t ids[SNAP_MAX_FRAMES + 1];
	int n = 0, k;

	/* Innermost first, as profile.proto wants: frame 0, the allocator's caller, is the leaf. */
	for (int i = 0; i < s->nr_frames && n < SNAP_MAX_FRAMES; i += k) {
		k = address_frames(s, i);
		ids[n++] = location_id(pr, p, &s->frames[i], k);
	}
	if (!n)
		ids[n++] = location_id(pr, p, none, 1);
	for (int i = 0; i < n; i++)
		pb_varint(&pr->packed, ids[i]);
	pb_msg(&pr->sub, SAMPLE_LOCATION_ID, &pr->packed);
	pb_varint(&pr->packed, (uint64_t)s->allocs);
	pb_varint(&pr->packed, (uint64_t)s->bytes);
	if (scanned) {
		pb_varint(&pr->packed, (uint64_t)(s->lost_allocs + s->indirect_allocs));
		pb_varint(&pr->packed, (uint64_t)stack_stat__unreachable(s));
		pb_varint(&pr->packed, (uint64_t)s->possible_allocs);
		pb_varint(&pr->packed, (uint64_t)s->possible_bytes);
	}
	pb_varint(&pr->packed, (uint64_t)stack_stat__held(s));
	pb_msg(&pr->sub, SAMPLE_VALUE, &pr->packed);
	sample_labels(pr, p, s);
	pb_msg(&pr->out, PROFILE_SAMPLE, &pr->sub);
}

static void header(struct profile *pr, const struct snapshot *snap, bool scanned)
{
	char comment[320];

	str_id(pr, ""); /* index 0 is the empty string */
	value_type(pr, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(pr, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	if (scanned) {
		value_type(pr, PROFILE_SAMPLE_TYPE, "lost_objects", "count");
		value_type(pr, PROFILE_SAMPLE_TYPE, "lost_space", "bytes");
		value_type(pr, PROFILE_SAMPLE_TYPE, "possible_objects", "count");
		value_type(pr, PROFILE_SAMPLE_TYPE, "possible_space", "bytes");
	}
	value_type(pr, PROFILE_SAMPLE_TYPE, "resident_space", "bytes");
	pb_uint(&pr->out, PROFILE_TIME_NANOS,
		(uint64_t)snap->taken.tv_sec * 1000000000ULL + (uint64_t)snap->taken.tv_nsec);
	pb_uint(&pr->out, PROFILE_DURATION_NANOS, (uint64_t)(snap->elapsed_s * 1e9));
	value_type(pr, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_uint(&pr->out, PROFILE_PERIOD, 1);
	snprintf(comment, sizeof(comment), "leaktrace: outstanding memory on %s", snap->host);
	pb_uint(&pr->out, PROFILE_COMMENT, str_id(pr, comment));
	pb_uint(&pr->out, PROFILE_DEFAULT_SAMPLE_TYPE, str_id(pr, "inuse_space"));
}

static bool has_lines(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nr_procs; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++)
			for (int k = 0; k < snap->procs[i].stacks[j].nr_frames; k++)
				if (snap->procs[i].stacks[j].frames[k]->line)
					return true;
	return false;
}

int export_pprof__encode(const struct snapshot *snap, unsigned char **out, size_t *len)
{
	struct profile pr = { 0 };
	bool scanned = snapshot__has_verdicts(snap);
	int err;

	pr.lines = has_lines(snap);
	header(&pr, snap, scanned);
	/* pprof takes the first mapping for the program's: the executables' come first. */
	for (size_t i = 0; i < snap->nr_procs; i++)
		if (proc_stat__module(&snap->procs[i], snap->procs[i].exe))
			mapping_id(&pr, &snap->procs[i], snap->procs[i].exe);
	for (size_t i = 0; i < snap->nr_procs; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++)
			if (snap->procs[i].stacks[j].bytes > 0)
				sample(&pr, &snap->procs[i], &snap->procs[i].stacks[j], scanned);
	err = pr.out.err    ? pr.out.err :
	      pr.sub.err    ? pr.sub.err :
	      pr.packed.err ? pr.packed.err :
			      pr.label.err;
	free(pr.sub.p);
	free(pr.packed.p);
	free(pr.label.p);
	intern_free(&pr.strings);
	intern_free(&pr.mappings);
	intern_free(&pr.functions);
	intern_free(&pr.locations);
	if (err) {
		free(pr.out.p);
		return err;
	}
	*out = pr.out.p;
	*len = pr.out.len;
	return 0;
}

/* gzip, as pprof reads it (deflate with a gzip header: window bits 15 + 16). */
static int gzip_write(FILE *f, const unsigned char *data, size_t len)
{
	unsigned char buf[16384];
	z_stream z = { 0 };
	int ret;

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -ENOMEM;
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		ret = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof(buf) - z.avail_out, f);
	} while (ret == Z_OK);
	deflateEnd(&z);
	return ret == Z_STREAM_END && !ferror(f) ? 0 : -EIO;
}

int export_pprof__write(FILE *f, const struct snapshot *snap)
{
	unsigned char *data;
	size_t len;
	int err;

	err = export_pprof__encode(snap, &data, &len);
	if (err)
		return err;
	err = gzip_write(f, data, len);
	free(data);
	return err;
}
