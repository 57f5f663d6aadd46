/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For the harnesses of readers that take a path: the input written to one temporary file. */
#ifndef LT_FUZZ_FILE_H
#define LT_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* The path of a regular file that now holds exactly data; the same file every call. */
static const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/leaktrace-fuzz-XXXXXX";
	static int fd = -1;

	if (fd < 0)
		fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

#endif
