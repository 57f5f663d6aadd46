// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Saved JSON snapshots back into memory, for `leaktrace report`: jansson parses, we check. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "arena.h"
#include "frame_table.h"
#include "snapshot_json.h"
#include "snapshot_json_keys.h"

struct loader {
	const char *name; /* the file, as errors call it */
	struct snapshot *snap;
	char *err;
	size_t err_size;
	struct frame_table *frames; /* stacks share their frames, in the snapshot's arena */
};

enum want { WANT_INT, WANT_NUMBER, WANT_STRING, WANT_BOOL, WANT_ARRAY, WANT_OBJECT };

static const char *const want_names[] = {
	[WANT_INT] = "an integer",     [WANT_NUMBER] = "a number", [WANT_STRING] = "a string",
	[WANT_BOOL] = "true or false", [WANT_ARRAY] = "an array",  [WANT_OBJECT] = "an object",
};

static int fail(struct loader *l, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(l->err, l->err_size, "%s: ", l->name);
	if (n < l->err_size) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->err_size - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool has_type(const json_t *v, enum want want)
{
	switch (want) {
	case WANT_INT:
		return json_is_integer(v);
	case WANT_NUMBER:
		return json_is_number(v);
	case WANT_STRING:
		return json_is_string(v);
	case WANT_BOOL:
		return json_is_boolean(v);
	case WANT_ARRAY:
		return json_is_array(v);
	case WANT_OBJECT:
		return json_is_object(v);
	}
	return false;
}

/* obj[key] of the wanted type into *out; an absent optional member gives NULL. */
static int field(struct loader *l, json_t *obj, const char *where, const char *key, enum want want,
		 bool required, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(l, "%s%s\"%s\" is missing", where, *where ? ": " : "", key);
		return 0;
	}
	if (!has_type(v, want))
		return fail(l, "%s%s\"%s\" is not %s", where, *where ? ": " : "", key,
			    want_names[want]);
	*out = v;
	return 0;
}

/* An integer in [min, max]: every count a report sums or subtracts stays far from overflow. */
static int get_int_in(struct loader *l, json_t *obj, const char *where, const char *key,
		      bool required, int64_t min, int64_t max, int64_t *out)
{
	json_t *v;
	int err = field(l, obj, where, key, WANT_INT, required, &v);

	if (err || !v)
		return err;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(l, "%s%s\"%s\" is %lld, out of range (%lld to %lld)", where,
			    *where ? ": " : "", key, (long long)json_integer_value(v),
			    (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* Bytes and counts: 0 to LT_MAX_COUNT. */
static int get_int(struct loader *l, json_t *obj, const char *where, const char *key, bool required,
		   int64_t *out)
{
	return get_int_in(l, obj, where, key, required, 0, LT_MAX_COUNT, out);
}

/* Rates and ages: a number within +-LT_MAX_COUNT. */
/* The longest trace a snapshot may say it covers, in seconds (~317 years). */
#define ELAPSED_MAX 1e10

static int get_number(struct loader *l, json_t *obj, const char *where, const char *key,
		      double *out)
{
	json_t *v;
	int err = field(l, obj, where, key, WANT_NUMBER, false, &v);

	if (err || !v)
		return err;
	if (!(fabs(json_number_value(v)) <= (double)LT_MAX_COUNT))
		return fail(l, "%s%s\"%s\" is %g, out of range", where, *where ? ": " : "", key,
			    json_number_value(v));
	*out = json_number_value(v);
	return 0;
}

/* A pid: 0 (unknown, merged) to the kernel's PID_MAX_LIMIT. */
static int get_pid(struct loader *l, json_t *obj, const char *where, bool required, pid_t *out)
{
	int64_t pid = 0;
	int err = get_int_in(l, obj, where, JK_PID, required, 0, 1 << 22, &pid);

	*out = (pid_t)pid;
	return err;
}

/* "trend": a name of enum trend; absent (older snapshots): unknown. */
static int load_trend(struct loader *l, json_t *obj, const char *where, enum trend *out)
{
	json_t *v;
	int err = field(l, obj, where, JK_TREND, WANT_STRING, false, &v);

	*out = TREND_UNKNOWN;
	for (enum trend t = TREND_UNKNOWN; !err && v && t <= TREND_SHRINKING; t++)
		if (!strcmp(json_string_value(v), trend__name(t)))
			*out = t;
	return err;
}

static int get_bool(struct loader *l, json_t *obj, const char *where, const char *key, bool *out)
{
	json_t *v;
	int err = field(l, obj, where, key, WANT_BOOL, false, &v);

	if (!err && v)
		*out = json_is_true(v);
	return err;
}

/* A string copied into buf (cut to fit), or into the arena when buf is NULL. */
static int get_string(struct loader *l, json_t *obj, const char *where, const char *key, char *buf,
		      size_t size, const char **out)
{
	json_t *v;
	int err = field(l, obj, where, key, WANT_STRING, false, &v);

	if (err || !v)
		return err;
	if (buf) {
		snprintf(buf, size, "%s", json_string_value(v));
		return 0;
	}
	*out = arena__strdup(l->snap->arena, json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

/* A string as the JSON tree holds it: valid while the tree is. */
static int get_string_ref(struct loader *l, json_t *obj, const char *where, const char *key,
			  const char **out)
{
	json_t *v;
	int err = field(l, obj, where, key, WANT_STRING, false, &v);

	if (!err && v)
		*out = json_string_value(v);
	return err;
}

/* "2023-11-14T22:13:20Z", also with a fraction or a +hh:mm offset. */
static int get_time(struct loader *l, json_t *obj, const char *key, struct timespec *out)
{
	const char *s = NULL;
	struct tm tm = { 0 };
	int err, sign, hh, mm;
	char *end;

	err = get_string(l, obj, "", key, NULL, 0, &s);
	if (err || !s)
		return err;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && *end == '.')
		end += 1 + strspn(end + 1, "0123456789");
	out->tv_sec = end ? timegm(&tm) : 0;
	out->tv_nsec = 0;
	if (end && (*end == '+' || *end == '-') && sscanf(end + 1, "%2d:%2d", &hh, &mm) == 2 &&
	    strlen(end) == 6) {
		sign = *end == '+' ? 1 : -1;
		out->tv_sec -= sign * (hh * 3600 + mm * 60);
		return 0;
	}
	if (!end || strcmp(end, "Z"))
		return fail(l, "\"%s\" is not an RFC 3339 time: \"%s\"", key, s);
	return 0;
}

/* "origins": [{"host", "pid"}], written for merged snapshots. */
static int load_origins(struct loader *l, json_t *obj, const char *where, const struct origin **out,
			size_t *nr)
{
	struct origin *v;
	char at[288];
	json_t *arr, *o;
	size_t i;
	int err;

	err = field(l, obj, where, JK_ORIGINS, WANT_ARRAY, false, &arr);
	if (err || !arr || !json_array_size(arr))
		return err;
	v = arena__alloc(l->snap->arena, json_array_size(arr) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(arr, i, o) {
		snprintf(at, sizeof(at), "%s.origins[%zu]", where, i);
		if (!json_is_object(o))
			return fail(l, "%s is not an object", at);
		v[i].host = NULL;
		err = get_string(l, o, at, JK_HOST, NULL, 0, &v[i].host);
		if (!err && !v[i].host)
			err = fail(l, "%s: \"host\" is missing", at);
		if (!err)
			err = get_pid(l, o, at, false, &v[i].pid);
		if (err)
			return err;
	}
	*out = v;
	*nr = json_array_size(arr);
	return 0;
}

/* "0x..." into *out; a bad one fails, naming where and what. */
static int parse_hex(struct loader *l, const char *where, const char *key, const char *text,
		     uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 16);
	if (errno || strncmp(text, "0x", 2) || !text[2] || *end)
		return fail(l, "%s: \"%s\" is not a hex address: \"%s\"", where, key, text);
	return 0;
}

/* A GNU build ID: an even number of hex digits (20 bytes for SHA-1, but any length is valid). */
static int check_build_id(struct loader *l, const char *where, const char *id)
{
	size_t n = strlen(id);

	if (!n || n % 2 || strspn(id, "0123456789abcdef") != n)
		return fail(l, "%s: \"build_id\" is not lower-case hex bytes: \"%s\"", where, id);
	return 0;
}

/* The frame's place in its module (module_offset, build_id), kept for symbolizing later. */
static int load_module_place(struct loader *l, json_t *obj, const char *where, struct frame *fr)
{
	const char *text = NULL;
	int err;

	err = get_string_ref(l, obj, where, JK_MODULE_OFFSET, &text);
	if (!err && text) {
		err = parse_hex(l, where, JK_MODULE_OFFSET, text, &fr->module_offset);
		fr->has_module_offset = !err;
	}
	if (!err)
		err = get_string_ref(l, obj, where, JK_BUILD_ID, &fr->build_id);
	if (!err && fr->build_id)
		err = check_build_id(l, where, fr->build_id);
	return err;
}

/* Its source line (file, line) and whether it is a call inlined into the next frame. */
static int load_source(struct loader *l, json_t *obj, const char *where, struct frame *fr)
{
	int64_t line = 0, start = 0;
	int err;

	err = get_string_ref(l, obj, where, JK_FILE, &fr->file);
	if (!err)
		err = get_int_in(l, obj, where, JK_LINE, false, 0, INT32_MAX, &line);
	if (!err)
		err = get_int_in(l, obj, where, JK_START_LINE, false, 0, INT32_MAX, &start);
	if (!err)
		err = get_bool(l, obj, where, JK_INLINED, &fr->inlined);
	fr->line = (int)line;
	fr->start_line = (int)start;
	return err;
}

static int load_frame(struct loader *l, json_t *obj, const char *where, struct frame *fr)
{
	const char *address = NULL;
	int64_t offset = 0;
	int err;

	if (!json_is_object(obj))
		return fail(l, "%s is not an object", where);
	err = get_string_ref(l, obj, where, JK_SYMBOL, &fr->symbol);
	if (!err)
		err = get_int_in(l, obj, where, JK_OFFSET, false, 0, INT64_MAX, &offset);
	if (!err)
		err = get_string_ref(l, obj, where, JK_MODULE, &fr->module);
	if (!err)
		err = get_string_ref(l, obj, where, JK_ADDRESS, &address);
	if (!err)
		err = load_module_place(l, obj, where, fr);
	if (!err)
		err = load_source(l, obj, where, fr);
	if (err)
		return err;
	/* What the writer puts for "none": back to none, so that text and exports agree. */
	if (fr->symbol && !strcmp(fr->symbol, JV_SYMBOL_UNKNOWN))
		fr->symbol = NULL;
	if (fr->module && !strcmp(fr->module, JV_MODULE_ANONYMOUS))
		fr->module = NULL;
	fr->offset = fr->symbol ? (uint64_t)offset : 0;
	return address ? parse_hex(l, where, JK_ADDRESS, address, &fr->address) : 0;
}

static int load_kind(struct loader *l, json_t *obj, const char *where, enum stack_kind *kind)
{
	const char *s = NULL;
	int err = get_string(l, obj, where, JK_KIND, NULL, 0, &s);

	if (err || !s || !strcmp(s, JV_KIND_HEAP))
		*kind = STACK_HEAP;
	else if (!strcmp(s, JV_KIND_MMAP))
		*kind = STACK_MMAP;
	else if (!strcmp(s, JV_KIND_KERNEL))
		*kind = STACK_KERNEL;
	else
		return fail(l, "%s: \"kind\" is \"%s\", not heap, mmap or kernel", where, s);
	return err;
}

static int load_frames(struct loader *l, json_t *obj, const char *where, struct stack_stat *s)
{
	const struct frame **frames;
	struct frame fr;
	char at[224];
	json_t *arr, *f;
	size_t i;
	int err;

	err = field(l, obj, where, JK_FRAMES, WANT_ARRAY, true, &arr);
	if (err || !json_array_size(arr))
		return err;
	if (json_array_size(arr) > INT_MAX)
		return fail(l, "%s: too many frames", where);
	frames = arena__alloc(l->snap->arena, json_array_size(arr) * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	json_array_foreach(arr, i, f) {
		snprintf(at, sizeof(at), "%s.frames[%zu]", where, i);
		memset(&fr, 0, sizeof(fr));
		err = load_frame(l, f, at, &fr);
		fr.kernel = s->kind == STACK_KERNEL;
		if (err)
			return err;
		/* Its strings, the tree's until now, copied into the arena when it is new. */
		frames[i] = frame_table__get(l->frames, &fr);
		if (!frames[i])
			return -ENOMEM;
	}
	s->frames = frames;
	s->nr_frames = (int)json_array_size(arr);
	return 0;
}

/* --scan's verdicts, present when the stack was scanned. */
static int load_verdicts(struct loader *l, json_t *obj, const char *where, struct stack_stat *s)
{
	int err;

	s->scanned = json_object_get(obj, JK_LOST_BYTES) != NULL;
	if (!s->scanned)
		return 0;
	err = get_int(l, obj, where, JK_LOST_BYTES, true, &s->lost_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_LOST_ALLOCS, false, &s->lost_allocs);
	if (!err)
		err = get_int(l, obj, where, JK_INDIRECT_BYTES, false, &s->indirect_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_INDIRECT_ALLOCS, false, &s->indirect_allocs);
	if (!err)
		err = get_int(l, obj, where, JK_REACHABLE_BYTES, false, &s->reachable_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_REACHABLE_ALLOCS, false, &s->reachable_allocs);
	if (!err)
		err = get_int(l, obj, where, JK_POSSIBLE_BYTES, false, &s->possible_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_POSSIBLE_ALLOCS, false, &s->possible_allocs);
	return err;
}

/* A kernel stack's "task" {"pid", "comm", "cgroup"} and "slab_cache", both optional. */
static int load_task(struct loader *l, json_t *obj, const char *where, struct stack_stat *s)
{
	char at[192];
	int64_t v = 0;
	json_t *t;
	int err;

	err = get_string(l, obj, where, JK_SLAB_CACHE, s->slab_cache, sizeof(s->slab_cache), NULL);
	if (!err)
		err = field(l, obj, where, JK_TASK, WANT_OBJECT, false, &t);
	if (err || !t)
		return err;
	snprintf(at, sizeof(at), "%s: %s", where, JK_TASK);
	err = get_pid(l, t, at, false, &s->task_pid);
	if (!err)
		err = get_string(l, t, at, JK_COMM, s->task_comm, sizeof(s->task_comm), NULL);
	v = 0;
	if (!err)
		err = get_int_in(l, t, at, JK_CGROUP, false, 0, INT64_MAX, &v);
	s->task_cgroup = v;
	return err;
}

static int load_stack(struct loader *l, json_t *obj, const char *where, struct stack_stat *s)
{
	int err;

	if (!json_is_object(obj))
		return fail(l, "%s is not an object", where);
	err = load_kind(l, obj, where, &s->kind);
	if (!err)
		err = get_int(l, obj, where, JK_BYTES, true, &s->bytes);
	if (!err)
		err = get_int(l, obj, where, JK_ALLOCS, true, &s->allocs);
	if (!err)
		err = get_number(l, obj, where, JK_OLDEST_S, &s->oldest_s);
	if (!err)
		err = get_number(l, obj, where, JK_GROWTH_BYTES_PER_S, &s->growth);
	s->slope = s->growth;
	if (!err)
		err = get_number(l, obj, where, JK_SLOPE_BYTES_PER_S, &s->slope);
	if (!err)
		err = load_trend(l, obj, where, &s->trend);
	if (!err)
		err = get_bool(l, obj, where, JK_TRUNCATED, &s->truncated);
	if (!err)
		err = get_bool(l, obj, where, JK_TABLE_PENDING, &s->table_pending);
	/* A mapping's resident pages are part of what it reserves. */
	s->has_resident = json_object_get(obj, JK_RESIDENT_BYTES) != NULL;
	if (!err)
		err = get_int_in(l, obj, where, JK_RESIDENT_BYTES, false, 0, s->bytes,
				 &s->resident_bytes);
	/* glibc's cached thread stacks: part of its bytes and allocs. */
	s->has_cached = json_object_get(obj, JK_CACHED_BYTES) != NULL;
	if (!err)
		err = get_int_in(l, obj, where, JK_CACHED_BYTES, s->has_cached, 0, s->bytes,
				 &s->cached_bytes);
	if (!err)
		err = get_int_in(l, obj, where, JK_CACHED_ALLOCS, s->has_cached, 0, s->allocs,
				 &s->cached_allocs);
	if (!err)
		err = load_verdicts(l, obj, where, s);
	if (!err)
		err = load_frames(l, obj, where, s);
	s->allocator = stack_stat__tell_allocator(s); /* "allocator" says what the frames tell */
	if (!err)
		err = load_origins(l, obj, where, &s->origins, &s->nr_origins);
	if (!err)
		err = get_string(l, obj, where, JK_SUPPRESSED, NULL, 0, &s->suppressed);
	if (!err && s->kind == STACK_KERNEL)
		err = load_task(l, obj, where, s);
	return err;
}

/* "suppressed": {"bytes", "allocs", "lost_bytes"}, when suppressions matched its stacks. */
static int load_suppressed(struct loader *l, json_t *obj, const char *where, struct proc_stat *p)
{
	char at[160];
	json_t *v;
	int err;

	err = field(l, obj, where, JK_SUPPRESSED, WANT_OBJECT, false, &v);
	if (err || !v)
		return err;
	snprintf(at, sizeof(at), "%s.suppressed", where);
	err = get_int(l, v, at, JK_BYTES, true, &p->suppressed_bytes);
	if (!err)
		err = get_int(l, v, at, JK_ALLOCS, true, &p->suppressed_allocs);
	if (!err)
		err = get_int(l, v, at, JK_LOST_BYTES, true, &p->suppressed_lost_bytes);
	return err;
}

/* "build_ids": {"/path": "hex", ...}, for the modules whose build ID was known. */
static int load_build_ids(struct loader *l, json_t *ids, const char *where, struct proc_stat *p,
			  struct module_id *mods)
{
	const char *path;
	json_t *v;

	json_object_foreach(ids, path, v) {
		if (!json_is_string(v))
			return fail(l, "%s: build_ids: \"%s\" is not a string", where, path);
		mods[p->nr_modules].path = arena__strdup(l->snap->arena, path);
		mods[p->nr_modules].build_id = arena__strdup(l->snap->arena, json_string_value(v));
		if (!mods[p->nr_modules].path || !mods[p->nr_modules++].build_id)
			return -ENOMEM;
	}
	return 0;
}

/* One of "mappings": {"module", "start", "limit", "offset"}, added to its module's entry. */
static int load_mapping(struct loader *l, json_t *obj, const char *where, struct proc_stat *p,
			struct module_id *mods)
{
	const char *path = NULL, *start = NULL, *limit = NULL, *offset = NULL;
	struct module_id *m;
	int err;

	if (!json_is_object(obj))
		return fail(l, "%s is not an object", where);
	err = get_string(l, obj, where, JK_MODULE, NULL, 0, &path);
	if (!err)
		err = get_string(l, obj, where, JK_START, NULL, 0, &start);
	if (!err)
		err = get_string(l, obj, where, JK_LIMIT, NULL, 0, &limit);
	if (!err)
		err = get_string(l, obj, where, JK_OFFSET, NULL, 0, &offset);
	if (err)
		return err;
	if (!path || !start || !limit || !offset)
		return fail(l, "%s: a mapping needs module, start, limit and offset", where);
	for (m = mods; m < mods + p->nr_modules && strcmp(m->path, path); m++)
		;
	if (m == mods + p->nr_modules) {
		p->nr_modules++;
		m->path = path;
	}
	err = parse_hex(l, where, JK_START, start, &m->text.start);
	if (!err)
		err = parse_hex(l, where, JK_LIMIT, limit, &m->text.limit);
	if (!err)
		err = parse_hex(l, where, JK_OFFSET, offset, &m->text.offset);
	if (!err && m->text.limit <= m->text.start)
		return fail(l, "%s: \"limit\" is not above \"start\"", where);
	m->has_text = !err;
	return err;
}

/* The process's modules: "build_ids" and "mappings", by path. */
static int load_modules(struct loader *l, json_t *obj, const char *where, struct proc_stat *p)
{
	struct module_id *mods;
	json_t *ids, *maps, *v;
	char at[224];
	size_t i;
	int err;

	err = field(l, obj, where, JK_BUILD_IDS, WANT_OBJECT, false, &ids);
	if (!err)
		err = field(l, obj, where, JK_MAPPINGS, WANT_ARRAY, false, &maps);
	if (err || (!json_object_size(ids) && !json_array_size(maps)))
		return err;
	mods = arena__alloc(l->snap->arena,
			    (json_object_size(ids) + json_array_size(maps)) * sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	p->modules = mods;
	err = ids ? load_build_ids(l, ids, where, p, mods) : 0;
	json_array_foreach(maps, i, v) {
		if (err)
			break;
		snprintf(at, sizeof(at), "%s.mappings[%zu]", where, i);
		err = load_mapping(l, v, at, p, mods);
	}
	return err;
}

/* "argv": the process's command line, strings only. */
static int load_argv(struct loader *l, json_t *obj, const char *where, struct proc_stat *p)
{
	json_t *arr, *a;
	char at[288];
	size_t i;
	int err;

	err = field(l, obj, where, JK_ARGV, WANT_ARRAY, false, &arr);
	if (err || !arr || !json_array_size(arr))
		return err;
	p->argv = arena__alloc(l->snap->arena, json_array_size(arr) * sizeof(*p->argv));
	if (!p->argv)
		return -ENOMEM;
	json_array_foreach(arr, i, a) {
		snprintf(at, sizeof(at), "%s.argv[%zu]", where, i);
		if (!json_is_string(a))
			return fail(l, "%s is not a string", at);
		p->argv[i] = arena__strdup(l->snap->arena, json_string_value(a));
		if (!p->argv[i])
			return -ENOMEM;
	}
	p->argc = json_array_size(arr);
	return 0;
}

static int load_process_fields(struct loader *l, json_t *obj, const char *where,
			       struct proc_stat *p)
{
	int err;

	err = get_pid(l, obj, where, true, &p->pid);
	if (!err)
		err = get_string(l, obj, where, JK_COMM, p->comm, sizeof(p->comm), NULL);
	if (!err)
		err = get_string(l, obj, where, JK_EXE, p->exe, sizeof(p->exe), NULL);
	if (!err)
		err = load_argv(l, obj, where, p);
	if (!err)
		err = get_bool(l, obj, where, JK_ALIVE, &p->alive);
	if (!err)
		err = get_int(l, obj, where, JK_OUTSTANDING_BYTES, false, &p->bytes);
	if (!err)
		err = get_int(l, obj, where, JK_OUTSTANDING_ALLOCS, false, &p->allocs);
	if (!err)
		err = get_number(l, obj, where, JK_GROWTH_BYTES_PER_S, &p->growth);
	p->has_resident = json_object_get(obj, JK_RESIDENT_BYTES) != NULL;
	if (!err)
		err = get_int_in(l, obj, where, JK_RESIDENT_BYTES, false, 0, p->bytes,
				 &p->resident_bytes);
	p->scanned = json_object_get(obj, JK_LOST_BYTES) != NULL;
	if (!err)
		err = get_int(l, obj, where, JK_LOST_BYTES, false, &p->lost_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_INDIRECT_BYTES, false, &p->indirect_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_REACHABLE_BYTES, false, &p->reachable_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_POSSIBLE_BYTES, false, &p->possible_bytes);
	if (!err)
		err = get_int(l, obj, where, JK_POSSIBLE_ALLOCS, false, &p->possible_allocs);
	if (!err)
		err = get_string(l, obj, where, JK_SCAN_ROOTS, NULL, 0, &p->scan_roots);
	if (!err && json_object_get(obj, JK_FINAL))
		err = get_bool(l, obj, where, JK_FINAL, &p->final);
	if (!err)
		err = get_number(l, obj, where, JK_SCAN_HELD_MS, &p->scan_held_ms);
	if (!err)
		err = load_origins(l, obj, where, &p->origins, &p->nr_origins);
	if (!err)
		err = load_modules(l, obj, where, p);
	if (!err)
		err = load_suppressed(l, obj, where, p);
	return err;
}

static int load_process(struct loader *l, json_t *obj, const char *where, struct proc_stat *p)
{
	char at[128];
	json_t *arr, *s;
	size_t i;
	int err;

	if (!json_is_object(obj))
		return fail(l, "%s is not an object", where);
	err = load_process_fields(l, obj, where, p);
	if (!err)
		err = field(l, obj, where, JK_STACKS, WANT_ARRAY, true, &arr);
	if (err)
		return err;
	p->stacks = calloc(json_array_size(arr) + 1, sizeof(*p->stacks));
	if (!p->stacks)
		return -ENOMEM;
	json_array_foreach(arr, i, s) {
		snprintf(at, sizeof(at), "%s.stacks[%zu]", where, i);
		err = load_stack(l, s, at, &p->stacks[i]);
		if (err)
			return err;
		p->stacks[i].final = p->final;
		p->nr_stacks++;
	}
	return 0;
}

static int load_lost(struct loader *l, json_t *root)
{
	json_t *lost;
	int64_t v;
	int err;

	err = field(l, root, "", JK_LOST, WANT_OBJECT, false, &lost);
	l->snap->kernel = lost && json_object_get(lost, JK_KERNEL_ALLOCS_UNTRACKED);
	for (int i = 0; !err && lost && i < NR_LOST; i++) {
		v = 0;
		err = get_int(l, lost, JK_LOST, snapshot_json__lost_names[i].name, false, &v);
		l->snap->lost[snapshot_json__lost_names[i].counter] = (uint64_t)v;
	}
	return err;
}

/* "sampling": {"mode": "exact"} or {"mode": "bytes", "mean_bytes": N}. */
static int load_sampling(struct loader *l, json_t *root)
{
	json_t *sampling;
	int64_t mean = 0;
	int err;

	err = field(l, root, "", JK_SAMPLING, WANT_OBJECT, false, &sampling);
	if (!err && sampling)
		err = get_int(l, sampling, JK_SAMPLING, JK_MEAN_BYTES, false, &mean);
	l->snap->sample_bytes = mean > 0 ? (uint64_t)mean : 0;
	return err;
}

static int load_hosts(struct loader *l, json_t *root)
{
	const char **hosts;
	json_t *arr, *h;
	size_t i;
	int err;

	err = field(l, root, "", JK_HOSTS, WANT_ARRAY, false, &arr);
	if (err || !arr || !json_array_size(arr))
		return err;
	hosts = arena__alloc(l->snap->arena, json_array_size(arr) * sizeof(*hosts));
	if (!hosts)
		return -ENOMEM;
	json_array_foreach(arr, i, h) {
		if (!json_is_string(h))
			return fail(l, "hosts[%zu] is not a string", i);
		hosts[i] = arena__strdup(l->snap->arena, json_string_value(h));
		if (!hosts[i])
			return -ENOMEM;
	}
	l->snap->hosts = hosts;
	l->snap->nr_hosts = json_array_size(arr);
	return 0;
}

/* "suppressions": [{"name", "where", "stacks", "bytes", "allocs", "lost_bytes"}]. */
static int load_suppressions(struct loader *l, json_t *root)
{
	struct suppression_use *v;
	json_t *arr, *o;
	char at[64];
	size_t i;
	int err;

	err = field(l, root, "", JK_SUPPRESSIONS, WANT_ARRAY, false, &arr);
	if (err || !arr || !json_array_size(arr))
		return err;
	v = arena__alloc(l->snap->arena, json_array_size(arr) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(arr, i, o) {
		snprintf(at, sizeof(at), "suppressions[%zu]", i);
		if (!json_is_object(o))
			return fail(l, "%s is not an object", at);
		err = get_string(l, o, at, JK_NAME, NULL, 0, &v[i].name);
		if (!err)
			err = get_string(l, o, at, JK_WHERE, NULL, 0, &v[i].where);
		if (!err && (!v[i].name || !v[i].where))
			err = fail(l, "%s: \"%s\" is missing", at, v[i].name ? JK_WHERE : JK_NAME);
		if (!err)
			err = get_int(l, o, at, JK_STACKS, false, &v[i].stacks);
		if (!err)
			err = get_int(l, o, at, JK_BYTES, true, &v[i].bytes);
		if (!err)
			err = get_int(l, o, at, JK_ALLOCS, true, &v[i].allocs);
		if (!err)
			err = get_int(l, o, at, JK_LOST_BYTES, true, &v[i].lost_bytes);
		if (err)
			return err;
	}
	l->snap->suppressions = v;
	l->snap->nr_suppressions = json_array_size(arr);
	return 0;
}

static int load_header(struct loader *l, json_t *root)
{
	struct snapshot *snap = l->snap;
	int64_t version = 0;
	int err;

	if (!json_is_object(root) || !json_object_get(root, JK_LEAKTRACE))
		return fail(l, "not a leaktrace snapshot (no \"leaktrace\" version member)");
	err = get_int_in(l, root, "", JK_LEAKTRACE, true, INT64_MIN, INT64_MAX, &version);
	if (!err && version != SNAPSHOT_JSON_VERSION)
		return fail(l, "snapshot schema version %lld: this leaktrace reads version 1",
			    (long long)version);
	if (!err)
		err = get_string(l, root, "", JK_HOST, snap->host, sizeof(snap->host), NULL);
	if (!err)
		err = get_time(l, root, JK_STARTED, &snap->started);
	if (!err)
		err = get_time(l, root, JK_TAKEN, &snap->taken);
	if (!err)
		err = get_number(l, root, "", JK_ELAPSED_S, &snap->elapsed_s);
	/* pprof takes it in u64 nanoseconds: 0 to ELAPSED_MAX fits whatever host sent it. */
	if (!err && !(snap->elapsed_s >= 0 && snap->elapsed_s <= ELAPSED_MAX))
		err = fail(l, "\"elapsed_s\" is %g, out of range (0 to %g)", snap->elapsed_s,
			   ELAPSED_MAX);
	if (!err)
		err = load_lost(l, root);
	if (!err)
		err = load_sampling(l, root);
	if (!err)
		err = load_hosts(l, root);
	if (!err)
		err = load_suppressions(l, root);
	return err;
}

static int load_root(struct loader *l, json_t *root)
{
	struct snapshot *snap = l->snap;
	char at[64];
	json_t *arr, *p;
	size_t i;
	int err;

	err = load_header(l, root);
	if (!err)
		err = field(l, root, "", JK_PROCESSES, WANT_ARRAY, true, &arr);
	if (err)
		return err;
	snap->procs = calloc(json_array_size(arr) + 1, sizeof(*snap->procs));
	if (!snap->procs)
		return -ENOMEM;
	json_array_foreach(arr, i, p) {
		snprintf(at, sizeof(at), "processes[%zu]", i);
		err = load_process(l, p, at, &snap->procs[i]);
		snap->nr_procs++; /* half-loaded too: snapshot__free frees its stacks */
		if (err)
			return err;
	}
	return 0;
}

/* jansson's reason, with a hint when the file simply ends too early. */
static int syntax_error(struct loader *l, const json_error_t *e)
{
	bool truncated = json_error_code(e) == json_error_premature_end_of_input;

	snprintf(l->err, l->err_size, "%s:%d:%d: not valid JSON: %s%s", l->name, e->line, e->column,
		 e->text, truncated ? " (the file is cut short)" : "");
	return -EINVAL;
}

static int load(json_t *root, const json_error_t *jerr, const char *name, struct snapshot **out,
		char *err, size_t err_size)
{
	struct loader l = { .name = name, .err = err, .err_size = err_size };
	int ret;

	*out = NULL;
	if (!root)
		return syntax_error(&l, jerr);
	l.snap = calloc(1, sizeof(*l.snap));
	if (l.snap)
		l.snap->arena = arena__new();
	l.frames = l.snap && l.snap->arena ? frame_table__new(l.snap->arena) : NULL;
	ret = l.frames ? load_root(&l, root) : -ENOMEM;
	frame_table__free(l.frames);
	if (ret == -ENOMEM)
		snprintf(err, err_size, "%s: out of memory", name);
	json_decref(root);
	if (ret) {
		snapshot__free(l.snap);
		return ret;
	}
	*out = l.snap;
	return 0;
}

int snapshot_json__load(const char *path, struct snapshot **out, char *err, size_t err_size)
{
	bool std_in = !strcmp(path, "-");
	FILE *f = std_in ? stdin : fopen(path, "r");
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	if (!f) {
		snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	if (!std_in)
		fclose(f);
	return load(root, &jerr, std_in ? "<stdin>" : path, out, err, err_size);
}

int snapshot_json__load_text(const char *text, const char *name, struct snapshot **out, char *err,
			     size_t err_size)
{
	json_error_t jerr;

	return load(json_loads(text, JSON_REJECT_DUPLICATES, &jerr), &jerr, name, out, err,
		    err_size);
}
