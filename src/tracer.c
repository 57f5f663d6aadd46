// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loads the BPF programs, sizes their maps, attaches them to the planned functions. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "leaktrace.skel.h"
#include "tracer.h"

struct tracer {
	struct leaktrace_bpf *skel;
	struct bpf_link **links;
	size_t nr_links;
	bool verbose;
};

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* The kernel features leaktrace cannot do without, each with what to do about it. */
static int check_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "leaktrace: this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			"use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)\n");
		return -ENOTSUP;
	}
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		fprintf(stderr, "leaktrace: this kernel has no uprobes: use a kernel built with "
			"CONFIG_UPROBE_EVENTS=y\n");
		return -ENOTSUP;
	}
	return 0;
}

static int load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "leaktrace: cannot load BPF programs: permission denied: run as "
			"root, or with CAP_BPF and CAP_PERFMON\n");
	else
		fprintf(stderr, "leaktrace: cannot load BPF programs: %s (run with -v to see "
			"the verifier's log)\n", strerror(-err));
	return err;
}

static void configure(struct leaktrace_bpf *skel, const struct tracer_opts *opts)
{
	struct leaktrace_bpf__rodata *ro = skel->rodata;
	bool scan;

	bpf_map__set_max_entries(skel->maps.allocs, opts->max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, opts->max_stacks);
	/* One stack can hold memory in several processes. */
	bpf_map__set_max_entries(skel->maps.totals, 2 * opts->max_stacks);
	ro->page_size = sysconf(_SC_PAGESIZE);
	ro->min_size = opts->min_size;
	ro->max_size = opts->max_size;
	/* A munmap inside a mapping needs bpf_for_each_map_elem (5.13). */
	scan = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_for_each_map_elem,
				       NULL) == 1;
	bpf_program__set_autoload(skel->progs.munmap_enter, scan);
	bpf_program__set_autoload(skel->progs.munmap_enter_simple, !scan);
}

int tracer__new(const struct tracer_opts *opts, struct tracer **out)
{
	struct tracer *t;
	int err;

	err = check_kernel();
	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->verbose = opts->verbose;
	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);
	t->skel = leaktrace_bpf__open();
	if (!t->skel) {
		err = load_error(-errno);
		goto err_free;
	}
	configure(t->skel, opts);
	err = leaktrace_bpf__load(t->skel);
	if (err) {
		load_error(err);
		goto err_free;
	}
	err = leaktrace_bpf__attach(t->skel);	/* the thread exit tracepoint */
	if (err) {
		fprintf(stderr, "leaktrace: cannot attach the thread exit tracepoint: %s\n",
			strerror(-err));
		goto err_free;
	}
	*out = t;
	return 0;

err_free:
	tracer__free(t);
	return err;
}

static struct bpf_program *entry_prog(struct tracer *t, enum lt_func func)
{
	struct leaktrace_bpf *s = t->skel;

	switch (func) {
	case LT_MALLOC: return s->progs.malloc_enter;
	case LT_CALLOC: return s->progs.calloc_enter;
	case LT_REALLOC: return s->progs.realloc_enter;
	case LT_REALLOCARRAY: return s->progs.reallocarray_enter;
	case LT_POSIX_MEMALIGN: return s->progs.posix_memalign_enter;
	case LT_ALIGNED_ALLOC: return s->progs.aligned_alloc_enter;
	case LT_MEMALIGN: return s->progs.memalign_enter;
	case LT_VALLOC: return s->progs.valloc_enter;
	case LT_PVALLOC: return s->progs.pvalloc_enter;
	case LT_FREE: return s->progs.free_enter;
	case LT_MMAP: return s->progs.mmap_enter;
	case LT_MUNMAP:
		return bpf_program__autoload(s->progs.munmap_enter) ? s->progs.munmap_enter
								    : s->progs.munmap_enter_simple;
	default: return NULL;
	}
}

static int add_link(struct tracer *t, struct bpf_program *prog, pid_t pid,
		    const struct alloc_probe *p, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link **links, *link;

	links = realloc(t->links, (t->nr_links + 1) * sizeof(*links));
	if (!links)
		return -ENOMEM;
	t->links = links;
	link = bpf_program__attach_uprobe_opts(prog, pid, p->path, p->offset, &opts);
	if (!link)
		return -errno;
	t->links[t->nr_links++] = link;
	return 0;
}

static int attach_error(pid_t pid, const char *what, int err)
{
	if (err == -ESRCH || err == -ENOENT)
		fprintf(stderr, "leaktrace: cannot attach to pid %d: no such process\n", pid);
	else
		fprintf(stderr, "leaktrace: cannot attach to pid %d (%s): %s\n", pid, what,
			strerror(-err));
	return err;
}

int tracer__attach(struct tracer *t, pid_t pid, const struct alloc_plan *plan, bool from_start)
{
	__u32 tgid = pid, flags = from_start ? LT_TARGET_FROM_START : 0;
	const struct alloc_probe *p;
	int err, f;

	err = bpf_map__update_elem(t->skel->maps.targets, &tgid, sizeof(tgid), &flags,
				   sizeof(flags), BPF_ANY);
	if (err)
		return attach_error(pid, "target map", err);
	for (f = 0; f < LT_NR_FUNCS; f++) {
		p = &plan->probes[f];
		if (!p->path)
			continue;
		if (t->verbose)
			fprintf(stderr, "leaktrace: pid %d: probing %s at %s+0x%llx\n", pid,
				alloc_func__name(f), p->path, (unsigned long long)p->offset);
		err = add_link(t, entry_prog(t, f), pid, p, false);
		if (!err && f != LT_FREE && f != LT_MUNMAP)
			err = add_link(t, t->skel->progs.alloc_return, pid, p, true);
		if (err)
			return attach_error(pid, alloc_func__name(f), err);
	}
	/* A pid that ended during the attach leaves probes that will never fire. */
	if (kill(pid, 0) && errno == ESRCH)
		return attach_error(pid, "after attach", -ESRCH);
	return 0;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	while (t->nr_links)
		bpf_link__destroy(t->links[--t->nr_links]);
	free(t->links);
	leaktrace_bpf__destroy(t->skel);
	free(t);
}

int tracer__allocs_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.allocs);
}

int tracer__totals_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.totals);
}

int tracer__stacks_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.stacks);
}

int tracer__unmatched_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.unmatched);
}

int tracer__counters(const struct tracer *t, uint64_t *c)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	__u64 *v;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < LT_NR_COUNTERS && !err; k++) {
		c[k] = 0;
		err = bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.counters), &k, v);
		for (int cpu = 0; cpu < ncpus && !err; cpu++)
			c[k] += v[cpu];
	}
	free(v);
	return err ? -errno : 0;
}

uint64_t tracer__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
