// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* target_file: what a target's owner can plant (FIFOs, symlinks, other files) is never taken. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmaps.h"
#include "target_file.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static char dir[] = "/tmp/lt-target-XXXXXX";

static const char *in_dir(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(target_file, .init = setup, .fini = teardown);

Test(target_file, fifo_device_and_directory_are_refused_at_once, .timeout = 10)
{
	cr_assert_eq(mkfifo(in_dir("fifo"), 0600), 0);
	cr_assert_eq(target_file__open(in_dir("fifo")), -ENOEXEC);
	cr_assert_eq(target_file__open("/dev/zero"), -ENOEXEC);
	cr_assert_eq(target_file__open(dir), -EISDIR);
	cr_assert_eq(target_file__open(in_dir("none")), -ENOENT);
}

Test(target_file, absolute_symlink_stays_inside_the_root)
{
	int root, fd;

	cr_assert_eq(mkdir(in_dir("etc"), 0755), 0);
	cr_assert_eq(symlink(LIBC, in_dir("etc/link")), 0);
	root = open(dir, O_PATH | O_DIRECTORY);
	cr_assert_geq(root, 0);
	/* Inside the root, LIBC does not exist: the link does not lead out of it. */
	cr_assert_eq(target_file__open_in(root, "/etc/link"), -ENOENT);
	cr_assert_eq(target_file__open_in(root, "../../../" LIBC), -ENOENT);
	cr_assert_eq(symlink("/proc/self/exe", in_dir("etc/magic")), 0);
	cr_assert_lt(target_file__open_in(root, "/etc/magic"), 0);
	fd = target_file__open(in_dir("etc/link")); /* outside a root, a link is a link */
	cr_assert_geq(fd, 0);
	close(fd);
	close(root);
}

/* The inode path leads to, looked up a name at a time (inside root_fd unless AT_FDCWD); or -errno. */
static long long by_names(int root_fd, const char *path)
{
	int fd = target_file__lookup_names(root_fd, path);
	struct stat st;

	if (fd < 0)
		return fd;
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	return (long long)st.st_ino;
}

/* Links are followed by hand, as the kernel would: relative, absolute, and ".." after one. */
Test(target_file, links_and_dot_dot_are_followed_as_the_kernel_does)
{
	static const char *const paths[] = { "a/b/to_y/../f", "a/abs/./y/../f", "a/b/../../x//f",
					     "a/b/to_x_f" };
	char x[PATH_MAX];
	struct stat st, want;

	cr_assert_eq(mkdir(in_dir("a"), 0755), 0);
	cr_assert_eq(mkdir(in_dir("a/b"), 0755), 0);
	cr_assert_eq(mkdir(in_dir("x"), 0755), 0);
	cr_assert_eq(mkdir(in_dir("x/y"), 0755), 0);
	cr_assert_eq(close(open(in_dir("x/f"), O_WRONLY | O_CREAT, 0600)), 0);
	cr_assert_eq(symlink("../../x/y", in_dir("a/b/to_y")), 0);
	cr_assert_eq(symlink("to_y/../f", in_dir("a/b/to_x_f")), 0);
	snprintf(x, sizeof(x), "%s", in_dir("x"));
	cr_assert_eq(symlink(x, in_dir("a/abs")), 0);
	cr_assert_eq(stat(in_dir("x/f"), &want), 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		/* ".." after a link: the parent of the link's target, x. */
		cr_assert_eq(by_names(AT_FDCWD, in_dir(paths[i])), (long long)want.st_ino, "%s",
			     paths[i]);
		cr_assert_eq(target_file__stat(in_dir(paths[i]), &st), 0);
		cr_assert_eq(st.st_ino, want.st_ino, "%s", paths[i]);
	}
	cr_assert_eq(by_names(AT_FDCWD, in_dir("x/f/g")), -ENOTDIR);
	cr_assert_eq(by_names(AT_FDCWD, in_dir("x/none")), -ENOENT);
	cr_assert_eq(by_names(AT_FDCWD, ""), -ENOENT);
	cr_assert_eq(target_file__stat(in_dir("x/f/g"), &st), -ENOTDIR);
	/* /proc's magic links are the kernel's to follow: they name no path. */
	cr_assert_eq(stat(LIBC, &want), 0);
	cr_assert_eq(by_names(AT_FDCWD, "/proc/self/root" LIBC), (long long)want.st_ino);
	cr_assert_eq(by_names(AT_FDCWD, "/proc/self/root/proc/self/root" LIBC),
		     (long long)want.st_ino);
	cr_assert_eq(target_file__stat("/proc/self/root" LIBC, &st), 0);
	cr_assert_eq(st.st_ino, want.st_ino);
	cr_assert_eq(target_file__stat("/proc/self/cwd/", &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
}

Test(target_file, link_loops_and_deep_paths_end)
{
	char path[PATH_MAX] = "";

	cr_assert_eq(symlink("loop2", in_dir("loop1")), 0);
	cr_assert_eq(symlink("loop1", in_dir("loop2")), 0);
	cr_assert_eq(by_names(AT_FDCWD, in_dir("loop1")), -ELOOP);
	/* 64 directories deep, at most. */
	snprintf(path, sizeof(path), "%s", dir);
	for (int i = 0; i < 70; i++) {
		strcat(path, "/d");
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	cr_assert_eq(by_names(AT_FDCWD, path), -ENAMETOOLONG);
	cr_assert_gt(by_names(AT_FDCWD, in_dir("d/d/d")), 0);
}

/* Inside a root, ".." and relative links that climb stop at the root, as at "/". */
Test(target_file, dot_dot_and_links_stay_inside_the_root)
{
	static const char *const paths[] = { "/lib/up", "../../lib/../../lib/f", "lib/abs",
					     "/lib/../../../lib/./f" };
	struct stat want;
	int root, fd;

	cr_assert_eq(mkdir(in_dir("lib"), 0755), 0);
	cr_assert_eq(close(open(in_dir("lib/f"), O_WRONLY | O_CREAT, 0600)), 0);
	cr_assert_eq(stat(in_dir("lib/f"), &want), 0);
	cr_assert_eq(symlink("../../../../../../lib/f", in_dir("lib/up")), 0);
	cr_assert_eq(symlink("/lib/f", in_dir("lib/abs")), 0);
	cr_assert_eq(symlink("/proc/self/root" LIBC, in_dir("lib/magic")), 0);
	root = open(dir, O_PATH | O_DIRECTORY);
	cr_assert_geq(root, 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		cr_assert_eq(by_names(root, paths[i]), (long long)want.st_ino, "%s", paths[i]);
		fd = target_file__open_in(root, paths[i]);
		cr_assert_geq(fd, 0, "%s: %s", paths[i], strerror(-fd));
		close(fd);
	}
	/* Inside the root, there is no /proc: no magic link leads out of it. */
	cr_assert_eq(by_names(root, "/lib/magic"), -ENOENT);
	cr_assert_lt(target_file__open_in(root, "/lib/magic"), 0);
	close(root);
}

/* Our own mapping of libc: the exact inode, and the same check on a path. */
static struct procmap *libc_mapping(struct procmaps **maps)
{
	cr_assert_eq(procmaps__read(getpid(), maps), 0);
	for (size_t i = 0; i < (*maps)->n; i++)
		if ((*maps)->v[i].executable && strstr((*maps)->v[i].path, "libc.so.6"))
			return &(*maps)->v[i];
	cr_assert_fail("libc is not mapped");
	return NULL;
}

Test(target_file, mapped_file_is_the_maps_lines_inode)
{
	struct procmaps *maps;
	struct procmap *m = libc_mapping(&maps), other;
	char link[96];
	struct stat st;
	int fd;

	fd = target_file__open_mapped(getpid(), m);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_ino, m->inode);
	close(fd);
	fd = target_file__open_same(m->path, m);
	cr_assert_geq(fd, 0);
	close(fd);
	/* The same inode by its /proc link, stat'ed as its maps line names it. */
	snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", (int)getpid(),
		 (unsigned long long)m->start, (unsigned long long)m->end);
	cr_assert_eq(target_file__stat(link, &st), 0);
	cr_assert_eq(st.st_ino, m->inode);
	/* The same path, but the maps line names another inode: not that file. */
	other = *m;
	other.inode++;
	cr_assert_eq(target_file__open_same(m->path, &other), -ESTALE);
	procmaps__free(maps);
}

Test(target_file, pread_of_a_file_cut_short_is_eio)
{
	char buf[16];
	int fd = open(in_dir("short"), O_RDWR | O_CREAT, 0600);

	cr_assert_eq(write(fd, "0123456789", 10), 10);
	cr_assert_eq(target_file__pread(fd, buf, 10, 0), 0);
	cr_assert_eq(ftruncate(fd, 4), 0);
	cr_assert_eq(target_file__pread(fd, buf, 10, 0), -EIO);
	close(fd);
}
