// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Suppressions: valgrind-like stack patterns, parsed, matched, and counted per snapshot. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "demangle.h"
#include "suppress.h"

/* valgrind's own limit is 24 callers; room for more, bounded so matching stays cheap. */
#define MAX_PATTERN_FRAMES 64
/* A suppressions file larger than this is no suppressions file. */
#define MAX_FILE_BYTES (16 << 20)
/* The name valgrind gives a function or object it cannot name; fun:* matches it. */
#define UNNAMED "???"

enum frame_kind { FRAME_FUN, FRAME_OBJ, FRAME_ANY };

struct pattern_frame {
	enum frame_kind kind;
	char *glob; /* NULL for FRAME_ANY ("...") */
};

/* The verdict classes an entry applies to (valgrind's match-leak-kinds). */
enum {
	KIND_DEFINITE = 1,
	KIND_INDIRECT = 2,
	KIND_POSSIBLE = 4,
	KIND_REACHABLE = 8,
	KIND_ALL = 15,
};

struct entry {
	char *name;
	char *where; /* "FILE:LINE" of its "{" */
	unsigned kinds;
	struct pattern_frame frames[MAX_PATTERN_FRAMES];
	int nr_frames;
	int nr_any; /* its "..." lines */
};

struct suppressions {
	struct entry *entries;
	size_t nr, cap;
};

static const char default_text[] =
#include "suppress_default.h"
	;

struct suppressions *suppress__new(void)
{
	return calloc(1, sizeof(struct suppressions));
}

static void entry_free(struct entry *e)
{
	free(e->name);
	free(e->where);
	for (int i = 0; i < e->nr_frames; i++)
		free(e->frames[i].glob);
}

void suppress__free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		entry_free(&s->entries[i]);
	free(s->entries);
	free(s);
}

size_t suppress__count(const struct suppressions *s)
{
	return s->nr;
}

const char *suppress__default_text(void)
{
	return default_text;
}

/* valgrind's wildcards: '*' any run of characters ('/' too), '?' any one; nothing else. */
static bool glob_match(const char *glob, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*glob == '*') {
			star = glob++;
			resume = s;
		} else if (*glob == '?' || *glob == *s) {
			glob++;
			s++;
		} else if (star) {
			glob = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*glob == '*')
		glob++;
	return !*glob;
}

/* The parser's state: where it is, for errors. */
struct parser {
	const char *name;
	int line;
	char *err;
	size_t size;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(p->err, p->size, "%s:%d: ", p->name, p->line);
	va_list ap;

	if (n < p->size) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->size - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "definite,indirect", "all" or "none", valgrind's names. */
static int parse_kinds(struct parser *p, const char *list, unsigned *out)
{
	static const char *const names[] = { "definite", "indirect", "possible", "reachable" };
	char buf[256], *tok, *save = NULL;

	*out = 0;
	if (!strcmp(list, "all")) {
		*out = KIND_ALL;
		return 0;
	}
	if (!strcmp(list, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < 4 && strcmp(tok, names[i]))
			i++;
		if (i == 4)
			return fail(p,
				    "match-leak-kinds: '%s' is not a kind: use definite, "
				    "indirect, possible, reachable, all or none",
				    tok);
		*out |= 1u << i;
	}
	return 0;
}

static int add_frame(struct parser *p, struct entry *e, enum frame_kind kind, const char *glob)
{
	if (e->nr_frames == MAX_PATTERN_FRAMES)
		return fail(p, "more than %d frame lines in suppression '%s'", MAX_PATTERN_FRAMES,
			    e->name);
	if (kind != FRAME_ANY && !*glob)
		return fail(p, "'%s' names no %s", kind == FRAME_FUN ? "fun:" : "obj:",
			    kind == FRAME_FUN ? "function" : "object");
	e->nr_any += kind == FRAME_ANY;
	e->frames[e->nr_frames].kind = kind;
	e->frames[e->nr_frames].glob = glob ? strdup(glob) : NULL;
	if (glob && !e->frames[e->nr_frames].glob)
		return -ENOMEM;
	e->nr_frames++;
	return 0;
}

/* valgrind's kind line, "Tool:Kind" (Memcheck:Leak, Memcheck:Cond, Helgrind:Race, ...). */
static bool is_kind_line(const char *s)
{
	static const char *const tools[] = { "Memcheck:", "Helgrind:",	  "drd:",
					     "DRD:",	  "exp-sgcheck:", "exp-ptrcheck:" };

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!strncmp(s, tools[i], strlen(tools[i])))
			return true;
	return false;
}

/* What the entry being read has seen so far. */
struct reading {
	struct entry e;
	bool named;
	bool kind_seen;	 /* a valgrind kind line came */
	bool skip;	 /* a valgrind entry of another kind than Leak: read, not kept */
	bool drop_first; /* valgrind's first frame is the allocator: leaktrace has none */
	bool dropped;	 /* ... and it was skipped */
};

static int entry_line(struct parser *p, struct reading *r, const char *s)
{
	if (!r->named) {
		if (!strcmp(s, "{") || !strcmp(s, "}"))
			return fail(p, "expected the suppression's name, got '%s'", s);
		r->e.name = strdup(s);
		r->named = true;
		return r->e.name ? 0 : -ENOMEM;
	}
	if (!r->kind_seen && !r->e.nr_frames && is_kind_line(s)) {
		r->kind_seen = true;
		r->skip = strcmp(s, "Memcheck:Leak") != 0;
		r->drop_first = true;
		return 0;
	}
	if (r->skip)
		return 0; /* e.g. Memcheck:Param's extra line, or frames of an error kind */
	if (!strncmp(s, "match-leak-kinds:", 17) && !r->e.nr_frames)
		return parse_kinds(p, s + 17 + strspn(s + 17, " \t"), &r->e.kinds);
	if (!strcmp(s, "...")) {
		r->drop_first = false; /* it stands for valgrind's allocator frame too */
		if (r->e.nr_frames && r->e.frames[r->e.nr_frames - 1].kind == FRAME_ANY)
			return 0; /* "... ..." is "..." */
		return add_frame(p, &r->e, FRAME_ANY, NULL);
	}
	if (r->drop_first && (!strncmp(s, "fun:", 4) || !strncmp(s, "obj:", 4))) {
		r->drop_first = false;
		r->dropped = true;
		return 0;
	}
	if (!strncmp(s, "fun:", 4))
		return add_frame(p, &r->e, FRAME_FUN, s + 4);
	if (!strncmp(s, "obj:", 4))
		return add_frame(p, &r->e, FRAME_OBJ, s + 4);
	if (!strncmp(s, "src:", 4))
		return fail(p, "'src:' frame lines are not supported: use fun: or obj:");
	return fail(p, "'%s' is not a frame line: use fun:GLOB, obj:GLOB or ...", s);
}

static int entry_end(struct parser *p, struct suppressions *s, struct reading *r, int start_line)
{
	char where[4096];
	struct entry *v;

	if (!r->named)
		return fail(p, "a suppression without a name");
	if (r->skip) {
		entry_free(&r->e);
		return 0;
	}
	if (!r->e.nr_frames)
		return fail(p, "suppression '%s' has no frame lines%s: it would match every stack",
			    r->e.name, r->dropped ? " after valgrind's allocator frame" : "");
	if (s->nr == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 32;
		v = realloc(s->entries, s->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->entries = v;
	}
	snprintf(where, sizeof(where), "%s:%d", p->name, start_line);
	r->e.where = strdup(where);
	if (!r->e.where)
		return -ENOMEM;
	s->entries[s->nr++] = r->e;
	memset(&r->e, 0, sizeof(r->e));
	return 0;
}

/* One line, its spaces cut: blank lines and # comments outside entries are skipped. */
static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t\r");
	end = s + strlen(s);
	while (end > s && strchr(" \t\r", end[-1]))
		*--end = '\0';
	return s;
}

int suppress__parse(struct suppressions *s, const char *text, const char *name, char *err,
		    size_t size)
{
	struct parser p = { .name = name, .err = err, .size = size };
	struct reading r;
	char *copy = strdup(text), *line, *next;
	bool open = false;
	int start = 0, ret = 0;

	if (!copy)
		return -ENOMEM;
	memset(&r, 0, sizeof(r));
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		if (!open && strcmp(line, "{")) {
			ret = fail(&p, "expected '{' to start a suppression, got '%s'", line);
		} else if (!open) {
			open = true;
			start = p.line;
			memset(&r, 0, sizeof(r));
			r.e.kinds = KIND_ALL;
		} else if (!strcmp(line, "}")) {
			open = false;
			ret = entry_end(&p, s, &r, start);
		} else {
			ret = entry_line(&p, &r, line);
		}
	}
	if (!ret && open) {
		p.line = start;
		ret = fail(&p, "suppression '%s' has no closing '}'", r.named ? r.e.name : "");
	}
	if (ret)
		entry_free(&r.e);
	if (ret == -ENOMEM)
		snprintf(err, size, "%s: out of memory", name);
	free(copy);
	return ret;
}

int suppress__load_file(struct suppressions *s, const char *path, char *err, size_t size)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *text;
	size_t n;
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, size, "%s: cannot read: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
		fclose(f);
		snprintf(err, size,
			 "%s: not a suppressions file (a regular file of at most "
			 "16 MiB)",
			 path);
		return -EINVAL;
	}
	text = malloc(st.st_size + 1);
	n = text ? fread(text, 1, st.st_size, f) : 0;
	fclose(f);
	if (!text)
		return -ENOMEM;
	text[n] = '\0';
	if (strlen(text) != n) {
		free(text);
		snprintf(err, size, "%s: not a suppressions file (it holds NUL bytes)", path);
		return -EINVAL;
	}
	ret = suppress__parse(s, text, path, err, size);
	free(text);
	return ret;
}

int suppress__add_defaults(struct suppressions *s)
{
	char err[256];

	/* Checked by the unit tests: only memory can fail here. */
	return suppress__parse(s, default_text, "default", err, sizeof(err));
}

/* A stack's frames as the patterns see them: names (raw, and demangled when needed) and modules. */
struct frame_names {
	const struct stack_stat *st;
	int n;
	/* (line, frame) pairs known not to match, for entries with several "..." */
	uint8_t *failed;
	bool tried[SNAP_MAX_FRAMES]; /* demangled[i] was computed */
	char *demangled[SNAP_MAX_FRAMES];
};

static const char *fun_name(const struct frame_names *fn, int i)
{
	return fn->st->frames[i]->symbol ? fn->st->frames[i]->symbol : UNNAMED;
}

/* The demangled name of frame i, computed once, only when a pattern needs it. */
static const char *demangled_name(struct frame_names *fn, int i)
{
	const char *raw = fn->st->frames[i]->symbol;

	if (!fn->tried[i]) {
		fn->demangled[i] = raw ? demangle__name(raw) : NULL;
		fn->tried[i] = true;
	}
	return fn->demangled[i];
}

static bool frame_matches(const struct pattern_frame *pf, struct frame_names *fn, int i)
{
	const char *module = fn->st->frames[i]->module;
	const char *d;

	if (pf->kind == FRAME_OBJ)
		return glob_match(pf->glob, module ? module : UNNAMED);
	if (glob_match(pf->glob, fun_name(fn, i)))
		return true;
	d = demangled_name(fn, i);
	return d && glob_match(pf->glob, d);
}

#define FAILED_BIT(i, j) ((size_t)(i) * (SNAP_MAX_FRAMES + 1) + (size_t)(j))

/*
 * valgrind's rule: the pattern matches the stack's innermost frames; "..."
 * stands for any number of frames (none too), and frames beyond the pattern's
 * end are not looked at. A stack cut short does not match a pattern longer than
 * it. Pattern line i against frame j on, innermost first, so that a stack whose
 * frame 0 differs costs one comparison. "..." tries each frame after it; with
 * several of them the pairs that failed are remembered, so that no entry costs
 * more than lines x frames steps.
 */
static bool match_from(const struct entry *e, int i, struct frame_names *fn, int j)
{
	const struct pattern_frame *pf;
	size_t bit = FAILED_BIT(i, j);
	bool ok = false;

	if (i == e->nr_frames)
		return true;
	if (fn->failed && (fn->failed[bit / 8] & (1u << (bit % 8))))
		return false;
	pf = &e->frames[i];
	if (pf->kind != FRAME_ANY)
		ok = j < fn->n && frame_matches(pf, fn, j) && match_from(e, i + 1, fn, j + 1);
	else if (i + 1 == e->nr_frames)
		ok = true;
	for (int k = j; pf->kind == FRAME_ANY && !ok && k < fn->n; k++)
		ok = match_from(e, i + 1, fn, k);
	if (!ok && fn->failed)
		fn->failed[bit / 8] |= 1u << (bit % 8);
	return ok;
}

/* Whether the entry matches the stack; failed is room for the pairs that failed. */
static bool entry_matches(const struct entry *e, struct frame_names *fn, uint8_t *failed,
			  size_t size)
{
	fn->failed = e->nr_any > 1 ? failed : NULL;
	if (fn->failed)
		memset(failed, 0, size);
	return match_from(e, 0, fn, 0);
}

/* Whether the entry's match-leak-kinds cover every class the stack holds bytes of. */
static bool kinds_cover(const struct entry *e, const struct stack_stat *st)
{
	if (e->kinds == KIND_ALL)
		return true;
	if (!st->scanned)
		return false; /* no verdicts: a kind-restricted entry cannot tell */
	return (!st->lost_bytes || (e->kinds & KIND_DEFINITE)) &&
	       (!st->indirect_bytes || (e->kinds & KIND_INDIRECT)) &&
	       (!st->possible_bytes || (e->kinds & KIND_POSSIBLE)) &&
	       (!st->reachable_bytes || (e->kinds & KIND_REACHABLE));
}

static const struct entry *match_entry(const struct suppressions *s, const struct stack_stat *st)
{
	uint8_t failed[FAILED_BIT(MAX_PATTERN_FRAMES + 1, 0) / 8 + 1];
	const struct entry *found = NULL;
	struct frame_names fn;

	if (!st->nr_frames || !s->nr)
		return NULL;
	fn.st = st;
	fn.n = st->nr_frames < SNAP_MAX_FRAMES ? st->nr_frames : SNAP_MAX_FRAMES;
	memset(fn.tried, 0, fn.n * sizeof(fn.tried[0]));
	for (size_t i = 0; i < s->nr && !found; i++)
		if (kinds_cover(&s->entries[i], st) &&
		    entry_matches(&s->entries[i], &fn, failed, sizeof(failed)))
			found = &s->entries[i];
	for (int i = 0; i < fn.n; i++)
		if (fn.tried[i])
			free(fn.demangled[i]);
	return found;
}

const char *suppress__match(const struct suppressions *s, const struct stack_stat *st)
{
	const struct entry *e = match_entry(s, st);

	return e ? e->name : NULL;
}

/* The snapshot's count for entry e, added the first time it matches. */
static struct suppression_use *use_of(struct snapshot *snap, struct suppression_use **uses,
				      size_t *nr, const struct entry *e)
{
	struct suppression_use *v;

	for (size_t i = 0; i < *nr; i++)
		if (!strcmp((*uses)[i].where, e->where))
			return &(*uses)[i];
	v = realloc(*uses, (*nr + 1) * sizeof(*v));
	if (!v)
		return NULL;
	*uses = v;
	v = &v[(*nr)++];
	memset(v, 0, sizeof(*v));
	v->name = arena__strdup(snap->arena, e->name);
	v->where = arena__strdup(snap->arena, e->where);
	return v->name && v->where ? v : NULL;
}

static int count_stack(struct snapshot *snap, struct proc_stat *p, struct stack_stat *st,
		       const struct entry *e, struct suppression_use **uses, size_t *nr)
{
	struct suppression_use *u = use_of(snap, uses, nr, e);

	if (!u)
		return -ENOMEM;
	st->suppressed = u->name;
	u->stacks++;
	u->bytes += st->bytes;
	u->allocs += st->allocs;
	u->lost_bytes += stack_stat__unreachable(st);
	p->suppressed_bytes += st->bytes;
	p->suppressed_allocs += st->allocs;
	p->suppressed_lost_bytes += stack_stat__unreachable(st);
	return 0;
}

static int by_bytes(const void *a, const void *b)
{
	const struct suppression_use *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->where, y->where);
}

int suppress__apply(const struct suppressions *s, struct snapshot *snap)
{
	struct suppression_use *uses = NULL, *copy;
	size_t nr = 0;
	int err = 0;

	if (!s->nr)
		return 0;
	if (!snap->arena)
		snap->arena = arena__new();
	if (!snap->arena)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nr_procs && !err; i++) {
		struct proc_stat *p = &snap->procs[i];

		for (size_t j = 0; j < p->nr_stacks && !err; j++) {
			const struct entry *e = match_entry(s, &p->stacks[j]);

			if (e)
				err = count_stack(snap, p, &p->stacks[j], e, &uses, &nr);
		}
	}
	copy = !err && nr ? arena__alloc(snap->arena, nr * sizeof(*copy)) : NULL;
	if (copy) {
		qsort(uses, nr, sizeof(*uses), by_bytes);
		memcpy(copy, uses, nr * sizeof(*copy));
		snap->suppressions = copy;
		snap->nr_suppressions = nr;
	} else if (nr) {
		err = -ENOMEM;
	}
	free(uses);
	return err;
}
