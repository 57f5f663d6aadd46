// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* -o FILE: written whole or not at all, through no planted link, checked before the trace. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_file.h"

static char dir[] = "/tmp/lt-output-XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(output_file, .init = make_dir, .fini = remove_dir);

static const char *in_dir(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

Test(output_file, replaces_the_file_only_once_whole)
{
	struct output_file o;
	struct stat st;
	mode_t mask = umask(022);
	FILE *f;

	umask(mask);
	f = fopen(in_dir("x.json"), "w");
	fputs("old\n", f);
	fclose(f);
	cr_assert_eq(output_file__open(&o, in_dir("x.json")), 0);
	fputs("new\n", o.f);
	fflush(o.f);
	/* Until the close the old file is what readers see, beside one temporary file. */
	cr_assert_str_eq(slurp(in_dir("x.json")), "old\n");
	cr_assert_eq(entries(), 2);
	cr_assert_eq(output_file__close(&o, true), 0);
	cr_assert_str_eq(slurp(in_dir("x.json")), "new\n");
	cr_assert_eq(entries(), 1);
	cr_assert_eq(stat(in_dir("x.json"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0666 & ~mask);
}

Test(output_file, abandoned_output_leaves_nothing)
{
	struct output_file o;

	cr_assert_eq(output_file__open(&o, in_dir("y.svg")), 0);
	fputs("<svg", o.f);
	cr_assert_eq(output_file__close(&o, false), 0);
	cr_assert_eq(entries(), 0);
}

/* A link planted where the temporary file goes is never followed: names are new, O_EXCL. */
Test(output_file, planted_link_is_replaced_not_followed)
{
	struct output_file o;
	char victim[128];
	FILE *f;

	snprintf(victim, sizeof(victim), "%s", in_dir("victim"));
	f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	cr_assert_eq(symlink(victim, in_dir("out.json")), 0);
	cr_assert_eq(output_file__open(&o, in_dir("out.json")), 0);
	fputs("{}\n", o.f);
	cr_assert_eq(output_file__close(&o, true), 0);
	cr_assert_str_eq(slurp(in_dir("victim")), "precious\n");
	cr_assert_str_eq(slurp(in_dir("out.json")), "{}\n");
}

Test(output_file, devices_are_written_in_place)
{
	struct output_file o;

	cr_assert_eq(output_file__check("/dev/null"), 0);
	cr_assert_eq(output_file__open(&o, "/dev/null"), 0);
	cr_assert_null(o.tmp);
	fputs("gone\n", o.f);
	cr_assert_eq(output_file__close(&o, true), 0);
}

Test(output_file, check_finds_what_cannot_be_written)
{
	cr_assert_eq(output_file__check(in_dir("fine.json")), 0);
	cr_assert_eq(entries(), 0);
	cr_assert_eq(output_file__check("/nonexistent-dir/x.json"), -ENOENT);
	cr_assert_eq(output_file__check(dir), -EISDIR);
	/* sysfs takes no new file, not even from root. */
	cr_assert_eq(output_file__check("/sys/x.json"), -EACCES);
}
