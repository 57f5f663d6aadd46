// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * glibc's cache of thread stacks, told from outside. A thread stack has the
 * thread's descriptor (struct pthread) at its top. When the thread exits the
 * kernel clears its tid there; when glibc frees the stack (the thread joined
 * or detached) it sets TERMINATED in cancelhandling and puts the stack in its
 * cache. The fields' offsets come from the descriptors libc exports for
 * libthread_db (_thread_db_pthread_tid: size in bits, count, offset).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arch.h"
#include "glibc_threads.h"

#define TOP_READ 4096	       /* the descriptor sits in a stack's top page: under it, TLS */
#define TERMINATED_BIT 5       /* glibc's nptl/descr.h, the same since 2.3 */
#define MAX_DYNSYMS (1u << 20) /* a libc's dynamic symbols, at most */

/* The descriptor's offset (its third word) of the symbol sym, read from the file. */
static int read_offset(int fd, Elf *elf, const GElf_Sym *sym, uint32_t *offset)
{
	uint32_t desc[3];
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    sym->st_value < sh.sh_addr ||
		    sym->st_value + sizeof(desc) > sh.sh_addr + sh.sh_size)
			continue;
		if (pread(fd, desc, sizeof(desc), sh.sh_offset + sym->st_value - sh.sh_addr) !=
		    sizeof(desc))
			return -EIO;
		/* A 32-bit field, one of it. */
		if (desc[0] != 32 || desc[1] != 1 || desc[2] > 65536)
			return -EINVAL;
		*offset = desc[2];
		return 0;
	}
	return -ENOENT;
}

/* The two descriptors among the dynamic symbols of elf. */
static int find_offsets(int fd, Elf *elf, struct glibc_threads *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *data;
	GElf_Sym sym;
	int found = 0, err = -ENOENT;

	while ((scn = elf_nextscn(elf, scn)) && found < 2) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize && i < MAX_DYNSYMS; i++) {
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || strncmp(name, "_thread_db_pthread_", 19))
				continue;
			if (!strcmp(name + 19, "tid"))
				err = read_offset(fd, elf, &sym, &out->tid);
			else if (!strcmp(name + 19, "cancelhandling"))
				err = read_offset(fd, elf, &sym, &out->cancelhandling);
			else
				continue;
			if (err)
				return err;
			found++;
		}
	}
	return found == 2 ? 0 : -ENOENT;
}

int glibc_threads__open(const char *path, struct glibc_threads *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err;
	struct stat st;
	Elf *elf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	err = elf ? find_offsets(fd, elf, out) : -ENOEXEC;
	elf_end(elf);
	close(fd);
	return err;
}

int glibc_threads__cached(const struct glibc_threads *g, pid_t pid, uint64_t start, uint64_t end)
{
	uint64_t w[TOP_READ / 8], from = end - TOP_READ;
	struct iovec local = { w, sizeof(w) }, remote = { (void *)(uintptr_t)from, sizeof(w) };
	uint64_t pd;
	int32_t tid, cancel;
	long i;

	if (end - start < TOP_READ || end % 8)
		return -EINVAL;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(w))
		return -errno ? -errno : -EIO;
	i = arch__tcb_find(w, TOP_READ / 8, from);
	if (i < 0)
		return -ENOENT;
	pd = (uint64_t)i * 8;
	if (pd + g->tid + 4 > TOP_READ || pd + g->cancelhandling + 4 > TOP_READ)
		return -ERANGE;
	memcpy(&tid, (char *)w + pd + g->tid, 4);
	memcpy(&cancel, (char *)w + pd + g->cancelhandling, 4);
	/* glibc's FREE_P: a join sets the tid to -1, a detached thread's exit leaves the kernel's 0. */
	return tid <= 0 && (cancel & (1 << TERMINATED_BIT));
}
