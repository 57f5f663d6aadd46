// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers shared by the export tests: golden files and captured output. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "snapshot_json.h"

const enum lt_format golden__formats[GOLDEN_NR_FORMATS] = {
	LT_FORMAT_TEXT, LT_FORMAT_JSON, LT_FORMAT_FOLDED, LT_FORMAT_SVG, LT_FORMAT_PPROF,
};

char *golden__read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

struct snapshot *golden__snapshot(const char *path)
{
	struct snapshot *snap = NULL;
	char err[512] = "";

	cr_assert_eq(snapshot_json__load(path, &snap, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(snap);
	return snap;
}

FILE *golden__open(struct capture *c)
{
	*c = (struct capture){ 0 };
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->f);
	return c->f;
}

void golden__close(struct capture *c)
{
	cr_assert_eq(fclose(c->f), 0);
	c->f = NULL;
}

void golden__check(const char *path, const char *got, size_t len)
{
	size_t want_len;
	char *want;

	if (getenv("LT_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		cr_assert_not_null(f, "cannot write %s", path);
		cr_assert_eq(fwrite(got, 1, len, f), len);
		fclose(f);
	}
	want = golden__read(path, &want_len);
	cr_assert_eq(len, want_len,
		     "%s: %zu bytes, golden file has %zu (LT_UPDATE_GOLDEN=1 to "
		     "rewrite it, then review the diff)",
		     path, len, want_len);
	cr_assert(!memcmp(got, want, len),
		  "%s differs from the output (LT_UPDATE_GOLDEN=1 to "
		  "rewrite it, then review the diff)",
		  path);
	free(want);
}
