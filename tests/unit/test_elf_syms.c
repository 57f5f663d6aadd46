// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* elf_syms: symbol tables of the syms fixtures and the system libc, debug files, code patterns. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "elf_syms.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LDSO "/lib64/ld-linux-x86-64.so.2"
/* Static-pie and stripped on Debian 12 (package libc-bin). */
#define LDCONFIG "/sbin/ldconfig"
/* So that no debug file installed on the machine is found by build id. */
#define NO_DEBUG_ROOT "/nonexistent/leaktrace-debug"

static char *fixture(const char *name)
{
	const char *dir = getenv("FIXTURES");
	char *path;

	cr_assert_gt(asprintf(&path, "%s/%s", dir ? dir : ".output/fixtures", name), 0);
	return path;
}

static struct elf_syms *open_fixture(const char *name)
{
	char *path = fixture(name);
	struct elf_syms *syms;
	int err = 1;

	syms = elf_syms__open(path, NO_DEBUG_ROOT, &err);
	cr_assert_not_null(syms, "cannot open %s: %s", path, strerror(-err));
	cr_assert_eq(err, 0);
	free(path);
	return syms;
}

static struct elf_syms *open_path(const char *path)
{
	struct elf_syms *syms;
	int err = 1;

	syms = elf_syms__open(path, NO_DEBUG_ROOT, &err);
	cr_assert_not_null(syms, "cannot open %s: %s", path, strerror(-err));
	return syms;
}

static uint64_t find(const struct elf_syms *syms, const char *name)
{
	uint64_t addr = 0;

	cr_assert_eq(elf_syms__find(syms, name, &addr), 0, "%s not found", name);
	cr_assert_neq(addr, 0);
	return addr;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

Test(elf_syms, resolves_function_name_to_address_and_back)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint64_t addr = find(syms, "syms_alpha");
	const struct elf_sym *s = elf_syms__lookup(syms, addr);

	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "syms_alpha");
	cr_assert_eq(s->addr, addr);
	cr_assert_gt(s->size, 1);
	elf_syms__free(syms);
}

Test(elf_syms, resolves_address_inside_function)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint64_t addr = find(syms, "syms_beta");
	const struct elf_sym *s = elf_syms__lookup(syms, addr + 1);

	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "syms_beta");
	cr_assert_eq(addr + 1 - s->addr, 1);
	elf_syms__free(syms);
}

Test(elf_syms, address_below_every_function_is_unknown)
{
	struct elf_syms *syms = open_fixture("syms-fp");

	cr_assert_null(elf_syms__lookup(syms, 1));
	elf_syms__free(syms);
}

Test(elf_syms, unknown_name_is_enoent)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint64_t addr = 7;

	cr_assert_eq(elf_syms__find(syms, "syms_gamma", &addr), -ENOENT);
	cr_assert_eq(addr, 7);
	elf_syms__free(syms);
}

Test(elf_syms, address_and_offset_convert_both_ways)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint64_t addr = find(syms, "syms_alpha"), off = 0, back = 0;

	cr_assert_eq(elf_syms__addr_to_offset(syms, addr, &off), 0);
	cr_assert_eq(elf_syms__offset_to_addr(syms, off, &back), 0);
	cr_assert_eq(back, addr);
	elf_syms__free(syms);
}

Test(elf_syms, reads_code_bytes_at_function)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint8_t code[4];

	cr_assert_eq(elf_syms__read(syms, find(syms, "syms_alpha"), code, sizeof(code)), 0);
	cr_assert_eq(code[0], 0x55); /* push %rbp */
	elf_syms__free(syms);
}

Test(elf_syms, read_outside_segments_is_enoent)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint8_t code[4];

	cr_assert_eq(elf_syms__read(syms, 1ull << 60, code, sizeof(code)), -ENOENT);
	elf_syms__free(syms);
}

Test(elf_syms, fp_build_keeps_frame_pointer)
{
	struct elf_syms *syms = open_fixture("syms-fp");

	uint64_t alpha = find(syms, "syms_alpha");

	/* Set up before the call to syms_beta, whose return address is alpha + 9. */
	cr_assert(elf_syms__keeps_frame_pointer(syms, alpha, alpha + 9));
	cr_assert_not(elf_syms__keeps_frame_pointer(syms, alpha, alpha));
	elf_syms__free(syms);
}

Test(elf_syms, nofp_build_does_not_keep_frame_pointer)
{
	struct elf_syms *syms = open_fixture("syms-nofp");

	uint64_t alpha = find(syms, "syms_alpha");

	/* sub $0x8,%rsp (4), call syms_beta (5): return address alpha + 9. */
	cr_assert_not(elf_syms__keeps_frame_pointer(syms, alpha, alpha + 9));
	elf_syms__free(syms);
}

/* syms_alpha in the -fp build: push %rbp (1), mov %rsp,%rbp (3), call syms_beta (5). */
Test(elf_syms, return_address_after_call_in_file)
{
	struct elf_syms *syms = open_fixture("syms-fp");
	uint64_t alpha = find(syms, "syms_alpha");

	cr_assert(elf_syms__after_call(syms, alpha + 9));
	cr_assert_not(elf_syms__after_call(syms, alpha + 4));
	elf_syms__free(syms);
}

Test(elf_syms, stripped_file_has_no_symtab)
{
	struct elf_syms *syms = open_fixture("syms-stripped");
	uint64_t addr;

	cr_assert_not(elf_syms__has_symtab(syms));
	cr_assert_eq(elf_syms__find(syms, "syms_alpha", &addr), -ENOENT);
	cr_assert_null(elf_syms__debug_file(syms));
	elf_syms__free(syms);
}

Test(elf_syms, debuglink_file_provides_symbols)
{
	struct elf_syms *syms = open_fixture("syms-debuglink");
	struct elf_syms *nofp = open_fixture("syms-nofp");
	const struct elf_sym *s;
	uint64_t addr = find(syms, "syms_alpha");

	cr_assert(elf_syms__has_symtab(syms));
	cr_assert_not_null(elf_syms__debug_file(syms));
	cr_assert(ends_with(elf_syms__debug_file(syms), "syms-debuglink.debug"));
	cr_assert_eq(addr, find(nofp, "syms_alpha"));
	s = elf_syms__lookup(syms, addr + 2);
	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "syms_alpha");
	elf_syms__free(nofp);
	elf_syms__free(syms);
}

Test(elf_syms, debug_file_code_bytes_come_from_main_file)
{
	struct elf_syms *syms = open_fixture("syms-debuglink");
	struct elf_syms *nofp = open_fixture("syms-nofp");
	uint64_t addr = find(nofp, "syms_alpha");
	uint8_t a[8], b[8];

	cr_assert_eq(elf_syms__read(syms, addr, a, sizeof(a)), 0);
	cr_assert_eq(elf_syms__read(nofp, addr, b, sizeof(b)), 0);
	cr_assert_arr_eq(a, b, sizeof(a));
	elf_syms__free(nofp);
	elf_syms__free(syms);
}

/* syms-stripped has no debuglink but the build id of syms-nofp, whose debug file it gets. */
Test(elf_syms, debug_file_found_by_build_id)
{
	char root[] = "/tmp/lt-debug-XXXXXX", *ids, *dir, *link, *debug, *stripped_path, *target;
	struct elf_syms *stripped = open_fixture("syms-stripped"), *syms;
	const char *id = elf_syms__build_id(stripped);
	int err = 1;

	cr_assert_not_null(id);
	cr_assert_not_null(mkdtemp(root));
	cr_assert_gt(asprintf(&ids, "%s/.build-id", root), 0);
	cr_assert_gt(asprintf(&dir, "%s/%.2s", ids, id), 0);
	cr_assert_gt(asprintf(&link, "%s/%s.debug", dir, id + 2), 0);
	target = fixture("syms-debuglink.debug");
	debug = realpath(target, NULL);
	cr_assert_not_null(debug);
	cr_assert_eq(mkdir(ids, 0755), 0);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(symlink(debug, link), 0);

	stripped_path = fixture("syms-stripped");
	syms = elf_syms__open(stripped_path, root, &err);
	cr_assert_not_null(syms);
	cr_assert_str_eq(elf_syms__debug_file(syms), link);
	cr_assert_not_null(elf_syms__lookup(syms, find(syms, "syms_beta")));
	cr_assert_str_eq(elf_syms__lookup(syms, find(syms, "syms_beta"))->name, "syms_beta");

	elf_syms__free(syms);
	elf_syms__free(stripped);
	unlink(link);
	rmdir(dir);
	rmdir(ids);
	rmdir(root);
	free(stripped_path);
	free(target);
	free(debug);
	free(link);
	free(dir);
	free(ids);
}

Test(elf_syms, build_id_is_lowercase_hex_shared_by_stripped_copies)
{
	struct elf_syms *nofp = open_fixture("syms-nofp");
	struct elf_syms *stripped = open_fixture("syms-stripped");
	const char *id = elf_syms__build_id(nofp);

	cr_assert_not_null(id);
	cr_assert_eq(strlen(id), 40);
	cr_assert_eq(strspn(id, "0123456789abcdef"), 40);
	cr_assert_str_eq(elf_syms__build_id(stripped), id);
	elf_syms__free(stripped);
	elf_syms__free(nofp);
}

Test(elf_syms, text_file_is_enoexec)
{
	char path[] = "/tmp/lt-notelf-XXXXXX";
	int fd = mkstemp(path), err = 0;
	static const char text[] = "this is not an ELF file, just some text\n";

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_null(elf_syms__open(path, NULL, &err));
	cr_assert_eq(err, -ENOEXEC);
	unlink(path);
}

Test(elf_syms, missing_file_is_enoent)
{
	int err = 0;

	cr_assert_null(elf_syms__open("/nonexistent/leaktrace/file", NULL, &err));
	cr_assert_eq(err, -ENOENT);
}

Test(elf_syms, libc_malloc_is_libc_malloc_alias)
{
	struct elf_syms *syms = open_path(LIBC);

	cr_assert_eq(find(syms, "malloc"), find(syms, "__libc_malloc"));
	elf_syms__free(syms);
}

Test(elf_syms, alias_lookup_prefers_name_without_underscores)
{
	struct elf_syms *syms = open_path(LIBC);
	const struct elf_sym *s = elf_syms__lookup(syms, find(syms, "__libc_malloc"));

	cr_assert_not_null(s);
	cr_assert_str_eq(s->name, "malloc");
	elf_syms__free(syms);
}

Test(elf_syms, dynamic_executable_is_not_static)
{
	struct elf_syms *syms = open_fixture("syms-fp");

	cr_assert_not(elf_syms__is_static(syms));
	cr_assert_str_eq(elf_syms__interp(syms), LDSO);
	elf_syms__free(syms);
}

Test(elf_syms, shared_libraries_are_not_static)
{
	struct elf_syms *libc = open_path(LIBC);
	struct elf_syms *ldso = open_path(LDSO);

	cr_assert_not(elf_syms__is_static(libc));
	cr_assert_not(elf_syms__is_static(ldso));
	cr_assert_null(elf_syms__interp(ldso));
	elf_syms__free(ldso);
	elf_syms__free(libc);
}

Test(elf_syms, static_pie_is_static)
{
	struct elf_syms *syms = open_path(LDCONFIG);

	cr_assert(elf_syms__is_static(syms));
	cr_assert_null(elf_syms__interp(syms));
	elf_syms__free(syms);
}

Test(elf_syms, free_accepts_null)
{
	elf_syms__free(NULL);
}

Test(x86, push_mov_sets_frame_pointer)
{
	static const uint8_t code[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10 };

	cr_assert(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
}

Test(x86, endbr64_then_push_mov_sets_frame_pointer)
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x8b, 0xec };

	cr_assert(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
}

Test(x86, push_without_mov_does_not_set_frame_pointer)
{
	/* push %rbp; push %rbx: %rbp used as a general register. */
	static const uint8_t code[] = { 0x55, 0x53, 0x48, 0x89, 0xfb, 0x90, 0x90, 0x90 };

	cr_assert_not(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
}

Test(x86, short_code_does_not_set_frame_pointer)
{
	static const uint8_t code[] = { 0x55, 0x48, 0x89 };

	cr_assert_not(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
}

Test(x86, call_rel32_ends_with_call)
{
	static const uint8_t code[] = { 0x90, 0x90, 0x90, 0xe8, 0xdd, 0xff, 0xff, 0xff };

	cr_assert(arch__after_call(code, sizeof(code)));
}

Test(x86, call_register_ends_with_call)
{
	static const uint8_t rax[] = { 0x90, 0xff, 0xd0 };	     /* call *%rax */
	static const uint8_t r11[] = { 0x90, 0x41, 0xff, 0xd3 };     /* call *%r11 */
	static const uint8_t notrack[] = { 0x90, 0x3e, 0xff, 0xd2 }; /* notrack call *%rdx */

	cr_assert(arch__after_call(rax, sizeof(rax)));
	cr_assert(arch__after_call(r11, sizeof(r11)));
	cr_assert(arch__after_call(notrack, sizeof(notrack)));
}

Test(x86, call_memory_forms_end_with_call)
{
	static const uint8_t ind[] = { 0x90, 0xff, 0x10 };			/* *(%rax) */
	static const uint8_t rip[] = { 0xff, 0x15, 0x10, 0x20, 0x00, 0x00 };	/* *0x2010(%rip) */
	static const uint8_t disp8[] = { 0x41, 0xff, 0x54, 0x24, 0x08 };	/* *0x8(%r12) */
	static const uint8_t disp32[] = { 0xff, 0x90, 0x00, 0x01, 0x00, 0x00 }; /* *0x100(%rax) */
	static const uint8_t sib32[] = { 0xff, 0x94, 0xc3, 0x10, 0, 0, 0 }; /* *0x10(%rbx,%rax,8) */
	static const uint8_t table[] = {
		0xff, 0x14, 0xc5, 0x40, 0x10, 0, 0
	};							 /* *0x1040(,%rax,8) */
	static const uint8_t sib[] = { 0x90, 0xff, 0x14, 0x24 }; /* *(%rsp) */

	cr_assert(arch__after_call(ind, sizeof(ind)));
	cr_assert(arch__after_call(rip, sizeof(rip)));
	cr_assert(arch__after_call(disp8, sizeof(disp8)));
	cr_assert(arch__after_call(disp32, sizeof(disp32)));
	cr_assert(arch__after_call(sib32, sizeof(sib32)));
	cr_assert(arch__after_call(table, sizeof(table)));
	cr_assert(arch__after_call(sib, sizeof(sib)));
}

Test(x86, other_instructions_do_not_end_with_call)
{
	static const uint8_t nops[] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 };
	static const uint8_t jmp[] = { 0x90, 0x90, 0xff, 0xe0 };  /* jmp *%rax */
	static const uint8_t push[] = { 0x90, 0x90, 0xff, 0x30 }; /* push (%rax) */
	static const uint8_t ret[] = { 0x90, 0x90, 0xc3 };
	/* call *0x8(%rsp) cut short: the operand does not end at the end. */
	static const uint8_t cut[] = { 0x90, 0x90, 0xff, 0x54, 0x24 };

	cr_assert_not(arch__after_call(nops, sizeof(nops)));
	cr_assert_not(arch__after_call(jmp, sizeof(jmp)));
	cr_assert_not(arch__after_call(push, sizeof(push)));
	cr_assert_not(arch__after_call(ret, sizeof(ret)));
	cr_assert_not(arch__after_call(cut, sizeof(cut)));
}

Test(x86, too_few_bytes_do_not_end_with_call)
{
	static const uint8_t code[] = { 0xd0 };

	cr_assert_not(arch__after_call(code, sizeof(code)));
	cr_assert_not(arch__after_call(code, 0));
}

/* --unwind auto's judgement: the -fp fixture keeps frame pointers; the -nofp one and libc not. */
Test(elf_syms, frame_pointer_builds_are_told_apart)
{
	struct elf_syms *fp = open_fixture("leaky-fp"), *nofp = open_fixture("leaky-nofp");
	struct elf_syms *libc;
	int err;

	libc = elf_syms__open("/lib/x86_64-linux-gnu/libc.so.6", NULL, &err);
	cr_assert_not_null(libc);
	cr_assert(elf_syms__built_with_frame_pointers(fp));
	cr_assert_not(elf_syms__built_with_frame_pointers(nofp));
	cr_assert_not(elf_syms__built_with_frame_pointers(libc));
	elf_syms__free(fp);
	elf_syms__free(nofp);
	elf_syms__free(libc);
}

/*
 * Debug links are what a file's owner wrote: only a plain name is looked up,
 * a FIFO there is not waited on, and the file found must have the link's CRC.
 */
struct link_dir {
	char root[32];
	char sub[64];
	char bin[96];
};

static uint32_t crc_of(const char *path)
{
	char *cmd, buf[64] = "";
	FILE *p;

	/* gzip's trailer holds the same CRC-32 as .gnu_debuglink. */
	cr_assert_gt(asprintf(&cmd, "gzip -c %s | tail -c 8 | od -An -tu4 -N4", path), 0);
	p = popen(cmd, "r");
	cr_assert(p && fgets(buf, sizeof(buf), p));
	pclose(p);
	free(cmd);
	return (uint32_t)strtoul(buf, NULL, 10);
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/*
 * DIR/x.debug: syms-nofp's debug file; DIR/sub/bin: syms-nofp stripped, whose
 * .gnu_debuglink holds link and x.debug's CRC (right_crc) or 0. Neither has a
 * build id: only the CRC can tie them.
 */
static void make_linked(struct link_dir *d, const char *link, bool right_crc)
{
	char *nofp = fixture("syms-nofp"), *cmd, data[128], debug[128];
	size_t len = strlen(link) + 1;
	uint32_t crc;
	FILE *f;

	snprintf(d->root, sizeof(d->root), "/tmp/lt-link-XXXXXX");
	cr_assert_not_null(mkdtemp(d->root));
	snprintf(d->sub, sizeof(d->sub), "%s/sub", d->root);
	snprintf(d->bin, sizeof(d->bin), "%s/bin", d->sub);
	snprintf(data, sizeof(data), "%s/link", d->root);
	snprintf(debug, sizeof(debug), "%s/x.debug", d->root);
	cr_assert_eq(mkdir(d->sub, 0755), 0);
	cr_assert_gt(asprintf(&cmd, "objcopy --only-keep-debug -R .note.gnu.build-id %s %s", nofp,
			      debug),
		     0);
	sh(cmd);
	free(cmd);
	crc = right_crc ? crc_of(debug) : 0;
	f = fopen(data, "w");
	cr_assert_not_null(f);
	fwrite(link, 1, len, f);
	for (size_t i = len; i % 4; i++)
		fputc(0, f);
	fwrite(&crc, 1, 4, f);
	fclose(f);
	cr_assert_gt(asprintf(&cmd,
			      "strip -R .note.gnu.build-id -o %s %s && "
			      "objcopy --add-section .gnu_debuglink=%s %s",
			      d->bin, nofp, data, d->bin),
		     0);
	sh(cmd);
	free(cmd);
	free(nofp);
}

static void remove_dir(struct link_dir *d)
{
	char *cmd;

	cr_assert_gt(asprintf(&cmd, "rm -rf %s", d->root), 0);
	sh(cmd);
	free(cmd);
}

/* Whether DIR/sub/bin got a debug file (and then its symbols). */
static bool debug_used(struct link_dir *d)
{
	struct elf_syms *syms;
	uint64_t addr;
	bool used;
	int err;

	syms = elf_syms__open(d->bin, NO_DEBUG_ROOT, &err);
	cr_assert_not_null(syms, "%s: %s", d->bin, strerror(-err));
	used = elf_syms__debug_file(syms) != NULL;
	if (used)
		cr_assert_eq(elf_syms__find(syms, "syms_alpha", &addr), 0);
	elf_syms__free(syms);
	return used;
}

/* Moves DIR/x.debug to DIR/sub/NAME. */
static void move_debug(struct link_dir *d, const char *name)
{
	char from[128], to[160];

	snprintf(from, sizeof(from), "%s/x.debug", d->root);
	snprintf(to, sizeof(to), "%s/%s", d->sub, name);
	cr_assert_eq(rename(from, to), 0);
}

Test(elf_syms, debuglink_plain_name_is_used_only_with_its_crc)
{
	struct link_dir d;

	make_linked(&d, "x.debug", false);
	move_debug(&d, "x.debug");
	cr_assert_not(debug_used(&d), "a debug file with another CRC was used");
	remove_dir(&d);

	make_linked(&d, "x.debug", true);
	move_debug(&d, "x.debug");
	cr_assert(debug_used(&d));
	remove_dir(&d);
}

Test(elf_syms, debuglink_with_a_path_is_not_followed)
{
	struct link_dir d;

	/* DIR/sub/../x.debug is there, with the right CRC. */
	make_linked(&d, "../x.debug", true);
	cr_assert_not(debug_used(&d));
	remove_dir(&d);
}

Test(elf_syms, debuglink_to_a_fifo_is_not_waited_on, .timeout = 20)
{
	struct link_dir d;
	char fifo[128];

	make_linked(&d, "fifo", false);
	snprintf(fifo, sizeof(fifo), "%s/fifo", d.sub);
	cr_assert_eq(mkfifo(fifo, 0666), 0);
	cr_assert_not(debug_used(&d));
	remove_dir(&d);
}
