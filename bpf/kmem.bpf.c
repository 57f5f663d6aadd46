// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --kernel: every outstanding kernel allocation (slab objects, pages, per-CPU
 * blocks) by (address, space) in `kblocks`, summed per (kernel stack, space,
 * allocating process) in `ktotals`, from the kmem and percpu tracepoints. They
 * fire on every allocation of the host: a program does the least it can, one
 * block update and one atomic add to its total.
 *
 * The tracepoints' arguments changed over the releases (6.1 merged the _node
 * variants and gave kmem_cache_alloc its cache; 6.0 gave percpu_alloc_percpu
 * its caller and real size): the loader reads the running kernel's BTF and
 * loads the programs for its argument lists only (src/kmem.c). Raw
 * tracepoints, not tp_btf: their arguments are plain values, and kernels
 * before 6.18 refuse a tp_btf program that reads a `const void *` argument.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Preallocated: an allocation of the maps' own would be traced by the programs
 * that make it. Measured without (BPF_F_NO_PREALLOC, 6.18): the refills of the
 * map's element caches doubled the kmalloc events, page allocations were
 * missed by the thousand, each allocation cost twice as much. The price: ~120
 * bytes of kernel memory per --max-allocs block from the start.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20); /* set by the loader: --max-allocs */
	__type(key, struct lt_kblock_key);
	__type(value, struct lt_kblock);
} kblocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16); /* set by the loader: from --max-stacks */
	__type(key, struct lt_ktotal_key);
	__type(value, struct lt_ktotal);
} ktotals SEC(".maps");

/*
 * The stacks, by a 64-bit hash of their frames: a stack map (bpf_get_stackid)
 * drops a stack whose bucket another holds and never frees one, and under
 * --max-stacks 4096 lost thousands of allocations' stacks a second here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16); /* set by the loader: 4 * --max-stacks */
	__type(key, __u64);
	__type(value, struct lt_kstack);
} kstacks SEC(".maps");

/*
 * Each CPU's buffers for a stack being read, one per program that may run
 * inside another on that CPU (an interrupt's allocation during a task's).
 */
#define KSTACK_NEST 4

struct kscratch {
	__u32 depth;
	__u32 pad;
	struct lt_kstack s[KSTACK_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kscratch);
} kscratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_NR_KCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} kcounters SEC(".maps");

/* --sample-bytes: a CPU's bytes until its next sample, and its random state. */
struct ksample {
	__s64 left;
	__u64 rng;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ksample);
} ksample SEC(".maps");

const volatile __u64 page_size = 4096;
const volatile __u64 nr_cpus = 1; /* percpu_alloc_percpu before 6.0 gives the size of one */
/* --sample-bytes: mean bytes between samples (0: every allocation), seed, tables (leaktrace.h). */
const volatile __u64 sample_bytes = 0;
const volatile __u64 sample_seed = 1;
const volatile __u32 exp_draws[LT_EXP_DRAWS] = {};
const volatile __u32 est_steps[LT_EST_STEPS] = {};

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&kcounters, &which);

	if (c)
		*c += 1; /* per CPU; a nested program of the same CPU is refused by the kernel */
}

/* Sampled: whether this allocation of size bytes is recorded (a Poisson process by bytes). */
static __always_inline bool sampled(__u64 size)
{
	__u32 zero = 0, i;
	struct ksample *s = bpf_map_lookup_elem(&ksample, &zero);

	if (!s)
		return false;
	if (!s->rng)
		s->rng = sample_seed ^
			 ((__u64)bpf_get_smp_processor_id() + 1) * 0x9e3779b97f4a7c15ULL;
	s->left -= size;
	if (s->left > 0)
		return false;
	/* xorshift64*: the next exponential draw */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	i = (s->rng * 0x2545f4914f6cdd1dULL) >> 54;
	s->left = (sample_bytes * exp_draws[i & (LT_EXP_DRAWS - 1)]) >> 16;
	return true;
}

/* The unbiased estimate of a sample of size bytes: size / (1 - exp(-size/mean)). */
static __always_inline __u64 estimate(__u64 size)
{
	__u64 i;

	if (!sample_bytes || size >= 16 * sample_bytes)
		return size;
	i = (size << 8) / sample_bytes;
	return (sample_bytes * est_steps[i & (LT_EST_STEPS - 1)]) >> 16;
}

static __always_inline __s64 est_allocs(const struct lt_kblock *b)
{
	return b->size ? b->est_bytes * LT_EST_ALLOCS_ONE / b->size : LT_EST_ALLOCS_ONE;
}

/* The stack's total in this process, made with its context at its first block. */
static __always_inline struct lt_ktotal *total_get(const struct lt_ktotal_key *key, __u64 call_site,
						   const struct kmem_cache *s)
{
	struct lt_ktotal *t = bpf_map_lookup_elem(&ktotals, key);
	struct lt_ktotal z = {};

	if (t)
		return t;
	z.call_site = call_site;
	z.cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(z.comm, sizeof(z.comm));
	if (s)
		bpf_probe_read_kernel_str(z.cache, sizeof(z.cache), BPF_CORE_READ(s, name));
	/* Another CPU may make it meanwhile: either one is kept, both equal but for context. */
	bpf_map_update_elem(&ktotals, key, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ktotals, key);
}

static __always_inline void total_sub(const struct lt_kblock *b, __u64 addr)
{
	struct lt_ktotal *t = bpf_map_lookup_elem(&ktotals, &b->total);

	if (!t)
		return;
	__sync_fetch_and_add(&t->bytes, -(__s64)b->size);
	__sync_fetch_and_add(&t->allocs, -1);
	__sync_fetch_and_add(&t->est_bytes, -(__s64)b->est_bytes);
	__sync_fetch_and_add(&t->est_allocs, -est_allocs(b));
	if (t->oldest_addr == addr)
		t->oldest_addr = 0;
}

static __always_inline void total_add(struct lt_ktotal *t, const struct lt_kblock *b, __u64 addr)
{
	__sync_fetch_and_add(&t->bytes, b->size);
	__sync_fetch_and_add(&t->allocs, 1);
	__sync_fetch_and_add(&t->est_bytes, b->est_bytes);
	__sync_fetch_and_add(&t->est_allocs, est_allocs(b));
	if (!t->oldest_addr) {
		t->oldest_ts = b->ts;
		t->oldest_addr = addr;
	}
}

/*
 * A block at an address still recorded: its free was not seen (a bulk free
 * without a tracepoint): it is replaced, and its old record taken off its total.
 */
static __always_inline int replace(const struct lt_kblock_key *k, const struct lt_kblock *b)
{
	struct lt_kblock *old = bpf_map_lookup_elem(&kblocks, k);

	if (old)
		total_sub(old, k->addr);
	return bpf_map_update_elem(&kblocks, k, b, BPF_ANY);
}

/* The current kernel stack stored in kstacks: its key, or 0 when it could not be. */
static __always_inline __u64 stack_record(void *ctx)
{
	struct kscratch *sc;
	struct lt_kstack *st;
	__u64 h = 0x6b6d656d;
	__u32 zero = 0, nr;
	long n;

	sc = bpf_map_lookup_elem(&kscratch, &zero);
	if (!sc || sc->depth >= KSTACK_NEST)
		return 0;
	st = &sc->s[sc->depth++ & (KSTACK_NEST - 1)];
	/* The frames it could not fill are zeroed. */
	n = bpf_get_stack(ctx, st->ips, sizeof(st->ips), 0);
	nr = n > 0 ? n / sizeof(__u64) : 0;
	for (__u32 i = 0; i < LT_KMAX_FRAMES && i < nr; i++)
		h = lt_mix(h, st->ips[i]);
	h |= 1;
	/* Most stacks are there already: one lookup. */
	if (!nr || (!bpf_map_lookup_elem(&kstacks, &h) &&
		    bpf_map_update_elem(&kstacks, &h, st, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&kstacks, &h)))
		h = 0;
	sc->depth--;
	return h;
}

static __always_inline int on_alloc(void *ctx, __u64 addr, __u32 space, __u64 size, __u64 call_site,
				    const struct kmem_cache *s)
{
	struct lt_kblock_key k = { .addr = addr, .space = space };
	struct lt_kblock b = {};
	struct lt_ktotal *t;
	long err;

	if (!addr || !size || (sample_bytes && !sampled(size)))
		return 0;
	b.total.stack = stack_record(ctx);
	if (!b.total.stack)
		count(LT_K_STACKS_DROPPED);
	b.total.space = space;
	b.total.tgid = bpf_get_current_pid_tgid() >> 32;
	b.size = size;
	b.est_bytes = estimate(size);
	b.ts = bpf_ktime_get_ns();
	t = total_get(&b.total, call_site, s);
	if (!t && b.total.stack) {
		/* The totals are full (--max-stacks): kept under no stack, as a stack dropped. */
		count(LT_K_STACKS_DROPPED);
		b.total.stack = 0;
		t = total_get(&b.total, call_site, s);
	}
	if (!t) {
		count(LT_K_ALLOCS_UNTRACKED);
		return 0;
	}
	err = bpf_map_update_elem(&kblocks, &k, &b, BPF_NOEXIST);
	if (err == -17 /* EEXIST */)
		err = replace(&k, &b);
	if (err) {
		count(err == -16 /* EBUSY */ ? LT_K_MAP_BUSY : LT_K_ALLOCS_UNTRACKED);
		return 0;
	}
	total_add(t, &b, addr);
	return 0;
}

static __always_inline int on_free(__u64 addr, __u32 space)
{
	struct lt_kblock_key k = { .addr = addr, .space = space };
	struct lt_kblock *p, b;

	if (!addr)
		return 0;
	p = bpf_map_lookup_elem(&kblocks, &k);
	if (!p) {
		/* Sampled: most blocks freed were never recorded. */
		if (!sample_bytes)
			count(LT_K_FREES_UNKNOWN);
		return 0;
	}
	b = *p;
	if (bpf_map_delete_elem(&kblocks, &k)) {
		count(LT_K_MAP_BUSY);
		return 0;
	}
	total_sub(&b, addr);
	return 0;
}

/* kmalloc: (call_site, ptr, bytes_req, bytes_alloc, gfp_flags[, node]) on every release. */
SEC("raw_tp/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t req, size_t alloc)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_SLAB, alloc, call_site, NULL);
}

/* Before 6.1: kmalloc_node, kmem_cache_alloc(_node) with the same first arguments. */
SEC("raw_tp/kmalloc_node")
int BPF_PROG(kmalloc_node, unsigned long call_site, const void *ptr, size_t req, size_t alloc)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_SLAB, alloc, call_site, NULL);
}

SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_sized, unsigned long call_site, const void *ptr, size_t req,
	     size_t alloc)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_SLAB, alloc, call_site, NULL);
}

SEC("raw_tp/kmem_cache_alloc_node")
int BPF_PROG(kmem_cache_alloc_node_sized, unsigned long call_site, const void *ptr, size_t req,
	     size_t alloc)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_SLAB, alloc, call_site, NULL);
}

/* 6.1 and later: (call_site, ptr, struct kmem_cache *s, gfp_flags, node). */
SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_cache, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_SLAB, BPF_CORE_READ(s, size), call_site, s);
}

SEC("raw_tp/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
	return on_free((__u64)ptr, LT_KSPACE_SLAB);
}

/* (call_site, ptr, name) before 6.1, (call_site, ptr, s) since. */
SEC("raw_tp/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr)
{
	return on_free((__u64)ptr, LT_KSPACE_SLAB);
}

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(mm_page_alloc, struct page *page, unsigned int order)
{
	return on_alloc(ctx, (__u64)page, LT_KSPACE_PAGE, page_size << order, 0, NULL);
}

SEC("raw_tp/mm_page_free")
int BPF_PROG(mm_page_free, struct page *page, unsigned int order)
{
	return on_free((__u64)page, LT_KSPACE_PAGE);
}

/* 6.0 and later: (call_site, reserved, is_atomic, size, align, base_addr, off, ptr, bytes_alloc, gfp). */
SEC("raw_tp/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc, unsigned long call_site, bool reserved, bool is_atomic, size_t size,
	     size_t align, void *base_addr, int off, void *ptr, size_t bytes_alloc)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_PERCPU, bytes_alloc, call_site, NULL);
}

/* Before 6.0: (reserved, is_atomic, size, align, base_addr, off, ptr), size per CPU. */
SEC("raw_tp/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_old, bool reserved, bool is_atomic, size_t size, size_t align,
	     void *base_addr, int off, void *ptr)
{
	return on_alloc(ctx, (__u64)ptr, LT_KSPACE_PERCPU, size * nr_cpus, 0, NULL);
}

SEC("raw_tp/percpu_free_percpu")
int BPF_PROG(percpu_free, void *base_addr, int off, void *ptr)
{
	return on_free((__u64)ptr, LT_KSPACE_PERCPU);
}
