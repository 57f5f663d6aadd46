// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc/PID/maps parsing: address ranges of a process and the files behind them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmaps.h"

/* Parses a hex number ending at `delim`; advances *p past the delimiter. */
static int parse_hex(const char **p, char delim, uint64_t *v)
{
	char *end;

	if (**p == '-' || **p == '+' || **p == ' ')
		return -EINVAL;
	errno = 0;
	*v = strtoull(*p, &end, 16);
	if (end == *p || errno || *end != delim)
		return -EINVAL;
	*p = end + 1;
	return 0;
}

static int parse_perms(const char **p, struct procmap *m)
{
	const char *s = *p;

	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 's' && s[3] != 'p') || s[4] != ' ')
		return -EINVAL;
	m->readable = s[0] == 'r';
	m->writable = s[1] == 'w';
	m->executable = s[2] == 'x';
	m->shared = s[3] == 's';
	*p = s + 5;
	return 0;
}

static int parse_dev(const char **p, struct procmap *m)
{
	uint64_t maj, min;

	if (parse_hex(p, ':', &maj) || parse_hex(p, ' ', &min) || maj > ~0u || min > ~0u)
		return -EINVAL;
	m->dev_major = maj;
	m->dev_minor = min;
	return 0;
}

static int parse_inode(const char **p, uint64_t *inode)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	*inode = strtoull(*p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	*p = end;
	return 0;
}

/* The path is the rest of the line after the padding; it may hold spaces, or be absent. */
static char *dup_path(const char *p)
{
	size_t len;

	while (*p == ' ')
		p++;
	len = strcspn(p, "\n");
	return strndup(p, len);
}

int procmaps__parse_line(const char *line, struct procmap *m)
{
	const char *p = line;

	memset(m, 0, sizeof(*m));
	if (parse_hex(&p, '-', &m->start) || parse_hex(&p, ' ', &m->end) || m->end < m->start)
		return -EINVAL;
	if (parse_perms(&p, m) || parse_hex(&p, ' ', &m->offset) || parse_dev(&p, m) ||
	    parse_inode(&p, &m->inode))
		return -EINVAL;
	m->path = dup_path(p);
	if (!m->path)
		return -ENOMEM;
	return 0;
}

static int append(struct procmaps *maps, size_t *cap, const struct procmap *m)
{
	struct procmap *v;

	if (maps->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		v = realloc(maps->v, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		maps->v = v;
	}
	maps->v[maps->n++] = *m;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct procmap *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int procmaps__parse(FILE *f, struct procmaps **out)
{
	struct procmaps *maps;
	struct procmap m;
	size_t cap = 0, linecap = 0;
	char *line = NULL;
	int err = 0;

	*out = NULL;
	maps = calloc(1, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	errno = 0;
	while (getline(&line, &linecap, f) >= 0) {
		if (line[0] == '\n')
			continue;
		err = procmaps__parse_line(line, &m);
		if (!err) {
			err = append(maps, &cap, &m);
			if (err)
				free(m.path);
		}
		if (err)
			goto err_free;
		errno = 0;
	}
	/* A maps file read while its process exits fails midway, typically with ESRCH. */
	if (ferror(f)) {
		err = errno ? -errno : -EIO;
		goto err_free;
	}
	/* The kernel lists mappings in order; sort anyway so that lookups may bisect. */
	if (maps->n)
		qsort(maps->v, maps->n, sizeof(*maps->v), cmp_start);
	free(line);
	*out = maps;
	return 0;

err_free:
	free(line);
	procmaps__free(maps);
	return err;
}

int procmaps__read(pid_t pid, struct procmaps **out)
{
	char path[64];
	FILE *f;
	int err;

	*out = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	err = procmaps__parse(f, out);
	fclose(f);
	return err;
}

const struct procmap *procmaps__find(const struct procmaps *maps, uint64_t addr)
{
	size_t lo = 0, hi, mid;

	if (!maps)
		return NULL;
	hi = maps->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < maps->v[mid].start)
			hi = mid;
		else if (addr >= maps->v[mid].end)
			lo = mid + 1;
		else
			return &maps->v[mid];
	}
	return NULL;
}

int procmaps__insert(struct procmaps *maps, const struct procmap *m)
{
	struct procmap copy = *m, *v;
	size_t i, out = 0, pos;

	if (m->start >= m->end)
		return -EINVAL;
	copy.path = strdup(m->path ? m->path : "");
	v = realloc(maps->v, (maps->n + 1) * sizeof(*v));
	if (!copy.path || !v) {
		free(copy.path);
		if (v)
			maps->v = v;
		return -ENOMEM;
	}
	maps->v = v;
	/* A new mapping replaces those it overlaps, as mmap does (whole: one is enough). */
	for (i = 0; i < maps->n; i++) {
		if (v[i].start < m->end && m->start < v[i].end)
			free(v[i].path);
		else
			v[out++] = v[i];
	}
	for (pos = 0; pos < out && v[pos].start < m->start; pos++)
		;
	memmove(&v[pos + 1], &v[pos], (out - pos) * sizeof(*v));
	v[pos] = copy;
	maps->n = out + 1;
	return 0;
}

int procmaps__dup(const struct procmaps *from, struct procmaps **out)
{
	struct procmaps *maps = calloc(1, sizeof(*maps));
	int err = maps ? 0 : -ENOMEM;

	for (size_t i = 0; !err && from && i < from->n; i++)
		err = procmaps__insert(maps, &from->v[i]);
	if (err) {
		procmaps__free(maps);
		maps = NULL;
	}
	*out = maps;
	return err;
}

bool procmap__is_file(const struct procmap *m)
{
	return m->path && m->path[0] == '/' && m->inode != 0;
}

void procmaps__free(struct procmaps *maps)
{
	size_t i;

	if (!maps)
		return;
	for (i = 0; i < maps->n; i++)
		free(maps->v[i].path);
	free(maps->v);
	free(maps);
}

int proc__read_line(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64], line[256];
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, size, "%s", line);
	} else {
		err = -EIO;
	}
	fclose(f);
	return err;
}

int proc__image(pid_t pid, uint64_t *end_code, uint64_t *start_stack)
{
	char path[64], buf[1024], *p;
	unsigned long long code, stack;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold anything, ')' too: the fields follow the last one. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
			 " %*s %*s %*s %*s %*s %*s %llu %llu",
			 &code, &stack) != 2)
		return -EINVAL;
	*end_code = code;
	*start_stack = stack;
	return 0;
}

int proc__exe(pid_t pid, char *buf, size_t size)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	len = readlink(link, buf, size - 1);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	return 0;
}
