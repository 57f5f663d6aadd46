// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -o FILE: a snapshot is written whole or not at all, never cut by a full disk;
 * -o - writes it to standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_file.h"

/* stdio's writes go through here: a failed write keeps its errno for the message. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct output_file *o = cookie;
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = write(o->fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!o->err)
				o->err = n < 0 ? errno : EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)size;
}

/* Whether path is there and not a regular file: written in place (/dev/null, a FIFO). */
static bool is_special(const char *path)
{
	struct stat st;

	return !stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* "dir/.name.XXXXXX" next to path, created with O_EXCL: nothing of anyone else's. */
static int create_tmp(const char *path, char **tmp)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	int dir_len = slash ? (slash == path ? 1 : (int)(slash - path)) : 1;
	mode_t mask;
	int fd;

	*tmp = NULL;
	if (!*base)
		return -EISDIR;
	if (asprintf(tmp, "%.*s/.%s.XXXXXX", dir_len, slash ? path : ".", base) < 0) {
		*tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		free(*tmp);
		*tmp = NULL;
		return fd;
	}
	/* What fopen would have made: 0666 less the umask (mkstemp makes 0600). */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	return fd;
}

bool output_file__is_stdout(const char *path)
{
	return !strcmp(path, "-");
}

const char *output_file__name(const char *path)
{
	return output_file__is_stdout(path) ? "standard output" : path;
}

int output_file__check(const char *path)
{
	struct stat st;
	char *tmp;
	int fd;

	if (output_file__is_stdout(path))
		return fcntl(STDOUT_FILENO, F_GETFL) < 0 ? -errno : 0;
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (is_special(path))
		return access(path, W_OK) ? -errno : 0;
	fd = create_tmp(path, &tmp);
	if (fd < 0)
		return fd;
	unlink(tmp);
	close(fd);
	free(tmp);
	return 0;
}

int output_file__open(struct output_file *o, const char *path)
{
	cookie_io_functions_t io = { .write = cookie_write };
	struct stat st;

	*o = (struct output_file){ .path = path, .fd = -1 };
	if (output_file__is_stdout(path)) {
		/* Its own descriptor, so that closing it leaves stdout open; what stdio holds first. */
		fflush(stdout);
		o->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
	} else if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		return -EISDIR;
	} else if (is_special(path)) {
		o->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	} else {
		o->fd = create_tmp(path, &o->tmp);
	}
	if (o->fd < 0)
		return o->fd == -1 ? -errno : o->fd;
	o->f = fopencookie(o, "w", io);
	if (!o->f) {
		output_file__close(o, false);
		return -ENOMEM;
	}
	return 0;
}

int output_file__close(struct output_file *o, bool keep)
{
	int err = 0;

	if (o->f && fclose(o->f) && !o->err)
		o->err = EIO;
	o->f = NULL;
	if (o->err)
		err = -o->err;
	if (keep && !err && o->tmp && fsync(o->fd))
		err = -errno;
	if (o->fd >= 0 && close(o->fd) && !err)
		err = -errno;
	o->fd = -1;
	if (keep && !err && o->tmp && rename(o->tmp, o->path))
		err = -errno;
	if (o->tmp && (!keep || err))
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return keep ? err : 0;
}
