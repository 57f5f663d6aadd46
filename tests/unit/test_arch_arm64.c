// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * arm64: the instructions the kernel simulates, probe placement on the entries
 * of Debian 12's glibc 2.36 (aarch64, their words copied here so that the test
 * needs no arm64 libc) and on hand-made code; frame record setup; call sites.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "arch_arm64.h"

#define ARGS1 ARCH_ARG1
#define ARGS5 (ARCH_ARG1 | ARCH_ARG2 | ARCH_ARG3 | ARCH_ARG4 | ARCH_ARG5)

/* Little-endian words into bytes, as they sit in a file. */
static size_t code_of(const uint32_t *words, size_t nr, uint8_t *out)
{
	for (size_t i = 0; i < nr; i++)
		for (int b = 0; b < 4; b++)
			out[i * 4 + b] = (uint8_t)(words[i] >> (8 * b));
	return nr * 4;
}

static struct arch_probe place(const uint32_t *words, size_t nr, unsigned int args,
			       const char *release)
{
	const struct arch_probe_req req = {
		.args = args,
		.emul = arch__uprobe_emulation(release),
		.null_check = false,
		.same_sp = true,
	};
	struct arch_probe site;
	uint8_t code[256];

	memset(&site, 0xa5, sizeof(site));
	cr_assert_eq(arch__probe_offset(code, code_of(words, nr, code), &req, &site), 0);
	return site;
}

static void assert_site(struct arch_probe site, size_t offset, enum arch_why why)
{
	cr_assert_eq(site.offset, offset, "offset %zu (%s), expected %zu (%s)", site.offset,
		     arch_why__str(site.why), offset, arch_why__str(why));
	cr_assert_eq(site.why, why, "%s, expected %s", arch_why__str(site.why), arch_why__str(why));
	cr_assert_eq(site.sp_delta, 0);
}

#define NR(a) (sizeof(a) / sizeof((a)[0]))

/* glibc 2.36's entries (objdump -d of Debian 12's libc.so.6, aarch64). */
static const uint32_t libc_malloc[] = { 0xa9bc7bfd, 0x910003fd, 0xa90363f7, 0x900008b7 };
static const uint32_t libc_free[] = { 0xb4000880, 0xa9bc7bfd, 0x910003fd };
static const uint32_t libc_mmap[] = { 0xf2402cbf, 0x54000121, 0x93407c42, 0x93407c63, 0x93407c84,
				      0xd2801bc8, 0xd4000001, 0xb140041f, 0x54000128, 0xd65f03c0 };
static const uint32_t libc_munmap[] = { 0xd503201f, 0xd2801ae8, 0xd4000001,
					0xb13ffc1f, 0x54000042, 0xd65f03c0 };

Test(arch_arm64, simulated_instructions_by_kernel_release)
{
	unsigned int v61 = arch__uprobe_emulation("6.1.0-57-cloud-arm64");
	unsigned int v613 = arch__uprobe_emulation("6.13.0");

	cr_assert_eq(arch__uprobe_emulation("4.9.0"), 0);
	cr_assert_eq(v61, ARM64_EMUL_BRANCH);
	cr_assert_eq(v613, ARM64_EMUL_BRANCH | ARM64_EMUL_NOP);
	cr_assert(arm64__emulated(0x54000121, v61));  /* b.ne */
	cr_assert(arm64__emulated(0xb4000880, v61));  /* cbz x0 */
	cr_assert(arm64__emulated(0x37f80040, v61));  /* tbnz w0, #31 */
	cr_assert(arm64__emulated(0x900008b7, v61));  /* adrp x23 */
	cr_assert(arm64__emulated(0x94000010, v61));  /* bl */
	cr_assert(arm64__emulated(0xd63f0060, v61));  /* blr x3 */
	cr_assert(arm64__emulated(0xd65f03c0, v61));  /* ret */
	cr_assert(!arm64__emulated(0xd503201f, v61)); /* nop: stepped before 6.13 */
	cr_assert(arm64__emulated(0xd503201f, v613));
	cr_assert(!arm64__emulated(0xa9bc7bfd, v613)); /* stp x29, x30, [sp, #-64]! */
	cr_assert(!arm64__emulated(0x58000040, v613)); /* ldr x0, literal: not for uprobes */
	cr_assert(!arm64__emulated(0xd4000001, v613)); /* svc */
}

Test(arch_arm64, glibc_entries)
{
	/* The frame record's store comes first: the entry, stepped out of line. */
	assert_site(place(libc_malloc, NR(libc_malloc), ARGS1, "6.1.0"), 0, ARCH_WHY_MEMORY_WRITE);
	/* free's own NULL check is a cbz, simulated. */
	assert_site(place(libc_free, NR(libc_free), ARGS1, "6.1.0"), 0, ARCH_WHY_ENTRY);
	/* tst x5 writes only the flags: the b.ne after it is simulated. */
	assert_site(place(libc_mmap, NR(libc_mmap), ARGS5, "6.1.0"), 4, ARCH_WHY_MOVED);
	/* munmap's nop: simulated from 6.13; before, the syscall stops the search. */
	assert_site(place(libc_munmap, NR(libc_munmap), ARGS1, "6.13.0"), 0, ARCH_WHY_ENTRY);
	assert_site(place(libc_munmap, NR(libc_munmap), ARGS1, "6.1.0"), 0, ARCH_WHY_BARRIER);
}

Test(arch_arm64, what_keeps_the_probe_at_the_entry)
{
	/* mov x0, x19 then b.eq: the argument is overwritten first. */
	const uint32_t arg[] = { 0xaa1303e0, 0x54000040 };
	/* mov x1, x30 (orr x1, xzr, x30): the return address copied before the probe. */
	const uint32_t lr[] = { 0xaa1e03e1, 0x54000040 };
	/* sub sp, sp, #16. */
	const uint32_t sp[] = { 0xd10043ff, 0x54000040 };
	/* ldr x9, [x1]. */
	const uint32_t load[] = { 0xf9400029, 0x54000040 };
	/* tst x5, #0xfff; b.ne; b back onto the b.ne: a path that skips the entry reaches it. */
	const uint32_t target[] = { 0xf2402cbf, 0x54000121, 0x17ffffff };
	/* mov x9, #1 then b.eq: x9 is no argument, the probe moves. */
	const uint32_t scratch[] = { 0xd2800029, 0x54000040 };

	assert_site(place(arg, NR(arg), ARGS1, "6.1.0"), 0, ARCH_WHY_ARG_WRITTEN);
	assert_site(place(lr, NR(lr), ARGS1, "6.1.0"), 0, ARCH_WHY_LINK_REG);
	assert_site(place(sp, NR(sp), ARGS1, "6.1.0"), 0, ARCH_WHY_SP_CHANGED);
	assert_site(place(load, NR(load), ARGS1, "6.1.0"), 0, ARCH_WHY_MEMORY_WRITE);
	assert_site(place(target, NR(target), ARGS5, "6.1.0"), 0, ARCH_WHY_TARGET);
	assert_site(place(scratch, NR(scratch), ARGS1, "6.1.0"), 4, ARCH_WHY_MOVED);
}

Test(arch_arm64, frame_record_setup)
{
	uint8_t code[64];
	size_t n = code_of(libc_malloc, NR(libc_malloc), code);
	/* sub sp, sp, #32; stp x29, x30, [sp, #16]; add x29, sp, #16 */
	const uint32_t offset_record[] = { 0xd10083ff, 0xa9017bfd, 0x910043fd };

	/* x29 is set once mov x29, sp (at 4) has run. */
	cr_assert(arch__frame_setup(code, n, 0x1000, 0x1008));
	cr_assert(!arch__frame_setup(code, n, 0x1000, 0x1004));
	cr_assert(!arch__frame_setup(code, code_of(libc_free, 1, code), 0x1000, 0x2000));
	n = code_of(offset_record, NR(offset_record), code);
	cr_assert(arch__frame_setup(code, n, 0x1000, 0x100c));
}

Test(arch_arm64, call_sites)
{
	uint8_t w[8];

	code_of((const uint32_t[]){ 0xd503201f, 0x97ffffe0 }, 2, w); /* bl */
	cr_assert(arch__after_call(w, 8));
	code_of((const uint32_t[]){ 0xd63f0060 }, 1, w); /* blr x3 */
	cr_assert(arch__after_call(w, 4));
	code_of((const uint32_t[]){ 0xd65f03c0 }, 1, w); /* ret */
	cr_assert(!arch__after_call(w, 4));
	cr_assert(!arch__after_call(w, 3));
}
