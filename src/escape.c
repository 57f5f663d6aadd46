// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A symbol name, a process name or a host's JSON can hold ESC and other control
 * bytes: printed raw, they would drive the operator's terminal. They are shown as \xNN.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
		return 0; /* starts no UTF-8 sequence */
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

/* Writes all of buf to fd 2, or gives up on an error: a message is not worth a hang. */
static void write_all(const char *buf, size_t len)
{
	ssize_t r;

	while (len && ((r = write(STDERR_FILENO, buf, len)) > 0 || (r < 0 && errno == EINTR))) {
		if (r > 0) {
			buf += r;
			len -= (size_t)r;
		}
	}
}

/* Writes one piece without newline, tab or NUL, escaped, in runs that fit escape__text. */
static void write_escaped(const char *s, size_t len)
{
	char in[256], out[ESCAPE_SIZE];
	size_t n;

	for (; len; s += n, len -= n) {
		n = len < sizeof(in) - 1 ? len : sizeof(in) - 1;
		memcpy(in, s, n);
		in[n] = '\0';
		const char *e = escape__text(in, out, sizeof(out));

		write_all(e, strlen(e));
	}
}

/* stderr's writes: newlines and tabs as they are, NUL as \x00, the rest through escape__text. */
static ssize_t stderr_write(void *cookie, const char *buf, size_t len)
{
	size_t i = 0, start = 0;

	for (; i < len; i++) {
		if (buf[i] != '\n' && buf[i] != '\t' && buf[i])
			continue;
		write_escaped(buf + start, i - start);
		write_all(buf[i] ? &buf[i] : "\\x00", buf[i] ? 1 : 4);
		start = i + 1;
	}
	write_escaped(buf + start, len - start);
	return (ssize_t)len;
}

int escape__stderr(void)
{
	cookie_io_functions_t io = { .write = stderr_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (!f)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0); /* as stderr: every message out at once */
	stderr = f;
	return 0;
}
