// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Files opened on a target's behalf: never blocking (FIFOs, devices), never
 * through a path or link the target's owner planted, never bigger than we read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "target_file.h"

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

/* Keeps fd when it is a regular file of a size we read; closes it otherwise. */
static int check_regular(int fd)
{
	struct stat st;
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = -ENOEXEC;
	else if ((uint64_t)st.st_size > TARGET_FILE_MAX)
		err = -EFBIG;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Keeps fd when it is the file of the maps line m; closes it otherwise. */
static int check_same(int fd, const struct procmap *m)
{
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || st.st_ino != m->inode || major(st.st_dev) != m->dev_major ||
	    minor(st.st_dev) != m->dev_minor) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int target_file__open(const char *path)
{
	return check_regular(open(path, OPEN_FLAGS));
}

int target_file__open_in(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = OPEN_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return check_regular((int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how)));
}

/* m->path inside pid's root; without openat2, as the kernel resolves it (checked after). */
static int open_in_root(pid_t pid, const struct procmap *m)
{
	char root[64], path[PATH_MAX + 64];
	int root_fd, fd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	fd = target_file__open_in(root_fd, m->path);
	close(root_fd);
	if (fd == -ENOSYS) {
		snprintf(path, sizeof(path), "%s%s", root, m->path);
		fd = target_file__open(path);
	}
	return fd;
}

int target_file__open_mapped(pid_t pid, const struct procmap *m)
{
	char link[96];
	int fd;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = target_file__open(link);
	/*
	 * map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE), and the mapping
	 * may have gone since maps was read: then the path in the process's root.
	 */
	if (fd < 0 && fd != -ENOEXEC && fd != -EISDIR && fd != -EFBIG)
		fd = kill(pid, 0) && errno == ESRCH ? -ESRCH : open_in_root(pid, m);
	return check_same(fd, m);
}

int target_file__open_same(const char *path, const struct procmap *m)
{
	return check_same(target_file__open(path), m);
}

int target_file__pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len) {
		n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}
