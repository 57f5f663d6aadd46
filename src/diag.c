// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One path for leaktrace's messages, so that -q, -v and the prefix are decided in one place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

static bool quiet, verbose, many_targets;
static const char *prefix = "leaktrace";

void diag__setup(bool q, bool v)
{
	quiet = q;
	verbose = v;
}

void diag__set_many_targets(bool many)
{
	many_targets = many;
}

void diag__set_prefix(const char *p)
{
	prefix = p;
}

bool diag__verbose(void)
{
	return verbose;
}

/* The message formatted first, then the line handed to stderr in one call. */
static void say(const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0) {
		fprintf(stderr, "%s: (out of memory formatting a message: %s)\n", prefix, fmt);
		return;
	}
	fprintf(stderr, "%s: %s\n", prefix, msg);
	free(msg);
}

void diag__error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void diag__warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void diag__info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void diag__debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void diag__target(const char *fmt, ...)
{
	va_list ap;

	if (many_targets && !verbose)
		return;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

bool diag__new_failure(int *last, int err)
{
	bool news = err && err != *last;

	*last = err;
	return news;
}
