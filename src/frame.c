// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* How every report and export names a frame. */
#include <stdio.h>
#include <string.h>

#include "frame.h"

const char *frame__basename(const char *path)
{
	const char *slash;

	if (!path)
		return "";
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *frame__name(const struct frame *fr, char *buf, size_t size)
{
	/* As perf's folded stacks mark the kernel's frames. */
	if (fr->kernel)
		snprintf(buf, size, "%s_[k]", fr->symbol ? fr->symbol : "[unknown]");
	else if (fr->symbol)
		return fr->symbol;
	else if (fr->module)
		snprintf(buf, size, "[%s]", frame__basename(fr->module));
	else
		snprintf(buf, size, "[unknown]");
	return buf;
}

const char *frame__label(const struct frame *fr, char *buf, size_t size)
{
	char name[288];
	const char *n = frame__name(fr, name, sizeof(name));

	if (!fr->file || !fr->line)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "%s (%s:%d)", n, frame__basename(fr->file), fr->line);
	return buf;
}
