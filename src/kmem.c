// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --kernel: loads the kmem and percpu tracepoints' programs for the argument
 * lists the running kernel's tracepoints have, and reads their maps.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "diag.h"
#include "kmem.h"
#include "kmem.skel.h"
#include "self_pages.h"
#include "tracer.h"
#include "tracer_maps.h"

struct kmem {
	struct kmem_bpf *skel;
};

/*
 * The parameters of tracepoint name as its BTF declares them (btf_trace_NAME:
 * a pointer to a function whose first parameter is the tracepoint's data);
 * NULL when the kernel has no such tracepoint.
 */
static const struct btf_param *tp_params(const struct btf *btf, const char *name, int *n)
{
	char type[64];
	const struct btf_type *t;
	int id;

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return NULL;
	*n = btf_vlen(t) - 1;
	return btf_params(t) + 1;
}

static bool is_ptr(const struct btf *btf, const struct btf_param *p)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, p->type));

	return t && btf_is_ptr(t);
}

static void want(struct bpf_program *prog, bool on, int *nr)
{
	bpf_program__set_autoload(prog, on);
	*nr += on;
}

/*
 * Each program whose tracepoint the kernel has, with the argument list it was
 * written for: kmem_cache_alloc's third argument is its cache since 6.1, the
 * size before; percpu_alloc_percpu has its caller first since 6.0.
 */
static int choose(struct kmem_bpf *skel, const struct btf *btf)
{
	const struct btf_param *p;
	int n = 0, nr = 0;

	want(skel->progs.kmalloc, tp_params(btf, "kmalloc", &n) && n >= 4, &nr);
	want(skel->progs.kmalloc_node, tp_params(btf, "kmalloc_node", &n) && n >= 4, &nr);
	p = tp_params(btf, "kmem_cache_alloc", &n);
	want(skel->progs.kmem_cache_alloc_cache, p && n >= 3 && is_ptr(btf, &p[2]), &nr);
	want(skel->progs.kmem_cache_alloc_sized, p && n >= 4 && !is_ptr(btf, &p[2]), &nr);
	p = tp_params(btf, "kmem_cache_alloc_node", &n);
	want(skel->progs.kmem_cache_alloc_node_sized, p && n >= 4 && !is_ptr(btf, &p[2]), &nr);
	want(skel->progs.kfree, tp_params(btf, "kfree", &n) && n >= 2, &nr);
	want(skel->progs.kmem_cache_free, tp_params(btf, "kmem_cache_free", &n) && n >= 2, &nr);
	want(skel->progs.mm_page_alloc, tp_params(btf, "mm_page_alloc", &n) && n >= 2, &nr);
	want(skel->progs.mm_page_free, tp_params(btf, "mm_page_free", &n) && n >= 2, &nr);
	p = tp_params(btf, "percpu_alloc_percpu", &n);
	want(skel->progs.percpu_alloc, p && n >= 9, &nr);
	want(skel->progs.percpu_alloc_old, p && n == 7, &nr);
	want(skel->progs.percpu_free, tp_params(btf, "percpu_free_percpu", &n) && n >= 3, &nr);
	return nr;
}

static void configure(struct kmem_bpf *skel, const struct kmem_opts *opts)
{
	long page = sysconf(_SC_PAGESIZE);
	int cpus = libbpf_num_possible_cpus();

	skel->rodata->page_size = page > 0 ? page : 4096;
	skel->rodata->nr_cpus = cpus > 0 ? cpus : 1;
	skel->rodata->sample_bytes = opts->sample_bytes;
	skel->rodata->sample_seed = opts->sample_seed;
	tracer__sampling_tables(skel->rodata->exp_draws, skel->rodata->est_steps);
	bpf_map__set_max_entries(skel->maps.kblocks, opts->max_blocks);
	/* Stacks are kept once seen, those of totals gone too: room for 4 per --max-stacks. */
	bpf_map__set_max_entries(skel->maps.kstacks, 4 * opts->max_stacks);
	/* A stack is in a few processes' totals at once (every pipe(2) caller's, say). */
	bpf_map__set_max_entries(skel->maps.ktotals, 4 * opts->max_stacks);
}

static int load(struct kmem *k, const struct kmem_opts *opts)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err;

	if (!btf) {
		err = -errno;
		diag__error("--kernel: cannot read the kernel's BTF: %s", strerror(-err));
		return err;
	}
	k->skel = kmem_bpf__open();
	if (!k->skel) {
		err = -errno;
		btf__free(btf);
		return err;
	}
	if (!choose(k->skel, btf)) {
		btf__free(btf);
		diag__error("--kernel: the kernel has none of the kmem tracepoints "
			    "(CONFIG_TRACEPOINTS): kernel allocations cannot be traced");
		return -ENOTSUP;
	}
	btf__free(btf);
	configure(k->skel, opts);
	err = kmem_bpf__load(k->skel);
	if (!err)
		self_pages__release(k->skel->skeleton->data, k->skel->skeleton->data_sz);
	else
		diag__error("--kernel: cannot load the kmem programs: %s (run with -v to see the "
			    "verifier's log)",
			    strerror(-err));
	return err;
}

/* -v: the programs loaded, each named for the argument list it reads. */
static void print_programs(const struct kmem *k)
{
	struct bpf_program *prog;
	char buf[512];
	size_t len = 0;

	buf[0] = 0;
	bpf_object__for_each_program(prog, k->skel->obj)
		if (bpf_program__autoload(prog) && len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len, " %s",
					bpf_program__name(prog));
	diag__debug("--kernel: programs on the kernel's tracepoints:%s", buf);
}

int kmem__new(const struct kmem_opts *opts, struct kmem **out)
{
	struct kmem *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	err = load(k, opts);
	if (!err) {
		err = kmem_bpf__attach(k->skel);
		if (err)
			diag__error("--kernel: cannot attach the kmem tracepoints: %s",
				    strerror(-err));
	}
	if (err) {
		kmem__free(k);
		return err;
	}
	if (opts->verbose)
		print_programs(k);
	*out = k;
	return 0;
}

/*
 * A total that holds nothing, of a process that is gone, can go: no block
 * refers to it and no task of that process allocates any more. Without this,
 * a host's short-lived processes (a build's) would fill the totals in minutes.
 */
static bool prunable(const struct lt_ktotal_key *key, const struct lt_ktotal *v)
{
	return !v->bytes && !v->allocs && key->tgid && kill(key->tgid, 0) && errno == ESRCH;
}

/* The kernel stacks the totals name (tracer_maps_named_fn). */
static int kstacks_named(void *arg, __u64 **ids, size_t *n)
{
	struct kmem *k = arg;
	int fd = bpf_map__fd(k->skel->maps.ktotals);
	size_t cap = bpf_map__max_entries(k->skel->maps.ktotals), nr = 0;
	struct lt_ktotal_key key, next;
	__u64 *v = calloc(cap, sizeof(*v));
	void *prev = NULL;

	if (!v)
		return -ENOMEM;
	while (nr < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		v[nr++] = key.stack;
	}
	*ids = v;
	*n = nr;
	return 0;
}

int kmem__totals(struct kmem *k, struct lt_ktotal_key **keys, struct lt_ktotal **vals, size_t *n)
{
	int fd = bpf_map__fd(k->skel->maps.ktotals);
	size_t cap = bpf_map__max_entries(k->skel->maps.ktotals), nr = 0, read;
	struct lt_ktotal_key key, next, *ks = calloc(cap, sizeof(*ks));
	struct lt_ktotal *vs = calloc(cap, sizeof(*vs));
	void *prev = NULL;

	if (!ks || !vs) {
		free(ks);
		free(vs);
		return -ENOMEM;
	}
	while (nr < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &vs[nr]))
			continue; /* gone meanwhile */
		ks[nr++] = key;
	}
	read = nr;
	/* After the walk: a key deleted under get_next_key starts it again. */
	for (size_t i = 0, out = 0; i < read; i++) {
		if (prunable(&ks[i], &vs[i])) {
			bpf_map_delete_elem(fd, &ks[i]);
			nr--;
			continue;
		}
		ks[out] = ks[i];
		vs[out++] = vs[i];
	}
	/*
	 * The stacks only those totals named go too: the stack map would fill over a
	 * host's processes that come and go, and new stacks be dropped.
	 */
	if (nr < read)
		tracer_maps__drop_unnamed(bpf_map__fd(k->skel->maps.kstacks),
					  sizeof(struct lt_kstack), kstacks_named, k);
	*keys = ks;
	*vals = vs;
	*n = nr;
	return 0;
}

int kmem__stack(struct kmem *k, __u64 stack, __u64 *ips, int max)
{
	struct lt_kstack st = { 0 };
	int nr = 0;

	if (!stack || bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.kstacks), &stack, &st))
		return 0;
	while (nr < max && nr < LT_KMAX_FRAMES && st.ips[nr])
		ips[nr] = st.ips[nr], nr++;
	return nr;
}

/* The runs the kernel skipped, each program's (bpf_prog_info.recursion_misses, 5.12). */
static uint64_t missed(struct kmem *k)
{
	struct bpf_program *prog;
	uint64_t sum = 0;

	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

int kmem__lost(struct kmem *k, struct kmem_lost *lost)
{
	int err;

	memset(lost, 0, sizeof(*lost));
	err = tracer__percpu_sums(bpf_map__fd(k->skel->maps.kcounters), LT_NR_KCOUNTERS,
				  lost->counters);
	lost->missed = missed(k);
	return err;
}

void kmem__free(struct kmem *k)
{
	if (!k)
		return;
	kmem_bpf__destroy(k->skel);
	free(k);
}
