// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark: file:line and inlined calls (dwarf_lines) of N addresses spread
 * evenly over a file's code, read from its debug file (by build ID under
 * /usr/lib/debug, as leaktrace finds it) or from the file itself. Prints
 * "PATH N LEVELS COLD_MS WARM_MS": the first pass opens the DWARF and looks
 * every address up (a new process's first snapshot), the second hits the cache.
 * Usage: lines FILE [N]   (default 10000)
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debuginfo.h"
#include "dwarf_lines.h"
#include "elf_syms.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The address range of .text; 0 or -1. */
static int text_range(const char *path, uint64_t *start, uint64_t *size)
{
	int fd = open(path, O_RDONLY), ret = -1;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && !strcmp(name, ".text")) {
				*start = sh.sh_addr;
				*size = sh.sh_size;
				ret = 0;
			}
		}
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The fd of the file's DWARF: its debug file by build ID, else the file. */
static int dwarf_fd(const char *path)
{
	struct debuginfo_opts o = { 0 };
	struct debuginfo *d = debuginfo__new(&o);
	char *id = elf_syms__file_build_id(path);
	int fd = d && id ? debuginfo__open_local(d, id) : -1;

	free(id);
	debuginfo__free(d);
	return fd >= 0 ? fd : open(path, O_RDONLY);
}

static long pass(struct dwarf_lines *dl, uint64_t start, uint64_t size, int n)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	long levels = 0;

	for (int i = 0; i < n; i++)
		levels += dwarf_lines__lookup(dl, start + size / n * i, lv, DWARF_LINES_MAX_DEPTH);
	return levels;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 10000, fd, err;
	uint64_t start, size;
	struct dwarf_lines *dl;
	double t0, cold, warm;
	long levels;

	if (argc < 2 || n < 1 || text_range(argv[1], &start, &size)) {
		fprintf(stderr, "usage: lines ELF-FILE [N]  (a file with .text)\n");
		return 2;
	}
	fd = dwarf_fd(argv[1]);
	t0 = now_ms();
	dl = dwarf_lines__open(fd, &err);
	if (!dl) {
		fprintf(stderr, "lines: %s: no DWARF (install its debug package)\n", argv[1]);
		return 1;
	}
	levels = pass(dl, start, size, n);
	cold = now_ms() - t0;
	t0 = now_ms();
	pass(dl, start, size, n);
	warm = now_ms() - t0;
	printf("%s %d %ld %.1f %.1f\n", argv[1], n, levels, cold, warm);
	dwarf_lines__free(dl);
	close(fd);
	return 0;
}
