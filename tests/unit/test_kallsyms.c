// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* kallsyms and kstack: /proc/kallsyms read as untrusted input; kernel frames from a call site. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kallsyms.h"
#include "kstack.h"

/* A kallsyms file of text in a temporary file; its path. */
static const char *write_file(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/lt-kallsyms-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct kallsyms *load(const char *text)
{
	const char *path = write_file(text);
	struct kallsyms *ks = NULL;

	cr_assert_eq(kallsyms__load(path, &ks), 0);
	unlink(path);
	return ks;
}

static const char sample[] = "ffffffff81000000 T _stext\n"
			     "ffffffff81001000 t alloc_pipe_info\n"
			     "ffffffff81001100 D some_data\n"
			     "ffffffff81001200 T create_pipe_files\n"
			     "ffffffff81002000 T __kmalloc_cache_noprof\n"
			     "ffffffff81003000 t bpf_trace_run4\n"
			     "ffffffffc0001000 t pipe_helper\t[mymod]\n"
			     "ffffffffc0002000 t other\t[mymod]\n";

Test(kallsyms, names_functions_with_offset_and_module)
{
	struct kallsyms *ks = load(sample);
	const char *name, *module;
	uint64_t off;

	cr_assert_eq(kallsyms__lookup(ks, 0xffffffff81001150, &name, &off, &module), 0);
	/* The data symbol between two functions is not one of them. */
	cr_assert_str_eq(name, "alloc_pipe_info");
	cr_assert_eq(off, 0x150);
	cr_assert_str_eq(module, KALLSYMS_KERNEL);
	cr_assert_eq(kallsyms__lookup(ks, 0xffffffffc0001010, &name, &off, &module), 0);
	cr_assert_str_eq(name, "pipe_helper");
	cr_assert_eq(off, 0x10);
	cr_assert_str_eq(module, "[mymod]");
	cr_assert_eq(kallsyms__lookup(ks, 0xffffffff80000000, &name, &off, &module), -ENOENT);
	/* Past the last symbol by more than a function's size: in none. */
	cr_assert_eq(kallsyms__lookup(ks, 0xffffffffc0002000 + (2 << 20), &name, &off, &module),
		     -ENOENT);
	kallsyms__free(ks);
}

Test(kallsyms, skips_lines_that_do_not_parse)
{
	char *text = malloc(8192);
	struct kallsyms *ks;
	const char *name, *module;
	uint64_t off;

	/* A line longer than any symbol, garbage, a type without a name, a module never closed. */
	snprintf(text, 8192,
		 "ffffffff81000000 T %0*d\nnot a line\nffffffff81000500 T\n"
		 "ffffffff81000600 t open_mod\t[unterminated\n"
		 "ffffffff81000800 T good\n",
		 3000, 7);
	ks = load(text);
	free(text);
	cr_assert_eq(kallsyms__lookup(ks, 0xffffffff81000810, &name, &off, &module), 0);
	cr_assert_str_eq(name, "good");
	cr_assert_eq(kallsyms__lookup(ks, 0xffffffff81000610, &name, &off, &module), -ENOENT);
	kallsyms__free(ks);
}

Test(kallsyms, refuses_hidden_addresses)
{
	const char *path = write_file("0000000000000000 T _stext\n0000000000000000 t foo\n");
	struct kallsyms *ks = NULL;

	cr_assert_eq(kallsyms__load(path, &ks), -EPERM);
	unlink(path);
	path = write_file("garbage only\n");
	cr_assert_eq(kallsyms__load(path, &ks), -EINVAL);
	unlink(path);
	cr_assert_eq(kallsyms__load("/nonexistent/kallsyms", &ks), -ENOENT);
}

Test(kstack, frame_zero_is_the_call_site)
{
	struct kallsyms *ks = load(sample);
	/* bpf_trace_run4 <- __kmalloc_cache_noprof <- alloc_pipe_info <- create_pipe_files */
	uint64_t ips[] = { 0xffffffff81003010, 0xffffffff81002020, 0xffffffff81001040,
			   0xffffffff81001230 };
	struct frame fr[4];
	int n = kstack__frames(ks, ips, 4, 0xffffffff81001040, fr);

	cr_assert_eq(n, 2);
	cr_assert_str_eq(fr[0].symbol, "alloc_pipe_info");
	cr_assert_eq(fr[0].offset, 0x40);
	cr_assert(fr[0].kernel);
	cr_assert_str_eq(fr[1].symbol, "create_pipe_files");
	/* No call site (a page): the allocator's and the tracing machinery's frames left out. */
	n = kstack__frames(ks, ips, 4, 0, fr);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(fr[0].symbol, "alloc_pipe_info");
	kallsyms__free(ks);
}
