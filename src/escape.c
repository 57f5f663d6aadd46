// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A symbol name, a process name or a host's JSON can hold ESC and other control
 * bytes: printed raw, they would drive the operator's terminal. They are shown as \xNN.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "json_writer.h"

/* Bytes of the sequence at s to copy as they are; 0 when its first byte must be escaped. */
static int safe_len(const unsigned char *s)
{
	int n;

	if (*s < 0x20 || *s == 0x7f)
		return 0;
	if (*s < 0x80)
		return 1;
	if (*s > 0xf4)
		return 0;	/* starts no UTF-8 sequence */
	n = json__utf8_len(s);
	/* U+0080 to U+009F, the C1 controls (CSI is U+009B), are C2 80 to C2 9F. */
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

static bool is_clean(const char *s)
{
	int n;

	for (; *s; s += n) {
		n = safe_len((const unsigned char *)s);
		if (!n)
			return false;
	}
	return true;
}

const char *escape__text(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	int n;

	if (!s || is_clean(s))
		return s;
	for (; *s && o + 5 < size; s += n) {
		n = safe_len((const unsigned char *)s);
		if (n && o + n < size) {
			memcpy(buf + o, s, n);
			o += n;
		} else if (n) {
			break;
		} else {
			o += snprintf(buf + o, size - o, "\\x%02x", (unsigned char)*s);
			n = 1;
		}
	}
	buf[o] = '\0';
	return buf;
}
