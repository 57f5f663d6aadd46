// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer behind every JSON output: commas, escapes, numbers. */
#include <inttypes.h>
#include <math.h>

#include "json_writer.h"

void json__init(struct json_writer *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
}

/* A comma before every value but the first in its container; none after a key. */
static void value_begin(struct json_writer *w)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

static void container_open(struct json_writer *w, char c)
{
	value_begin(w);
	fputc(c, w->f);
	if (w->depth < JSON_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void container_close(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void json__object_begin(struct json_writer *w)
{
	container_open(w, '{');
}

void json__object_end(struct json_writer *w)
{
	container_close(w, '}');
}

void json__array_begin(struct json_writer *w)
{
	container_open(w, '[');
}

void json__array_end(struct json_writer *w)
{
	container_close(w, ']');
}

/* The length of the valid UTF-8 sequence at s, or 0 (overlong and surrogate forms too). */
int json__utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

int json__utf8_put(FILE *f, const char *s, const char *replacement)
{
	int n = json__utf8_len((const unsigned char *)s);

	if (!n) {
		fputs(replacement, f);
		return 1;
	}
	fwrite(s, 1, n, f);
	return n;
}

/* Escapes what JSON requires; bytes that are not UTF-8 (a comm, a path) become U+FFFD. */
static void write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c >= 0x80)
			s += json__utf8_put(f, s, "\\ufffd") - 1;
		else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json__key(struct json_writer *w, const char *key)
{
	value_begin(w);
	write_string(w->f, key);
	fputc(':', w->f);
	w->first[w->depth] = true; /* the value that follows takes no comma */
}

void json__string(struct json_writer *w, const char *s)
{
	value_begin(w);
	if (s)
		write_string(w->f, s);
	else
		fputs("null", w->f);
}

void json__int(struct json_writer *w, int64_t v)
{
	value_begin(w);
	fprintf(w->f, "%" PRId64, v);
}

void json__uint(struct json_writer *w, uint64_t v)
{
	value_begin(w);
	fprintf(w->f, "%" PRIu64, v);
}

void json__double(struct json_writer *w, double v)
{
	value_begin(w);
	if (isfinite(v))
		fprintf(w->f, "%.3f", v);
	else
		fputs("null", w->f);
}

void json__bool(struct json_writer *w, bool v)
{
	value_begin(w);
	fputs(v ? "true" : "false", w->f);
}
