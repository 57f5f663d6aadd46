/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A small streaming JSON writer: it places the commas, escapes strings, and nothing more. */
#ifndef LT_JSON_WRITER_H
#define LT_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json__init(struct json_writer *w, FILE *f);
void json__object_begin(struct json_writer *w);
void json__object_end(struct json_writer *w);
void json__array_begin(struct json_writer *w);
void json__array_end(struct json_writer *w);
/* The key of the next member; the value follows with one of the calls below. */
void json__key(struct json_writer *w, const char *key);
void json__string(struct json_writer *w, const char *s); /* NULL writes null */
void json__int(struct json_writer *w, int64_t v);
void json__uint(struct json_writer *w, uint64_t v);
void json__double(struct json_writer *w, double v); /* 3 decimals; not finite: null */
void json__bool(struct json_writer *w, bool v);
/* The length of the valid UTF-8 sequence at s, or 0; also for XML, which needs valid UTF-8. */
int json__utf8_len(const unsigned char *s);
/* Writes the UTF-8 sequence at s, or replacement for a byte starting none; returns bytes used. */
int json__utf8_put(FILE *f, const char *s, const char *replacement);

#endif
