/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Names from targets and fleet hosts, made harmless for the terminal that shows a text report. */
#ifndef LT_ESCAPE_H
#define LT_ESCAPE_H

#include <stddef.h>

/* Room for any name escaped: a symbol of 255 bytes, each one "\xNN". */
#define ESCAPE_SIZE 1024

/*
 * s itself when it holds no control character, else a copy in buf (cut to
 * fit) with each control byte (C0, DEL, the C1 range of UTF-8) and each byte
 * that is not UTF-8 written as \xNN: an escape sequence never reaches the
 * terminal. NULL stays NULL.
 */
const char *escape__text(const char *s, char *buf, size_t size);

/*
 * From now on stderr escapes what it is given the same way (newlines and tabs
 * pass): no message leaktrace prints, whatever path or name of a target's it
 * holds, can drive the terminal. 0 or -errno.
 */
int escape__stderr(void);

#endif
