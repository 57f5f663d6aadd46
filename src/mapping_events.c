// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Captured mappings (bpf/mappings.bpf.h) into the symbolizer: each exec starts a
 * process's mappings afresh, each mmap adds one, each fork copies the parent's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "mapping_events.h"
#include "procmaps.h"
#include "symbolize.h"

struct mapping_events {
	struct ring_buffer *rb;
	struct symbolizer *syms;
};

int mapping_event__path(const struct lt_map_event *e, char *buf, size_t len)
{
	const char *names[LT_MAP_DEPTH];
	size_t pos = 0, n, used = 0;
	const char *end;

	if (!e->nr_names || e->nr_names > LT_MAP_DEPTH)
		return -EINVAL;
	for (unsigned int i = 0; i < e->nr_names; i++) {
		end = memchr(e->names + pos, '\0', LT_MAP_NAMES - pos);
		if (!end)
			return -EINVAL;
		names[i] = e->names + pos;
		pos = end - e->names + 1;
		if (pos >= LT_MAP_NAMES && i + 1 < e->nr_names)
			return -EINVAL;
	}
	for (unsigned int i = e->nr_names; i-- > 0;) {
		n = strlen(names[i]);
		if (used + 1 + n + 1 > len)
			return -ENAMETOOLONG;
		buf[used++] = '/';
		memcpy(buf + used, names[i], n);
		used += n;
	}
	buf[used] = '\0';
	return 0;
}

/* A mapping of the file e names, executable as the capture only sends those. */
static int event_map(struct symbolizer *syms, const struct lt_map_event *e, bool exec)
{
	char path[LT_MAP_NAMES + 1];
	struct procmap m = {
		.start = e->start,
		.end = e->end,
		.offset = e->offset,
		.inode = e->ino,
		.dev_major = e->dev >> 20,
		.dev_minor = e->dev & 0xfffff,
		.readable = true,
		.executable = true,
		.path = path,
	};
	int err = mapping_event__path(e, path, sizeof(path)), err2;

	/* A new image starts afresh even when its path cannot be told. */
	if (exec) {
		err2 = symbolizer__exec(syms, e->tgid, err ? NULL : path);
		err = err ? err : err2;
	}
	return err ? err : symbolizer__map(syms, e->tgid, &m);
}

int mapping_events__apply(struct symbolizer *syms, const void *data, size_t size)
{
	const struct lt_map_event *e = data;

	if (size < sizeof(*e))
		return -EINVAL;
	switch (e->type) {
	case LT_MAP_EXEC:
		return event_map(syms, e, true);
	case LT_MAP_MMAP:
		return event_map(syms, e, false);
	case LT_MAP_FORK:
		return symbolizer__fork(syms, e->tgid, e->child);
	default:
		return -EINVAL;
	}
}

/* A mapping that cannot be applied leaves that process's frames as /proc tells them. */
static int on_event(void *ctx, void *data, size_t size)
{
	mapping_events__apply(ctx, data, size);
	return 0;
}

int mapping_events__new(int fd, struct symbolizer *syms, struct mapping_events **out)
{
	struct mapping_events *m = calloc(1, sizeof(*m));
	int err;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->syms = syms;
	m->rb = ring_buffer__new(fd, on_event, syms, NULL);
	if (!m->rb) {
		err = -errno;
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void mapping_events__poll(struct mapping_events *m)
{
	if (m)
		ring_buffer__consume(m->rb);
}

void mapping_events__free(struct mapping_events *m)
{
	if (!m)
		return;
	ring_buffer__free(m->rb);
	free(m);
}
