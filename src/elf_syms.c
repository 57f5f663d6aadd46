// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Function symbols of one ELF file, from its own tables or a separate debug file,
 * and the file's code bytes, for symbolization and frame-pointer soundness checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "arch.h"
#include "elf_syms.h"
#include "stop.h"
#include "target_file.h"

/* Enough for the 64 instructions arch__frame_setup looks at, in practice. */
#define FRAME_WINDOW 512
/* How a file is judged built with frame pointers: of FP_SAMPLE functions spread over it. */
#define FP_SAMPLE 256
#define FP_MIN_FUNC 32	/* bytes: smaller ones are left out */
#define FP_MIN_TRIED 16 /* fewer sizable functions: cannot tell */

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
	/*
	 * Code bytes are read from the file with pread when asked for, never mapped:
	 * a user who truncates a file they mapped would kill us with SIGBUS otherwise.
	 */
	int fd;
	int debug_fd; /* the separate debug file, kept open for its DWARF; or -1 */
	uint64_t size;
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
	char buf[PATH_MAX];

	if (ph->p_offset >= syms->size || ph->p_filesz > syms->size - ph->p_offset ||
	    ph->p_filesz >= sizeof(buf) ||
	    target_file__pread(syms->fd, buf, ph->p_filesz, ph->p_offset))
		return -ENOEXEC;
	buf[ph->p_filesz] = '\0';
	syms->interp = strdup(buf);
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
		if (i % 4096 == 0 && stop__requested())
			return -EINTR;
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

/* What a separate debug file must match: the build ID, else the CRC its debug link names. */
struct debug_want {
	const char *build_id;
	bool by_crc;
	uint32_t crc;
};

/* The CRC-32 of the whole file (zlib's is the one .gnu_debuglink holds), read in pieces. */
static int file_crc(int fd, uint32_t *crc)
{
	static uint8_t buf[64 * 1024];
	struct stat st;
	uLong c = crc32(0, NULL, 0);
	uint64_t off = 0;
	size_t n;
	int err;

	if (fstat(fd, &st))
		return -errno;
	while (off < (uint64_t)st.st_size) {
		if (stop__requested())
			return -EINTR;
		n = sizeof(buf);
		if ((uint64_t)st.st_size - off < n)
			n = (size_t)((uint64_t)st.st_size - off);
		err = target_file__pread(fd, buf, n, off);
		if (err)
			return err;
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	*crc = (uint32_t)c;
	return 0;
}

/* A candidate is the debug file of ours only when it says so: same build ID, or same CRC. */
static bool debug_matches(Elf *elf, int fd, const struct debug_want *want)
{
	char *id = read_build_id(elf);
	bool same = false;
	uint32_t crc = 0;

	if (want->build_id && id)
		same = !strcmp(want->build_id, id);
	else if (want->by_crc)
		same = !file_crc(fd, &crc) && crc == want->crc;
	free(id);
	return same;
}

/* Uses the file open at fd (closed here) as the debug file; true when it was used. */
static bool try_debug_fd(struct elf_syms *syms, int fd, const char *name,
			 const struct debug_want *want)
{
	bool used = false, symtab;
	Elf *elf;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !has_symtab_section(elf) ||
	    !debug_matches(elf, fd, want))
		goto out;
	syms->debug_file = strdup(name);
	if (syms->debug_file && !read_symtabs(syms, elf, &symtab)) {
		used = true;
		syms->debug_fd = fd;
		fd = -1;
	} else {
		free(syms->debug_file);
		syms->debug_file = NULL;
	}
out:
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return used;
}

/*
 * The file name stored in .gnu_debuglink and the CRC after it, or NULL. Only a
 * plain name is taken: "../x" or "/x" would make us open what the file's
 * owner chose, anywhere.
 */
static const char *debuglink_name(Elf *elf, uint32_t *crc)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	size_t shstrndx, len;
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
		name = data->d_buf;
		len = strlen(name);
		/* The name, its NUL, padding to 4, then the CRC in the file's byte order. */
		if (!len || len > NAME_MAX || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, "..") || ((len + 4) & ~3UL) + 4 > data->d_size)
			return NULL;
		memcpy(crc, (const char *)data->d_buf + ((len + 4) & ~3UL), 4);
		return name;
	}
	return NULL;
}

/* Tries the candidate built by printf-style format; inside root_fd unless AT_FDCWD. */
static bool try_debug_path(struct elf_syms *syms, int root_fd, const struct debug_want *want,
			   const char *fmt, ...)
{
	char *candidate;
	va_list ap;
	bool used;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&candidate, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	used = try_debug_fd(syms,
			    root_fd == AT_FDCWD ? target_file__open(candidate) :
						  target_file__open_in(root_fd, candidate),
			    candidate, want);
	free(candidate);
	return used;
}

/*
 * GDB's places, and no others: the build ID under the debug root, then the debug
 * link's plain name next to the file and in .debug/ there (in the file's own
 * root, root_fd; none when it is negative), then under the debug root + the
 * file's directory. A file found must carry the same build ID, or the CRC.
 */
static void find_debug_file(struct elf_syms *syms, Elf *elf, const char *path, int root_fd,
			    const char *root)
{
	struct debug_want want = { .build_id = syms->build_id };
	const char *link, *slash;
	char *dir;

	if (syms->build_id && strlen(syms->build_id) > 2 &&
	    try_debug_path(syms, AT_FDCWD, &want, "%s/.build-id/%.2s/%s.debug", root,
			   syms->build_id, syms->build_id + 2))
		return;
	link = debuglink_name(elf, &want.crc);
	if (!link)
		return;
	want.by_crc = true;
	slash = strrchr(path, '/');
	dir = slash ? strndup(path, slash - path + 1) : strdup("");
	if (!dir)
		return;
	if (root_fd == AT_FDCWD || root_fd >= 0) {
		if (try_debug_path(syms, root_fd, &want, "%s%s", dir, link) ||
		    try_debug_path(syms, root_fd, &want, "%s.debug/%s", dir, link))
			goto out;
	}
	if (dir[0] == '/')
		try_debug_path(syms, AT_FDCWD, &want, "%s%s%s", root, dir, link);
out:
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

static int read_main(struct elf_syms *syms, Elf *elf, int root_fd, const char *debug_root)
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
		find_debug_file(syms, elf, syms->path, root_fd,
				debug_root ? debug_root : ELF_SYMS_DEBUG_ROOT);
		syms->has_symtab = syms->debug_file != NULL;
	}
	syms->is_static = decide_static(syms, &eh, &info);
	return index_syms(syms);
}

struct elf_syms *elf_syms__open_fd(int fd, const char *path, int root_fd, const char *debug_root,
				   int *err)
{
	struct elf_syms *syms;
	struct stat st;
	Elf *elf;
	int ret;

	syms = calloc(1, sizeof(*syms));
	if (!syms || !(syms->path = strdup(path))) {
		free(syms);
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	syms->fd = fd;
	syms->debug_fd = -1;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto err_free;
	}
	syms->size = st.st_size;
	if (syms->size < sizeof(Elf64_Ehdr)) {
		ret = -ENOEXEC;
		goto err_free;
	}
	/* ELF_C_READ: libelf copies what it reads with pread, where a mapping could SIGBUS. */
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		ret = -ENOEXEC;
		goto err_free;
	}
	ret = read_main(syms, elf, root_fd, debug_root);
	elf_end(elf);
	if (ret)
		goto err_free;
	*err = 0;
	return syms;

err_free:
	elf_syms__free(syms);
	*err = ret;
	return NULL;
}

struct elf_syms *elf_syms__open(const char *path, const char *debug_root, int *err)
{
	int fd = target_file__open(path);

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	return elf_syms__open_fd(fd, path, AT_FDCWD, debug_root, err);
}

void elf_syms__free(struct elf_syms *syms)
{
	if (!syms)
		return;
	if (syms->fd >= 0)
		close(syms->fd);
	if (syms->debug_fd >= 0)
		close(syms->debug_fd);
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
	if (off > syms->size || len > syms->size - off)
		return -ENOENT;
	/* A file truncated since it was opened reads short: that is -ENOENT too, not SIGBUS. */
	return target_file__pread(syms->fd, buf, len, off) ? -ENOENT : 0;
}

bool elf_syms__keeps_frame_pointer(const struct elf_syms *syms, uint64_t func_addr, uint64_t ret)
{
	const struct segment *seg = segment_of(syms, func_addr);
	uint8_t code[FRAME_WINDOW];
	size_t n;

	if (!seg || !seg->exec || syms->machine != ARCH_ELF_MACHINE || ret <= func_addr)
		return false;
	n = seg->filesz - (func_addr - seg->vaddr);
	if (n > ret - func_addr)
		n = ret - func_addr;
	if (n > sizeof(code))
		n = sizeof(code);
	if (elf_syms__read(syms, func_addr, code, n))
		return false;
	return arch__frame_setup(code, n, func_addr, ret);
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
	uint8_t code[ARCH_CALL_WINDOW];
	size_t n;

	/* The call is the last instruction before ret, possibly at the very end of the code. */
	if (!ret || syms->machine != ARCH_ELF_MACHINE)
		return false;
	seg = segment_of(syms, ret - 1);
	if (!seg || !seg->exec)
		return false;
	n = ret - seg->vaddr;
	if (n > sizeof(code))
		n = sizeof(code);
	if (elf_syms__read(syms, ret - n, code, n))
		return false;
	return arch__after_call(code, n);
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

int elf_syms__fd(const struct elf_syms *syms)
{
	return syms->fd;
}

int elf_syms__debug_fd(const struct elf_syms *syms)
{
	return syms->debug_fd;
}

/* Only the note: exports want the build ID of many files, not their symbols. */
char *elf_syms__fd_build_id(int fd)
{
	char *id = NULL;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		id = read_build_id(elf);
	elf_end(elf);
	return id;
}

char *elf_syms__file_build_id(const char *path)
{
	char *id;
	int fd;

	fd = target_file__open(path);
	if (fd < 0)
		return NULL;
	id = elf_syms__fd_build_id(fd);
	close(fd);
	return id;
}
