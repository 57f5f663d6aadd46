// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Files opened on a target's behalf: never blocking (FIFOs, devices, FUSE),
 * never through a path or link the target's owner planted, never bigger than
 * we read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "target_file.h"

/* Only a path is opened at first: opening a device or a FIFO can block, or act (a watchdog). */
#define PATH_FLAGS (O_PATH | O_CLOEXEC)
#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

/*
 * The FUSE control file system, mounted detached (fsmount: at no path, in no
 * namespace): a directory per FUSE connection, of every namespace, named by its
 * device. -1 when there is none: without the FUSE module (no /sys/fs/fuse) there
 * is no FUSE mount, and it is asked again next time; without CAP_SYS_ADMIN (or
 * before 5.2) FUSE files cannot be told, and it is not asked again.
 */
static int fuse_connections(void)
{
	static int ctl = -1, unable;
	int fs, mnt, none = -1;

	if (__atomic_load_n(&ctl, __ATOMIC_ACQUIRE) >= 0)
		return ctl;
	if (__atomic_load_n(&unable, __ATOMIC_RELAXED) || access("/sys/fs/fuse/connections", F_OK))
		return -1;
	fs = (int)syscall(SYS_fsopen, "fusectl", FSOPEN_CLOEXEC);
	if (fs < 0) {
		__atomic_store_n(&unable, 1, __ATOMIC_RELAXED);
		return -1;
	}
	mnt = syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) ?
		      -1 :
		      (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	close(fs);
	if (mnt < 0)
		__atomic_store_n(&unable, 1, __ATOMIC_RELAXED);
	else if (!__atomic_compare_exchange_n(&ctl, &none, mnt, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE))
		close(mnt); /* another thread's is kept */
	return __atomic_load_n(&ctl, __ATOMIC_ACQUIRE);
}

bool target_file__dev_on_fuse(unsigned int dev_major, unsigned int dev_minor)
{
	int ctl = fuse_connections();
	char name[16];

	/* The kernel's dev_t, as fusectl names its directories. */
	snprintf(name, sizeof(name), "%u", dev_major << 20 | dev_minor);
	return ctl >= 0 && !faccessat(ctl, name, F_OK, AT_SYMLINK_NOFOLLOW);
}

/*
 * fd's (or, with a path, that file's) attributes as its file system last told
 * them (AT_STATX_DONT_SYNC: FUSE asks no daemon), and -EREMOTE for a file on
 * FUSE. The path is looked up all the same: one under a FUSE directory can wait.
 */
static int stat_cached(int fd, const char *path, struct stat *st)
{
	struct statx sx;

	if (statx(fd, path, (*path ? 0 : AT_EMPTY_PATH) | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
		  &sx))
		return -errno;
	if (target_file__dev_on_fuse(sx.stx_dev_major, sx.stx_dev_minor))
		return -EREMOTE;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_size = (off_t)sx.stx_size;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
	return 0;
}

int target_file__stat(const char *path, struct stat *st)
{
	return stat_cached(AT_FDCWD, path, st);
}

/*
 * path_fd (an O_PATH fd, closed here) opened for reading when it is a regular
 * file of a size we read, not on FUSE: through /proc/self/fd, which opens that
 * very inode.
 */
static int open_regular(int path_fd)
{
	char self[64];
	struct stat st;
	int err = 0, fd;

	if (path_fd < 0)
		return -errno;
	err = stat_cached(path_fd, "", &st);
	if (!err && S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (!err && !S_ISREG(st.st_mode))
		err = -ENOEXEC;
	else if (!err && (uint64_t)st.st_size > TARGET_FILE_MAX)
		err = -EFBIG;
	if (err) {
		close(path_fd);
		return err;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
	fd = open(self, READ_FLAGS);
	err = fd < 0 ? -errno : fd;
	close(path_fd);
	return err;
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
	return open_regular(open(path, PATH_FLAGS));
}

int target_file__open_in(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = PATH_FLAGS,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return open_regular((int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how)));
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

	if (target_file__dev_on_fuse(m->dev_major, m->dev_minor))
		return -EREMOTE;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = target_file__open(link);
	/*
	 * map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE), and the mapping
	 * may have gone since maps was read: then the path in the process's root.
	 */
	if (fd < 0 && fd != -ENOEXEC && fd != -EISDIR && fd != -EFBIG && fd != -EREMOTE)
		fd = kill(pid, 0) && errno == ESRCH ? -ESRCH : open_in_root(pid, m);
	return check_same(fd, m);
}

int target_file__open_same(const char *path, const struct procmap *m)
{
	if (target_file__dev_on_fuse(m->dev_major, m->dev_minor))
		return -EREMOTE;
	return check_same(target_file__open(path), m);
}

bool target_file__unchanged(const struct stat *was, const struct stat *now)
{
	return was->st_dev == now->st_dev && was->st_ino == now->st_ino &&
	       was->st_size == now->st_size && was->st_mtim.tv_sec == now->st_mtim.tv_sec &&
	       was->st_mtim.tv_nsec == now->st_mtim.tv_nsec &&
	       was->st_ctim.tv_sec == now->st_ctim.tv_sec &&
	       was->st_ctim.tv_nsec == now->st_ctim.tv_nsec;
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
