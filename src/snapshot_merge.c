// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace report --merge: many snapshots summed into one, each part knowing its origin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "frame_table.h"
#include "snapshot_merge.h"
#include "stack_match.h"

struct merge {
	const struct snapshot *const *in;
	size_t n;
	struct snapshot *out;
	const char **host_of;	    /* each input's host, in the arena */
	size_t **proc_of;	    /* [input][process]: the merged process */
	struct frame_table *frames; /* the merged stacks' frames, into the arena */
};

/* Every host once, in the order first seen; the title host names one or counts them. */
static int merge_hosts(struct merge *m)
{
	struct snapshot *out = m->out;
	const char **hosts;
	size_t cap = 0, nr = 0;

	for (size_t i = 0; i < m->n; i++)
		cap += m->in[i]->nr_hosts ? m->in[i]->nr_hosts : 1;
	hosts = arena__alloc(out->arena, cap * sizeof(*hosts));
	if (!hosts)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		const struct snapshot *s = m->in[i];

		m->host_of[i] = arena__strdup(out->arena, s->host);
		if (!m->host_of[i])
			return -ENOMEM;
		for (size_t j = 0; j < (s->nr_hosts ? s->nr_hosts : 1); j++) {
			const char *h = s->nr_hosts ? s->hosts[j] : s->host;
			size_t k = 0;

			while (k < nr && strcmp(hosts[k], h))
				k++;
			if (k < nr)
				continue;
			hosts[nr] = arena__strdup(out->arena, h);
			if (!hosts[nr++])
				return -ENOMEM;
		}
	}
	out->hosts = hosts;
	out->nr_hosts = nr;
	if (nr == 1)
		snprintf(out->host, sizeof(out->host), "%s", hosts[0]);
	else
		snprintf(out->host, sizeof(out->host), "%zu hosts", nr);
	return 0;
}

/* The earliest start, the latest snapshot, the longest trace, every loss counted. */
static void merge_times(struct merge *m)
{
	struct snapshot *out = m->out;

	for (size_t i = 0; i < m->n; i++) {
		const struct snapshot *s = m->in[i];

		if (!i || s->started.tv_sec < out->started.tv_sec)
			out->started = s->started;
		if (!i || s->taken.tv_sec > out->taken.tv_sec)
			out->taken = s->taken;
		if (s->elapsed_s > out->elapsed_s)
			out->elapsed_s = s->elapsed_s;
		for (int k = 0; k < NR_LOST; k++)
			out->lost[k] += s->lost[k];
		out->kernel |= s->kernel;
	}
}

/* Appends where an input stack or process came from: its own origins if it was merged. */
static void add_origins(struct merge *m, size_t snap, pid_t pid, const struct origin *from,
			size_t nr_from, struct origin *to, size_t *nr_to)
{
	for (size_t i = 0; i < nr_from; i++)
		to[(*nr_to)++] = (struct origin){ arena__strdup(m->out->arena, from[i].host),
						  from[i].pid };
	if (!nr_from)
		to[(*nr_to)++] = (struct origin){ m->host_of[snap], pid };
}

static size_t find_proc(const struct snapshot *out, const struct proc_stat *p)
{
	size_t k = 0;

	while (k < out->nr_procs &&
	       (strcmp(out->procs[k].comm, p->comm) || strcmp(out->procs[k].exe, p->exe)))
		k++;
	return k;
}

/* Adds from's build IDs to to's, each path once: the first host's build wins. */
static int add_build_ids(struct arena *a, const struct proc_stat *from, struct module_id *mods,
			 size_t *n)
{
	for (size_t i = 0; i < from->nr_modules; i++) {
		size_t k = 0;

		while (k < *n && strcmp(mods[k].path, from->modules[i].path))
			k++;
		if (k < *n)
			continue;
		mods[k].path = arena__strdup(a, from->modules[i].path);
		mods[k].build_id = arena__strdup(a, from->modules[i].build_id);
		if (!mods[k].path || !mods[k].build_id)
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int merge_build_ids(struct merge *m, size_t k)
{
	struct proc_stat *q = &m->out->procs[k];
	struct module_id *mods;
	size_t cap = 0, n = 0;
	int err = 0;

	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->in[i]->nr_procs; j++)
			if (m->proc_of[i][j] == k)
				cap += m->in[i]->procs[j].nr_modules;
	if (!cap)
		return 0;
	mods = arena__alloc(m->out->arena, cap * sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	for (size_t i = 0; i < m->n && !err; i++)
		for (size_t j = 0; j < m->in[i]->nr_procs && !err; j++)
			if (m->proc_of[i][j] == k)
				err = add_build_ids(m->out->arena, &m->in[i]->procs[j], mods, &n);
	q->modules = mods;
	q->nr_modules = n;
	return err;
}

/* Processes by name and executable: the same service on every host becomes one. */
static int merge_procs(struct merge *m, struct origin **origins)
{
	struct snapshot *out = m->out;
	size_t *nr_origins, k;
	int err = 0;

	nr_origins = calloc(out->nr_procs + 1, sizeof(*nr_origins));
	if (!nr_origins)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->in[i]->nr_procs; j++) {
			const struct proc_stat *p = &m->in[i]->procs[j];
			struct proc_stat *q;

			k = m->proc_of[i][j];
			q = &out->procs[k];
			q->bytes = count__add(q->bytes, p->bytes);
			q->allocs = count__add(q->allocs, p->allocs);
			q->growth += p->growth;
			q->alive |= p->alive;
			q->scanned |= p->scanned;
			q->lost_bytes = count__add(q->lost_bytes, p->lost_bytes);
			q->indirect_bytes = count__add(q->indirect_bytes, p->indirect_bytes);
			q->reachable_bytes = count__add(q->reachable_bytes, p->reachable_bytes);
			q->suppressed_bytes = count__add(q->suppressed_bytes, p->suppressed_bytes);
			q->suppressed_allocs = count__add(q->suppressed_allocs,
							  p->suppressed_allocs);
			q->suppressed_lost_bytes = count__add(q->suppressed_lost_bytes,
							      p->suppressed_lost_bytes);
			q->possible_bytes = count__add(q->possible_bytes, p->possible_bytes);
			q->possible_allocs = count__add(q->possible_allocs, p->possible_allocs);
			q->has_resident |= p->has_resident;
			q->resident_bytes = count__add(q->resident_bytes, p->resident_bytes);
			add_origins(m, i, p->pid, p->origins, p->nr_origins, origins[k],
				    &nr_origins[k]);
		}
	}
	for (k = 0; k < out->nr_procs && !err; k++) {
		out->procs[k].origins = origins[k];
		out->procs[k].nr_origins = nr_origins[k];
		out->procs[k].pid = nr_origins[k] == 1 ? origins[k][0].pid : 0;
		err = merge_build_ids(m, k);
	}
	free(nr_origins);
	return err;
}

/* Which merged process each input process goes to, and room for their origins. */
static int plan_procs(struct merge *m, struct origin ***origins)
{
	struct snapshot *out = m->out;
	size_t total = 0, *count, k;
	int err = 0;

	for (size_t i = 0; i < m->n; i++)
		total += m->in[i]->nr_procs;
	out->procs = calloc(total + 1, sizeof(*out->procs));
	count = calloc(total + 1, sizeof(*count));
	*origins = calloc(total + 1, sizeof(**origins));
	if (!out->procs || !count || !*origins) {
		free(count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++) {
		m->proc_of[i] = calloc(m->in[i]->nr_procs + 1, sizeof(size_t));
		if (!m->proc_of[i])
			err = -ENOMEM;
		for (size_t j = 0; j < m->in[i]->nr_procs && !err; j++) {
			const struct proc_stat *p = &m->in[i]->procs[j];

			k = find_proc(out, p);
			if (k == out->nr_procs) {
				memcpy(out->procs[k].comm, p->comm, sizeof(p->comm));
				memcpy(out->procs[k].exe, p->exe, sizeof(p->exe));
				err = proc_stat__copy_argv(&out->procs[k], out, p);
				out->nr_procs++;
			}
			m->proc_of[i][j] = k;
			count[k] += p->nr_origins ? p->nr_origins : 1;
		}
	}
	for (k = 0; k < out->nr_procs && !err; k++) {
		(*origins)[k] = arena__alloc(out->arena, count[k] * sizeof(struct origin));
		if (!(*origins)[k])
			err = -ENOMEM;
	}
	free(count);
	return err;
}

static size_t merged_proc(const struct merge *m, const struct stack_ref *r)
{
	return m->proc_of[r->snap][r->proc - m->in[r->snap]->procs];
}

static int copy_frames(struct merge *m, const struct stack_stat *from, struct stack_stat *to)
{
	const struct frame **frames;

	if (!from->nr_frames)
		return 0;
	frames = arena__alloc(m->out->arena, from->nr_frames * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	for (int i = 0; i < from->nr_frames; i++)
		if (!(frames[i] = frame_table__get(m->frames, from->frames[i])))
			return -ENOMEM;
	to->frames = frames;
	to->nr_frames = from->nr_frames;
	return 0;
}

/* One run of identical stacks summed; the frames (and addresses) are the first one's. */
static int merge_run(struct merge *m, const struct stack_ref *run, size_t len,
		     struct stack_stat *to)
{
	struct origin *origins;
	size_t nr = 0, cap = 0;

	for (size_t i = 0; i < len; i++)
		cap += run[i].stack->nr_origins ? run[i].stack->nr_origins : 1;
	origins = arena__alloc(m->out->arena, cap * sizeof(*origins));
	if (!origins)
		return -ENOMEM;
	to->kind = run[0].stack->kind;
	to->allocator = run[0].stack->allocator; /* the same frames */
	/* A kernel stack's context: the first one's (the slab cache is the same on every host). */
	to->task_pid = run[0].stack->task_pid;
	memcpy(to->task_comm, run[0].stack->task_comm, sizeof(to->task_comm));
	to->task_cgroup = run[0].stack->task_cgroup;
	memcpy(to->slab_cache, run[0].stack->slab_cache, sizeof(to->slab_cache));
	to->oldest_s = -1;
	for (size_t i = 0; i < len; i++) {
		const struct stack_stat *s = run[i].stack;

		to->bytes = count__add(to->bytes, s->bytes);
		to->allocs = count__add(to->allocs, s->allocs);
		to->growth += s->growth;
		stack_stat__add_verdicts(to, s);
		if (i)
			stack_stat__add_resident(to, s);
		to->has_resident = i ? to->has_resident : s->has_resident;
		to->resident_bytes = i ? to->resident_bytes : s->resident_bytes;
		to->has_cached = i ? to->has_cached : s->has_cached;
		to->cached_bytes = i ? to->cached_bytes : s->cached_bytes;
		to->cached_allocs = i ? to->cached_allocs : s->cached_allocs;
		trend__merge(to, s);
		to->truncated |= s->truncated;
		to->table_pending |= s->table_pending;
		if (s->oldest_s > to->oldest_s)
			to->oldest_s = s->oldest_s;
		add_origins(m, run[i].snap, run[i].proc->pid, s->origins, s->nr_origins, origins,
			    &nr);
		/* Suppressed where any host suppressed it, by the first such host's entry. */
		if (s->suppressed && !to->suppressed)
			to->suppressed = arena__strdup(m->out->arena, s->suppressed);
		if (s->suppressed && !to->suppressed)
			return -ENOMEM;
	}
	to->origins = origins;
	to->nr_origins = nr;
	return copy_frames(m, run[0].stack, to);
}

static int merge_stacks(struct merge *m, const struct stack_ref *refs, size_t nr)
{
	struct snapshot *out = m->out;
	size_t i, len, *count;
	struct proc_stat *p;
	int err = 0;

	/* Room first (a count per merged process), then the sums. */
	count = calloc(out->nr_procs + 1, sizeof(*count));
	if (!count)
		return -ENOMEM;
	for (i = 0; i < nr; i += stack_match__run(refs, nr, i))
		count[merged_proc(m, &refs[i])]++;
	for (i = 0; i < out->nr_procs && !err; i++) {
		out->procs[i].stacks = calloc(count[i] + 1, sizeof(struct stack_stat));
		if (!out->procs[i].stacks)
			err = -ENOMEM;
	}
	for (i = 0; i < nr && !err; i += len) {
		len = stack_match__run(refs, nr, i);
		p = &out->procs[merged_proc(m, &refs[i])];
		p->stacks[p->nr_stacks].stack_id = p->nr_stacks + 1;
		err = merge_run(m, &refs[i], len, &p->stacks[p->nr_stacks++]);
	}
	free(count);
	return err;
}

static int by_stack_bytes(const void *a, const void *b)
{
	const struct stack_stat *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int by_proc_bytes(const void *a, const void *b)
{
	const struct proc_stat *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

/* Largest first, as every snapshot: stacks in each process, then the processes. */
static void sort_snapshot(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nr_procs; i++)
		qsort(snap->procs[i].stacks, snap->procs[i].nr_stacks,
		      sizeof(*snap->procs[i].stacks), by_stack_bytes);
	qsort(snap->procs, snap->nr_procs, sizeof(*snap->procs), by_proc_bytes);
}

static int merge(struct merge *m)
{
	struct origin **origins = NULL;
	struct stack_ref *refs = NULL;
	size_t nr = 0;
	int err;

	err = merge_hosts(m);
	if (!err)
		err = plan_procs(m, &origins);
	if (!err)
		err = merge_procs(m, origins);
	if (!err)
		err = stack_match__build(m->in, m->n, &refs, &nr);
	if (!err)
		err = merge_stacks(m, refs, nr);
	merge_times(m);
	stack_match__free(refs, nr);
	free(origins);
	return err;
}

int snapshot__merge(const struct snapshot *const *in, size_t n, struct snapshot **out)
{
	struct merge m = { .in = in, .n = n };
	int err = -ENOMEM;

	*out = NULL;
	m.out = calloc(1, sizeof(*m.out));
	m.host_of = calloc(n + 1, sizeof(*m.host_of));
	m.proc_of = calloc(n + 1, sizeof(*m.proc_of));
	if (m.out && m.host_of && m.proc_of) {
		m.out->arena = arena__new();
		m.frames = m.out->arena ? frame_table__new(m.out->arena) : NULL;
		if (m.frames)
			err = merge(&m);
	}
	frame_table__free(m.frames);
	for (size_t i = 0; m.proc_of && i < n; i++)
		free(m.proc_of[i]);
	free(m.proc_of);
	free(m.host_of);
	if (err) {
		snapshot__free(m.out);
		return err;
	}
	sort_snapshot(m.out);
	*out = m.out;
	return 0;
}
