// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dwarf_lines against the compiler's own answer: calls in this file, at the
 * lines __LINE__ names, looked up in this test binary's DWARF (built with -g).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "dwarf_lines.h"

static __attribute__((noinline)) uintptr_t return_address(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

/* Each call and its __LINE__ on one line. */
/* clang-format off */
/* The store after the call keeps it a call, not a jump: its return address is in here. */
static __attribute__((noinline)) uintptr_t plain_call(int *line)
{
	uintptr_t ra = return_address(); *line = __LINE__;

	return ra;
}

static inline __attribute__((always_inline)) uintptr_t inlined_call(int *line)
{
	uintptr_t ra = return_address(); *line = __LINE__;

	return ra;
}

static __attribute__((noinline)) uintptr_t outer_call(int *line, int *outer)
{
	uintptr_t ra = inlined_call(line); *outer = __LINE__;

	return ra;
}
/* clang-format on */

static int main_bias(struct dl_phdr_info *info, size_t size, void *data)
{
	*(uintptr_t *)data = info->dlpi_addr;
	return 1; /* the first is the main program */
}

static struct dwarf_lines *open_self(void)
{
	struct dwarf_lines *dl;
	int fd = open("/proc/self/exe", O_RDONLY), err;

	cr_assert_geq(fd, 0);
	dl = dwarf_lines__open(fd, &err);
	cr_assert_not_null(dl, "no DWARF in the unit test binary: %s (built without -g?)",
			   strerror(-err));
	close(fd); /* dl keeps its own */
	return dl;
}

/* The levels at return address ra of this program (looked up one byte back, at the call). */
static int lookup(struct dwarf_lines *dl, uintptr_t ra, struct src_line *lv)
{
	uintptr_t bias = 0;
	int n;

	dl_iterate_phdr(main_bias, &bias);
	n = dwarf_lines__lookup(dl, ra - bias - 1, lv, DWARF_LINES_MAX_DEPTH);
	/* Asked again: the cache's answer is the same. */
	cr_assert_eq(dwarf_lines__lookup(dl, ra - bias - 1, lv, DWARF_LINES_MAX_DEPTH), n);
	return n;
}

static bool is_this_file(const char *path)
{
	const char *tail = "tests/unit/test_dwarf_lines.c";

	return path && path[0] == '/' && strlen(path) > strlen(tail) &&
	       !strcmp(path + strlen(path) - strlen(tail), tail);
}

Test(dwarf_lines, a_call_has_its_function_file_and_line)
{
	struct dwarf_lines *dl = open_self();
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	int line = 0, n = lookup(dl, plain_call(&line), lv);

	cr_assert_eq(n, 1);
	cr_assert_str_eq(lv[0].function, "plain_call");
	cr_assert(is_this_file(lv[0].file), "file: %s", lv[0].file);
	cr_assert_eq(lv[0].line, line);
	cr_assert_eq(lv[0].decl_line, line - 2, "plain_call is declared 2 lines above its call");
	cr_assert_neq(lv[0].entry, 0);
	dwarf_lines__free(dl); /* the strings of lv go with it */
}

Test(dwarf_lines, an_inlined_call_is_a_level_of_its_own_with_its_call_site)
{
	struct dwarf_lines *dl = open_self();
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	int line = 0, outer = 0, n = lookup(dl, outer_call(&line, &outer), lv);

	cr_assert_eq(n, 2);
	cr_assert_str_eq(lv[0].function, "inlined_call");
	cr_assert_eq(lv[0].line, line);
	cr_assert(is_this_file(lv[0].file), "file: %s", lv[0].file);
	cr_assert_str_eq(lv[1].function, "outer_call");
	cr_assert_eq(lv[1].line, outer, "the call site of inlined_call: line %d, not %d",
		     lv[1].line, outer);
	cr_assert(is_this_file(lv[1].file), "file: %s", lv[1].file);
	cr_assert_eq(lv[0].entry, 0, "only the outermost level has its function's entry");
	cr_assert_neq(lv[1].entry, 0);
	dwarf_lines__free(dl);
}

Test(dwarf_lines, a_file_that_is_not_elf_is_refused)
{
	char path[] = "/tmp/lt-dwarf-XXXXXX";
	int fd = mkstemp(path), err = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "not an ELF file, long enough to be read as one\n", 47), 47);
	cr_assert_null(dwarf_lines__open(fd, &err));
	cr_assert_eq(err, -ENOEXEC);
	close(fd);
	unlink(path);
	cr_assert_null(dwarf_lines__open(-1, &err));
	cr_assert_eq(err, -EBADF);
}
