/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Opening files on a target's behalf: their paths, links and contents belong to
 * users we do not trust, so nothing opened here can block, redirect or be too big.
 */
#ifndef LT_TARGET_FILE_H
#define LT_TARGET_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "procmaps.h"

/* The largest file read: an ELF file beyond it is left unread. */
#define TARGET_FILE_MAX (4ULL << 30)

/*
 * Whether the device is a FUSE file system's: a daemon, which any user may run
 * (in a user namespace of their own), answers each open, stat and read of its
 * files, or never does. Its files are never opened or read.
 */
bool target_file__dev_on_fuse(unsigned int dev_major, unsigned int dev_minor);
/*
 * stat(2) of path as its file system last told (FUSE asks no daemon): 0, a
 * negative errno, or -EREMOTE for a file on FUSE. Here and below, a path is
 * looked up by the kernel only when every name in it is in the kernel's cache
 * (openat2 RESOLVE_CACHED, 5.12+: no file system is asked), else as
 * target_file__lookup_names does: no name is ever looked up in a FUSE directory.
 */
int target_file__stat(const char *path, struct stat *st);
/*
 * path's file (links followed) looked up a name at a time, never in a FUSE
 * directory (a lookup there asks its daemon, which may never answer), and when
 * root_fd is not AT_FDCWD, inside root_fd as if it were "/", never out of it
 * (as openat2's RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). What target_file__open
 * and __stat fall back on when a name is not in the kernel's cache. An O_PATH
 * fd, or a negative errno: -EREMOTE for FUSE on the way, -ELOOP past 40 links,
 * -ENAMETOOLONG past 64 directories deep.
 */
int target_file__lookup_names(int root_fd, const char *path);
/*
 * Opens path read-only, never blocking (O_NONBLOCK: a FIFO cannot hold us), and
 * only when it is a regular file of at most TARGET_FILE_MAX bytes, not on FUSE:
 * O_PATH first, so that no device is ever opened (that can act: a watchdog, a
 * tape). Returns an fd, or a negative errno: -EISDIR, -ENOEXEC for anything but
 * a regular file, -EFBIG for a larger one, -EREMOTE for one on FUSE.
 */
int target_file__open(const char *path);
/*
 * The same for path resolved inside the directory root_fd as if it were "/"
 * (as openat2's RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink, "..", or an
 * absolute link cannot lead out of it.
 */
int target_file__open_in(int root_fd, const char *path);
/*
 * The file mapped by m in process pid, and no other: the mapping's own inode
 * through /proc/PID/map_files, else m->path resolved inside the process's root;
 * either way checked against the maps line's device and inode. An fd, or a
 * negative errno: -ESRCH when the process is gone, -ESTALE for another file,
 * -EREMOTE for a device on FUSE (known before any path is looked up).
 */
int target_file__open_mapped(pid_t pid, const struct procmap *m);
/*
 * path in our own namespace, kept only when it is the file m names (its device
 * and inode): for a process that has exited. An fd, or -ESTALE for another file.
 */
int target_file__open_same(const char *path, const struct procmap *m);
/*
 * Whether now (a stat of a file) is the file was was: the same device and inode,
 * and not written since (size, modification and change times). A file written
 * over in place keeps its inode: what was read of it then is another build's.
 */
bool target_file__unchanged(const struct stat *was, const struct stat *now);
/* Reads exactly len bytes at off; 0, -EIO for a file that got shorter, or a negative errno. */
int target_file__pread(int fd, void *buf, size_t len, uint64_t off);

#endif
