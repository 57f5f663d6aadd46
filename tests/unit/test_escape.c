// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Control characters from targets and fleet hosts never reach the terminal raw. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "golden.h"
#include "report_fleet.h"
#include "report_text.h"
#include "report_diff.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

Test(escape, clean_text_is_returned_as_is)
{
	char buf[64];
	const char *s = "operator new(unsigned long) caf\xc3\xa9";

	cr_assert_eq(escape__text(s, buf, sizeof(buf)), s);
	cr_assert_null(escape__text(NULL, buf, sizeof(buf)));
}

Test(escape, control_bytes_become_hex_escapes)
{
	char buf[64];

	cr_assert_str_eq(escape__text("a\x1b[2Jb\x07", buf, sizeof(buf)), "a\\x1b[2Jb\\x07");
	cr_assert_str_eq(escape__text("del\x7f", buf, sizeof(buf)), "del\\x7f");
	/* U+009B (CSI as a C1 control in UTF-8) and a byte that starts no UTF-8 sequence. */
	cr_assert_str_eq(escape__text("c1\xc2\x9b"
				      "x\xff",
				      buf, sizeof(buf)),
			 "c1\\xc2\\x9bx\\xff");
	cr_assert_str_eq(escape__text("nl\n", buf, sizeof(buf)), "nl\\x0a");
	cr_assert_str_eq(escape__text("\xf8\x80\x80", buf, sizeof(buf)), "\\xf8\\x80\\x80");
}

Test(escape, long_text_is_cut_to_fit)
{
	char buf[8];

	cr_assert_str_eq(escape__text("\x1b\x1b\x1b", buf, sizeof(buf)), "\\x1b");
	cr_assert_str_eq(escape__text("ab\x1b", buf, sizeof(buf)), "ab\\x1b");
}

/* A fleet host's snapshot with ESC, BEL and C1 in every name it sends. */
static const char hostile[] =
	"{\"leaktrace\": 1, \"host\": \"h\\u0007ost\", \"processes\": [{\"pid\": 7, "
	"\"comm\": \"c\\u001b[31m\", \"exe\": \"/e\\u001b]0;x\\u0007\", \"stacks\": [{\"bytes\": "
	"10, \"allocs\": 1, \"growth_bytes_per_s\": 1, \"frames\": [{\"symbol\": "
	"\"f\\u001b[2J\", \"offset\": 1, \"module\": \"/m\\u009b1m\", \"address\": \"0x1\"}]}]}]}";

static char *text_of(const struct snapshot *snap, int mode, const struct snapshot *other)
{
	struct capture c;
	FILE *f = golden__open(&c);

	if (mode == 0)
		report_text__write(f, snap, 10);
	else if (mode == 1)
		report_fleet__write(f, snap, 10);
	else
		report_diff__text(f, other, "old\x1b.json", snap, "new.json", 10);
	golden__close(&c);
	return c.buf;
}

static void assert_no_control(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		cr_assert(*p >= 0x20 || *p == '\n', "byte 0x%02x at %zu of:\n%s", *p,
			  (size_t)(p - (const unsigned char *)text), text);
	cr_assert_null(strstr(text, "\xc2\x9b"), "%s", text);
}

Test(escape, text_reports_escape_what_hosts_send)
{
	struct snapshot *snap, *merged, *both[2];
	char err[256], *text;

	cr_assert_eq(snapshot_json__load_text(hostile, "h.json", &snap, err, sizeof(err)), 0, "%s",
		     err);
	text = text_of(snap, 0, NULL);
	assert_no_control(text);
	cr_assert_not_null(strstr(text, "leaktrace on h\\x07ost,"), "%s", text);
	cr_assert_not_null(strstr(text, "pid 7 (c\\x1b[31m) /e\\x1b]0;x\\x07 [exited]: "), "%s",
			   text);
	cr_assert_not_null(strstr(text, "f\\x1b[2J+0x1"), "%s", text);
	cr_assert_not_null(strstr(text, "/m\\xc2\\x9b1m"), "%s", text);
	free(text);

	both[0] = both[1] = snap;
	cr_assert_eq(snapshot__merge((const struct snapshot *const *)both, 2, &merged), 0);
	text = text_of(merged, 1, NULL);
	assert_no_control(text);
	cr_assert_not_null(strstr(text, "1 host (h\\x07ost)"), "%s", text);
	cr_assert_not_null(strstr(text, "[1] f\\x1b[2J in c\\x1b[31m (/e\\x1b]0;x\\x07): h\\x07ost "
					"pid 7"),
			   "%s", text);
	free(text);

	text = text_of(snap, 2, merged);
	assert_no_control(text);
	cr_assert_not_null(strstr(text, "old\\x1b.json (h\\x07ost, "), "%s", text);
	cr_assert_not_null(strstr(text, "c\\x1b[31m /e\\x1b]0;x\\x07: "), "%s", text);
	free(text);
	snapshot__free(merged);
	snapshot__free(snap);
}
