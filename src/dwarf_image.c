// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The image: an ELF header, the wanted sections' bytes (decompressed, 8-byte
 * aligned), their names, then the section headers. It is written with pwrite,
 * so that what is written is page cache, not leaktrace's memory, then mapped
 * private: the file has no name, so nobody but leaktrace can change or
 * truncate it under the mapping (a target's own file, mapped, could be).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <zlib.h>

#include "dwarf_image.h"
#include "target_file.h"

/* Where the unnamed file is made: a disk on most hosts (/tmp is often tmpfs). */
static const char *image_dir = "/var/tmp";
#define TMPFS_MAGIC_NR 0x01021994
#define RAMFS_MAGIC_NR 0x858458f6
#define CHUNK (256 * 1024)

struct section {
	GElf_Shdr sh;
	const char *name;
	uint64_t off, size; /* in the image: decompressed */
	bool compressed;    /* SHF_COMPRESSED, zlib */
};

struct builder {
	int in, out;
	unsigned char *ibuf, *obuf;
};

bool dwarf_image__wanted(const char *name)
{
	/* Variables' locations, macros, CFI and name indexes: lookups never read them. */
	static const char *const unused[] = { "loc",   "loclists", "macro",   "macinfo",
					      "frame", "pubnames", "pubtypes" };

	if (!strcmp(name, ".gnu_debugaltlink"))
		return true;
	if (strncmp(name, ".debug_", 7))
		return false;
	for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++)
		if (!strcmp(name + 7, unused[i]))
			return false;
	return true;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len) {
		n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		/*
		 * A file size limit (ulimit -f) refuses the image, not the file's DWARF:
		 * read as libelf reads it (-EFBIG would give its lines up).
		 */
		if (n < 0 && errno == EFBIG)
			return -ENOSPC;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Copies len bytes of the input at from to the image at to. */
static int copy(struct builder *b, uint64_t from, uint64_t len, uint64_t to)
{
	for (uint64_t done = 0, n; done < len; done += n) {
		n = len - done < CHUNK ? len - done : CHUNK;
		int err = target_file__pread(b->in, b->ibuf, n, from + done) ? -EBADMSG : 0;

		if (!err)
			err = write_all(b->out, b->ibuf, n, to + done);
		if (err)
			return err;
	}
	return 0;
}

/* Inflates the zlib stream of len bytes at from into exactly size bytes of the image at to. */
static int inflate_to(struct builder *b, uint64_t from, uint64_t len, uint64_t size, uint64_t to)
{
	uint64_t read = 0, out = 0;
	int ret = Z_OK, err = 0;
	z_stream z = {};

	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	while (!err && ret != Z_STREAM_END) {
		if (!z.avail_in) {
			uInt n = len - read < CHUNK ? (uInt)(len - read) : CHUNK;

			if (!n || target_file__pread(b->in, b->ibuf, n, from + read))
				break; /* cut short */
			z.next_in = b->ibuf;
			z.avail_in = n;
			read += n;
		}
		z.next_out = b->obuf;
		z.avail_out = CHUNK;
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END)
			break;
		uint64_t have = CHUNK - z.avail_out;

		if (have > size - out)
			break; /* more than the header said */
		err = write_all(b->out, b->obuf, have, to + out);
		out += have;
	}
	inflateEnd(&z);
	if (err)
		return err;
	return ret == Z_STREAM_END && out == size ? 0 : -EBADMSG;
}

/*
 * The wanted sections of elf and where each goes in the image, 8-byte aligned
 * after the ELF header; *end: where the last ends. -errno when one cannot be
 * taken, -EFBIG when they would end past DWARF_IMAGE_MAX: found before any is written.
 */
static int sections(int fd, Elf *elf, struct section **out, size_t *nr, uint64_t *end)
{
	struct section *v = NULL, *s;
	Elf_Scn *scn = NULL;
	size_t shstrndx, n = 0;
	const char *name;
	uint64_t off = sizeof(Elf64_Ehdr);
	GElf_Shdr sh;
	Elf64_Chdr ch;
	int err = 0;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOEXEC;
	while (!err && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		/* GNU's older compression (.zdebug_*): libelf's own path reads it. */
		if (!strncmp(name, ".zdebug_", 8))
			err = -ENOTSUP;
		if (err || !dwarf_image__wanted(name) || sh.sh_type == SHT_NOBITS)
			continue;
		/* More than an ELF header counts without its extensions: not made. */
		s = n + 2 < SHN_LORESERVE ? reallocarray(v, n + 1, sizeof(*v)) : NULL;
		if (!s) {
			err = n + 2 < SHN_LORESERVE ? -ENOMEM : -EFBIG;
			continue;
		}
		v = s;
		s = &v[n++];
		*s = (struct section){ .sh = sh, .name = name, .size = sh.sh_size };
		if (!(sh.sh_flags & SHF_COMPRESSED))
			continue;
		/* Cut short: broken. Another compression: libelf's own path, which knows what it knows. */
		if (sh.sh_size < sizeof(ch) ||
		    target_file__pread(fd, &ch, sizeof(ch), sh.sh_offset))
			err = -EBADMSG;
		else if (ch.ch_type != ELFCOMPRESS_ZLIB)
			err = -ENOTSUP;
		else {
			s->size = ch.ch_size;
			s->compressed = true;
		}
	}
	/* off stays at most DWARF_IMAGE_MAX, a multiple of 8: aligned, it does too. */
	for (size_t i = 0; !err && i < n; i++) {
		off = (off + 7) & ~7ULL;
		v[i].off = off;
		if (v[i].size > DWARF_IMAGE_MAX - off)
			err = -EFBIG;
		else
			off += v[i].size;
	}
	if (!err && !n)
		err = -ENODATA;
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nr = n;
	*end = off;
	return 0;
}

/* An unnamed file of leaktrace's own, on a disk: on tmpfs, its pages would be memory all the same. */
static int image_file(void)
{
	struct statfs fs;
	int fd = open(image_dir, O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &fs) || fs.f_type == TMPFS_MAGIC_NR || fs.f_type == RAMFS_MAGIC_NR) {
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

/* Writes the image: each section's bytes, the names after end, the headers, the ELF header. */
static int write_image(struct builder *b, Elf *elf, const struct section *v, size_t n, uint64_t end,
		       uint64_t *size)
{
	Elf64_Shdr *shdrs = calloc(n + 2, sizeof(*shdrs));
	uint64_t names = 1, shoff;
	char *strtab = NULL;
	GElf_Ehdr eh;
	Elf64_Ehdr out;
	int err = -ENOMEM;

	for (size_t i = 0; i < n; i++)
		names += strlen(v[i].name) + 1;
	names += sizeof(".shstrtab");
	strtab = calloc(1, names);
	if (!shdrs || !strtab || !gelf_getehdr(elf, &eh))
		goto out;
	names = 1;
	err = 0;
	for (size_t i = 0; !err && i < n; i++) {
		const struct section *s = &v[i];

		shdrs[i + 1] = (Elf64_Shdr){ .sh_name = (Elf64_Word)names,
					     .sh_type = s->sh.sh_type,
					     .sh_flags = s->sh.sh_flags & ~(uint64_t)SHF_COMPRESSED,
					     .sh_offset = s->off,
					     .sh_size = s->size,
					     .sh_addralign = 1,
					     .sh_entsize = s->sh.sh_entsize };
		strcpy(strtab + names, s->name);
		names += strlen(s->name) + 1;
		err = s->compressed ?
			      inflate_to(b, s->sh.sh_offset + sizeof(Elf64_Chdr),
					 s->sh.sh_size - sizeof(Elf64_Chdr), s->size, s->off) :
			      copy(b, s->sh.sh_offset, s->size, s->off);
	}
	if (err)
		goto out;
	strcpy(strtab + names, ".shstrtab");
	shdrs[n + 1] = (Elf64_Shdr){ .sh_name = (Elf64_Word)names,
				     .sh_type = SHT_STRTAB,
				     .sh_offset = end,
				     .sh_size = names + sizeof(".shstrtab"),
				     .sh_addralign = 1 };
	shoff = (end + shdrs[n + 1].sh_size + 7) & ~7ULL;
	out = (Elf64_Ehdr){ .e_type = eh.e_type,
			    .e_machine = eh.e_machine,
			    .e_version = EV_CURRENT,
			    .e_shoff = shoff,
			    .e_flags = eh.e_flags,
			    .e_ehsize = sizeof(Elf64_Ehdr),
			    .e_shentsize = sizeof(Elf64_Shdr),
			    .e_shnum = (Elf64_Half)(n + 2),
			    .e_shstrndx = (Elf64_Half)(n + 1) };
	memcpy(out.e_ident, eh.e_ident, EI_NIDENT);
	err = write_all(b->out, strtab, shdrs[n + 1].sh_size, end);
	if (!err)
		err = write_all(b->out, shdrs, (n + 2) * sizeof(*shdrs), shoff);
	if (!err)
		err = write_all(b->out, &out, sizeof(out), 0);
	*size = shoff + (n + 2) * sizeof(*shdrs);
out:
	free(shdrs);
	free(strtab);
	return err;
}

void dwarf_image__set_dir(const char *dir)
{
	image_dir = dir;
}

int dwarf_image__make(int fd, Elf *elf, struct dwarf_image *img)
{
	struct builder b = { .in = fd, .out = -1 };
	struct section *v = NULL;
	uint64_t end = 0, size = 0;
	size_t n = 0;
	int err;

	*img = (struct dwarf_image){};
	/* Native: the image is read in place, as libelf reads a mapped file. */
	if (gelf_getclass(elf) != ELFCLASS64 ||
	    elf_getident(elf, NULL)[EI_DATA] !=
		    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB) ||
	    elf_getident(elf, NULL)[EI_VERSION] != EV_CURRENT)
		return -ENOTSUP;
	err = sections(fd, elf, &v, &n, &end);
	if (err)
		return err;
	b.ibuf = malloc(CHUNK);
	b.obuf = malloc(CHUNK);
	b.out = image_file();
	err = b.out < 0		 ? b.out :
	      !b.ibuf || !b.obuf ? -ENOMEM :
				   write_image(&b, elf, v, n, end, &size);
	if (!err) {
		/* Read-only: libelf reads a native image in place, and writes nothing. */
		img->base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, b.out, 0);
		if (img->base == MAP_FAILED) {
			err = -errno;
			img->base = NULL;
		}
		img->size = img->base ? size : 0;
	}
	if (b.out >= 0)
		close(b.out);
	free(b.ibuf);
	free(b.obuf);
	free(v);
	return err;
}

void dwarf_image__release(struct dwarf_image *img)
{
	/* A read-only private mapping of a file: nothing is lost, the next read maps the page again. */
	if (img->base)
		madvise(img->base, img->size, MADV_DONTNEED);
}

void dwarf_image__free(struct dwarf_image *img)
{
	if (img->base)
		munmap(img->base, img->size);
	*img = (struct dwarf_image){};
}
