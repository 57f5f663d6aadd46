// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mapping_events: the mappings the BPF side captures at exec, mmap and fork, applied
 * to the symbolizer, which then names the frames of processes long gone.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mapping_events.h"
#include "procmaps.h"
#include "procs.h"
#include "symbolize.h"

int lt_test_captured_code(void);

/* A function of the test binary, looked up through captured mappings only. */
__attribute__((noinline)) int lt_test_captured_code(void)
{
	return 7;
}

/* Components innermost first, as the BPF side writes them: "leaky\0fixtures\0tmp\0". */
static void set_names(struct lt_map_event *e, const char *path)
{
	char copy[PATH_MAX], *slash;
	size_t pos = 0, n;

	snprintf(copy, sizeof(copy), "%s", path);
	e->nr_names = 0;
	while ((slash = strrchr(copy, '/'))) {
		n = strlen(slash + 1) + 1;
		cr_assert_leq(pos + n, LT_MAP_NAMES);
		memcpy(e->names + pos, slash + 1, n);
		pos += n;
		e->nr_names++;
		*slash = '\0';
	}
}

/* The event the capture sends for the executable mapping of this test binary that holds addr. */
static void self_event(struct lt_map_event *e, uint32_t type, pid_t pid, uint64_t addr)
{
	struct procmaps *maps;
	const struct procmap *m;

	cr_assert_eq(procmaps__read(getpid(), &maps), 0);
	m = procmaps__find(maps, addr);
	cr_assert(m && m->executable);
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->tgid = pid;
	e->dev = m->dev_major << 20 | m->dev_minor;
	e->ino = m->inode;
	e->start = m->start;
	e->end = m->end;
	e->offset = m->offset;
	set_names(e, m->path);
	procmaps__free(maps);
}

static uint64_t code_addr(void)
{
	return (uint64_t)(uintptr_t)lt_test_captured_code;
}

Test(mapping_events, path_joins_components_outermost_first)
{
	struct lt_map_event e = { 0 };
	char buf[64];

	set_names(&e, "/tmp/fixtures/leaky");
	cr_assert_eq(e.nr_names, 3);
	cr_assert_eq(memcmp(e.names, "leaky\0fixtures\0tmp\0", 19), 0);
	cr_assert_eq(mapping_event__path(&e, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "/tmp/fixtures/leaky");
	cr_assert_eq(mapping_event__path(&e, buf, 19), -ENAMETOOLONG);
	cr_assert_eq(mapping_event__path(&e, buf, 20), 0);
}

Test(mapping_events, path_without_components_or_their_ends_is_einval)
{
	struct lt_map_event e = { 0 };
	char buf[PATH_MAX];

	cr_assert_eq(mapping_event__path(&e, buf, sizeof(buf)), -EINVAL);
	e.nr_names = 2;
	memcpy(e.names, "one", 4);
	memset(e.names + 4, 'x', LT_MAP_NAMES - 4); /* the second never ends */
	cr_assert_eq(mapping_event__path(&e, buf, sizeof(buf)), -EINVAL);
	e.nr_names = LT_MAP_DEPTH + 1;
	cr_assert_eq(mapping_event__path(&e, buf, sizeof(buf)), -EINVAL);
}

/* A process gone before /proc/PID/maps was read: named from its exec event alone. */
Test(mapping_events, exec_names_the_frames_of_a_process_gone)
{
	struct symbolizer *s = symbolizer__new();
	pid_t pid = procs__dead();
	struct lt_map_event e;
	const char *exe;
	struct frame f;
	char self[PATH_MAX] = "";

	cr_assert_gt(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
	self_event(&e, LT_MAP_EXEC, pid, code_addr());
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), 0);
	cr_assert_eq(symbolizer__frame(s, pid, code_addr() + 1, &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_captured_code");
	cr_assert_eq(f.offset, 1);
	cr_assert_str_eq(f.module, self);
	cr_assert_eq(symbolizer__exe(s, pid, &exe), 0);
	cr_assert_str_eq(exe, self);
	symbolizer__free(s);
}

/* A child starts with its parent's mappings; an exec starts them afresh. */
Test(mapping_events, fork_copies_the_parents_mappings_and_exec_drops_them)
{
	struct symbolizer *s = symbolizer__new();
	pid_t parent = procs__dead(), child = procs__dead();
	struct lt_map_event e;
	struct frame f;

	self_event(&e, LT_MAP_EXEC, parent, code_addr());
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), 0);
	memset(&e, 0, sizeof(e));
	e.type = LT_MAP_FORK;
	e.tgid = parent;
	e.child = child;
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), 0);
	cr_assert_eq(symbolizer__frame(s, child, code_addr(), &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_captured_code");
	/* The parent execs something mapped elsewhere: its old code is gone, the child's not. */
	self_event(&e, LT_MAP_EXEC, parent, code_addr());
	e.start += 1ULL << 40;
	e.end += 1ULL << 40;
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), 0);
	cr_assert_eq(symbolizer__frame(s, parent, code_addr(), &f), -ENOENT);
	cr_assert_null(f.symbol);
	cr_assert_eq(symbolizer__frame(s, child, code_addr(), &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_captured_code");
	symbolizer__free(s);
}

/* A library mapped later (mmap) joins what exec gave. */
Test(mapping_events, mmap_adds_a_mapping)
{
	struct symbolizer *s = symbolizer__new();
	pid_t pid = procs__dead();
	struct lt_map_event e;
	struct frame f;

	memset(&e, 0, sizeof(e));
	e.type = LT_MAP_EXEC; /* a path that cannot be told: afresh, nothing mapped */
	e.tgid = pid;
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), -EINVAL);
	cr_assert_eq(symbolizer__frame(s, pid, code_addr(), &f), -ENOENT);
	self_event(&e, LT_MAP_MMAP, pid, code_addr());
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), 0);
	cr_assert_eq(symbolizer__frame(s, pid, code_addr(), &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_captured_code");
	symbolizer__free(s);
}

Test(mapping_events, short_or_unknown_events_are_einval)
{
	struct symbolizer *s = symbolizer__new();
	struct lt_map_event e = { .type = 99, .tgid = 1 };

	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e) - 1), -EINVAL);
	cr_assert_eq(mapping_events__apply(s, &e, sizeof(e)), -EINVAL);
	symbolizer__free(s);
}
