// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* exclude: the programs -a leaves alone, known by their files. */
#include <criterion/criterion.h>

#include "exclude.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

Test(exclude, code_translators_are_known_by_their_files)
{
	const char *name;

	cr_assert(exclude__translator_file("/usr/libexec/valgrind/memcheck-amd64-linux", &name));
	cr_assert_str_eq(name, "valgrind");
	cr_assert(
		exclude__translator_file("/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so",
					 &name));
	cr_assert(exclude__translator_file("/opt/dr/lib64/release/libdynamorio.so", &name));
	cr_assert_str_eq(name, "DynamoRIO");
	cr_assert(exclude__translator_file("/usr/bin/qemu-aarch64-static", &name));
	cr_assert_str_eq(name, "qemu-user");
	cr_assert_not(exclude__translator_file("/usr/bin/qemu-system-x86_64", &name));
	cr_assert_not(exclude__translator_file("/usr/bin/valgrind-di-server", &name));
	cr_assert_not(exclude__translator_file(LIBC, &name));
}
