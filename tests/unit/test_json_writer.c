// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* json_writer: exact output (commas, escapes, numbers) and that jansson accepts it. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_writer.h"

/* A writer into memory: w writes to mem.f, mem.buf holds the text after mem_done. */
struct mem {
	FILE *f;
	char *buf;
	size_t len;
};

static void mem_open(struct mem *m, struct json_writer *w)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	cr_assert_not_null(m->f);
	json__init(w, m->f);
}

static const char *mem_done(struct mem *m)
{
	cr_assert_eq(fclose(m->f), 0);
	return m->buf;
}

/* The text parses as JSON; the caller owns the result. */
static json_t *parse_json(const char *text, size_t flags)
{
	json_error_t err;
	json_t *root = json_loads(text, flags, &err);

	cr_assert_not_null(root, "jansson: %s at line %d column %d in: %s", err.text, err.line,
			   err.column, text);
	return root;
}

/* One string value inside an array: the exact text of the document. */
static const char *string_doc(struct mem *m, const char *s)
{
	struct json_writer w;

	mem_open(m, &w);
	json__array_begin(&w);
	json__string(&w, s);
	json__array_end(&w);
	return mem_done(m);
}

/* One double value inside an array. */
static const char *double_doc(struct mem *m, double v)
{
	struct json_writer w;

	mem_open(m, &w);
	json__array_begin(&w);
	json__double(&w, v);
	json__array_end(&w);
	return mem_done(m);
}

Test(json_writer, empty_object_ends_with_newline)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__object_end(&w);
	cr_assert_str_eq(mem_done(&m), "{}\n");
	free(m.buf);
}

Test(json_writer, empty_array_ends_with_newline)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__array_begin(&w);
	json__array_end(&w);
	cr_assert_str_eq(mem_done(&m), "[]\n");
	free(m.buf);
}

Test(json_writer, members_are_separated_by_commas)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__key(&w, "a");
	json__int(&w, 1);
	json__key(&w, "b");
	json__bool(&w, true);
	json__key(&w, "c");
	json__bool(&w, false);
	json__object_end(&w);
	cr_assert_str_eq(mem_done(&m), "{\"a\":1,\"b\":true,\"c\":false}\n");
	free(m.buf);
}

Test(json_writer, nested_containers_place_commas_at_each_level)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__key(&w, "a");
	json__object_begin(&w);
	json__key(&w, "x");
	json__array_begin(&w);
	json__int(&w, 1);
	json__array_begin(&w);
	json__array_end(&w);
	json__object_begin(&w);
	json__object_end(&w);
	json__uint(&w, 2);
	json__array_end(&w);
	json__key(&w, "y");
	json__string(&w, "z");
	json__object_end(&w);
	json__key(&w, "b");
	json__array_begin(&w);
	json__object_begin(&w);
	json__key(&w, "k");
	json__int(&w, 3);
	json__object_end(&w);
	json__object_begin(&w);
	json__object_end(&w);
	json__array_end(&w);
	json__object_end(&w);
	cr_assert_str_eq(mem_done(&m),
			 "{\"a\":{\"x\":[1,[],{},2],\"y\":\"z\"},\"b\":[{\"k\":3},{}]}\n");
	free(m.buf);
}

Test(json_writer, quote_and_backslash_are_escaped)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, "say \"hi\" C:\\dir"), "[\"say \\\"hi\\\" C:\\\\dir\"]\n");
	free(m.buf);
}

Test(json_writer, newline_and_tab_are_escaped_short)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, "a\nb\tc"), "[\"a\\nb\\tc\"]\n");
	free(m.buf);
}

Test(json_writer, other_control_chars_are_escaped_as_unicode)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, "\x01|\r|\x1f"), "[\"\\u0001|\\u000d|\\u001f\"]\n");
	free(m.buf);
}

Test(json_writer, utf8_and_del_pass_through)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, "caf\xc3\xa9\x7f"), "[\"caf\xc3\xa9\x7f\"]\n");
	free(m.buf);
}

Test(json_writer, keys_are_escaped_like_strings)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__key(&w, "a\"b\n");
	json__int(&w, 0);
	json__object_end(&w);
	cr_assert_str_eq(mem_done(&m), "{\"a\\\"b\\n\":0}\n");
	free(m.buf);
}

Test(json_writer, null_string_writes_null)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, NULL), "[null]\n");
	free(m.buf);
}

Test(json_writer, empty_string_writes_two_quotes)
{
	struct mem m;

	cr_assert_str_eq(string_doc(&m, ""), "[\"\"]\n");
	free(m.buf);
}

Test(json_writer, doubles_have_three_decimals)
{
	struct mem m;

	cr_assert_str_eq(double_doc(&m, 1.5), "[1.500]\n");
	free(m.buf);
	cr_assert_str_eq(double_doc(&m, 2.0 / 3.0), "[0.667]\n");
	free(m.buf);
	cr_assert_str_eq(double_doc(&m, -1.25), "[-1.250]\n");
	free(m.buf);
	cr_assert_str_eq(double_doc(&m, 0), "[0.000]\n");
	free(m.buf);
	cr_assert_str_eq(double_doc(&m, 12345678.9), "[12345678.900]\n");
	free(m.buf);
}

Test(json_writer, nan_writes_null)
{
	struct mem m;

	cr_assert_str_eq(double_doc(&m, NAN), "[null]\n");
	free(m.buf);
}

Test(json_writer, infinities_write_null)
{
	struct mem m;

	cr_assert_str_eq(double_doc(&m, INFINITY), "[null]\n");
	free(m.buf);
	cr_assert_str_eq(double_doc(&m, -INFINITY), "[null]\n");
	free(m.buf);
}

Test(json_writer, negative_ints_and_int64_limits)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__array_begin(&w);
	json__int(&w, -42);
	json__int(&w, INT64_MIN);
	json__int(&w, INT64_MAX);
	json__array_end(&w);
	cr_assert_str_eq(mem_done(&m), "[-42,-9223372036854775808,9223372036854775807]\n");
	free(m.buf);
}

Test(json_writer, uint64_max_is_written_in_full)
{
	struct json_writer w;
	json_t *root;
	struct mem m;

	mem_open(&m, &w);
	json__array_begin(&w);
	json__uint(&w, UINT64_MAX);
	json__array_end(&w);
	cr_assert_str_eq(mem_done(&m), "[18446744073709551615]\n");
	/* Beyond json_int_t: jansson reads it as a real. */
	root = parse_json(m.buf, JSON_DECODE_INT_AS_REAL);
	cr_assert_eq(json_real_value(json_array_get(root, 0)), 18446744073709551615.0);
	json_decref(root);
	free(m.buf);
}

Test(json_writer, writer_can_be_reused_after_init)
{
	struct json_writer w;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__key(&w, "a");
	json__int(&w, 1);
	json__object_end(&w);
	json__init(&w, m.f);
	json__array_begin(&w);
	json__int(&w, 2);
	json__array_end(&w);
	cr_assert_str_eq(mem_done(&m), "{\"a\":1}\n[2]\n");
	free(m.buf);
}

Test(json_writer, document_of_every_kind_parses_back_with_jansson)
{
	struct json_writer w;
	json_t *root, *arr;
	struct mem m;

	mem_open(&m, &w);
	json__object_begin(&w);
	json__key(&w, "s");
	json__string(&w, "q\"b\\n\nt\tc\x01"
			 "e");
	json__key(&w, "null");
	json__string(&w, NULL);
	json__key(&w, "neg");
	json__int(&w, -7);
	json__key(&w, "big");
	json__uint(&w, 9007199254740993ULL);
	json__key(&w, "d");
	json__double(&w, 0.125);
	json__key(&w, "nan");
	json__double(&w, NAN);
	json__key(&w, "t");
	json__bool(&w, true);
	json__key(&w, "arr");
	json__array_begin(&w);
	json__object_begin(&w);
	json__key(&w, "k");
	json__string(&w, "v");
	json__object_end(&w);
	json__array_begin(&w);
	json__int(&w, 1);
	json__int(&w, 2);
	json__array_end(&w);
	json__array_end(&w);
	json__object_end(&w);
	mem_done(&m);

	root = parse_json(m.buf, 0);
	cr_assert_str_eq(json_string_value(json_object_get(root, "s")), "q\"b\\n\nt\tc\x01"
									"e");
	cr_assert(json_is_null(json_object_get(root, "null")));
	cr_assert_eq(json_integer_value(json_object_get(root, "neg")), -7);
	cr_assert_eq(json_integer_value(json_object_get(root, "big")), 9007199254740993LL);
	cr_assert_eq(json_real_value(json_object_get(root, "d")), 0.125);
	cr_assert(json_is_null(json_object_get(root, "nan")));
	cr_assert(json_is_true(json_object_get(root, "t")));
	arr = json_object_get(root, "arr");
	cr_assert_eq(json_array_size(arr), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "k")), "v");
	cr_assert_eq(json_array_size(json_array_get(arr, 1)), 2);
	cr_assert_eq(json_object_size(root), 8);
	json_decref(root);
	free(m.buf);
}

Test(json_writer, every_control_char_round_trips_through_jansson)
{
	char s[32];
	json_t *root;
	struct mem m;

	for (int i = 1; i < 32; i++)
		s[i - 1] = (char)i;
	s[31] = '\0';
	root = parse_json(string_doc(&m, s), 0);
	cr_assert_str_eq(json_string_value(json_array_get(root, 0)), s);
	json_decref(root);
	free(m.buf);
}

/*
 * comm and paths are bytes, not UTF-8 (prctl(PR_SET_NAME) takes any bytes):
 * they must not make the document invalid JSON for the tools that read it.
 */
Test(json_writer, invalid_utf8_still_gives_valid_json)
{
	json_t *root;
	struct mem m;

	root = parse_json(string_doc(&m, "bad\xff\xfe name"), 0);
	json_decref(root);
	free(m.buf);
}
