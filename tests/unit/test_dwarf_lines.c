// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dwarf_lines against the compiler's own answer: calls in this file, at the
 * lines __LINE__ names, looked up in this test binary's DWARF (built with -g).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "dwarf_image.h"
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

/* A copy of this test binary with its debug sections compressed (zlib), as Debian ships them. */
static void compressed_copy(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "objcopy --compress-debug-sections=zlib /proc/%d/exe %s",
		 getpid(), path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* An fd of such a copy (opened with flags), its name already gone. */
static int open_compressed_copy(int flags)
{
	char path[] = "/tmp/lt-dwarf-zlib-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	compressed_copy(path);
	fd = open(path, flags);
	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

/* The section named name in the ELF file at fd: its header, 0 when it is there. */
static int section_of(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	cr_assert_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		cr_assert_not_null(gelf_getshdr(scn, sh));
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return 0;
	}
	return -1;
}

Test(dwarf_lines, compressed_debug_sections_give_the_same_lines)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	int fd = open_compressed_copy(O_RDONLY), err = 0, line = 0, outer = 0;
	struct dwarf_lines *dl;
	uintptr_t bias = 0, ra;

	dl = dwarf_lines__open(fd, &err);
	cr_assert_not_null(dl, "%s", strerror(-err));
	close(fd);
	dl_iterate_phdr(main_bias, &bias);
	ra = outer_call(&line, &outer);
	cr_assert_eq(dwarf_lines__lookup(dl, ra - bias - 1, lv, DWARF_LINES_MAX_DEPTH), 2);
	cr_assert_str_eq(lv[0].function, "inlined_call");
	cr_assert_eq(lv[0].line, line);
	cr_assert_str_eq(lv[1].function, "outer_call");
	cr_assert_eq(lv[1].line, outer);
	dwarf_lines__free(dl);
}

Test(dwarf_image, holds_the_sections_lookups_read_decompressed)
{
	struct dwarf_image img;
	GElf_Shdr in, out;
	Elf64_Chdr ch;
	Elf *elf, *image;
	int fd = open_compressed_copy(O_RDONLY);

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(elf);
	cr_assert_eq(section_of(elf, ".debug_info", &in), 0);
	cr_assert(in.sh_flags & SHF_COMPRESSED, "objcopy compressed .debug_info");
	cr_assert_eq(pread(fd, &ch, sizeof(ch), (off_t)in.sh_offset), (ssize_t)sizeof(ch));
	cr_assert_eq(dwarf_image__make(fd, elf, &img), 0);
	image = elf_memory(img.base, img.size);
	cr_assert_not_null(image);
	cr_assert_eq(section_of(image, ".debug_info", &out), 0);
	cr_assert_eq(out.sh_flags & SHF_COMPRESSED, 0);
	cr_assert_eq(out.sh_size, ch.ch_size, "decompressed: %lu bytes, not %lu",
		     (unsigned long)out.sh_size, (unsigned long)ch.ch_size);
	cr_assert_eq(section_of(image, ".debug_line", &out), 0);
	cr_assert_neq(section_of(image, ".debug_loclists", &out), 0, "never read: not copied");
	cr_assert_neq(section_of(image, ".text", &out), 0);
	elf_end(image);
	dwarf_image__free(&img);
	elf_end(elf);
	close(fd);
}

/*
 * With .debug_info's header saying size bytes (the copy at fd changed, then put
 * back): dwarf_image__make answers want, and dwarf_lines reads no line of it.
 */
static void refused_with_size(int fd, uint64_t size, int want)
{
	struct dwarf_image img;
	Elf64_Chdr ch, was;
	GElf_Shdr sh;
	Elf *elf;
	int err = 0;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(section_of(elf, ".debug_info", &sh), 0);
	elf_end(elf);
	cr_assert_eq(pread(fd, &was, sizeof(was), (off_t)sh.sh_offset), (ssize_t)sizeof(was));
	ch = was;
	ch.ch_size = size;
	cr_assert_eq(pwrite(fd, &ch, sizeof(ch), (off_t)sh.sh_offset), (ssize_t)sizeof(ch));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(dwarf_image__make(fd, elf, &img), want, "size %lu", (unsigned long)size);
	cr_assert_null(img.base);
	elf_end(elf);
	/* Nor is libelf let read it. */
	cr_assert_null(dwarf_lines__open(fd, &err));
	cr_assert_eq(err, -ENODATA);
	cr_assert_eq(pwrite(fd, &was, sizeof(was), (off_t)sh.sh_offset), (ssize_t)sizeof(was));
}

/* The decompressed size of .debug_info in the copy at fd, as its header says. */
static uint64_t info_size(int fd)
{
	Elf64_Chdr ch;
	GElf_Shdr sh;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(section_of(elf, ".debug_info", &sh), 0);
	elf_end(elf);
	cr_assert_eq(pread(fd, &ch, sizeof(ch), (off_t)sh.sh_offset), (ssize_t)sizeof(ch));
	return ch.ch_size;
}

Test(dwarf_image, a_section_that_decompresses_to_another_size_is_refused)
{
	int fd = open_compressed_copy(O_RDWR);
	uint64_t size = info_size(fd);

	/* Its header says one byte more than its stream holds, then one less. */
	refused_with_size(fd, size + 1, -EBADMSG);
	refused_with_size(fd, size - 1, -EBADMSG);
	close(fd);
}

Test(dwarf_image, a_section_larger_than_the_image_may_be_is_refused_before_any_write)
{
	int fd = open_compressed_copy(O_RDWR);

	/* No directory to write in: a refusal after writing would say -ENOENT instead. */
	dwarf_image__set_dir("/nonexistent-leaktrace-dir");
	/* With the ELF header before it, past the bound. */
	refused_with_size(fd, DWARF_IMAGE_MAX, -EFBIG);
	close(fd);
}

Test(dwarf_image, on_tmpfs_none_is_made_and_libelf_reads_the_file)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	int fd = open_compressed_copy(O_RDONLY), err = 0, line = 0;
	struct dwarf_image img;
	struct dwarf_lines *dl;
	uintptr_t bias = 0, ra;
	Elf *elf;

	dwarf_image__set_dir("/dev/shm"); /* tmpfs: its pages would be memory all the same */
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(dwarf_image__make(fd, elf, &img), -EOPNOTSUPP);
	elf_end(elf);
	dl = dwarf_lines__open(fd, &err);
	dwarf_image__set_dir("/var/tmp");
	cr_assert_not_null(dl, "%s", strerror(-err));
	dl_iterate_phdr(main_bias, &bias);
	ra = plain_call(&line);
	cr_assert_eq(dwarf_lines__lookup(dl, ra - bias - 1, lv, DWARF_LINES_MAX_DEPTH), 1);
	cr_assert_str_eq(lv[0].function, "plain_call");
	cr_assert_eq(lv[0].line, line);
	dwarf_lines__free(dl);
	close(fd);
}

/* The resident KiB of the mapping that starts at base, from /proc/self/smaps. */
static long resident_kib(const void *base)
{
	char line[512], start[32];
	bool in = false;
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	cr_assert_not_null(f);
	snprintf(start, sizeof(start), "%lx-", (unsigned long)base);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, start, strlen(start));
		else if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

#ifdef __SANITIZE_ADDRESS__
/* libasan's (sanitizer/allocator_interface.h, which gcc 12 does not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes the heap holds for the program: ASan's allocator, when it replaces glibc's. */
static size_t heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

Test(dwarf_image, pages_let_go_leave_the_rss_and_read_the_same_again)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	int fd = open_compressed_copy(O_RDONLY), err = 0, line = 0, inner = 0, outer = 0;
	struct dwarf_image img;
	size_t held;
	struct dwarf_lines *dl;
	uintptr_t bias = 0, a, b;
	unsigned long sum = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_eq(dwarf_image__make(fd, elf, &img), 0);
	for (size_t i = 0; i < img.size; i += 4096)
		sum += ((const unsigned char *)img.base)[i];
	cr_assert_geq(resident_kib(img.base), (long)(img.size / 1024), "every page read");
	dwarf_image__release(&img);
	cr_assert_eq(resident_kib(img.base), 0);
	for (size_t i = 0; i < img.size; i += 4096)
		sum -= ((const unsigned char *)img.base)[i];
	cr_assert_eq(sum, 0, "the same bytes, read again");
	dwarf_image__free(&img);
	elf_end(elf);

	/* Through dwarf_lines: a lookup after the pages went, a new address and a cached one. */
	dl = dwarf_lines__open(fd, &err);
	cr_assert_not_null(dl, "%s", strerror(-err));
	dl_iterate_phdr(main_bias, &bias);
	a = plain_call(&line);
	cr_assert_eq(dwarf_lines__lookup(dl, a - bias - 1, lv, DWARF_LINES_MAX_DEPTH), 1);
	held = heap_in_use();
	dwarf_lines__release(dl);
	cr_assert_lt(heap_in_use(), held, "libdw's memory is let go");
	b = outer_call(&inner, &outer);
	cr_assert_eq(dwarf_lines__lookup(dl, b - bias - 1, lv, DWARF_LINES_MAX_DEPTH), 2);
	cr_assert_eq(lv[0].line, inner);
	cr_assert_eq(lv[1].line, outer);
	cr_assert_eq(dwarf_lines__lookup(dl, a - bias - 1, lv, DWARF_LINES_MAX_DEPTH), 1);
	cr_assert_str_eq(lv[0].function, "plain_call");
	cr_assert_eq(lv[0].line, line);
	/* Its file name was libdw's: a copy outlives libdw's memory (ASan sees a read of freed). */
	cr_assert(lv[0].file && strstr(lv[0].file, "/tests/unit/test_dwarf_lines.c"), "%s",
		  lv[0].file);
	dwarf_lines__free(dl);
	close(fd);
}

/* The link-time address of symbol name in the ELF file path (nm), or 0. */
static uint64_t symbol_address(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], line[256], sym[128];
	unsigned long long addr;
	uint64_t found = 0;
	char type;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name))
			found = addr;
	pclose(p);
	return found;
}

/*
 * dwz's supplement, read again after a release: the program's DWARF refers to
 * it for what two programs share (their struct, the name "main"). dz1_leaf is
 * at line 3 of dz1.c, dz1_main at 4 and main at 5; each asked after a release.
 * The supplement is named relative to the program (beside it): only dwarf_lines
 * finds it, not libdw by itself.
 */
Test(dwarf_lines, a_supplement_is_read_again_after_a_release, .timeout = 60)
{
	char dir[] = "/tmp/lt-dwz-XXXXXX", cmd[1024], path[PATH_MAX];
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	const char *fns[] = { "dz1_leaf", "dz1_main", "main" };
	struct dwarf_lines *dl;
	int fd, err = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(
		cmd, sizeof(cmd),
		"cd %s && printf '#include <stdlib.h>\\n"
		"struct dz_item { long a; char name[24]; struct dz_item *next; };\\n"
		"__attribute__((noinline)) struct dz_item *dz1_leaf(int n) { return calloc(n, "
		"sizeof(struct dz_item)); }\\n"
		"int dz1_main(void) { struct dz_item *v = dz1_leaf(2); v->next = v; free(v); "
		"return 0; }\\nint main(void) { return dz1_main(); }\\n' > dz1.c && "
		"sed s/dz1_/dz2_/g dz1.c > dz2.c && cc -g -O1 -o dz1 dz1.c && cc -g -O1 -o dz2 dz2.c "
		"&& dwz -m sup.debug -M sup.debug dz1 dz2 && readelf -S dz1 | grep -q "
		"gnu_debugaltlink",
		dir);
	cr_assert_eq(system(cmd), 0, "cc and dwz: %s", cmd);
	snprintf(path, sizeof(path), "%s/dz1", dir);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	dl = dwarf_lines__open(fd, &err);
	cr_assert_not_null(dl, "%s", strerror(-err));
	for (int i = 0; i < 3; i++) {
		uint64_t at = symbol_address(path, fns[i]);

		cr_assert_neq(at, 0, "no %s in dz1", fns[i]);
		cr_assert_geq(dwarf_lines__lookup(dl, at, lv, DWARF_LINES_MAX_DEPTH), 1);
		cr_assert_str_eq(lv[0].function, fns[i]);
		cr_assert_eq(lv[0].line, 3 + i);
		snprintf(cmd, sizeof(cmd), "%s/dz1.c", dir);
		cr_assert_str_eq(lv[0].file, cmd);
		dwarf_lines__release(dl);
	}
	dwarf_lines__free(dl);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	cr_assert_eq(system(cmd), 0);
}
