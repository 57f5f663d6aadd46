// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Stack addresses of a process to function+offset and module: the process's
 * mappings, kept after it exits, and one cached symbol table per mapped file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "debuginfo.h"
#include "diag.h"
#include "elf_syms.h"
#include "frame_lines.h"
#include "module_lines.h"
#include "procmaps.h"
#include "stop.h"
#include "symbolize.h"
#include "target_file.h"

struct proc {
	pid_t pid;
	struct procmaps *maps; /* the last that could be read */
	const char *exe;       /* interned; NULL until readable */
};

/* A mapped file, by (dev, inode): one per file however many processes map it. */
struct file {
	uint64_t dev;
	uint64_t ino;
	struct elf_syms *syms;	    /* NULL when it could not be opened: not retried */
	struct module_lines *lines; /* its DWARF, once looked for */
	/* The file as it was read, and the last process it was checked for (get_file). */
	struct stat st;
	pid_t checked;
};

/* Sorted arrays of pointers: the elements stay put while the arrays grow. */
struct vec {
	void **v;
	size_t n, cap;
};

struct symbolizer {
	struct vec procs;   /* by pid */
	struct vec files;   /* by (dev, inode) */
	struct vec retired; /* read again (get_file): frames handed out point into them */
	/* Strings handed out in frames outlive re-read maps: intern them, by strcmp. */
	struct vec strs;
	struct debuginfo *debuginfo; /* the caller's; NULL: files' own debug links only */
	struct frame *scratch;	     /* symbolizer__add_lines's, reused: a stack expanded */
	size_t cap_scratch;
	double fetch_wait_s; /* what symbolizer__add_lines may still wait for fetches */
};

/* Where an address lands: its mapping, file, link-time address and function. */
struct resolved {
	const struct procmap *map;
	struct elf_syms *syms;
	const struct elf_sym *sym;
	uint64_t link;
	bool linked;
};

typedef int (*cmp_fn)(const void *key, const void *item);

/* Position of key in v, or where it would be inserted; *found tells which. */
static size_t vec_bisect(const struct vec *vec, const void *key, cmp_fn cmp, bool *found)
{
	size_t lo = 0, hi = vec->n, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cmp(key, vec->v[mid]);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int vec_insert(struct vec *vec, size_t pos, void *item)
{
	void **v;
	size_t cap;

	if (vec->n == vec->cap) {
		cap = vec->cap ? vec->cap * 2 : 16;
		v = realloc(vec->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	memmove(&vec->v[pos + 1], &vec->v[pos], (vec->n - pos) * sizeof(*vec->v));
	vec->v[pos] = item;
	vec->n++;
	return 0;
}

static int cmp_pid(const void *key, const void *item)
{
	pid_t a = *(const pid_t *)key, b = ((const struct proc *)item)->pid;

	return a < b ? -1 : a > b;
}

static int cmp_file(const void *key, const void *item)
{
	const struct file *a = key, *b = item;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

static int cmp_str(const void *key, const void *item)
{
	return strcmp(key, item);
}

/* The symbolizer's copy of str, valid until symbolizer__free; NULL on ENOMEM. */
static const char *intern(struct symbolizer *s, const char *str)
{
	bool found;
	size_t pos = vec_bisect(&s->strs, str, cmp_str, &found);
	char *copy;

	if (found)
		return s->strs.v[pos];
	copy = strdup(str);
	if (!copy || vec_insert(&s->strs, pos, copy)) {
		free(copy);
		return NULL;
	}
	return copy;
}

struct symbolizer *symbolizer__new(void)
{
	return calloc(1, sizeof(struct symbolizer));
}

static struct proc *find_proc(struct symbolizer *s, pid_t pid)
{
	bool found;
	size_t pos = vec_bisect(&s->procs, &pid, cmp_pid, &found);

	return found ? s->procs.v[pos] : NULL;
}

static void read_exe(struct symbolizer *s, struct proc *p)
{
	char path[PATH_MAX];
	const char *exe;

	if (proc__exe(p->pid, path, sizeof(path)) || !path[0])
		return;
	exe = intern(s, path);
	if (exe)
		p->exe = exe;
}

static int new_proc(struct symbolizer *s, pid_t pid, struct procmaps *maps)
{
	struct proc *p;
	bool found;
	size_t pos = vec_bisect(&s->procs, &pid, cmp_pid, &found);

	p = calloc(1, sizeof(*p));
	if (!p || vec_insert(&s->procs, pos, p)) {
		free(p);
		return -ENOMEM;
	}
	p->pid = pid;
	p->maps = maps;
	read_exe(s, p);
	return 0;
}

int symbolizer__add_process(struct symbolizer *s, pid_t pid)
{
	struct proc *p = find_proc(s, pid);
	struct procmaps *maps;
	int err;

	err = procmaps__read(pid, &maps);
	if (err)
		return err;
	/* A zombie's maps read as empty: keep what was read while it lived. */
	if (!maps->n) {
		procmaps__free(maps);
		return -ESRCH;
	}
	if (!p) {
		err = new_proc(s, pid, maps);
		if (err)
			procmaps__free(maps);
		return err;
	}
	procmaps__free(p->maps);
	p->maps = maps;
	read_exe(s, p);
	return 0;
}

void symbolizer__remove_process(struct symbolizer *s, pid_t pid)
{
	bool found;
	size_t pos = vec_bisect(&s->procs, &pid, cmp_pid, &found);
	struct proc *p;

	if (!found)
		return;
	p = s->procs.v[pos];
	procmaps__free(p->maps);
	free(p);
	memmove(&s->procs.v[pos], &s->procs.v[pos + 1], (s->procs.n - pos - 1) * sizeof(void *));
	s->procs.n--;
}

int symbolizer__exe(struct symbolizer *s, pid_t pid, const char **path)
{
	struct proc *p = find_proc(s, pid);

	*path = NULL;
	if (!p)
		return -ESRCH;
	if (!p->exe)
		return -ENOENT;
	*path = p->exe;
	return 0;
}

/* A process's pid we have not seen yet is read on first use. */
static struct proc *get_proc(struct symbolizer *s, pid_t pid)
{
	struct proc *p = find_proc(s, pid);

	if (!p && !symbolizer__add_process(s, pid))
		p = find_proc(s, pid);
	return p;
}

/* pid's entry, made with no mappings when there is none: for mappings captured as made. */
static struct proc *captured_proc(struct symbolizer *s, pid_t pid)
{
	struct proc *p = find_proc(s, pid);
	struct procmaps *maps;

	if (p)
		return p;
	maps = calloc(1, sizeof(*maps));
	if (!maps || new_proc(s, pid, maps)) {
		free(maps);
		return NULL;
	}
	return find_proc(s, pid);
}

int symbolizer__exec(struct symbolizer *s, pid_t pid, const char *exe)
{
	struct proc *p = captured_proc(s, pid);
	struct procmaps *maps = calloc(1, sizeof(*maps));
	const char *path = exe ? intern(s, exe) : NULL;

	if (!p || !maps || (exe && !path)) {
		free(maps);
		return -ENOMEM;
	}
	procmaps__free(p->maps);
	p->maps = maps;
	p->exe = path;
	return 0;
}

int symbolizer__map(struct symbolizer *s, pid_t pid, const struct procmap *m)
{
	struct proc *p = captured_proc(s, pid);

	return p ? procmaps__insert(p->maps, m) : -ENOMEM;
}

int symbolizer__fork(struct symbolizer *s, pid_t parent, pid_t child)
{
	struct proc *from = get_proc(s, parent), *p;
	struct procmaps *maps;
	int err;

	if (!from)
		return -ESRCH;
	err = procmaps__dup(from->maps, &maps);
	if (err)
		return err;
	p = captured_proc(s, child);
	if (!p) {
		procmaps__free(maps);
		return -ENOMEM;
	}
	procmaps__free(p->maps);
	p->maps = maps;
	p->exe = from->exe;
	return 0;
}

/*
 * The exact file mapped (see target_file__open_mapped), read with its debug
 * link looked up inside the process's root. For a process that has exited,
 * the path in our namespace, only when it is the same file (device and inode):
 * in another mount namespace that path may name another file, whose names
 * would be wrong, and its frames stay unknown then.
 */
static struct elf_syms *open_file(pid_t pid, const struct procmap *m, struct stat *st)
{
	char root[64];
	struct elf_syms *syms;
	int fd, root_fd = AT_FDCWD, err;

	fd = target_file__open_mapped(pid, m);
	if (fd == -EREMOTE)
		diag__debug("%s: not read: it is on FUSE, whose daemon may never answer a read",
			    m->path);
	if (fd == -ESRCH) {
		fd = target_file__open_same(m->path, m);
	} else if (fd >= 0) {
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return NULL;
	if (fstat(fd, st))
		memset(st, 0, sizeof(*st));
	syms = elf_syms__open_fd(fd, m->path, root_fd, NULL, &err);
	if (root_fd >= 0)
		close(root_fd);
	return syms;
}

/*
 * Whether the file pid maps at m is still the one f read: one written in place
 * since (cp over an executable: the same inode) is read again, or its names
 * would be another build's. Checked once per process that maps it, through its
 * map_files; for a process gone, m's path in our namespace, when it names that
 * inode (open_file's rule). A file that cannot be told keeps what was read.
 */
static bool file_current(const struct file *f, pid_t pid, const struct procmap *m)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (!f->st.st_nlink || target_file__dev_on_fuse(m->dev_major, m->dev_minor) ||
	    (target_file__stat(path, &st) && target_file__stat(m->path, &st)))
		return true;
	return st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino ||
	       target_file__unchanged(&f->st, &st);
}

static void file_free(struct file *f)
{
	module_lines__free(f->lines);
	elf_syms__free(f->syms);
	free(f);
}

static struct file *get_file(struct symbolizer *s, pid_t pid, const struct procmap *m)
{
	struct file key = { .dev = makedev(m->dev_major, m->dev_minor), .ino = m->inode };
	struct file *f;
	bool found;
	size_t pos = vec_bisect(&s->files, &key, cmp_file, &found);

	if (found) {
		f = s->files.v[pos];
		if (f->checked != pid && f->syms && !file_current(f, pid, m) &&
		    !stop__requested()) {
			struct file *old = malloc(sizeof(*old));

			if (!old || vec_insert(&s->retired, s->retired.n, old)) {
				free(old);
				return f;
			}
			*old = *f;
			f->lines = NULL;
			f->syms = open_file(pid, m, &f->st);
		}
		f->checked = pid;
		return f;
	}
	/* Stopping: no new file is read, nor is it marked unreadable. */
	if (stop__requested())
		return NULL;
	f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	*f = key;
	f->syms = open_file(pid, m, &f->st);
	f->checked = pid;
	if ((!f->syms && stop__requested()) || vec_insert(&s->files, pos, f)) {
		elf_syms__free(f->syms);
		free(f);
		return NULL;
	}
	return f;
}

static struct elf_syms *file_syms(struct symbolizer *s, pid_t pid, const struct procmap *m)
{
	struct file *f = get_file(s, pid, m);

	return f ? f->syms : NULL;
}

/*
 * A return address (ret) is looked up one byte back: a call that ends a
 * function (to a noreturn one) returns past its end, into the next function.
 */
static void resolve(struct symbolizer *s, const struct proc *p, uint64_t addr, bool ret,
		    struct resolved *r)
{
	memset(r, 0, sizeof(*r));
	if (!p)
		return;
	r->map = procmaps__find(p->maps, addr);
	if (!r->map || !procmap__is_file(r->map))
		return;
	r->syms = file_syms(s, p->pid, r->map);
	if (!r->syms)
		return;
	r->linked = !elf_syms__offset_to_addr(r->syms, addr - r->map->start + r->map->offset,
					      &r->link);
	if (r->linked)
		r->sym = elf_syms__lookup(r->syms, ret && r->link ? r->link - 1 : r->link);
}

static void fill_frame(struct symbolizer *s, const struct resolved *r, uint64_t addr,
		       struct frame *out)
{
	out->address = addr;
	out->module = r->map && procmap__is_file(r->map) ? intern(s, r->map->path) : NULL;
	out->symbol = r->sym ? r->sym->name : NULL;
	out->offset = r->sym ? r->link - r->sym->addr : 0;
	out->has_module_offset = r->linked;
	out->module_offset = r->linked ? r->link : 0;
	/* The file stays open until symbolizer__free: its build ID string too. */
	out->build_id = r->syms ? elf_syms__build_id(r->syms) : NULL;
}

int symbolizer__frame(struct symbolizer *s, pid_t pid, uint64_t addr, struct frame *out)
{
	struct proc *p = get_proc(s, pid);
	struct resolved r;

	resolve(s, p, addr, false, &r);
	fill_frame(s, &r, addr, out);
	if (!p)
		return -ESRCH;
	return r.map ? 0 : -ENOENT;
}

int symbolizer__file_id(struct symbolizer *s, pid_t pid, uint64_t addr, dev_t *dev, ino_t *ino)
{
	struct proc *p = get_proc(s, pid);
	const struct procmap *m = p ? procmaps__find(p->maps, addr) : NULL;

	if (!m || !procmap__is_file(m))
		return -ENOENT;
	*dev = makedev(m->dev_major, m->dev_minor);
	*ino = m->inode;
	return 0;
}

const char *symbolizer__build_id(struct symbolizer *s, pid_t pid, const char *path)
{
	struct proc *p = find_proc(s, pid);
	struct elf_syms *syms;

	for (size_t i = 0; p && p->maps && i < p->maps->n; i++) {
		const struct procmap *m = &p->maps->v[i];

		if (procmap__is_file(m) && !strcmp(m->path, path)) {
			syms = file_syms(s, pid, m);
			return syms ? elf_syms__build_id(syms) : NULL;
		}
	}
	return NULL;
}

int symbolizer__text_mapping(struct symbolizer *s, pid_t pid, const char *path,
			     struct text_mapping *out)
{
	struct proc *p = find_proc(s, pid);

	for (size_t i = 0; p && p->maps && i < p->maps->n; i++) {
		const struct procmap *m = &p->maps->v[i];

		if (m->executable && procmap__is_file(m) && !strcmp(m->path, path)) {
			*out = (struct text_mapping){ m->start, m->end, m->offset };
			return 0;
		}
	}
	return -ENOENT;
}

/* Whether the frame-pointer walk from prev to cur can be trusted (see the header). */
static bool sound_step(const struct resolved *prev, const struct resolved *cur)
{
	if (!prev->sym || !elf_syms__keeps_frame_pointer(prev->syms, prev->sym->addr, prev->link))
		return false;
	if (!cur->map || !cur->map->executable || !procmap__is_file(cur->map) || !cur->linked)
		return false;
	return elf_syms__after_call(cur->syms, cur->link);
}

int symbolizer__stack(struct symbolizer *s, pid_t pid, const uint64_t *ips, int nr,
		      struct frame *out, bool *truncated)
{
	struct proc *p = get_proc(s, pid);
	struct resolved prev, cur;
	int i;

	*truncated = false;
	for (i = 0; i < nr; i++) {
		if (i > 0 && !ips[i])
			break;
		resolve(s, p, ips[i], i > 0, &cur);
		/* An unknown function tells nothing about its frame: stop after it. */
		if (i > 0 && (!prev.sym || !sound_step(&prev, &cur))) {
			*truncated = true;
			break;
		}
		fill_frame(s, &cur, ips[i], &out[i]);
		prev = cur;
	}
	return i;
}

int symbolizer__stack_unwound(struct symbolizer *s, pid_t pid, const uint64_t *ips, int nr,
			      struct frame *out)
{
	struct proc *p = get_proc(s, pid);
	struct resolved r;

	for (int i = 0; i < nr; i++) {
		resolve(s, p, ips[i], i > 0, &r);
		fill_frame(s, &r, ips[i], &out[i]);
	}
	return nr;
}

void symbolizer__set_debuginfo(struct symbolizer *s, struct debuginfo *d)
{
	s->debuginfo = d;
}

void symbolizer__wait_fetches(struct symbolizer *s, double seconds)
{
	if (s->debuginfo)
		debuginfo__wait_budget(s->debuginfo, seconds);
}

unsigned int symbolizer__fetch_generation(struct symbolizer *s)
{
	return s->debuginfo ? debuginfo__generation(s->debuginfo) : 0;
}

/* The DWARF of the file mapped at addr in p; *pending when it is being fetched. */
static struct dwarf_lines *lines_at(struct symbolizer *s, const struct proc *p, uint64_t addr,
				    bool *pending)
{
	const struct procmap *m = p ? procmaps__find(p->maps, addr) : NULL;
	struct file *f;

	if (!m || !procmap__is_file(m))
		return NULL;
	f = get_file(s, p->pid, m);
	return f && f->syms ? module_lines__get(&f->lines, f->syms, s->debuginfo, pending) : NULL;
}

int symbolizer__add_lines(struct symbolizer *s, pid_t pid, struct frame **frames, int nr,
			  bool *pending)
{
	size_t need = (size_t)nr * DWARF_LINES_MAX_DEPTH;
	struct proc *p = find_proc(s, pid);
	struct frame *v;
	int total = 0;

	*pending = false;
	if (need > s->cap_scratch) {
		v = realloc(s->scratch, need * sizeof(*v));
		if (!v)
			return nr;
		s->scratch = v;
		s->cap_scratch = need;
	}
	for (int i = 0; i < nr; i++)
		total += frame_lines__expand(lines_at(s, p, (*frames)[i].address, pending),
					     &(*frames)[i], &s->scratch[total],
					     DWARF_LINES_MAX_DEPTH);
	if (total > nr) {
		v = realloc(*frames, total * sizeof(*v));
		if (!v)
			return nr; /* the frames as they were, without lines */
		*frames = v;
	}
	memcpy(*frames, s->scratch, total * sizeof(**frames));
	return total;
}

void symbolizer__release_lines(struct symbolizer *s)
{
	for (size_t i = 0; i < s->files.n; i++)
		module_lines__release(((struct file *)s->files.v[i])->lines);
	for (size_t i = 0; i < s->retired.n; i++)
		module_lines__release(((struct file *)s->retired.v[i])->lines);
}

void symbolizer__free(struct symbolizer *s)
{
	struct proc *p;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->procs.n; i++) {
		p = s->procs.v[i];
		procmaps__free(p->maps);
		free(p);
	}
	for (i = 0; i < s->files.n; i++)
		file_free(s->files.v[i]);
	for (i = 0; i < s->retired.n; i++)
		file_free(s->retired.v[i]);
	free(s->retired.v);
	for (i = 0; i < s->strs.n; i++)
		free(s->strs.v[i]);
	free(s->scratch);
	free(s->procs.v);
	free(s->files.v);
	free(s->strs.v);
	free(s);
}
