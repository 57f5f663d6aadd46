// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Function symbols of one ELF file, from its own tables or a separate debug file,
 * and the file's code bytes, for symbolization and frame-pointer soundness checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_syms.h"
#include "x86.h"

#define DEFAULT_DEBUG_ROOT "/usr/lib/debug"
/* Longest x86-64 call we recognize (ff /2 with SIB and disp32) is 7 bytes; read one more. */
#define CODE_WINDOW 8
/* Enough for the 64 instructions x86__frame_setup looks at, in practice. */
/* How a file is judged built with frame pointers: of FP_SAMPLE functions spread over it. */
#define FP_SAMPLE 256
#define FP_MIN_FUNC 32		/* bytes: smaller ones are left out */
#define FP_MIN_TRIED 16		/* fewer sizable functions: cannot tell */
#define FRAME_WINDOW 512

struct segment {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	bool exec;
};

/* Every defined function symbol, aliases included, so that find() knows all names. */
struct sym_ent {
	struct elf_sym sym;
	size_t name_off; /* into names; sym.name is set once names stops growing */
	bool global;
};

struct elf_syms {
	char *path;
	char *debug_file;
	char *interp;
	char *build_id;
	/* The whole file mapped read-only: code bytes stay readable without holding an fd. */
	const uint8_t *image;
	size_t image_len;
	struct segment *segs;
	size_t nr_segs;
	struct sym_ent *ents; /* by address, the preferred name first */
	size_t nr_ents, cap_ents;
	struct elf_sym *syms; /* one per address, for lookup */
	size_t nr_syms;
	char *names;
	size_t names_len, names_cap;
	uint16_t machine;
	bool has_symtab;
	bool is_static;
};

/* Program headers: segments, interpreter, and what decides "statically linked". */
struct phdr_info {
	bool has_needed;
	bool has_soname;
};

static int add_segment(struct elf_syms *syms, const GElf_Phdr *ph)
{
	struct segment *v;

	v = realloc(syms->segs, (syms->nr_segs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	syms->segs = v;
	v[syms->nr_segs++] = (struct segment){
	    .vaddr = ph->p_vaddr,
	    .offset = ph->p_offset,
	    .filesz = ph->p_filesz,
	    .exec = ph->p_flags & PF_X,
	};
	return 0;
}

static int read_interp(struct elf_syms *syms, const GElf_Phdr *ph)
{
	if (ph->p_offset >= syms->image_len || ph->p_filesz > syms->image_len - ph->p_offset)
		return -ENOEXEC;
	syms->interp = strndup((const char *)syms->image + ph->p_offset, ph->p_filesz);
	return syms->interp ? 0 : -ENOMEM;
}

static void read_dynamic(Elf *elf, const GElf_Phdr *ph, struct phdr_info *info)
{
	Elf_Data *data;
	GElf_Dyn dyn;
	int i;

	data = elf_getdata_rawchunk(elf, ph->p_offset, ph->p_filesz, ELF_T_DYN);
	if (!data)
		return;
	for (i = 0; gelf_getdyn(data, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
		if (dyn.d_tag == DT_NEEDED)
			info->has_needed = true;
		else if (dyn.d_tag == DT_SONAME)
			info->has_soname = true;
	}
}

static int read_phdrs(struct elf_syms *syms, Elf *elf, struct phdr_info *info)
{
	GElf_Phdr ph;
	size_t i, n;
	int err = 0;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n && !err; i++) {
		if (!gelf_getphdr(elf, i, &ph))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD)
			err = add_segment(syms, &ph);
		else if (ph.p_type == PT_INTERP && !syms->interp)
			err = read_interp(syms, &ph);
		else if (ph.p_type == PT_DYNAMIC)
			read_dynamic(elf, &ph, info);
	}
	return err;
}

/* Returns the malloc'ed hex build id found in data's notes, or NULL. */
static char *build_id_in_notes(Elf_Data *data)
{
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, i;
	const uint8_t *desc;
	char *hex;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || nh.n_descsz == 0 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
			continue;
		hex = malloc(nh.n_descsz * 2 + 1);
		if (!hex)
			return NULL;
		desc = (const uint8_t *)data->d_buf + desc_off;
		for (i = 0; i < nh.n_descsz; i++)
			sprintf(hex + 2 * i, "%02x", desc[i]);
		return hex;
	}
	return NULL;
}

/* Note sections first; a file without section headers still has PT_NOTE. */
static char *read_build_id(Elf *elf)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Phdr ph;
	size_t i, n;
	char *id;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_buf && (id = build_id_in_notes(data)))
			return id;
	}
	if (elf_getphdrnum(elf, &n))
		return NULL;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		data = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		if (data && (id = build_id_in_notes(data)))
			return id;
	}
	return NULL;
}

static int add_name(struct elf_syms *syms, const char *name, size_t len, size_t *off)
{
	char *v;
	size_t cap;

	if (syms->names_len + len + 1 > syms->names_cap) {
		cap = syms->names_cap ? syms->names_cap * 2 : 4096;
		while (cap < syms->names_len + len + 1)
			cap *= 2;
		v = realloc(syms->names, cap);
		if (!v)
			return -ENOMEM;
		syms->names = v;
		syms->names_cap = cap;
	}
	memcpy(syms->names + syms->names_len, name, len);
	syms->names[syms->names_len + len] = '\0';
	*off = syms->names_len;
	syms->names_len += len + 1;
	return 0;
}

static bool is_defined_func(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF &&
	       s->st_value != 0;
}

static int add_sym(struct elf_syms *syms, const GElf_Sym *s, const char *name)
{
	/* "memcpy@GLIBC_2.2.5" in a .symtab is memcpy: keep the plain name only. */
	size_t len = strcspn(name, "@");
	struct sym_ent *v, *e;
	size_t cap;

	if (!len)
		return 0;
	if (syms->nr_ents == syms->cap_ents) {
		cap = syms->cap_ents ? syms->cap_ents * 2 : 256;
		v = realloc(syms->ents, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		syms->ents = v;
		syms->cap_ents = cap;
	}
	e = &syms->ents[syms->nr_ents];
	e->sym.addr = s->st_value;
	e->sym.size = s->st_size;
	e->global = GELF_ST_BIND(s->st_info) != STB_LOCAL;
	if (add_name(syms, name, len, &e->name_off))
		return -ENOMEM;
	syms->nr_ents++;
	return 0;
}

static int read_symtab(struct elf_syms *syms, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *name;
	GElf_Sym s;
	size_t i, n;
	int err;

	if (!data || !data->d_buf || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 1; i < n; i++) {
		if (!gelf_getsym(data, i, &s) || !is_defined_func(&s))
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name)
			continue;
		err = add_sym(syms, &s, name);
		if (err)
			return err;
	}
	return 0;
}

/* Reads .symtab and .dynsym; *symtab tells whether a real .symtab was there. */
static int read_symtabs(struct elf_syms *syms, Elf *elf, bool *symtab)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	*symtab = false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			*symtab = true;
		err = read_symtab(syms, elf, scn, &sh);
		if (err)
			return err;
	}
	return 0;
}

static bool has_symtab_section(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size)
			return true;
	return false;
}

/*
 * Uses candidate as the debug file when it is an ELF file with a .symtab and,
 * when both files carry a build id, the same one (cheaper than the debuglink CRC,
 * which would read the whole debug file). Returns true when it was used.
 */
static bool try_debug_file(struct elf_syms *syms, const char *candidate)
{
	bool used = false, symtab;
	char *id = NULL;
	Elf *elf;
	int fd;

	fd = open(candidate, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !has_symtab_section(elf))
		goto out;
	id = read_build_id(elf);
	if (syms->build_id && id && strcmp(syms->build_id, id))
		goto out;
	syms->debug_file = strdup(candidate);
	if (syms->debug_file && !read_symtabs(syms, elf, &symtab)) {
		used = true;
	} else {
		free(syms->debug_file);
		syms->debug_file = NULL;
	}
out:
	free(id);
	elf_end(elf);
	close(fd);
	return used;
}

/* The file name stored in .gnu_debuglink, or NULL. */
static const char *debuglink_name(Elf *elf)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || !memchr(data->d_buf, '\0', data->d_size))
			return NULL;
		return data->d_buf;
	}
	return NULL;
}

/* Tries a candidate built by printf-style format; true when it was used. */
static bool try_debug_path(struct elf_syms *syms, const char *fmt, const char *a, const char *b,
			   const char *c)
{
	char *candidate;
	bool used;

	if (asprintf(&candidate, fmt, a, b, c) < 0)
		return false;
	used = try_debug_file(syms, candidate);
	free(candidate);
	return used;
}

/* GDB's search order: build id under the debug root, then the debuglink directories. */
static void find_debug_file(struct elf_syms *syms, Elf *elf, const char *root)
{
	const char *link, *slash;
	char *dir;

	if (syms->build_id && strlen(syms->build_id) > 2 &&
	    try_debug_path(syms, "%s/.build-id/%.2s/%s.debug", root, syms->build_id,
			   syms->build_id + 2))
		return;
	link = debuglink_name(elf);
	if (!link || !*link)
		return;
	slash = strrchr(syms->path, '/');
	dir = slash ? strndup(syms->path, slash - syms->path + 1) : strdup("");
	if (!dir)
		return;
	if (!try_debug_path(syms, "%s%s%s", dir, "", link) &&
	    !try_debug_path(syms, "%s.debug/%s%s", dir, link, ""))
		try_debug_path(syms, "%s/%s%s", root, dir[0] == '/' ? dir + 1 : dir, link);
	free(dir);
}

/* Global before local, fewer leading underscores, shorter, then alphabetical. */
static int cmp_pref(const struct sym_ent *x, const struct sym_ent *y)
{
	size_t ux = strspn(x->sym.name, "_"), uy = strspn(y->sym.name, "_");
	size_t lx = strlen(x->sym.name), ly = strlen(y->sym.name);

	if (x->global != y->global)
		return x->global ? -1 : 1;
	if (ux != uy)
		return ux < uy ? -1 : 1;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->sym.name, y->sym.name);
}

static int cmp_ent(const void *a, const void *b)
{
	const struct sym_ent *x = a, *y = b;

	if (x->sym.addr != y->sym.addr)
		return x->sym.addr < y->sym.addr ? -1 : 1;
	return cmp_pref(x, y);
}

/* Sorts all names, drops exact duplicates, and keeps the best name per address for lookup. */
static int index_syms(struct elf_syms *syms)
{
	struct sym_ent *e = syms->ents;
	size_t i, n = 0, k = 0;

	for (i = 0; i < syms->nr_ents; i++)
		e[i].sym.name = syms->names + e[i].name_off;
	if (syms->nr_ents)
		qsort(e, syms->nr_ents, sizeof(*e), cmp_ent);
	for (i = 0; i < syms->nr_ents; i++) {
		if (n && e[n - 1].sym.addr == e[i].sym.addr &&
		    !strcmp(e[n - 1].sym.name, e[i].sym.name))
			continue;
		e[n++] = e[i];
	}
	syms->nr_ents = n;
	syms->syms = calloc(n ? n : 1, sizeof(*syms->syms));
	if (!syms->syms)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (k && syms->syms[k - 1].addr == e[i].sym.addr) {
			/* An alias may carry the size that the preferred name lacks. */
			if (e[i].sym.size > syms->syms[k - 1].size)
				syms->syms[k - 1].size = e[i].sym.size;
			continue;
		}
		syms->syms[k++] = e[i].sym;
	}
	syms->nr_syms = k;
	return 0;
}

/*
 * Statically linked: an ET_EXEC without PT_INTERP, or an ET_DYN (static-pie)
 * without PT_INTERP, DT_NEEDED and DT_SONAME and with an entry point. The
 * DT_SONAME test keeps shared libraries out, also ld.so and libraries linked
 * without dependencies, which have no PT_INTERP either.
 */
static bool decide_static(const struct elf_syms *syms, const GElf_Ehdr *eh,
			  const struct phdr_info *info)
{
	if (syms->interp)
		return false;
	if (eh->e_type == ET_EXEC)
		return true;
	return eh->e_type == ET_DYN && eh->e_entry && !info->has_needed && !info->has_soname;
}

static int read_main(struct elf_syms *syms, Elf *elf, const char *debug_root)
{
	struct phdr_info info = {};
	GElf_Ehdr eh;
	int err;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	syms->machine = eh.e_machine;
	err = read_phdrs(syms, elf, &info);
	if (err)
		return err;
	syms->build_id = read_build_id(elf);
	err = read_symtabs(syms, elf, &syms->has_symtab);
	if (err)
		return err;
	if (!syms->has_symtab) {
		find_debug_file(syms, elf, debug_root ? debug_root : DEFAULT_DEBUG_ROOT);
		syms->has_symtab = syms->debug_file != NULL;
	}
	syms->is_static = decide_static(syms, &eh, &info);
	return index_syms(syms);
}

static int map_file(struct elf_syms *syms, int fd)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		return -ENOEXEC;
	/*
	 * Shared, not private: the kernel writes the breakpoints of uprobes that match
	 * every process (another tracer's, or ours under -a) into each private mapping
	 * of the file that may execute, this one too, and the code read here would then
	 * start with int3 where the file has the real instruction.
	 */
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	syms->image = p;
	syms->image_len = st.st_size;
	return 0;
}

struct elf_syms *elf_syms__open(const char *path, const char *debug_root, int *err)
{
	struct elf_syms *syms;
	Elf *elf;
	int fd, ret;

	syms = calloc(1, sizeof(*syms));
	if (!syms || !(syms->path = strdup(path))) {
		ret = -ENOMEM;
		goto err_free;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = map_file(syms, fd);
	if (ret)
		goto err_close;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		ret = -ENOEXEC;
		goto err_close;
	}
	ret = read_main(syms, elf, debug_root);
	elf_end(elf);
	if (ret)
		goto err_close;
	close(fd);
	*err = 0;
	return syms;

err_close:
	close(fd);
err_free:
	elf_syms__free(syms);
	*err = ret;
	return NULL;
}

void elf_syms__free(struct elf_syms *syms)
{
	if (!syms)
		return;
	if (syms->image)
		munmap((void *)syms->image, syms->image_len);
	free(syms->path);
	free(syms->debug_file);
	free(syms->interp);
	free(syms->build_id);
	free(syms->segs);
	free(syms->ents);
	free(syms->syms);
	free(syms->names);
	free(syms);
}

/* The PT_LOAD segment whose file contents hold addr, or NULL. */
static const struct segment *segment_of(const struct elf_syms *syms, uint64_t addr)
{
	size_t i;

	for (i = 0; i < syms->nr_segs; i++)
		if (addr >= syms->segs[i].vaddr &&
		    addr - syms->segs[i].vaddr < syms->segs[i].filesz)
			return &syms->segs[i];
	return NULL;
}

const struct elf_sym *elf_syms__lookup(const struct elf_syms *syms, uint64_t addr)
{
	const struct elf_sym *s;
	const struct segment *seg;
	size_t lo = 0, hi = syms->nr_syms, mid;
	uint64_t end;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (syms->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &syms->syms[lo - 1];
	if (s->size)
		return addr - s->addr < s->size ? s : NULL;
	/* A zero-size symbol reaches to the next one, or to the end of its segment. */
	if (lo < syms->nr_syms)
		return s;
	seg = segment_of(syms, s->addr);
	end = seg ? seg->vaddr + seg->filesz : s->addr + 1;
	return addr < end ? s : NULL;
}

int elf_syms__find(const struct elf_syms *syms, const char *name, uint64_t *addr)
{
	const struct sym_ent *found = NULL;
	size_t i;

	/* Several local functions may share a name: a global definition wins. */
	for (i = 0; i < syms->nr_ents; i++) {
		if (strcmp(syms->ents[i].sym.name, name))
			continue;
		if (!found || (syms->ents[i].global && !found->global))
			found = &syms->ents[i];
	}
	if (!found)
		return -ENOENT;
	*addr = found->sym.addr;
	return 0;
}

int elf_syms__addr_to_offset(const struct elf_syms *syms, uint64_t addr, uint64_t *offset)
{
	const struct segment *seg = segment_of(syms, addr);

	if (!seg)
		return -ENOENT;
	*offset = addr - seg->vaddr + seg->offset;
	return 0;
}

int elf_syms__offset_to_addr(const struct elf_syms *syms, uint64_t offset, uint64_t *addr)
{
	const struct segment *seg;
	size_t i;

	for (i = 0; i < syms->nr_segs; i++) {
		seg = &syms->segs[i];
		if (offset >= seg->offset && offset - seg->offset < seg->filesz) {
			*addr = offset - seg->offset + seg->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_syms__read(const struct elf_syms *syms, uint64_t addr, void *buf, size_t len)
{
	const struct segment *seg = segment_of(syms, addr);
	uint64_t off;

	if (!seg || len > seg->filesz - (addr - seg->vaddr))
		return -ENOENT;
	off = addr - seg->vaddr + seg->offset;
	if (off > syms->image_len || len > syms->image_len - off)
		return -ENOENT;
	memcpy(buf, syms->image + off, len);
	return 0;
}

bool elf_syms__keeps_frame_pointer(const struct elf_syms *syms, uint64_t func_addr, uint64_t ret)
{
	const struct segment *seg = segment_of(syms, func_addr);
	uint8_t code[FRAME_WINDOW];
	size_t n;

	if (!seg || !seg->exec || syms->machine != EM_X86_64 || ret <= func_addr)
		return false;
	n = seg->filesz - (func_addr - seg->vaddr);
	if (n > ret - func_addr)
		n = ret - func_addr;
	if (n > sizeof(code))
		n = sizeof(code);
	if (elf_syms__read(syms, func_addr, code, n))
		return false;
	return x86__frame_setup(code, n, func_addr, ret);
}

bool elf_syms__built_with_frame_pointers(const struct elf_syms *syms)
{
	size_t step, tried = 0, kept = 0;

	if (!syms->nr_syms)
		return false;
	step = syms->nr_syms / FP_SAMPLE ? syms->nr_syms / FP_SAMPLE : 1;
	for (size_t i = 0; i < syms->nr_syms; i += step) {
		const struct elf_sym *f = &syms->syms[i];

		/* A small function may be a leaf that needs no frame, with or without the flag. */
		if (f->size < FP_MIN_FUNC)
			continue;
		tried++;
		kept += elf_syms__keeps_frame_pointer(syms, f->addr, f->addr + f->size - 1);
	}
	return tried >= FP_MIN_TRIED && kept * 10 >= tried * 9;
}

bool elf_syms__after_call(const struct elf_syms *syms, uint64_t ret)
{
	const struct segment *seg;
	uint8_t code[CODE_WINDOW];
	size_t n;

	/* The call is the last instruction before ret, possibly at the very end of the code. */
	if (!ret || syms->machine != EM_X86_64)
		return false;
	seg = segment_of(syms, ret - 1);
	if (!seg || !seg->exec)
		return false;
	n = ret - seg->vaddr;
	if (n > sizeof(code))
		n = sizeof(code);
	if (elf_syms__read(syms, ret - n, code, n))
		return false;
	return x86__after_call(code, n);
}

uint16_t elf_syms__machine(const struct elf_syms *syms)
{
	return syms->machine;
}

size_t elf_syms__count(const struct elf_syms *syms)
{
	return syms->nr_syms;
}

bool elf_syms__has_symtab(const struct elf_syms *syms)
{
	return syms->has_symtab;
}

bool elf_syms__is_static(const struct elf_syms *syms)
{
	return syms->is_static;
}

const char *elf_syms__interp(const struct elf_syms *syms)
{
	return syms->interp;
}

const char *elf_syms__build_id(const struct elf_syms *syms)
{
	return syms->build_id;
}

const char *elf_syms__debug_file(const struct elf_syms *syms)
{
	return syms->debug_file;
}

/* Only the note: exports want the build ID of many files, not their symbols. */
char *elf_syms__file_build_id(const char *path)
{
	char *id = NULL;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		id = read_build_id(elf);
	elf_end(elf);
	close(fd);
	return id;
}
