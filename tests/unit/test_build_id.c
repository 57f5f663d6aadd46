// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Build IDs of a snapshot's modules, read from the files, saved in JSON, put in pprof mappings. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_id.h"
#include "elf_syms.h"
#include "export.h"
#include "export_pprof.h"
#include "golden.h"

static const char *self_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	cr_assert_gt(n, 0);
	path[n] = '\0';
	return path;
}

Test(build_id, file_build_id_is_hex_of_the_note)
{
	char *id = elf_syms__file_build_id(self_path());

	cr_assert_not_null(id, "the test binary has no build ID note");
	cr_assert_eq(strlen(id), 40);
	cr_assert_eq(strspn(id, "0123456789abcdef"), 40);
	cr_assert_null(elf_syms__file_build_id("/nonexistent"));
	cr_assert_null(elf_syms__file_build_id("/etc/hostname"));
	free(id);
}

Test(build_id, fill_takes_each_module_from_the_symbolizer)
{
	const char *exe = self_path();
	struct frame frames[] = {
		{ "f", 1, exe, 0x10, 0, false, NULL },
		{ "g", 2, exe, 0x20, 0, false, NULL },
		{ NULL, 0, "[vdso]", 0x30, 0, false, NULL },
		{ "h", 3, "/nonexistent/lib.so", 0x40, 0, false, NULL },
	};
	struct stack_stat s = { .bytes = 1,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &frames[0], &frames[1],
									 &frames[2], &frames[3] },
				.nr_frames = 4 };
	struct snapshot *snap = calloc(1, sizeof(*snap));
	char *want = elf_syms__file_build_id(exe);
	struct symbolizer *syms = symbolizer__new();

	snap->procs = calloc(1, sizeof(*snap->procs));
	snap->procs[0] = (struct proc_stat){ .pid = getpid(), .nr_stacks = 1 };
	snap->procs[0].stacks = calloc(1, sizeof(s));
	snap->procs[0].stacks[0] = s;
	snap->nr_procs = 1;
	cr_assert_eq(symbolizer__add_process(syms, getpid()), 0);
	cr_assert_eq(build_id__fill(snap, syms), 0);
	cr_assert_eq(snap->procs[0].nr_modules, 1);
	cr_assert_str_eq(snap->procs[0].modules[0].path, exe);
	cr_assert_str_eq(proc_stat__build_id(&snap->procs[0], exe), want);
	cr_assert_null(proc_stat__build_id(&snap->procs[0], "/nonexistent/lib.so"));
	free(want);
	snapshot__free(snap);
	symbolizer__free(syms);
}

Test(build_id, json_and_pprof_carry_the_build_ids)
{
	struct snapshot *snap = golden__snapshot("tests/unit/golden/host-02.json");
	unsigned char *pb;
	struct capture c;
	size_t len;

	cr_assert_eq(export__write(golden__open(&c), snap, LT_FORMAT_JSON,
				   &(struct export_opts){ .top = 10 }),
		     0);
	golden__close(&c);
	cr_assert_not_null(strstr(c.buf, ",\"build_ids\":{\"/usr/bin/leaky\":\"0123456789abcdef"
					 "0123456789abcdef01234567\"}"),
			   "%s", c.buf);
	cr_assert_eq(export_pprof__encode(snap, &pb, &len), 0);
	cr_assert_not_null(memmem(pb, len, "0123456789abcdef0123456789abcdef01234567", 40));
	free(pb);
	free(c.buf);
	snapshot__free(snap);
}
