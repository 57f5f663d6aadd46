// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* procmaps: parsing of /proc/PID/maps lines and files, and reading a live process's. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmaps.h"
#include "procs.h"

int lt_test_procmaps_code(void);

/* A function of the test binary whose mapping we look for. */
int lt_test_procmaps_code(void)
{
	return 42;
}

Test(procmaps, parses_file_mapping_line)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("55d0c5a00000-55d0c5a02000 r-xp 00002000 08:01 1234567"
					  "                    /usr/bin/cat\n",
					  &m),
		     0);
	cr_assert_eq(m.start, 0x55d0c5a00000ull);
	cr_assert_eq(m.end, 0x55d0c5a02000ull);
	cr_assert_eq(m.offset, 0x2000ull);
	cr_assert_eq(m.dev_major, 8);
	cr_assert_eq(m.dev_minor, 1);
	cr_assert_eq(m.inode, 1234567ull);
	cr_assert(m.readable && !m.writable && m.executable && !m.shared);
	cr_assert_str_eq(m.path, "/usr/bin/cat");
	cr_assert(procmap__is_file(&m));
	free(m.path);
}

Test(procmaps, parses_anonymous_mapping_with_empty_path)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("7f1234560000-7f1234581000 rw-p 00000000 00:00 0 \n", &m),
		     0);
	cr_assert_eq(m.start, 0x7f1234560000ull);
	cr_assert_eq(m.end, 0x7f1234581000ull);
	cr_assert_eq(m.inode, 0);
	cr_assert(m.readable && m.writable && !m.executable && !m.shared);
	cr_assert_str_eq(m.path, "");
	cr_assert_not(procmap__is_file(&m));
	free(m.path);
}

Test(procmaps, parses_line_without_any_path)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("1000-2000 ---p 00000000 00:00 0", &m), 0);
	cr_assert_str_eq(m.path, "");
	cr_assert_not(m.readable || m.writable || m.executable);
	free(m.path);
}

Test(procmaps, keeps_spaces_in_path)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line(
			     "1000-2000 r--s 00000000 fd:02 77   /srv/my data/lib x.so\n", &m),
		     0);
	cr_assert_str_eq(m.path, "/srv/my data/lib x.so");
	cr_assert(m.shared);
	cr_assert_eq(m.dev_major, 0xfd);
	cr_assert_eq(m.dev_minor, 2);
	free(m.path);
}

Test(procmaps, keeps_deleted_suffix)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line(
			     "1000-2000 r-xp 00001000 08:01 99 /tmp/old.so (deleted)\n", &m),
		     0);
	cr_assert_str_eq(m.path, "/tmp/old.so (deleted)");
	cr_assert(procmap__is_file(&m));
	free(m.path);
}

Test(procmaps, heap_is_not_a_file)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("5555d000-5557e000 rw-p 00000000 00:00 0    [heap]\n",
					  &m),
		     0);
	cr_assert_str_eq(m.path, "[heap]");
	cr_assert_not(procmap__is_file(&m));
	free(m.path);
}

Test(procmaps, rejects_garbage_line)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("not a maps line\n", &m), -EINVAL);
}

Test(procmaps, rejects_truncated_line)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("1000-2000 r-xp\n", &m), -EINVAL);
}

Test(procmaps, rejects_bad_permissions)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("1000-2000 rxxp 00000000 00:00 0\n", &m), -EINVAL);
}

Test(procmaps, rejects_end_before_start)
{
	struct procmap m;

	cr_assert_eq(procmaps__parse_line("2000-1000 r-xp 00000000 00:00 0\n", &m), -EINVAL);
}

Test(procmaps, parses_file_and_finds_by_address)
{
	static const char text[] = "1000-2000 r--p 00000000 08:01 5 /bin/a\n"
				   "2000-3000 r-xp 00001000 08:01 5 /bin/a\n"
				   "5000-6000 rw-p 00000000 00:00 0 \n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct procmaps *maps;

	cr_assert_eq(procmaps__parse(f, &maps), 0);
	cr_assert_eq(maps->n, 3);
	cr_assert_eq(procmaps__find(maps, 0x2fff), &maps->v[1]);
	cr_assert_eq(procmaps__find(maps, 0x5000), &maps->v[2]);
	cr_assert_null(procmaps__find(maps, 0x3000));
	cr_assert_null(procmaps__find(maps, 0xfff));
	procmaps__free(maps);
	fclose(f);
}

/* Captured mappings: each new one replaces those it overlaps, as mmap does; order is kept. */
Test(procmaps, insert_keeps_order_and_replaces_overlapped_mappings)
{
	struct procmaps *maps = calloc(1, sizeof(*maps)), *copy;
	struct procmap m = { .start = 0x5000, .end = 0x6000, .inode = 1, .path = "/lib/b" };

	cr_assert_eq(procmaps__insert(maps, &m), 0);
	m = (struct procmap){ .start = 0x1000, .end = 0x2000, .inode = 2, .path = "/bin/a" };
	cr_assert_eq(procmaps__insert(maps, &m), 0);
	m = (struct procmap){ .start = 0x8000, .end = 0x9000, .inode = 3, .path = "/lib/c" };
	cr_assert_eq(procmaps__insert(maps, &m), 0);
	cr_assert_eq(maps->n, 3);
	cr_assert_str_eq(procmaps__find(maps, 0x1800)->path, "/bin/a");
	cr_assert_str_eq(procmaps__find(maps, 0x5800)->path, "/lib/b");
	/* Over the end of /lib/b and the start of /lib/c: both go. */
	m = (struct procmap){ .start = 0x5800, .end = 0x8800, .inode = 4, .path = "/lib/d" };
	cr_assert_eq(procmaps__insert(maps, &m), 0);
	cr_assert_eq(maps->n, 2);
	cr_assert_eq(maps->v[0].inode, 2);
	cr_assert_eq(maps->v[1].inode, 4);
	cr_assert_null(procmaps__find(maps, 0x5000));
	cr_assert_str_eq(procmaps__find(maps, 0x8000)->path, "/lib/d");
	m = (struct procmap){ .start = 0x3000, .end = 0x3000, .path = "/x" };
	cr_assert_eq(procmaps__insert(maps, &m), -EINVAL);
	cr_assert_eq(procmaps__dup(maps, &copy), 0);
	procmaps__free(maps);
	cr_assert_eq(copy->n, 2);
	cr_assert_str_eq(procmaps__find(copy, 0x1000)->path, "/bin/a");
	cr_assert_str_eq(procmaps__find(copy, 0x87ff)->path, "/lib/d");
	procmaps__free(copy);
	cr_assert_eq(procmaps__dup(NULL, &copy), 0);
	cr_assert_eq(copy->n, 0);
	procmaps__free(copy);
}

Test(procmaps, file_with_malformed_line_is_einval)
{
	static const char text[] = "1000-2000 r--p 00000000 08:01 5 /bin/a\nbroken\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct procmaps *maps = (void *)1;

	cr_assert_eq(procmaps__parse(f, &maps), -EINVAL);
	cr_assert_null(maps);
	fclose(f);
}

Test(procmaps, reads_own_code_mapping_as_executable)
{
	char exe[PATH_MAX] = {};
	const struct procmap *m;
	struct procmaps *maps;

	cr_assert_gt(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	cr_assert_eq(procmaps__read(getpid(), &maps), 0);
	m = procmaps__find(maps, (uint64_t)(uintptr_t)lt_test_procmaps_code);
	cr_assert_not_null(m);
	cr_assert(m->executable);
	cr_assert(procmap__is_file(m));
	cr_assert_str_eq(m->path, exe);
	procmaps__free(maps);
}

Test(procmaps, dead_process_is_esrch)
{
	struct procmaps *maps = (void *)1;

	cr_assert_eq(procmaps__read(procs__dead(), &maps), -ESRCH);
	cr_assert_null(maps);
}

Test(procmaps, free_accepts_null)
{
	procmaps__free(NULL);
}
