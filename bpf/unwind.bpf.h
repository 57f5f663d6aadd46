/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --unwind=dwarf: the stack walk by unwind tables, a unit of its own: it uses
 * only helpers.bpf.h and leaktrace.h, and leaktrace.bpf.c calls it (unwind_walk
 * at a return probe, unwind_mmap from the mmap hook). User space turns each
 * object's .eh_frame into rows (src/unwind_table.c) and lists each process's
 * executable mappings; unwind_mmap adds the ones mapped later (dlopen, a new
 * process's libraries) as they are mapped, so that a table built once serves
 * every process and every load address.
 *
 * Only helpers of 5.8 and bounded loops: no bpf_loop, no kfuncs, no bpf_find_vma.
 */
#ifndef LT_UNWIND_BPF_H
#define LT_UNWIND_BPF_H

#include "arch.bpf.h"
#include "helpers.bpf.h"

/* Every object's rows, back to back; user space writes them through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the loader: --max-unwind-mb */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lt_unwind_row);
} unwind_rows SEC(".maps");

static __always_inline struct lt_unwind_row *row_get(__u32 i)
{
	return bpf_map_lookup_elem(&unwind_rows, &i);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LT_UNWIND_MAX_OBJS);
	__type(key, __u32);
	__type(value, struct lt_unwind_obj);
} unwind_objs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_UNWIND_MAX_OBJS);
	__type(key, struct lt_unwind_file_key);
	__type(value, struct lt_unwind_file);
} unwind_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 12); /* the loader sets 1 unless --unwind=dwarf */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct lt_unwind_proc);
} unwind_procs SEC(".maps");

/* User space's view of each process's mappings (struct lt_unwind_view); the programs copy it at fork. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 12); /* the loader sets 1 unless --unwind=dwarf */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct lt_unwind_view);
} unwind_views SEC(".maps");

/* Each process's sorted ranges, LT_UNWIND_MAX_RANGES per slot, by user space, through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set by the loader: MAX_PROCS * MAX_RANGES */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lt_unwind_range);
} unwind_ranges SEC(".maps");

/* Each slot's generation (struct lt_unwind_view), set by user space as it gives the slot out. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LT_UNWIND_MAX_PROCS); /* the loader sets 1 unless --unwind=dwarf */
	__type(key, __u32);
	__type(value, __u32);
} unwind_slot_gens SEC(".maps");

/* All zero: the first value of a process's mappings (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_unwind_proc);
} unwind_empty SEC(".maps");

/*
 * Each frame's row, by process and pc, per CPU: a loop's stacks meet the same
 * return addresses again and again, and a hit spares the search of the
 * process's mappings and of the object's rows. An entry holds while the
 * generation is the one it was cached under: user space and the mmap hook
 * bump it whenever a pc could change rows (a table dropped, a mapping replaced).
 */
struct unwind_cached {
	__u64 pc;
	__u32 tgid;
	__u32 gen;
	struct lt_unwind_row row;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_UNWIND_CACHE); /* the loader sets 1 with --unwind fp */
	__type(key, __u32);
	__type(value, struct unwind_cached);
} unwind_cache SEC(".maps");

/* The generation of the cache: written by user space through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} unwind_gen SEC(".maps");

/*
 * A process's tgid each time it turns stale: user space's table builder wakes on
 * it and reads the new mappings at once, rather than at the main loop's next tick.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} unwind_wake SEC(".maps");

const volatile __u32 unwind_mode = LT_UNWIND_FP;

/*
 * The stack above the allocator's caller, read in one helper call: most
 * frames' slots are in it. A call costs the same for 64 bytes as for 4 KiB
 * (about 170 ns here, most of the walk's cost), so one large read beats many
 * small ones (sqlite3: 2.3 reads of 512 bytes per walk, 1 of 4 KiB).
 */
#define WALK_WINDOW 4096
#define WINDOW_BELOW 64 /* a moved window starts this far below the slot that moved it */

/*
 * Whole walks met lately, per CPU, by process, pc and stack pointer: a loop's
 * allocations, or a call site's in a row, walk the same stack again and again.
 * A walk is taken from here only when it would go exactly as it went: the same
 * registers and cache generation (so the same rows), and every word of the
 * stack its result depends on holding the same value now: each return address,
 * and a saved frame pointer once a frame's rule used it (fp_use), as the
 * register fp only then. Those words are compared in the window, which the
 * walk reads anyway, and in one more where the walk moved its window once (a
 * frame of a 4 KiB buffer, as many a main() has). A hit costs a compare per
 * word, not a step per frame: the loop's 4 frames, 116 ns of steps; many.c's
 * 32. Only whole walks are kept.
 */
#define MEMO_WORDS 128
#define MEMO_BLOCK 16 /* words compared in a turn of memo_same's loop (MEMO_WORDS % it == 0) */
#define MEMO_OFF (1U << 30) /* walk_regs.memo_words: this walk is not kept */
#define NOTE_FIRST 1	    /* stack_read: the memo compares the first word read, */
#define NOTE_SECOND 2	    /* ... the second */

struct walk_memo {
	__u64 ip;
	__u64 sp;
	__u64 fp;
	__u64 h_in;  /* the stack's hash before the walk (its kind and frame 0) */
	__u64 h_out; /* ... and after */
	__u32 tgid;
	__u32 gen;
	__u32 nr;	       /* frames */
	__u32 words;	       /* slots in use, past the last a multiple of MEMO_BLOCK; 0: empty */
	__u32 near;	       /* slots of the first window's words (a multiple of MEMO_BLOCK) */
	__u32 far;	       /* the second window's base, from sp */
	__u32 win_len;	       /* the first window's length */
	__u32 far_len;	       /* the second's */
	__u32 fp_used;	       /* fp must be the same too */
	__u64 val[MEMO_WORDS]; /* each word read, */
	__u16 off[MEMO_WORDS]; /* ... at this offset in its window (a slot past the last
				  of a window repeats that window's first) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_WALK_MEMO); /* the loader sets 1 with --unwind fp */
	__type(key, __u32);
	__type(value, struct walk_memo);
} walk_memo SEC(".maps");

struct walk_regs {
	__u64 ip;
	__u64 sp;
	__u64 fp;
	__u64 fp_ok;	  /* fp holds the frame's frame pointer */
	__u64 trampoline; /* where pending uretprobes return to, or 0 */
	__u64 stack_top;  /* just above the main thread's outermost frame, read with it */
	__u32 tgid;
	__u32 gen;	  /* of the cache, read once per walk */
	__u32 tramp_tgid; /* trampoline is of this process, */
	__u32 tramp_gen;  /* ... read at this generation (an exec bumps it) */
	__u32 unbuilt;	  /* the walk met code whose table is not built yet */
	__u32 nr;	  /* frames walked */
	__u32 step;	  /* the last step's enum walk_step */
	__u64 image;	  /* the process's image (its mm->start_stack), read once per walk */
	__u32 win_len;	  /* bytes of win that hold the stack from win_base */
	__u64 win_base;
	struct lt_unwind_range range; /* the mapping found for a pc */
	/* What a memo of the walk keeps (struct walk_memo), gathered as it goes. */
	__u32 memo_words;    /* slots used; over MEMO_WORDS: not kept */
	__u32 memo_moves;    /* of the window since the first; more than 1: not kept */
	__u32 memo_near_end; /* the first window's words end here, */
	__u32 memo_near;     /* ... the second's start here */
	__u32 memo_far;
	__u32 memo_len;
	__u32 memo_fp_used; /* the walk went by the frame pointer register's value */
	__u32 fp_is_reg;    /* fp is the register the walk started with, */
	__u32 fp_unnoted;   /* ... or a word of the stack not noted yet, */
	__u32 fp_off;	    /* ... its offset in the window, when from the stack */
	__u64 memo_ip;	    /* the walk's first registers */
	__u64 memo_sp;
	__u64 memo_fp;
	__u64 memo_val[MEMO_WORDS];
	__u16 memo_off[MEMO_WORDS];
	union {
		__u8 win[WALK_WINDOW];
		__u64 win_words[WALK_WINDOW / 8];
	};
};

/*
 * The walk's registers live in a map value, not on the BPF stack: the verifier
 * does not track what a map value holds, so every frame's paths end in one
 * state and the program stays far below its complexity limit.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_regs);
} unwind_regs SEC(".maps");

enum walk_step {
	STEP_NEXT, /* a caller was found */
	STEP_END,  /* the stack ends here */
	STEP_CUT,  /* the walk cannot go on */
};

/* The walking process's registers (*s) and mappings; NULL when either is not there. */
static __always_inline struct lt_unwind_proc *walking_proc(struct walk_regs **s)
{
	__u32 zero = 0;

	*s = bpf_map_lookup_elem(&unwind_regs, &zero);
	return *s ? bpf_map_lookup_elem(&unwind_procs, &(*s)->tgid) : NULL;
}

/*
 * The walking process's pending[k % LT_UNWIND_PENDING]: 1 with its range in
 * s->range when it holds pc (2: its table not built yet), 0 when it does not.
 * A global function: range_pending's loop checks it once, not once a turn.
 */
__noinline int pending_holds(__u32 k, __u64 pc)
{
	const struct lt_unwind_mapped *m;
	struct lt_unwind_proc *p;
	struct walk_regs *s;

	p = walking_proc(&s);
	if (!p)
		return 0;
	m = &p->pending[k & (LT_UNWIND_PENDING - 1)];
	if (m->image != s->image || pc < m->r.start || pc >= m->r.end)
		return 0;
	s->range = m->r;
	return m->r.obj != LT_UNWIND_UNBUILT_OBJ ? 1 : 2;
}

/*
 * The mapping holding pc is the newest of this image's made since the view's
 * maps were read (range_pending), else the last of the view's sorted ones
 * starting at or below pc (range_sorted); one made before its table was built
 * gives way to the view's, which may have it since. Each is a global function
 * of the walking process (unwind_regs), its answer in s->range: the verifier
 * checks their loops once, not once per way of reaching them in a frame's step
 * (inlined, they were half of the session program's load time). Array lookups
 * by key rather than indexes into a value keep the verifier's states few.
 *
 * range_pending: 1 with the range of a built mapping, 2 with an unbuilt one, 0
 * when none holds pc, -1 when the process has no mappings known.
 */
__noinline int range_pending(__u64 pc)
{
	struct lt_unwind_view *v;
	struct lt_unwind_proc *p;
	struct walk_regs *s;
	__u32 count, fresh;
	int held;

	p = walking_proc(&s);
	if (!p)
		return -1;
	v = bpf_map_lookup_elem(&unwind_views, &s->tgid);
	count = p->count;
	/* Those made since the view's maps were read, newest first. */
	fresh = count - (v && v->image == s->image ? v->seen : 0);
	for (int i = 0; i < LT_UNWIND_PENDING; i++) {
		if ((__u32)i >= fresh)
			break;
		held = pending_holds(count - 1 - i, pc);
		if (held)
			return held;
	}
	return 0;
}

/* User space must read p's mappings again; it is woken the first time. */
static __always_inline void proc_stale(struct lt_unwind_proc *p, const struct lt_unwind_view *v,
				       __u32 tgid)
{
	if (p->marks != (v ? v->marks : 0))
		return;
	p->marks++;
	bpf_ringbuf_output(&unwind_wake, &tgid, sizeof(tgid), 0);
}

/* range_sorted: 0 with the view's range that holds pc, -1 when none does. */
__noinline int range_sorted(__u64 pc)
{
	struct lt_unwind_range *r = NULL;
	struct lt_unwind_view *v;
	struct walk_regs *s;
	__u32 zero = 0, lo, hi, mid, *gen;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	if (!s)
		return -1;
	v = bpf_map_lookup_elem(&unwind_views, &s->tgid);
	if (!v || v->image != s->image || v->slot == LT_UNWIND_NO_SLOT)
		return -1;
	/* A slot given to another process since the view was made holds its ranges now. */
	gen = bpf_map_lookup_elem(&unwind_slot_gens, &v->slot);
	if (!gen || *gen != v->slot_gen)
		return -1;
	/* Keys: the process's slot holds its ranges from lo on. */
	lo = v->slot * LT_UNWIND_MAX_RANGES;
	hi = lo + v->nr;
	mid = lo;
	for (int i = 0; i < 9; i++) { /* log2(LT_UNWIND_MAX_RANGES) + 1 */
		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		r = bpf_map_lookup_elem(&unwind_ranges, &mid);
		if (!r)
			return -1;
		if (r->start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	mid = lo - 1;
	r = r && lo > v->slot * LT_UNWIND_MAX_RANGES ? bpf_map_lookup_elem(&unwind_ranges, &mid) :
						       NULL;
	if (!r || pc >= r->end)
		return -1;
	s->range = *r;
	return 0;
}

/* No mapping holds a pc: user space is to read the process's mappings again. */
__noinline int range_stale(void)
{
	struct lt_unwind_view *v;
	struct lt_unwind_proc *p;
	struct walk_regs *s;

	p = walking_proc(&s);
	if (!p)
		return 0;
	v = bpf_map_lookup_elem(&unwind_views, &s->tgid);
	proc_stale(p, v, s->tgid);
	return 0;
}

/* The image of the current process: where its stack starts. */
static __always_inline __u64 current_image(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	return lt_unwind_image(BPF_CORE_READ(mm, end_code), BPF_CORE_READ(mm, start_stack));
}

/* The last row of the object at or before pc. */
static __always_inline int row_find(const struct lt_unwind_obj *o, __u32 pc,
				    struct lt_unwind_row *out)
{
	__u32 lo = 0, hi = o->nr, mid;
	struct lt_unwind_row *r;

	for (int i = 0; i < LT_UNWIND_SEARCH_STEPS; i++) {
		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		r = row_get(o->first + mid);
		if (!r)
			return -1;
		if (r->pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	r = row_get(o->first + lo - 1);
	if (!r)
		return -1;
	*out = *r;
	return 0;
}

/*
 * The row of pc in the walking process: from the cache, else searched and
 * cached. A pc in no mapping known yet, or in a file whose table is not built
 * yet, marks the walk unbuilt; the first also has user space reread the mappings.
 */
static __always_inline int row_lookup(struct walk_regs *s, __u64 pc, struct lt_unwind_row *row)
{
	__u32 idx = (__u32)((pc ^ ((__u64)s->tgid << 32)) * 0x9e3779b97f4a7c15ULL >> 40) &
		    (LT_UNWIND_CACHE - 1);
	struct unwind_cached *c = bpf_map_lookup_elem(&unwind_cache, &idx);
	struct lt_unwind_obj *o;
	int pending;

	if (c && c->pc == pc && c->tgid == s->tgid && c->gen == s->gen) {
		*row = c->row;
		return 0;
	}
	if (!s->image)
		s->image = current_image();
	pending = range_pending(pc);
	/* An unbuilt pending mapping stays the answer when the view has none. */
	if (pending != 1 && pending >= 0 && range_sorted(pc) && !pending) {
		/* A mapping user space missed, or [uprobes]. */
		range_stale();
		pending = -1;
	}
	if (pending < 0 || s->range.obj == LT_UNWIND_UNBUILT_OBJ) {
		s->unbuilt = 1;
		return -1;
	}
	if (s->range.obj == LT_UNWIND_FP_OBJ) {
		*row = (struct lt_unwind_row){ .cfa = LT_CFA_FP_CHAIN };
	} else {
		o = bpf_map_lookup_elem(&unwind_objs, &s->range.obj);
		if (!o || !o->nr || row_find(o, (__u32)(pc - s->range.bias), row))
			return -1;
	}
	if (c) {
		c->pc = pc;
		c->tgid = s->tgid;
		c->gen = s->gen;
		c->row = *row;
	}
	return 0;
}

/*
 * A word at off for a memo to compare, counted when counted is 1. No branch,
 * for the verifier's sake: past MEMO_WORDS, or at an offset not 8-byte
 * aligned, the count says the walk is not kept (and the arrays wrap).
 */
static __always_inline void memo_add(struct walk_regs *s, __u64 off, __u64 val, __u32 counted)
{
	__u32 n = s->memo_words;

	s->memo_off[n & (MEMO_WORDS - 1)] = off;
	s->memo_val[n & (MEMO_WORDS - 1)] = val;
	s->memo_words = n + counted + ((off & 7) * counted << 24);
}

/* The walk read the word at off in the window: a memo of it compares it. */
static __always_inline void memo_note(struct walk_regs *s, __u64 off, const void *word)
{
	__u64 val;

	__builtin_memcpy(&val, word, 8);
	memo_add(s, off, val, 1);
}

/*
 * The walk goes by the frame pointer's value: the memo compares where it came
 * from (the register, or a word of the stack), counted only when fp is a word
 * not noted yet.
 */
static __always_inline void fp_use(struct walk_regs *s)
{
	memo_add(s, s->fp_off, s->fp, s->fp_unnoted);
	s->memo_fp_used |= s->fp_is_reg;
	s->fp_unnoted = 0;
	s->fp_is_reg = 0;
}

/*
 * The window: WALK_WINDOW bytes of the stack from base, in one helper call;
 * up to the end of base's page when the next page is not there.
 */
static __always_inline void window_load(struct walk_regs *s, __u64 base)
{
	__u32 len = WALK_WINDOW;

	/* Not past the main stack's top: a read that fails costs as much again. */
	if (base < s->stack_top && s->stack_top - base < WALK_WINDOW)
		len = s->stack_top - base;
	/* A frame pointer read from this window is noted in it, used or not. */
	fp_use(s);
	s->win_base = base;
	/* The next window's words start a block of slots of their own. */
	s->memo_moves++;
	s->memo_near_end = s->memo_words;
	s->memo_near = (s->memo_words + MEMO_BLOCK - 1) & ~(MEMO_BLOCK - 1);
	s->memo_words = s->memo_near;
	s->memo_far = base - s->memo_sp;
	if (bpf_probe_read_user(s->win, len, (void *)base)) {
		len = 4096 - (base & 4095);
		if (len > WALK_WINDOW)
			len = WALK_WINDOW;
		if (bpf_probe_read_user(s->win, len, (void *)base))
			len = 0;
	}
	s->win_len = len;
}

/*
 * A frame pointer read from the stack, at addr: the walk's result depends on
 * it only once a frame's rule uses it (fp_use), which notes it then. Most
 * frames of code without frame pointers save rbp as any other register, and
 * what it holds (a request's data) changes from call to call.
 */
static __always_inline void fp_from(struct walk_regs *s, __u64 addr, __u64 fp)
{
	s->fp = fp;
	s->fp_unnoted = 1;
	s->fp_is_reg = 0;
	s->fp_off = addr - s->win_base;
}

/*
 * size (8 or 16) bytes of the stack at addr, from the window. The walk goes up
 * the stack: past the window's end, the window moves to start a little below
 * addr (where a frame's saved registers are), so that the next frames come from
 * it too.
 */
static __always_inline int stack_read(struct walk_regs *s, __u64 addr, void *dst, __u32 size,
				      __u32 note)
{
	__u64 off = addr - s->win_base;

	if (addr >= s->win_base && off + size > s->win_len) {
		window_load(s, addr - WINDOW_BELOW >= s->sp ? addr - WINDOW_BELOW : addr);
		off = addr - s->win_base;
	}
	if (addr >= s->win_base && off + size <= s->win_len && off <= WALK_WINDOW - 16) {
		__builtin_memcpy(dst, &s->win[off], 8);
		if (note & NOTE_FIRST)
			memo_note(s, off, dst);
		if (size == 16) {
			__builtin_memcpy(dst + 8, &s->win[off + 8], 8);
			if (note & NOTE_SECOND)
				memo_note(s, off + 8, dst + 8);
		}
		return 0;
	}
	s->memo_words = MEMO_OFF;
	return bpf_probe_read_user(dst, size, (void *)addr);
}

/* Code without a table of its own (JIT): follow fp as a frame pointer. */
static __always_inline enum walk_step fp_step(struct walk_regs *s)
{
	struct {
		__u64 next;
		__u64 ret;
	} frame;

	if (!s->fp_ok)
		return STEP_CUT;
	fp_use(s);
	/* _start clears fp: in code that keeps frame pointers, 0 ends the chain. */
	if (!s->fp)
		return STEP_END;
	if (s->fp < s->sp || s->fp - s->sp > stack_span || (s->fp & 7))
		return STEP_CUT;
	if (stack_read(s, s->fp, &frame, sizeof(frame), NOTE_SECOND))
		return STEP_CUT;
	s->sp = s->fp + sizeof(frame);
	s->ip = frame.ret;
	fp_from(s, s->sp - sizeof(frame), frame.next);
	return frame.ret ? STEP_NEXT : STEP_END;
}

/*
 * x86-64 Go's runtime.asmcgocall, at its return from the C function: it moved to
 * the system stack and keeps on it, at sp + 48, the goroutine (its g) and at
 * sp + 40 how deep the goroutine's stack was below its top (g->stack.hi, at
 * g + 8); without a g (already on the system stack), 0 and the old sp itself.
 * At the old sp is its return address into runtime.cgocall. It leaves fp alone,
 * and the C code keeps it: fp is runtime.cgocall's, whose frame pointers the
 * walk follows on (Go keeps them).
 */
static __always_inline enum walk_step go_cgo_step(struct walk_regs *s)
{
	struct {
		__u64 depth;
		__u64 g;
	} saved;
	__u64 hi, sp, ra;

	s->memo_words = MEMO_OFF; /* it reads the goroutine and another stack */
	if (stack_read(s, s->sp + 40, &saved, sizeof(saved), 0))
		return STEP_CUT;
	sp = saved.depth;
	if (saved.g) {
		if (bpf_probe_read_user(&hi, sizeof(hi), (void *)(saved.g + 8)))
			return STEP_CUT;
		sp = hi - saved.depth;
	}
	if (!s->fp_ok || (sp & 7) || s->fp <= sp || s->fp - sp > stack_span)
		return STEP_CUT;
	/* Another stack: the window moves to it. */
	window_load(s, sp);
	if (stack_read(s, sp, &ra, sizeof(ra), 0))
		return STEP_CUT;
	s->sp = sp + 8;
	s->ip = ra;
	return ra ? STEP_NEXT : STEP_END;
}

/*
 * The caller's return address (at cfa - 8, or where the row says) and, as the
 * row says, its fp: one read if they touch.
 */
static __always_inline int caller_regs(struct walk_regs *s, const struct lt_unwind_row *row,
				       __u64 cfa, __u64 *ra)
{
	struct {
		__u64 fp;
		__u64 ra;
	} pair;

	if (row->fp == LT_FP_SAME_RA)
		return stack_read(s, cfa + row->fp_off8 * 8, ra, sizeof(*ra), NOTE_FIRST) ? -1 : 0;
	if (row->fp == LT_FP_RECORD || (row->fp == LT_FP_AT && row->fp_off8 == -2)) {
		/* The usual prologue, fp saved next to it: both in one helper call. */
		if (stack_read(s, cfa + row->fp_off8 * 8, &pair, sizeof(pair), NOTE_SECOND))
			return -1;
		*ra = pair.ra;
		fp_from(s, cfa + row->fp_off8 * 8, pair.fp);
		s->fp_ok = 1;
		return 0;
	}
	if (stack_read(s, cfa - 8, ra, sizeof(*ra), NOTE_FIRST))
		return -1;
	if (row->fp == LT_FP_AT) {
		s->fp_ok = !stack_read(s, cfa + row->fp_off8 * 8, &pair.fp, sizeof(pair.fp), 0);
		fp_from(s, cfa + row->fp_off8 * 8, pair.fp);
	} else if (row->fp == LT_FP_UNKNOWN) {
		s->fp_ok = 0;
	}
	return 0;
}

/*
 * From a frame's registers to its caller's. Frame 0's pc is where the
 * allocator returned to, its registers those after the return: its row is at
 * that pc. An outer frame is inside its call, whose return address may be the
 * first byte of another function's rule: its row is at pc - 1.
 */
static __always_inline enum walk_step walk_step(struct walk_regs *s, bool first)
{
	__u64 pc = first ? s->ip : s->ip - 1, cfa, ra;
	struct lt_unwind_row row;

	if (row_lookup(s, pc, &row))
		return STEP_CUT;
	switch (row.cfa) {
	case LT_CFA_FP_CHAIN:
		return fp_step(s);
	case LT_CFA_SP:
		cfa = s->sp + row.cfa_off;
		break;
	case LT_CFA_SP8:
		cfa = s->sp + (__s64)row.cfa_off * 8;
		break;
	case LT_CFA_FP:
		if (!s->fp_ok)
			return STEP_CUT;
		fp_use(s);
		cfa = s->fp + row.cfa_off;
		break;
	case LT_CFA_PLT:
		cfa = s->sp + 8 + ((s->ip & 15) >= (__u64)row.cfa_off ? 8 : 0);
		break;
	case LT_CFA_END:
		return STEP_END;
	case LT_CFA_GO_CGO:
		return go_cgo_step(s);
	default:
		return STEP_CUT;
	}
	/* The caller's frame lies above this one, within a stack's reach. */
	if (cfa <= s->sp || cfa - s->sp > stack_span)
		return STEP_CUT;
	if (caller_regs(s, &row, cfa, &ra))
		return STEP_CUT;
	if (ra && ra == s->trampoline) {
		s->memo_words = MEMO_OFF; /* the kernel's return instances */
		ra = uretprobe_original(ARCH_ENTRY_SP(cfa));
		if (!ra)
			return STEP_CUT;
	}
	s->sp = cfa;
	s->ip = ra;
	return ra ? STEP_NEXT : STEP_END;
}

/*
 * One frame of the walk, its registers in unwind_regs. A global function: the
 * verifier checks it once, on its own, instead of once per frame of the
 * caller's loop, which keeps 127 frames far below its complexity limit.
 */
__noinline int lt_unwind_frame(__u32 first)
{
	struct walk_regs *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	if (!s)
		return STEP_CUT;
	return walk_step(s, first);
}

/* A walk's memo starts with the first window. */
static __always_inline void memo_start(struct walk_regs *s)
{
	s->memo_len = s->win_len;
	s->memo_moves = 0;
	s->memo_words = 0;
	s->memo_fp_used = 0;
	s->fp_unnoted = 0;
	s->fp_is_reg = 1;
}

/*
 * The walk's starting registers and window. The trampoline is read again only
 * for another process or generation (an exec maps anew, which bumps it).
 */
static __always_inline void walk_start(struct walk_regs *s, __u64 ip, __u64 sp, __u64 fp,
				       __u32 tgid)
{
	struct task_struct *task;
	__u32 zero = 0;
	__u64 *gen;

	gen = bpf_map_lookup_elem(&unwind_gen, &zero);
	s->gen = gen ? (__u32)*gen : 0;
	s->tgid = tgid;
	if (tgid != s->tramp_tgid || s->gen != s->tramp_gen) {
		task = (struct task_struct *)bpf_get_current_task();
		s->trampoline = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
		/* argc, argv, the environment and auxv lie above start_stack. */
		s->stack_top = BPF_CORE_READ(task, mm, start_stack) + 64;
		s->tramp_tgid = tgid;
		s->tramp_gen = s->gen;
	}
	s->unbuilt = 0;
	s->image = 0;
	s->ip = ip;
	s->sp = sp;
	s->fp = fp;
	s->fp_ok = 1;
	s->memo_sp = sp;
	s->memo_ip = ip;
	s->memo_fp = fp;
	window_load(s, s->sp);
	memo_start(s);
}

static __always_inline __u32 memo_index(__u32 tgid, __u64 ip, __u64 sp)
{
	return (__u32)(((ip ^ sp << 16 ^ tgid) * 0x9e3779b97f4a7c15ULL) >> 40) & (LT_WALK_MEMO - 1);
}

/*
 * 1 when each word of the memo at idx in slots [from, to) is the window's, a
 * block at a time, unrolled, without a branch per word: the verifier walks 8
 * turns of a loop, not 128. Global functions, as those below: each is checked
 * once, apart from the walk, however often it is called.
 */
__noinline int memo_same(__u32 idx, __u32 from, __u32 to)
{
	const struct walk_memo *m;
	struct walk_regs *s;
	__u32 zero = 0;
	__u64 diff = 0;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	m = bpf_map_lookup_elem(&walk_memo, &idx);
	if (!s || !m)
		return 0;
	for (__u32 t = 0; t < MEMO_WORDS / MEMO_BLOCK; t++) {
		__u32 blk = from / MEMO_BLOCK + t;
		const __u16 *o;
		const __u64 *v;

		if (blk * MEMO_BLOCK >= to)
			break;
		blk &= MEMO_WORDS / MEMO_BLOCK - 1;
		o = &m->off[blk * MEMO_BLOCK];
		v = &m->val[blk * MEMO_BLOCK];
#pragma unroll
		for (__u32 k = 0; k < MEMO_BLOCK; k++)
			diff |= s->win_words[o[k] / 8 & (WALK_WINDOW / 8 - 1)] ^ v[k];
	}
	return !diff;
}

/* The window from sp + off: its length. */
__noinline int memo_window(__u32 off)
{
	struct walk_regs *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	if (!s)
		return 0;
	window_load(s, s->memo_sp + off);
	return s->win_len;
}

/*
 * 1 when the memo at idx is of this walk (walk_start's registers, h its hash so
 * far) and would go as it went; the window is then where the walk left it.
 */
static __always_inline bool memo_hit(struct walk_regs *s, __u32 idx, __u64 h)
{
	const struct walk_memo *m = bpf_map_lookup_elem(&walk_memo, &idx);

	if (!m || !m->words || m->tgid != s->tgid || m->gen != s->gen || m->ip != s->ip ||
	    m->sp != s->sp || (m->fp_used && m->fp != s->fp) || m->h_in != h ||
	    m->win_len != s->win_len)
		return false;
	if (!memo_same(idx, 0, m->near))
		return false;
	if (m->near == m->words)
		return true;
	if ((__u32)memo_window(m->far) == m->far_len && memo_same(idx, m->near, m->words))
		return true;
	memo_window(0); /* the walk starts from the first window */
	memo_start(s);
	return false;
}

/* Slots from end to the next multiple of MEMO_BLOCK: copies of slot first. */
static __always_inline void memo_pad(struct walk_regs *s, __u32 end, __u32 first)
{
	for (__u32 k = 0; k < MEMO_BLOCK - 1; k++) {
		if (((end + k) & (MEMO_BLOCK - 1)) == 0)
			break;
		s->memo_off[(end + k) & (MEMO_WORDS - 1)] = s->memo_off[first & (MEMO_WORDS - 1)];
		s->memo_val[(end + k) & (MEMO_WORDS - 1)] = s->memo_val[first & (MEMO_WORDS - 1)];
	}
}

/* The memo at idx: a whole walk with h_in and h_out, nr frames deep, or none (nr 0). */
__noinline int memo_keep(__u32 idx, __u64 h_in, __u64 h_out, __u32 nr)
{
	__u32 zero = 0, words, near;
	struct walk_memo *m;
	struct walk_regs *s;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	m = bpf_map_lookup_elem(&walk_memo, &idx);
	if (!s || !m)
		return 0;
	m->words = 0;
	words = s->memo_words;
	near = s->memo_moves ? s->memo_near : 0;
	if (!nr || s->memo_moves > 1 || !words || words > MEMO_WORDS || near >= MEMO_WORDS)
		return 0;
	/* A window's slots past its last word: copies of its first. */
	if (s->memo_moves)
		memo_pad(s, s->memo_near_end, 0);
	memo_pad(s, words, near);
	words = (words + MEMO_BLOCK - 1) & ~(MEMO_BLOCK - 1);
	if (!s->memo_moves)
		near = words;
	for (__u32 b = 0; b < MEMO_WORDS; b += MEMO_BLOCK) {
		if (b >= words)
			break;
#pragma unroll
		for (__u32 k = 0; k < MEMO_BLOCK; k++) {
			m->off[b + k] = s->memo_off[b + k];
			m->val[b + k] = s->memo_val[b + k];
		}
	}
	m->ip = s->memo_ip;
	m->sp = s->memo_sp;
	m->fp = s->memo_fp;
	m->h_in = h_in;
	m->h_out = h_out;
	m->tgid = s->tgid;
	m->gen = s->gen;
	m->nr = nr;
	m->near = near;
	m->far = s->memo_far;
	m->win_len = s->memo_len;
	m->far_len = s->win_len;
	m->fp_used = s->memo_fp_used;
	m->words = words;
	return 0;
}

/*
 * Fills st->ips[1...] from a return probe's registers (ip, sp, fp); ips[0] is
 * set. Returns the depth. With memo, a walk like one kept gives its depth and
 * hash without its frames: *unwalked says so, and st->ips stay as they were.
 */
static __always_inline __u32 unwind_walk(__u64 ip, __u64 sp, __u64 fp, struct lt_stack *st,
					 __u64 *h, bool memo, __u32 *unwalked)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, idx;
	struct walk_regs *s = bpf_map_lookup_elem(&unwind_regs, &zero);
	struct walk_memo *m;
	__u64 h_in = *h;

	*unwalked = 0;
	st->flags = LT_STACK_UNWOUND | LT_STACK_CUT;
	if (!s)
		return 1;
	walk_start(s, ip, sp, fp, tgid);
	idx = memo_index(tgid, ip, sp);
	if (memo && memo_hit(s, idx, h_in)) {
		m = bpf_map_lookup_elem(&walk_memo, &idx);
		if (m) {
			st->flags = LT_STACK_UNWOUND;
			*h = m->h_out;
			*unwalked = 1;
			return m->nr;
		}
	}
	/*
	 * The depth and the last step live in s, not in registers: the verifier
	 * does not track a map value's contents, so it tells fewer of the loop's
	 * 127 ways out apart in what follows (400 instructions fewer to check).
	 */
	s->nr = 1;
	s->step = STEP_CUT;
	for (int i = 1; i < LT_MAX_FRAMES; i++) {
		s->step = lt_unwind_frame(i == 1);
		if (s->step != STEP_NEXT)
			break;
		st->ips[i] = s->ip;
		*h = mix(*h, s->ip);
		s->nr++;
	}
	/* 127 frames and more to go counts as cut too. */
	st->flags = LT_STACK_UNWOUND | (s->step == STEP_END ? 0 : LT_STACK_CUT) |
		    (s->step == STEP_CUT && s->unbuilt ? LT_STACK_UNBUILT : 0);
	*h = mix(*h, st->flags);
	if (memo)
		memo_keep(idx, h_in, *h, s->step == STEP_END ? s->nr : 0);
	return s->nr;
}

/*
 * Every executable mapping a traced process makes with mmap goes into its
 * pending ones as it is made, with the table of its file if user space built
 * one, and marks the process: user space reads its mappings again and builds
 * the tables it lacks (file NULL: an anonymous mapping, JIT code). Called by
 * mmap_exit (leaktrace.bpf.c). The executable and the dynamic loader, which
 * exec maps, come from /proc/PID/maps.
 */
static __always_inline void unwind_mmap(struct task_struct *task, __u32 tgid, struct file *file,
					__u64 start, __u64 len, __u64 off)
{
	struct lt_unwind_mapped m = { .r = { .start = start, .obj = LT_UNWIND_FP_OBJ } };
	struct lt_unwind_file_key key = {};
	struct lt_unwind_proc *p, *empty;
	struct lt_unwind_file *f;
	__u32 zero = 0;
	__u64 *gen;

	p = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!p) {
		empty = bpf_map_lookup_elem(&unwind_empty, &zero);
		if (!empty)
			return;
		bpf_map_update_elem(&unwind_procs, &tgid, empty, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&unwind_procs, &tgid);
		if (!p)
			return;
	}
	m.image = current_image();
	m.r.end = start + ((len + page_size - 1) & ~(page_size - 1));
	if (file) {
		key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(file, f_inode, i_ino);
		f = bpf_map_lookup_elem(&unwind_files, &key);
		/* A table kept since its last process ended, of a file written since: none. */
		if (f && f->size != LT_UNWIND_ANY_SIZE &&
		    f->size != (__u64)BPF_CORE_READ(file, f_inode, i_size))
			f = NULL;
		if (f) {
			m.r.obj = f->obj;
			m.r.bias = start - (off + f->delta);
		} else {
			m.r.obj = LT_UNWIND_UNBUILT_OBJ;
		}
	}
	p->pending[p->count & (LT_UNWIND_PENDING - 1)] = m;
	p->count++;
	proc_stale(p, bpf_map_lookup_elem(&unwind_views, &tgid), tgid);
	/* What was cached at these addresses (a library unmapped before) holds no more. */
	gen = bpf_map_lookup_elem(&unwind_gen, &zero);
	if (gen)
		__sync_fetch_and_add(gen, 1);
}

/*
 * fork: the child's mappings are its parent's, so it walks by its parent's view
 * and pending mappings until user space reads its own, which it does at its
 * next turn (the view says borrowed). A child that allocates at once and exits
 * (a shell's subshell, a pre-fork server's worker) is walked whole, not cut at
 * its first frame.
 */
static __always_inline void unwind_fork(__u32 ptgid, __u32 ctgid)
{
	struct lt_unwind_view *pv, v;
	struct lt_unwind_proc *pp;

	if (unwind_mode != LT_UNWIND_DWARF)
		return;
	pv = bpf_map_lookup_elem(&unwind_views, &ptgid);
	pp = bpf_map_lookup_elem(&unwind_procs, &ptgid);
	if (!pv || !pp || pv->slot == LT_UNWIND_NO_SLOT)
		return;
	v = *pv;
	v.borrowed = 1;
	if (!bpf_map_update_elem(&unwind_procs, &ctgid, pp, BPF_ANY))
		bpf_map_update_elem(&unwind_views, &ctgid, &v, BPF_ANY);
}

#endif /* LT_UNWIND_BPF_H */
