// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Probes on the allocator entry points: every outstanding allocation is kept
 * by (tgid, address), in its slot of `blocks` or else in `allocs`, and summed
 * per (tgid, stack) in `totals` so that user space reads O(stacks) per
 * snapshot. A thread's call state, from an allocator function's entry to its
 * return, is in its slot of `threads` or else in `calls`. Slots are array
 * elements the programs reach without a helper call: most calls touch no hash
 * but `totals`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "block_slot.h"
#include "arch.bpf.h"
#include "helpers.bpf.h"
#include "unwind.bpf.h"
#include "mappings.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Where a thread is inside the allocator, between entry and return. */
struct call {
	__u64 pid_tgid; /* in a thread slot: the thread that holds it, 0 when free */
	__u64 who;	/* (tgid, generation): the thread's process as it was traced */
	__u64 size;
	__u64 ptr;	     /* realloc's old block, munmap's address */
	__u64 memptr;	     /* posix_memalign's out parameter */
	struct lt_alloc old; /* realloc's old block, restored if realloc fails */
	__u32 func;	     /* enum lt_func of the outermost call */
	__u32 depth;	     /* nesting: realloc(NULL, n) calls malloc inside */
	__u64 depth_sp;	     /* the stack pointer at the outermost call's probe */
	__u32 have_old;
	__u32 pad;
	__u64 last_freed;  /* operator delete frees, then calls free on it too */
	__s64 sample_left; /* --sample-bytes: bytes until this thread's next sample */
	__u64 rng;	   /* its random state; 0 until the first draw */
	__u32 sampled;	   /* the outermost call is recorded */
	__u32 pad2;
	/*
	 * Uprobe sessions, --sample-bytes: the last outermost call not sampled
	 * skipped its return probe, so its end is not seen. Its stack pointer at
	 * entry, return address and probe address tell the calls it makes itself
	 * from the program's next ones (inside_skipped()).
	 */
	__u64 skip_sp;
	__u64 skip_ret;
	__u64 skip_ip;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20); /* set by the loader: --max-allocs */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lt_alloc_key);
	__type(value, struct lt_alloc);
} allocs SEC(".maps");

/* The block slots (see struct lt_block_slot), read by user space where they are mapped. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the loader: block_slot_nr */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lt_block_slot);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 15); /* set by the loader: 2 x --max-stacks */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lt_total_key);
	__type(value, struct lt_total);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14); /* set by the loader: --max-stacks */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct lt_stack);
} stacks SEC(".maps");

/* Start addresses of the recorded anonymous mappings, to split them on munmap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lt_alloc_key);
	__type(value, __u64);
} mmaps SEC(".maps");

/*
 * The threads' call state: in the slot at the thread id modulo their number,
 * found without a helper call (5.13+: a slot is taken with cmpxchg), or in
 * calls, keyed by pid_tgid, for a thread whose slot another holds.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the loader: thread_slot_mask + 1 */
	__type(key, __u32);
	__type(value, struct call);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 15);
	__type(key, __u64);
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct lt_target);
} targets SEC(".maps");

/* Unmatched frees of processes traced from exec, by the address free returns to. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 12);
	__type(key, struct lt_alloc_key);
	__type(value, __u64);
} unmatched SEC(".maps");

/*
 * A stack being recorded, and the part of the user stack the frame pointer
 * walk read last (see frame_get()).
 */
#define STACK_WINDOW 1024 /* bytes at most, read with one helper call */

struct scratch {
	struct lt_stack st;
	__u32 unwalked; /* st has the depth and hash of a memo's walk, not its frames */
	__u64 window[STACK_WINDOW / 8];
	/*
	 * A thread's new call state, built here: on the BPF stack it left the
	 * session program too little of it for the walk's global functions.
	 */
	struct call call;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
/* --sample-bytes: mean bytes between samples (0: every allocation), seed, tables. */
const volatile __u64 sample_bytes = 0;
const volatile __u64 sample_seed = 1;
const volatile __u32 exp_draws[LT_EXP_DRAWS] = {};
const volatile __u32 est_steps[LT_EST_STEPS] = {};

/* -a: every process that execs is traced (but leaktrace itself), and children follow. */
const volatile bool follow_new = false;
const volatile bool follow_children = false;
const volatile __u32 self_tgid = 0;
/* --comm: only processes of that name. */
const volatile bool has_comm_filter = false;
const volatile char comm_filter[LT_COMM_LEN] = {};
/* The thread slots: their number less one (a power of two); the block slots' number. */
const volatile bool thread_slots = false;
const volatile __u32 thread_slot_mask = 0;
const volatile bool block_slots = false;
const volatile __u32 block_slot_nr = 1;

/*
 * Uprobe sessions (6.13+): one program at entry and return. Only the session
 * program calls it; older kernels lack it, and that program is not loaded there.
 */
extern bool bpf_session_is_return(void) __ksym __weak;

/* What a session's entry program returns: keep or skip the return probe of this call. */
enum { RUN_RETURN, SKIP_RETURN };

static __always_inline void count(enum lt_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1;
}

struct frame {
	__u64 next;
	__u64 ret;
};

/*
 * Reads the user stack from fp into the scratch window: as much of it as
 * STACK_WINDOW holds within fp's page (never a page past the stack's top),
 * the frame record at least. Returns the bytes read, 0 when it could not.
 * A global function: the verifier checks it once, not at each frame of a
 * walk (that tripled the time the session program took to load).
 */
__noinline int window_fill(__u64 fp)
{
	__u64 n = 4096 - (fp & 4095);
	struct scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	if (n > STACK_WINDOW)
		n = STACK_WINDOW;
	if (n < sizeof(struct frame))
		n = sizeof(struct frame);
	return bpf_probe_read_user(sc->window, n, (void *)fp) ? 0 : n;
}

/*
 * The frame record at fp. Frames sit close together on the stack: one read
 * of a window from a frame holds the next ones too, which then cost no helper
 * call ([base, base + len) is what sc->window holds).
 */
static __always_inline int frame_get(struct scratch *sc, __u64 *base, __u64 *len, __u64 fp,
				     struct frame *f)
{
	__u64 off = fp - *base;

	if (off + sizeof(*f) > *len || fp < *base) {
		*len = window_fill(fp);
		if (!*len)
			return -1;
		*base = fp;
		off = 0;
	}
	off /= 8;
	f->next = sc->window[off & (STACK_WINDOW / 8 - 1)];
	f->ret = sc->window[(off + 1) & (STACK_WINDOW / 8 - 1)];
	return 0;
}

/*
 * Walk the frame pointer chain from a return probe, into the scratch stack
 * whose frame 0 (the return address, the allocator's caller) is there
 * already: outer frames follow fp while each frame lies above the last one
 * and within stack_span of the stack pointer. User space cuts the walk where
 * a function does not keep a frame pointer. Returns h mixed with each frame.
 * A global function: the verifier checks it once, not on each path of a
 * program that comes to it.
 */
__noinline __u64 fp_walk(__u64 fp, __u64 sp, __u64 h)
{
	__u64 floor = sp, base = 0, len = 0;
	__u32 zero = 0, nr = 1;
	struct scratch *sc;
	struct frame frame;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return h;
	for (int i = 1; i < LT_MAX_FRAMES; i++) {
		if (fp < floor || fp - sp > stack_span || (fp & 7))
			break;
		if (frame_get(sc, &base, &len, fp, &frame) || !frame.ret)
			break;
		sc->st.ips[i] = frame.ret;
		h = mix(h, frame.ret);
		nr++;
		floor = fp + sizeof(frame);
		fp = frame.next;
	}
	sc->st.nr = nr;
	return h;
}

/*
 * The walk by unwind tables into the scratch stack, as fp_walk: a global
 * function, so that the verifier checks its loop over the frames once, not once
 * per way the program comes to it (that was a third of the session program's
 * load time, the most of leaktrace's start).
 */
__noinline __u64 tables_walk(__u64 ip, __u64 sp, __u64 fp, __u64 h, __u32 memo)
{
	struct scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return h;
	sc->st.nr = unwind_walk(ip, sp, fp, &sc->st, &h, memo, &sc->unwalked);
	return h;
}

/*
 * Record the stack of a return probe (the frame pointer walk or, with
 * --unwind=dwarf, the unwind tables'), and return its id.
 *
 * A stack the process already has a total for is stored: its total is looked
 * up instead of the stack (one lookup, where most allocations end), and left
 * in *total for the caller.
 */
static __always_inline __u64 stack_record(struct pt_regs *ctx, __u32 kind, __u64 who,
					  struct lt_total **total)
{
	__u64 ip = PT_REGS_IP(ctx), h = mix(0x6c65616b, kind), h0;
	struct scratch *sc;
	struct lt_stack *st;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return lt_stack_none(kind);
	st = &sc->st;
	st->ips[0] = ip;
	h = h0 = mix(h, ip);
	st->flags = 0;
	sc->unwalked = 0;
	if (unwind_mode == LT_UNWIND_DWARF)
		h = tables_walk(ip, PT_REGS_SP(ctx), PT_REGS_FP(ctx), h, 1);
	else
		h = fp_walk(PT_REGS_FP(ctx), PT_REGS_SP(ctx), h);
	if (lt_stack_is_none(h))
		h += LT_STACK_NONE_END;
	if (total) {
		struct lt_total_key key = { .tgid = (__u32)who, .gen = who >> 32, .stack_id = h };

		*total = bpf_map_lookup_elem(&totals, &key);
		if (*total)
			return h;
	}
	if (bpf_map_lookup_elem(&stacks, &h))
		return h;
	/* A stack new to the map, its walk taken from a memo: walked now for its frames. */
	if (sc->unwalked)
		h = tables_walk(ip, PT_REGS_SP(ctx), PT_REGS_FP(ctx), h0, 0);
	if (bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&stacks, &h)) {
		count(LT_STACKS_DROPPED);
		return lt_stack_none(kind);
	}
	return h;
}

static __always_inline struct lt_total *total_get(__u64 who, __u64 stack_id, __u32 kind)
{
	struct lt_total_key key = { .tgid = (__u32)who, .gen = who >> 32, .stack_id = stack_id };
	struct lt_total *t, zero = { .kind = kind };

	t = bpf_map_lookup_elem(&totals, &key);
	if (t)
		return t;
	bpf_map_update_elem(&totals, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&totals, &key);
}

static __always_inline int counted(__u64 size)
{
	return size >= min_size && size <= max_size;
}

/* Subtract a block from its stack's total; bytes may be part of the block (munmap). */
/* The estimated allocations a sample stands for, in 1/LT_EST_ALLOCS_ONE. */
static __always_inline __s64 est_allocs(const struct lt_alloc *a)
{
	return a->size ? a->est_bytes * LT_EST_ALLOCS_ONE / a->size : LT_EST_ALLOCS_ONE;
}

static __always_inline void total_sub(__u64 who, const struct lt_alloc *a, __u64 addr, __u64 bytes,
				      __s64 allocs)
{
	struct lt_total_key key = { .tgid = (__u32)who, .gen = who >> 32, .stack_id = a->stack_id };
	struct lt_total *t;

	if (!counted(a->size))
		return;
	t = bpf_map_lookup_elem(&totals, &key);
	if (!t)
		return;
	__sync_fetch_and_add(&t->bytes, -(__s64)bytes);
	if (allocs)
		__sync_fetch_and_add(&t->allocs, -allocs);
	if (sample_bytes) {
		/* A whole block takes its estimate away; a cut of a mapping, its bytes. */
		__sync_fetch_and_add(&t->est_bytes, allocs ? -(__s64)a->est_bytes : -(__s64)bytes);
		if (allocs)
			__sync_fetch_and_add(&t->est_allocs, -est_allocs(a));
	}
	if (t->oldest_addr == addr)
		t->oldest_addr = 0;
}

static __always_inline void total_add(struct lt_total *t, const struct lt_alloc *a, __u64 addr)
{
	__sync_fetch_and_add(&t->bytes, a->size);
	__sync_fetch_and_add(&t->allocs, 1);
	if (sample_bytes) {
		__sync_fetch_and_add(&t->est_bytes, a->est_bytes);
		__sync_fetch_and_add(&t->est_allocs, est_allocs(a));
	}
	if (!t->oldest_addr) {
		t->oldest_ts = a->ts;
		t->oldest_addr = addr;
	}
}

/* The j-th slot a block at addr in process who may take, whatever it holds; NULL without slots. */
static __always_inline struct lt_block_slot *block_slot_probe(__u64 who, __u64 addr, __u32 j)
{
	__u32 i = lt_block_slot_probe(addr, who, j, block_slot_nr);

	return block_slots ? bpf_map_lookup_elem(&blocks, &i) : NULL;
}

/*
 * The slots a block at addr may have, in probe order, each looked up once per
 * call; the first counts those of its blocks in allocs.
 */
struct block_probes {
	struct lt_block_slot *s[LT_BLOCK_PROBES];
};

static __always_inline void block_probes_get(__u64 who, __u64 addr, struct block_probes *p)
{
#pragma unroll
	for (__u32 j = 0; j < LT_BLOCK_PROBES; j++)
		p->s[j] = block_slot_probe(who, addr, j);
}

static __always_inline bool slot_holds(const struct lt_block_slot *s, __u64 who, __u64 addr)
{
	return s->key.addr == addr && s->key.tgid == (__u32)who && s->key.gen == who >> 32;
}

/* Writes a slot taken (its address LT_SLOT_BUSY), then publishes it. */
static __always_inline bool slot_write(struct lt_block_slot *s, __u64 who, __u64 addr,
				       const struct lt_alloc *a)
{
	s->key.tgid = who;
	s->key.gen = who >> 32;
	s->rec = *a;
	lt_slot_publish(s, addr);
	return true;
}

/*
 * Store a heap block in one of its slots: the one with a stale record of the
 * same address (a free we missed, replaced), else the first free one. Taken
 * with cmpxchg, written, then published with xchg, so that a reader never sees
 * half a record.
 */
static __always_inline bool slot_insert(const struct block_probes *p, __u64 who, __u64 addr,
					const struct lt_alloc *a)
{
	struct lt_block_slot *s;

	if (a->kind != LT_KIND_HEAP)
		return false;
#pragma unroll
	for (__u32 j = 0; j < LT_BLOCK_PROBES; j++) {
		s = p->s[j];
		if (!s || !slot_holds(s, who, addr))
			continue;
		if (!lt_slot_take(s, addr))
			return false;
		total_sub(who, &s->rec, addr, s->rec.size, 1);
		return slot_write(s, who, addr, a);
	}
#pragma unroll
	for (__u32 j = 0; j < LT_BLOCK_PROBES; j++) {
		s = p->s[j];
		if (s && !s->key.addr && lt_slot_take(s, 0))
			return slot_write(s, who, addr, a);
	}
	return false;
}

/*
 * Take the block at addr out of its slot; 0 and its record in *out if it was
 * there. The first probe's slot is in *first; the others are looked up only
 * when it does not hold the block.
 */
static __always_inline int slot_remove(__u64 who, __u64 addr, struct lt_block_slot **first,
				       struct lt_alloc *out)
{
	struct lt_block_slot *s = NULL;

	*first = block_slot_probe(who, addr, 0);
	if (*first && slot_holds(*first, who, addr))
		s = *first;
#pragma unroll
	for (__u32 j = 1; j < LT_BLOCK_PROBES; j++) {
		if (s)
			break;
		s = block_slot_probe(who, addr, j);
		if (s && !slot_holds(s, who, addr))
			s = NULL;
	}
	if (!s)
		return -1;
	*out = s->rec;
	/* Of two racing frees of one block, only the one that frees the slot counts. */
	return lt_slot_release(s, addr) ? 0 : -1;
}

/* A heap record of an address of slot s went into allocs (+1) or out of it (-1). */
static __always_inline void hashed_count(struct lt_block_slot *s, __u32 kind, __s64 delta)
{
	if (s && kind == LT_KIND_HEAP)
		lt_slot_count_hashed(s, delta);
}

/*
 * Remove the heap block at addr, of slot s, from the allocs hash; 0 and its
 * record in *out if it was there. With slots, only a slot that counts hashed
 * blocks sends us looking.
 */
static __always_inline int hash_remove(struct lt_block_slot *s, __u64 who, __u64 addr,
				       struct lt_alloc *out)
{
	struct lt_alloc_key key = { .tgid = (__u32)who, .gen = who >> 32, .addr = addr };
	struct lt_alloc *a;

	if (s && !s->hashed)
		return -1;
	a = bpf_map_lookup_elem(&allocs, &key);
	if (!a)
		return -1;
	*out = *a;
	/* Of two racing frees of one block, only the one whose delete succeeds counts. */
	if (bpf_map_delete_elem(&allocs, &key))
		return -1;
	hashed_count(s, out->kind, -1);
	return 0;
}

/*
 * Store a block, and add it to its stack's total t (NULL: looked up here); a
 * stale record at the same address (a free we missed) is replaced.
 */
static __always_inline void alloc_insert(__u64 who, __u64 addr, const struct lt_alloc *a,
					 struct lt_total *t)
{
	struct lt_alloc_key key = { .tgid = (__u32)who, .gen = who >> 32, .addr = addr };
	struct block_probes p = {};
	struct lt_block_slot *s;
	struct lt_alloc *stale, old;

	if (!counted(a->size)) {
		t = NULL;
	} else if (!t) {
		t = total_get(who, a->stack_id, a->kind);
		if (!t) {
			count(LT_ALLOCS_UNTRACKED);
			return;
		}
	}
	if (a->kind == LT_KIND_HEAP)
		block_probes_get(who, addr, &p);
	s = p.s[0];
	if (slot_insert(&p, who, addr, a)) {
		/* A stale record of this address may be in the hash instead. */
		if (!hash_remove(s, who, addr, &old))
			total_sub(who, &old, addr, old.size, 1);
	} else if (bpf_map_update_elem(&allocs, &key, a, BPF_NOEXIST) == 0) {
		hashed_count(s, a->kind, 1);
	} else {
		stale = bpf_map_lookup_elem(&allocs, &key);
		if (!stale) {
			count(LT_ALLOCS_UNTRACKED);
			return;
		}
		total_sub(who, stale, addr, stale->size, 1);
		hashed_count(s, stale->kind, -1);
		hashed_count(s, a->kind, 1);
		*stale = *a;
	}
	if (t)
		total_add(t, a, addr);
}

/* Remove the block at addr; returns 0 and its record in *out if it was ours. */
static __always_inline int alloc_remove(__u64 who, __u64 addr, struct lt_alloc *out)
{
	struct lt_block_slot *s;

	if (slot_remove(who, addr, &s, out) && hash_remove(s, who, addr, out))
		return -1;
	total_sub(who, out, addr, out->size, 1);
	return 0;
}

/*
 * A free that matched no block. In a process traced since exec, user space
 * tells by the call site whether the allocator freed memory it had taken for
 * itself (glibc's per-thread cache, freed at thread exit) or something was missed.
 */
static __always_inline void count_unmatched_free(struct pt_regs *ctx, __u64 who)
{
	struct lt_alloc_key site = { .tgid = (__u32)who, .gen = who >> 32 };
	__u32 tgid = who;
	struct lt_target *t = bpf_map_lookup_elem(&targets, &tgid);
	__u64 one = 1, *n;

	if (!t || !(t->flags & LT_TARGET_FROM_START)) {
		count(LT_FREES_BEFORE_ATTACH);
		return;
	}
	count(LT_FREES_UNMATCHED);
	/* At the entry of free (its probe keeps the entry's stack pointer). */
	if (arch_entry_ret(ctx, &site.addr))
		return;
	n = bpf_map_lookup_elem(&unmatched, &site);
	if (!n && bpf_map_update_elem(&unmatched, &site, &one, BPF_NOEXIST) == 0)
		return;
	/* Two threads may count the same site at once: the second adds to the first's. */
	if (!n)
		n = bpf_map_lookup_elem(&unmatched, &site);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The thread's slot, whoever holds it; NULL without slots. */
static __always_inline struct call *thread_slot(__u64 pid_tgid)
{
	__u32 slot = (__u32)pid_tgid & thread_slot_mask;

	return thread_slots ? bpf_map_lookup_elem(&threads, &slot) : NULL;
}

/* The current thread's call state, if it has one. */
static __always_inline struct call *thread_find(__u64 pid_tgid)
{
	struct call *c = thread_slot(pid_tgid);

	if (c && c->pid_tgid == pid_tgid)
		return c;
	return bpf_map_lookup_elem(&calls, &pid_tgid);
}

/* exec or exit: the thread's call state goes. */
static __always_inline void thread_forget(__u64 pid_tgid)
{
	struct call *c = thread_slot(pid_tgid);

	if (!c || __sync_val_compare_and_swap(&c->pid_tgid, pid_tgid, 0) != pid_tgid)
		bpf_map_delete_elem(&calls, &pid_tgid);
}

/*
 * The call state of the current thread of a traced process, created at its
 * first allocator call with the process's (tgid, generation), so that one
 * lookup per call tells both. exec and the thread's exit delete it. *who is
 * 0 when the process is not traced; the state is NULL then, or when the map
 * is full (the thread's frees still count).
 */
static __always_inline struct call *thread_get(__u64 pid_tgid, __u64 *who)
{
	__u32 tgid = pid_tgid >> 32, zero = 0;
	struct scratch *sc;
	struct lt_target *t;
	struct call *c;

	c = thread_find(pid_tgid);
	if (c) {
		*who = c->who;
		return c;
	}
	*who = 0;
	t = bpf_map_lookup_elem(&targets, &tgid);
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!t || !sc)
		return NULL;
	__builtin_memset(&sc->call, 0, sizeof(sc->call));
	sc->call.pid_tgid = pid_tgid;
	sc->call.who = *who = (__u64)t->gen << 32 | tgid;
	c = thread_slot(pid_tgid);
	if (c && __sync_val_compare_and_swap(&c->pid_tgid, 0, pid_tgid) == 0) {
		*c = sc->call;
		return c;
	}
	bpf_map_update_elem(&calls, &pid_tgid, &sc->call, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&calls, &pid_tgid);
	if (!c)
		count(LT_THREADS_UNTRACKED); /* the map is full */
	return c;
}

/* xorshift64*: a thread's own stream, so that a seed gives the same samples again. */
static __always_inline __u64 next_random(struct call *c)
{
	__u64 x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Bytes to the next sample: exponential with mean sample_bytes (a Poisson process). */
static __always_inline __s64 next_interval(struct call *c)
{
	__u32 i = next_random(c) >> 54; /* 10 bits: LT_EXP_DRAWS */

	return (sample_bytes * exp_draws[i & (LT_EXP_DRAWS - 1)]) >> 16;
}

/* Poisson sampling over bytes, as jemalloc and tcmalloc do: size's chance is 1 - exp(-size/mean). */
static __always_inline __u32 sample(struct call *c, __u64 size, __u64 pid_tgid)
{
	/* Seeded by the thread's place in its process, not its pid: a seed gives the same samples. */
	if (!c->rng) {
		__u64 z = sample_seed +
			  ((__u32)pid_tgid - (__u32)(pid_tgid >> 32) + 1) * 0x9e3779b97f4a7c15ULL;

		/* splitmix64: neighbouring seeds give unrelated streams. */
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		c->rng = (z ^ (z >> 31)) | 1;
		c->sample_left = next_interval(c);
	}
	c->sample_left -= size;
	if (c->sample_left > 0)
		return 0;
	c->sample_left = next_interval(c);
	return 1;
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

/*
 * Sessions, sampled mode: is this call made from inside the last call not
 * sampled, whose return was skipped (malloc's own mmap for a big block)? It
 * is when it runs below that call's entry stack pointer, or at it in another
 * function (a tail call: new[] jumps to new), and the slot there still holds
 * that call's return address: a call the program makes later from deeper
 * down has overwritten the slot with its own return address, unless its
 * caller moved its stack pointer without a call first and reused the call site.
 */
static __always_inline int inside_skipped(struct pt_regs *ctx, struct call *c)
{
	__u64 ret, sp = PT_REGS_SP(ctx);

	if (!c->skip_sp || sp > c->skip_sp ||
	    (sp == c->skip_sp && bpf_get_func_ip(ctx) == c->skip_ip) ||
	    bpf_probe_read_user(&ret, sizeof(ret), (void *)c->skip_sp))
		return 0;
	if (ret == c->skip_ret)
		return 1;
	/*
	 * Another tool's return probe on the same function put the kernel's
	 * trampoline in the slot: the kernel keeps the return address among the
	 * thread's pending returns.
	 */
	return uretprobe_original(c->skip_sp) == c->skip_ret;
}

/*
 * Entry of an allocating function: remember its arguments until it returns.
 * Returns whether its return probe must run (sessions skip the others): not
 * for calls inside an outer one, nor with a session for a call not sampled
 * (but realloc's, which may have to put the old block back).
 */
static __always_inline int enter(struct pt_regs *ctx, bool session, enum lt_func func, __u64 size,
				 __u64 ptr, __u64 memptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), who;
	struct call *c;

	c = thread_get(pid_tgid, &who);
	if (!c)
		return SKIP_RETURN;
	/*
	 * A call above the outer one's stack pointer is not inside it, nor one at
	 * it (but a tail call, like new[] jumping to new, whose return slot the
	 * outer call's return probe holds): the outer call returned unseen, as it
	 * began before its return probe was there.
	 */
	if (c->depth && (PT_REGS_SP(ctx) > c->depth_sp ||
			 (PT_REGS_SP(ctx) == c->depth_sp && !uretprobe_original(c->depth_sp))))
		c->depth = 0;
	/* Inside the allocator: the outer call is the one that counts. */
	if (c->depth) {
		/* A session skips the inner call's return: depth counts only the outer one. */
		if (session)
			return SKIP_RETURN;
		c->depth++;
		return RUN_RETURN;
	}
	if (session && sample_bytes && inside_skipped(ctx, c))
		return SKIP_RETURN;
	c->skip_sp = 0;
	c->func = func;
	c->size = size;
	c->sampled = !sample_bytes || func == LT_MMAP || sample(c, size, pid_tgid);
	c->ptr = ptr;
	c->memptr = memptr;
	c->have_old = 0;
	if ((func == LT_REALLOC || func == LT_XALLOCX) && ptr) {
		/* Forget the old block before realloc can free it for another thread to reuse. */
		c->have_old = alloc_remove(who, ptr, &c->old) == 0;
	}
	if (session && !c->sampled && func != LT_REALLOC && func != LT_XALLOCX &&
	    !arch_ret_slot(ctx, &c->skip_ret)) {
		c->skip_sp = PT_REGS_SP(ctx);
		c->skip_ip = bpf_get_func_ip(ctx);
		return SKIP_RETURN;
	}
	c->depth = 1;
	c->depth_sp = PT_REGS_SP(ctx);
	return RUN_RETURN;
}

static __always_inline __u64 mul_or_max(__u64 a, __u64 b)
{
	__u64 limit;

	if (!b)
		return 0;
	limit = ~0ULL / b;
	/* Keep clang from turning the check into a 128-bit multiply, which BPF lacks. */
	asm volatile("" : "+r"(limit));
	return a > limit ? ~0ULL : a * b;
}

/* The return of every allocating function: store the block it handed out. */
static __always_inline int on_return(struct pt_regs *ctx, __u64 ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), who;
	struct lt_total *t = NULL;
	struct lt_alloc a = {};
	bool restore = false;
	struct call *c;
	__u64 addr = ret;

	c = thread_find(pid_tgid);
	if (!c || !c->depth || --c->depth)
		return 0;
	who = c->who;
	switch (c->func) {
	case LT_POSIX_MEMALIGN:
		if (ret || bpf_probe_read_user(&addr, sizeof(addr), (void *)c->memptr))
			addr = 0;
		break;
	case LT_MMAP:
		if (ret == ~0ULL || !c->size)
			addr = 0;
		a.kind = LT_KIND_MMAP;
		c->size = (c->size + page_size - 1) & ~(page_size - 1);
		break;
	case LT_REALLOC:
		/* realloc failed: the old block is still the caller's. */
		restore = !ret && c->have_old && c->size;
		break;
	case LT_XALLOCX:
		/* It returns the size the block has now: at least the one asked, or it failed. */
		addr = ret >= c->size ? c->ptr : 0;
		restore = !addr && c->have_old;
		break;
	}
	/* One place stores a block: the programs verify faster. */
	if (restore) {
		addr = c->ptr;
		a = c->old;
	} else if (!addr || !c->sampled) {
		return 0; /* failed, or not sampled: no stack walk, no map update */
	} else {
		a.size = c->size;
		a.est_bytes = a.kind == LT_KIND_MMAP ? a.size : estimate(a.size);
		a.ts = bpf_ktime_get_ns();
		a.stack_id = stack_record(ctx, a.kind, who, counted(a.size) ? &t : NULL);
	}
	alloc_insert(who, addr, &a, t);
	if (a.kind == LT_KIND_MMAP) {
		struct lt_alloc_key key = { .tgid = (__u32)who, .gen = who >> 32, .addr = addr };
		__u64 end = addr + a.size;

		bpf_map_update_elem(&mmaps, &key, &end, BPF_ANY);
	}
	return 0;
}

static __always_inline int on_free(struct pt_regs *ctx, __u64 ptr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), who;
	struct lt_alloc a;
	struct call *c;

	if (!ptr)
		return 0;
	c = thread_get(pid_tgid, &who);
	if (!who)
		return 0;
	if (c && c->depth)
		return 0; /* realloc(p, 0) frees inside: realloc's return accounts for it */
	if (!alloc_remove(who, ptr, &a)) {
		if (c)
			c->last_freed = ptr;
	} else if (c && c->last_freed == ptr) {
		/* sized delete calls delete, which calls free: the first of them took it. */
	} else if (!sample_bytes) { /* sampled: most blocks freed were never recorded */
		count_unmatched_free(ctx, who);
	}
	return 0;
}

/*
 * Take [start, end) out of the mapping recorded at base, splitting it if
 * needed. A global function (5.6+): the verifier checks it once, not once for
 * each of its nine calls in a program (that took 35 ms of a start).
 */
__noinline int mapping_cut(__u64 who, __u64 base, __u64 start, __u64 end)
{
	struct lt_alloc_key key = { .tgid = (__u32)who, .gen = who >> 32, .addr = base };
	struct lt_alloc *m, rest;
	__u64 m_end, cut_end, tail_end;

	m = bpf_map_lookup_elem(&allocs, &key);
	if (!m || m->kind != LT_KIND_MMAP)
		return 0;
	m_end = base + m->size;
	if (start < base)
		start = base;
	cut_end = end < m_end ? end : m_end;
	if (start >= cut_end)
		return 0;
	rest = *m;
	if (start == base && cut_end == m_end) {
		if (bpf_map_delete_elem(&allocs, &key))
			return 0;
		bpf_map_delete_elem(&mmaps, &key);
		total_sub(who, &rest, base, rest.size, 1);
		return 0;
	}
	/* Keep the head in place; the tail becomes a block of its own. */
	total_sub(who, &rest, base, cut_end - start, 0);
	if (start > base) {
		/* A mapping's estimate is its size (mappings are not sampled): keep them equal. */
		m->size = m->est_bytes = start - base;
		tail_end = base + m->size;
		bpf_map_update_elem(&mmaps, &key, &tail_end, BPF_ANY);
	} else {
		bpf_map_delete_elem(&allocs, &key);
		bpf_map_delete_elem(&mmaps, &key);
	}
	if (cut_end < m_end) {
		struct lt_alloc_key tail = { .tgid = (__u32)who,
					     .gen = who >> 32,
					     .addr = cut_end };
		struct lt_total_key tk = { .tgid = (__u32)who,
					   .gen = who >> 32,
					   .stack_id = rest.stack_id };
		struct lt_total *t;

		rest.size = rest.est_bytes = m_end - cut_end;
		if (bpf_map_update_elem(&allocs, &tail, &rest, BPF_ANY))
			return 0;
		bpf_map_update_elem(&mmaps, &tail, &m_end, BPF_ANY);
		/* A split mapping is two blocks now; the head was not removed. */
		t = bpf_map_lookup_elem(&totals, &tk);
		if (t && start > base && counted(rest.size)) {
			__sync_fetch_and_add(&t->allocs, 1);
			if (sample_bytes)
				__sync_fetch_and_add(&t->est_allocs, LT_EST_ALLOCS_ONE);
		}
	}
	return 0;
}

struct overlap_ctx {
	__u32 tgid;
	__u32 gen;
	__u32 nr;
	__u32 pad;
	__u64 start;
	__u64 end;
	__u64 bases[8];
};

static long find_overlap(struct bpf_map *map, struct lt_alloc_key *key, __u64 *end,
			 struct overlap_ctx *o)
{
	if (key->tgid != o->tgid || key->gen != o->gen || key->addr >= o->end || *end <= o->start)
		return 0;
	if (o->nr < 8)
		o->bases[o->nr++] = key->addr;
	return o->nr < 8 ? 0 : 1;
}

static __always_inline int unmap(__u64 addr, __u64 len, int scan)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), who;
	struct lt_alloc_key key = { .addr = addr };
	struct overlap_ctx o = { .start = addr };
	struct call *c;
	__u64 *end;

	c = thread_get(pid_tgid, &who);
	if (!who)
		return 0;
	key.tgid = o.tgid = (__u32)who;
	key.gen = o.gen = who >> 32;
	if (c && c->depth)
		return 0; /* the allocator's own munmap of a block it handed out */
	o.end = addr + ((len + page_size - 1) & ~(page_size - 1));
	/* The common case: all or the head of one mapping, found by its start. */
	end = bpf_map_lookup_elem(&mmaps, &key);
	if (end && *end >= o.end) {
		mapping_cut(who, addr, addr, o.end);
		return 0;
	}
	if (!scan) {
		if (end)
			mapping_cut(who, addr, addr, o.end);
		else
			count(LT_MUNMAPS_PARTIAL_LOST);
		return 0;
	}
	bpf_for_each_map_elem(&mmaps, find_overlap, &o, 0);
	for (int i = 0; i < 8; i++) {
		if ((__u32)i >= o.nr)
			break;
		mapping_cut(who, o.bases[i & 7], o.start, o.end);
	}
	return 0;
}

/*
 * Every entry probe but free's (which has programs of its own): func says
 * which function it sits on, from the program's name (one program per
 * function) or from the attach cookie (one uprobe_multi link for them all,
 * kernel 6.6+, detached with one wait instead of one each). Returns whether
 * the call's return probe must run (see enter()); munmap has none.
 */
static __always_inline int on_entry(struct pt_regs *ctx, __u64 func, bool session)
{
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx), a2 = PT_REGS_PARM3(ctx);
	__u64 size, ptr = 0, memptr = 0;

	/* The arguments, then one enter(): one copy of it to verify, not one per function. */
	switch (func) {
	case LT_MALLOC:
	case LT_VALLOC:
	case LT_PVALLOC:
		size = a0;
		break;
	case LT_CALLOC:
		size = mul_or_max(a0, a1);
		break;
	case LT_REALLOC:
		size = a1;
		ptr = a0;
		break;
	case LT_REALLOCARRAY:
		func = LT_REALLOC;
		size = mul_or_max(a1, a2);
		ptr = a0;
		break;
	case LT_POSIX_MEMALIGN:
		size = a2;
		memptr = a0;
		break;
	case LT_ALIGNED_ALLOC:
	case LT_MEMALIGN:
		size = a1;
		break;
	case LT_XALLOCX:
		size = a1;
		ptr = a0;
		break;
	case LT_MMAP:
		/* Only the program's own anonymous mappings are allocations. */
		size = PT_REGS_PARM4(ctx) & 0x20 /* MAP_ANONYMOUS */ ? a1 : 0;
		break;
	case LT_MUNMAP:
		unmap(a0, a1, 1);
		return SKIP_RETURN;
	default:
		return SKIP_RETURN;
	}
	return enter(ctx, session, func, size, ptr, memptr);
}

/* A program's return value matters only in a session: the entry probes' is always 0. */
SEC("uprobe")
int BPF_KPROBE(entry_multi)
{
	on_entry(ctx, bpf_get_attach_cookie(ctx), false);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(return_multi, __u64 ret)
{
	return on_return(ctx, ret);
}

/*
 * free, on a uprobe_multi link of its own (no cookie to read, no session to
 * ask about) or, before 6.6, on a perf link per probe.
 */
SEC("uprobe")
int BPF_KPROBE(free_multi, __u64 ptr)
{
	on_free(ctx, ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	on_free(ctx, ptr);
	return 0;
}

/* Kernels before 6.6: a program for each function, and one for all the returns. */
#define ENTRY_PROGRAM(name, func)           \
	SEC("uprobe")                       \
	int BPF_KPROBE(name)                \
	{                                   \
		on_entry(ctx, func, false); \
		return 0;                   \
	}

ENTRY_PROGRAM(malloc_enter, LT_MALLOC)
ENTRY_PROGRAM(calloc_enter, LT_CALLOC)
ENTRY_PROGRAM(realloc_enter, LT_REALLOC)
ENTRY_PROGRAM(reallocarray_enter, LT_REALLOCARRAY)
ENTRY_PROGRAM(posix_memalign_enter, LT_POSIX_MEMALIGN)
ENTRY_PROGRAM(aligned_alloc_enter, LT_ALIGNED_ALLOC)
ENTRY_PROGRAM(memalign_enter, LT_MEMALIGN)
ENTRY_PROGRAM(valloc_enter, LT_VALLOC)
ENTRY_PROGRAM(pvalloc_enter, LT_PVALLOC)
ENTRY_PROGRAM(xallocx_enter, LT_XALLOCX)
ENTRY_PROGRAM(mmap_enter, LT_MMAP)
/* munmap where the kernel can search the mappings (5.13+): any range is handled. */
ENTRY_PROGRAM(munmap_enter, LT_MUNMAP)

/* Older kernels: a munmap that starts at a recorded mapping; others are counted. */
SEC("uprobe")
int BPF_KPROBE(munmap_enter_simple, __u64 addr, __u64 len)
{
	return unmap(addr, len, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, __u64 ret)
{
	return on_return(ctx, ret);
}

/*
 * Uprobe sessions (6.13+): one program, one link per object, at the entry and,
 * when the entry returns 0, at the return. Calls inside the allocator, calls
 * of processes not traced, frees, and with --sample-bytes calls not sampled
 * skip the return probe: a trap saved.
 */
SEC("uprobe")
int BPF_KPROBE(session)
{
	if (bpf_session_is_return())
		return on_return(ctx, PT_REGS_RC(ctx));
	return on_entry(ctx, bpf_get_attach_cookie(ctx), true);
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < LT_COMM_LEN; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* A thread ends: its call state goes; the last one marks the process exited. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(task_exit, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct lt_target *t;

	thread_forget(pid_tgid);
	t = bpf_map_lookup_elem(&targets, &tgid);
	/* signal->live counts the threads still running; it is 0 once the last one exits. */
	if (t && !BPF_CORE_READ(task, signal, live.counter))
		t->flags |= LT_TARGET_EXITED;
	return 0;
}

/*
 * New processes -a or run mode could not add, the map of targets full: they go
 * untraced, and -a, which did not see them start, checks /proc for one its
 * breakpoints would break.
 */
__u64 targets_full = 0;

static __always_inline void target_add(__u32 tgid, const struct lt_target *t)
{
	if (bpf_map_update_elem(&targets, &tgid, t, BPF_ANY))
		__sync_fetch_and_add(&targets_full, 1);
}

/*
 * A generation no earlier image of this pid had, even one whose records user space
 * still holds after its entry went: the clock's low 32 bits (user space's are too).
 */
static __always_inline __u32 new_gen(const struct lt_target *old)
{
	__u32 gen = bpf_ktime_get_ns();

	return old && old->gen == gen ? gen + 1 : gen;
}

/* Under -a, a traced process's children are traced too (not its new threads). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(task_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct lt_target *t, c = {};

	if (!follow_children || ptgid == ctgid)
		return 0;
	t = bpf_map_lookup_elem(&targets, &ptgid);
	if (!t)
		return 0;
	/* Its heap is a copy of the parent's: frees of inherited blocks are not misses. */
	__builtin_memcpy(c.comm, t->comm, sizeof(c.comm));
	/* Its pid may be an exited process's, whose records wait for a report. */
	c.gen = new_gen(bpf_map_lookup_elem(&targets, &ctgid));
	target_add(ctgid, &c);
	unwind_fork(ptgid, ctgid);
	return 0;
}

/* exec: the process starts afresh in a new generation, or starts or stops being traced. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(task_exec, struct task_struct *p, pid_t old_pid)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct lt_target *t, n = { .flags = LT_TARGET_FROM_START };

	/*
	 * The thread's call state holds the old image's generation, or none. A
	 * thread other than the leader that execs takes the leader's id: its
	 * old one is gone without an exit.
	 */
	thread_forget(pid_tgid);
	if ((__u32)old_pid != tgid)
		thread_forget((__u64)tgid << 32 | (__u32)old_pid);
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	t = bpf_map_lookup_elem(&targets, &tgid);
	if (has_comm_filter && !comm_matches(n.comm)) {
		if (t)
			bpf_map_delete_elem(&targets, &tgid);
		return 0;
	}
	if (!t && (!follow_new || tgid == self_tgid))
		return 0;
	n.gen = new_gen(t);
	target_add(tgid, &n);
	return 0;
}

/*
 * The mapping capture's programs (mappings.bpf.h sends what they find).
 * Whether task_exec traces the process that exec'd, decided here as it does:
 * programs on one tracepoint run in no order we rely on.
 */
static __always_inline bool traced_after_exec(__u32 tgid)
{
	char comm[LT_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	if (has_comm_filter && !comm_matches(comm))
		return false;
	if (bpf_map_lookup_elem(&targets, &tgid))
		return true;
	return follow_new && tgid != self_tgid;
}

/* What the mmap hooks and exec feed: the unwinder's ranges, the captured mappings (-a). */
const volatile bool mmap_unwind = false;
const volatile bool mmap_capture = false;

/* The file mapping of task's that holds addr, made by exec: captured, and pending for the walk. */
static __always_inline void exec_vma(struct task_struct *task, __u32 tgid, __u64 addr, __u32 type)
{
	struct vma_found v = {};

	if (bpf_find_vma(task, addr, vma_copy, &v, 0) || !v.file)
		return;
	if (mmap_capture)
		send_map(type, tgid, v.file, v.start, v.end, v.pgoff * page_size);
	if (mmap_unwind)
		unwind_mmap(task, tgid, v.file, v.start, v.end - v.start, v.pgoff * page_size);
}

/*
 * The kernel mapped the executable and its interpreter (ld.so) before this
 * tracepoint, without mmap: the executable's code holds mm->start_code, the
 * interpreter's holds the address the new image starts at. With them pending,
 * a process -a meets at its exec is walked through its executable from its
 * first allocation, not only once its mappings are read (5.17+: bpf_find_vma).
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(maps_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	__u64 code, entry;

	if (!traced_after_exec(tgid))
		return 0;
	code = BPF_CORE_READ(task, mm, start_code);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	entry = ARCH_REGS_PC(regs);
	exec_vma(task, tgid, code, LT_MAP_EXEC);
	if (entry < code || entry >= BPF_CORE_READ(task, mm, end_code))
		exec_vma(task, tgid, entry, LT_MAP_MMAP);
	return 0;
}

/* A child that task_fork traces starts with its parent's mappings. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(maps_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);

	if (!follow_children || ptgid == ctgid || !bpf_map_lookup_elem(&targets, &ptgid))
		return 0;
	send_fork(ptgid, ctgid);
	return 0;
}

/*
 * An executable mapping a traced process made with mmap: its result and the
 * arguments (length, protection, flags, descriptor, offset) as both hooks see
 * them in the registers. fd is an int: the kernel ignores its upper half too.
 */
static __always_inline int mmap_made(__u64 ret, __u64 len, __u64 prot, __u64 flags, __u64 fd,
				     __u64 off)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;
	struct file *file = NULL;

	if (ret >= -4095UL || !(prot & 4 /* PROT_EXEC */))
		return 0;
	if (!len || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* bpf_get_current_task_btf would need 5.11. */
	task = (struct task_struct *)bpf_get_current_task();
	if (!(flags & 0x20 /* MAP_ANONYMOUS */)) {
		file = fd_file(task, (__u32)fd);
		if (!file)
			return 0;
	}
	if (mmap_unwind)
		unwind_mmap(task, tgid, file, ret, len, off);
	if (mmap_capture && file)
		maps_mmap(tgid, file, ret, len, off);
	return 0;
}

/*
 * The mmap hook: a uprobe just after the mmap system call of the C library's
 * wrapper (on the branch on its result, in ld.so, libc or a static executable;
 * user space finds the sites, src/mmap_sites.c), attached as the allocator's
 * probes are, per target process (-a keeps tp_btf/sys_exit: a probe in every
 * loader would stop a valgrind's client). The kernel kept the arguments'
 * registers across the call and put its result in the return one: the
 * registers tp_btf/sys_exit sees, in the processes that matter only.
 */
SEC("uprobe")
int BPF_KPROBE(mmap_site)
{
	ARCH_SITE_REGS *regs = (ARCH_SITE_REGS *)ctx;

	return mmap_made(ARCH_SITE_RET(regs), ARCH_SYSCALL_ARG2(regs), ARCH_SYSCALL_ARG3(regs),
			 ARCH_SYSCALL_ARG4(regs), ARCH_SYSCALL_ARG5(regs), ARCH_SYSCALL_ARG6(regs));
}

/*
 * The fallback, where a target's C library has no site user space found (musl,
 * unusual builds) or LEAKTRACE_NO_MMAP_SITES is set: every mmap at the
 * syscall's exit, the hook every kernel from 5.8 on has (this kind of guest
 * has neither kprobes nor fentry). Every system call of the host comes here, a
 * uretprobe's return too (6.11+): the number read straight from the BTF
 * pointer without a helper call, the map looked up last.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(mmap_exit, struct pt_regs *regs, long ret)
{
	if (ARCH_SYSCALL_NR(regs) != ARCH_NR_MMAP)
		return 0;
	return mmap_made(ret, ARCH_SYSCALL_ARG2(regs), ARCH_SYSCALL_ARG3(regs),
			 ARCH_SYSCALL_ARG4(regs), ARCH_SYSCALL_ARG5(regs), ARCH_SYSCALL_ARG6(regs));
}
