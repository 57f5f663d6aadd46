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
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
 * fd's attributes as its file system last told them (AT_STATX_DONT_SYNC: FUSE
 * asks no daemon), and -EREMOTE for a file on FUSE.
 */
static int stat_cached(int fd, struct stat *st)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx))
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

/*
 * A path looked up a name at a time, as the kernel would, but never in a FUSE
 * directory (a lookup there asks its daemon) and, inside a root, never out of
 * it. Each name is opened O_PATH | O_NOFOLLOW and its device told by statx with
 * AT_STATX_DONT_SYNC, which asks no daemon; symbolic links are read and followed
 * here, at most WALK_LINKS of them. The directories passed are kept, so that
 * ".." goes back the way it came: one renamed away meanwhile leads nowhere new.
 */
#define WALK_DEPTH 64
#define WALK_LINKS 40

struct walk {
	int dirs[WALK_DEPTH]; /* where it began, ..., dirs[n - 1]: where it is */
	int n;
	bool in_root;		 /* dirs[0] is a root that ".." and absolute links stop at */
	dev_t not_fuse;		 /* a device seen not to be FUSE's */
	char rest[2 * PATH_MAX]; /* the names left to look up */
};

/* fd's (O_PATH) file type, or -EREMOTE when it is on FUSE, or a negative errno. */
static int node_type(struct walk *w, int fd, mode_t *mode)
{
	struct statx sx;
	dev_t dev;

	if (fd < 0)
		return -errno;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_TYPE,
		  &sx))
		return -errno;
	dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	if (dev != w->not_fuse) {
		if (target_file__dev_on_fuse(sx.stx_dev_major, sx.stx_dev_minor))
			return -EREMOTE;
		w->not_fuse = dev;
	}
	*mode = sx.stx_mode & S_IFMT;
	return 0;
}

static void walk_drop(struct walk *w, int keep)
{
	while (w->n > keep)
		close(w->dirs[--w->n]);
}

/* Goes into fd (O_PATH, taken), of the type mode: a directory, not on FUSE. */
static int walk_push(struct walk *w, int fd, mode_t mode)
{
	int err = mode == S_IFDIR ? 0 : -ENOTDIR;

	if (!err && w->n == WALK_DEPTH)
		err = -ENAMETOOLONG;
	if (err) {
		close(fd);
		return err;
	}
	w->dirs[w->n++] = fd;
	return 0;
}

/* The same, for an fd not told yet (or -1, errno set). */
static int walk_enter(struct walk *w, int fd)
{
	mode_t mode = 0;
	int err = node_type(w, fd, &mode);

	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return walk_push(w, fd, mode);
}

/* Back to the root: the one the walk is inside, or ours. */
static int walk_to_root(struct walk *w)
{
	walk_drop(w, w->in_root ? 1 : 0);
	return w->in_root ? 0 : walk_enter(w, open("/", PATH_FLAGS | O_DIRECTORY));
}

/* "..": back where it came from; past where it began only outside a root. */
static int walk_up(struct walk *w)
{
	int fd;

	if (w->n > 1) {
		close(w->dirs[--w->n]);
		return 0;
	}
	if (w->in_root)
		return 0;
	fd = openat(w->dirs[0], "..", PATH_FLAGS | O_DIRECTORY);
	walk_drop(w, 0);
	return walk_enter(w, fd);
}

/*
 * The link fd (O_PATH) in place of the name looked up, before the names after
 * it (at after, in w->rest). A link of /proc (its magic ones, /proc/PID/root or
 * map_files, name no path) is the kernel's to follow, outside a root: that
 * looks up no name. Returns the file it led to, AT_FDCWD when the link was put
 * in w->rest, or a negative errno.
 */
static int walk_link(struct walk *w, int fd, const char *name, const char *after)
{
	char link[PATH_MAX];
	struct statfs sf;
	size_t len, left = strlen(after);
	ssize_t n;

	if (!w->in_root && !fstatfs(fd, &sf) && sf.f_type == PROC_SUPER_MAGIC) {
		close(fd);
		fd = openat(w->dirs[w->n - 1], name, PATH_FLAGS);
		return fd < 0 ? -errno : fd;
	}
	n = readlinkat(fd, "", link, sizeof(link));
	close(fd);
	if (n < 0)
		return -errno;
	len = (size_t)n;
	if (len == 0 || len == sizeof(link) || len + 1 + left >= sizeof(w->rest))
		return len ? -ENAMETOOLONG : -ENOENT;
	memmove(w->rest + len + 1, after, left + 1);
	memcpy(w->rest, link, len);
	w->rest[len] = '/';
	return link[0] == '/' ? (walk_to_root(w) ?: AT_FDCWD) : AT_FDCWD;
}

/*
 * The lookup of path from dir_fd by the kernel alone, when every name in it is
 * in its cache and nothing needs checking with a file system (RESOLVE_CACHED,
 * 5.12): that asks no FUSE daemon. An O_PATH fd, or a negative errno: -EAGAIN
 * when a name must be looked up, -EINVAL or -ENOSYS before 5.12.
 */
static int lookup_cached(int dir_fd, const char *path, __u64 resolve)
{
	struct open_how how = { .flags = PATH_FLAGS, .resolve = RESOLVE_CACHED | resolve };
	int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Whether the kernel's answer from its cache is the answer: a file, or none there. */
static bool cached_answer(int fd)
{
	return fd >= 0 || fd == -ENOENT || fd == -ENOTDIR;
}

int target_file__lookup_names(int root_fd, const char *path)
{
	struct walk w = { .in_root = root_fd != AT_FDCWD, .not_fuse = (dev_t)-1 };
	int links = 0, err, fd = -1;
	char name[NAME_MAX + 1], *p, *end;
	bool jumped;
	mode_t mode;
	size_t len;

	len = strlen(path);
	if (!len || len >= PATH_MAX)
		return len ? -ENAMETOOLONG : -ENOENT;
	memcpy(w.rest, path, len + 1);
	if (w.in_root)
		err = walk_enter(&w, fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
	else
		err = walk_enter(&w, open(path[0] == '/' ? "/" : ".", PATH_FLAGS | O_DIRECTORY));
	for (p = w.rest; !err;) {
		p += strspn(p, "/");
		if (!*p) { /* a directory: its own fd */
			fd = w.dirs[--w.n];
			break;
		}
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p = end;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			err = walk_up(&w);
			continue;
		}
		fd = openat(w.dirs[w.n - 1], name, PATH_FLAGS | O_NOFOLLOW);
		err = node_type(&w, fd, &mode);
		jumped = false;
		if (!err && mode == S_IFLNK) {
			fd = ++links > WALK_LINKS ? (close(fd), -ELOOP) :
						    walk_link(&w, fd, name, p);
			if (fd == AT_FDCWD) {
				p = w.rest;
				continue;
			}
			err = fd < 0 ? fd : node_type(&w, fd, &mode);
			jumped = true;
		}
		if (err || !p[strspn(p, "/")])
			break; /* the file, or why not */
		err = walk_push(&w, fd, mode);
		/* Past /proc/PID/root, say: the rest may all be in the kernel's cache. */
		fd = !err && jumped ? lookup_cached(w.dirs[w.n - 1], p + strspn(p, "/"), 0) : -1;
		if (cached_answer(fd))
			break;
		fd = -1;
	}
	walk_drop(&w, 0);
	if (err && fd >= 0)
		close(fd);
	return err ?: fd;
}

/*
 * Whether path is /proc/PID/exe or /proc/PID/map_files/START-END, the links to a
 * process's files leaktrace names them by: names of /proc alone, then a link
 * the kernel follows to the inode itself, looking no name up. /proc is never
 * in the kernel's cache for RESOLVE_CACHED (a process's directory is checked).
 */
static bool proc_file_link(const char *path)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = path + 6;
	size_t n;

	if (strncmp(path, "/proc/", 6) || !(n = strspn(p, "0123456789")))
		return false;
	p += n;
	if (!strcmp(p, "/exe"))
		return true;
	if (strncmp(p, "/map_files/", 11))
		return false;
	p += 11;
	n = strspn(p, hex);
	if (!n || p[n] != '-')
		return false;
	p += n + 1;
	n = strspn(p, hex);
	return n && !p[n];
}

/*
 * path's file (links followed), looked up inside root_fd as if it were "/", or
 * in our own namespace when root_fd is AT_FDCWD: by the kernel when it has every
 * name in its cache or path is a /proc link to a file, else by names. An O_PATH
 * fd, or a negative errno.
 */
static int lookup(int root_fd, const char *path)
{
	int fd;

	if (root_fd == AT_FDCWD && proc_file_link(path)) {
		fd = open(path, PATH_FLAGS);
		return fd < 0 ? -errno : fd;
	}
	fd = lookup_cached(root_fd, path,
			   root_fd == AT_FDCWD ? 0 : RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	return cached_answer(fd) ? fd : target_file__lookup_names(root_fd, path);
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
	err = stat_cached(path_fd, &st);
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

int target_file__stat(const char *path, struct stat *st)
{
	int fd = lookup(AT_FDCWD, path), err;

	if (fd < 0)
		return fd;
	err = stat_cached(fd, st);
	close(fd);
	return err;
}

int target_file__open(const char *path)
{
	return open_regular(lookup(AT_FDCWD, path));
}

int target_file__open_in(int root_fd, const char *path)
{
	return open_regular(lookup(root_fd, path));
}

/* path inside pid's root. */
static int open_in_root(pid_t pid, const char *path)
{
	char root[64];
	int root_fd, fd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	fd = target_file__open_in(root_fd, path);
	close(root_fd);
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
		fd = kill(pid, 0) && errno == ESRCH ? -ESRCH : open_in_root(pid, m->path);
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
