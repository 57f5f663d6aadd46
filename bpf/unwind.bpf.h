/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --unwind=dwarf: the stack walk by unwind tables, included by leaktrace.bpf.c.
 * User space turns each object's .eh_frame into rows (src/unwind_table.c) and
 * lists each process's executable mappings; the mmap hook below adds the ones
 * mapped later (dlopen, a new process's libraries) as they are mapped, so that
 * a table built once serves every process and every load address.
 *
 * Only helpers of 5.8 and bounded loops: no bpf_loop, no kfuncs, no bpf_find_vma.
 */
#ifndef LT_UNWIND_BPF_H
#define LT_UNWIND_BPF_H

/* Every object's rows, back to back; user space writes them through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* set by the loader: --max-unwind-mb */
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
	__uint(max_entries, 1 << 12);	/* the loader sets 1 unless --unwind=dwarf */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct lt_unwind_proc);
} unwind_procs SEC(".maps");

/* Each process's sorted ranges, LT_UNWIND_MAX_RANGES per slot, by user space, through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* set by the loader: MAX_PROCS * MAX_RANGES */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lt_unwind_range);
} unwind_ranges SEC(".maps");

/* All zero: the first value of a process's mappings (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_unwind_proc);
} unwind_empty SEC(".maps");

const volatile __u32 unwind_mode = LT_UNWIND_FP;

struct walk_regs {
	__u64 ip;
	__u64 sp;
	__u64 bp;
	__u64 bp_ok;		/* bp holds the frame's rbp */
	__u64 trampoline;	/* where pending uretprobes return to, or 0 */
	struct lt_unwind_proc proc;	/* the process's mappings, copied once per walk */
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
	STEP_NEXT,	/* a caller was found */
	STEP_END,	/* the stack ends here */
	STEP_CUT,	/* the walk cannot go on */
};

/*
 * The mapping holding pc, copied to *out: the newest pending one, else the
 * last sorted one starting at or below pc. Array lookups by key rather than
 * indexes into a value keep the verifier's states few.
 */
static __always_inline int range_find(struct lt_unwind_proc *p, __u64 pc,
				      struct lt_unwind_range *out)
{
	__u32 lo = 0, hi = p->nr, mid, key, base = p->slot * LT_UNWIND_MAX_RANGES;
	__u32 pending = p->nr_pending;
	struct lt_unwind_range *r;

	for (int i = 0; i < LT_UNWIND_PENDING; i++) {
		if (i >= pending)
			break;
		/* Newest first. */
		r = &p->pending[(pending - 1 - i) & (LT_UNWIND_PENDING - 1)];
		if (r->start <= pc && pc < r->end) {
			*out = *r;
			return 0;
		}
	}
	if (p->slot == LT_UNWIND_NO_SLOT)
		return -1;
	for (int i = 0; i < 9; i++) {	/* log2(LT_UNWIND_MAX_RANGES) + 1 */
		if (lo >= hi)
			break;
		mid = (lo + hi) / 2;
		key = base + mid;
		r = bpf_map_lookup_elem(&unwind_ranges, &key);
		if (!r)
			return -1;
		if (r->start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	key = base + lo - 1;
	r = lo ? bpf_map_lookup_elem(&unwind_ranges, &key) : NULL;
	if (!r || pc >= r->end)
		return -1;
	*out = *r;
	return 0;
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

/* Code without a table of its own (JIT): follow rbp as a frame pointer. */
static __always_inline enum walk_step fp_step(struct walk_regs *s)
{
	struct {
		__u64 next;
		__u64 ret;
	} frame;

	/* _start clears %rbp: in code that keeps frame pointers, 0 ends the chain. */
	if (s->bp_ok && !s->bp)
		return STEP_END;
	if (!s->bp_ok || s->bp < s->sp || s->bp - s->sp > stack_span || (s->bp & 7))
		return STEP_CUT;
	if (bpf_probe_read_user(&frame, sizeof(frame), (void *)s->bp))
		return STEP_CUT;
	s->sp = s->bp + sizeof(frame);
	s->ip = frame.ret;
	s->bp = frame.next;
	return frame.ret ? STEP_NEXT : STEP_END;
}

/*
 * A return address at slot that a pending uretprobe (another tool's, or one of
 * ours on an outer call) replaced with its trampoline: the kernel keeps the
 * original in the task's return instances, each with the slot it replaced. 0
 * when none is found.
 */
static __always_inline __u64 uretprobe_original(__u64 slot)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);

	for (int i = 0; i < 16 && ri; i++) {
		if (BPF_CORE_READ(ri, stack) == slot)
			return BPF_CORE_READ(ri, orig_ret_vaddr);
		ri = BPF_CORE_READ(ri, next);
	}
	return 0;
}

/*
 * From a frame's registers to its caller's. Frame 0's pc is where the
 * allocator returned to, its registers those after the return: its row is at
 * that pc. An outer frame is inside its call, whose return address may be the
 * first byte of another function's rule: its row is at pc - 1.
 */
static __always_inline enum walk_step walk_step(struct lt_unwind_proc *p,
						    struct walk_regs *s, bool first)
{
	__u64 pc = first ? s->ip : s->ip - 1, cfa, ra, bp;
	struct lt_unwind_range r;
	struct lt_unwind_row row;
	struct lt_unwind_obj *o;

	if (range_find(p, pc, &r)) {
		p->stale = 1;	/* user space rereads: a mapping it missed, or [uprobes] */
		return STEP_CUT;
	}
	if (r.obj == LT_UNWIND_FP_OBJ)
		return fp_step(s);
	o = bpf_map_lookup_elem(&unwind_objs, &r.obj);
	if (!o || !o->nr || row_find(o, (__u32)(pc - r.bias), &row))
		return STEP_CUT;
	switch (row.cfa) {
	case LT_CFA_RSP:
		cfa = s->sp + row.cfa_off;
		break;
	case LT_CFA_RBP:
		if (!s->bp_ok)
			return STEP_CUT;
		cfa = s->bp + row.cfa_off;
		break;
	case LT_CFA_PLT:
		cfa = s->sp + 8 + ((s->ip & 15) >= (__u64)row.cfa_off ? 8 : 0);
		break;
	case LT_CFA_END:
		return STEP_END;
	default:
		return STEP_CUT;
	}
	/* The caller's frame lies above this one, within a stack's reach. */
	if (cfa <= s->sp || cfa - s->sp > stack_span)
		return STEP_CUT;
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8)))
		return STEP_CUT;
	if (ra && ra == s->trampoline) {
		ra = uretprobe_original(cfa - 8);
		if (!ra)
			return STEP_CUT;
	}
	if (row.rbp == LT_RBP_AT) {
		s->bp_ok = !bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + row.rbp_off8 * 8));
		s->bp = bp;
	} else if (row.rbp == LT_RBP_UNKNOWN) {
		s->bp_ok = 0;
	}
	s->sp = cfa;
	s->ip = ra;
	return ra ? STEP_NEXT : STEP_END;
}

/*
 * One frame of the walk, its registers and the mappings in unwind_regs. A
 * global function: the verifier checks it once, on its own, instead of once per
 * frame of the caller's loop, which keeps 127 frames far below its complexity limit.
 */
__noinline int lt_unwind_frame(__u32 first)
{
	struct walk_regs *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&unwind_regs, &zero);
	if (!s)
		return STEP_CUT;
	return walk_step(&s->proc, s, first);
}

/* Fills st->ips[1...] from a return probe's registers; ips[0] is set. Returns the depth. */
static __always_inline __u32 unwind_walk(struct pt_regs *ctx, struct lt_stack *st, __u64 *h)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, nr = 1, zero = 0;
	struct walk_regs *s = bpf_map_lookup_elem(&unwind_regs, &zero);
	struct lt_unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &tgid);
	struct task_struct *task;
	int step = STEP_CUT;

	if (!s || !p)
		goto out;
	/* One hash lookup per walk, not per frame. */
	s->proc = *p;
	task = (struct task_struct *)bpf_get_current_task();
	s->trampoline = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	s->ip = PT_REGS_IP(ctx);
	s->sp = PT_REGS_SP(ctx);
	s->bp = PT_REGS_FP(ctx);
	s->bp_ok = 1;
	for (int i = 1; i < LT_MAX_FRAMES; i++) {
		step = lt_unwind_frame(i == 1);
		if (step != STEP_NEXT)
			break;
		st->ips[i] = s->ip;
		*h = mix(*h, s->ip);
		nr++;
	}
	if (s->proc.stale)
		p->stale = 1;	/* an address in no mapping: user space rereads them */
out:
	/* 127 frames and more to go counts as cut too. */
	st->flags = LT_STACK_UNWOUND | (step == STEP_END ? 0 : LT_STACK_CUT);
	*h = mix(*h, st->flags);
	return nr;
}

/* The file open at fd in the current task, or NULL. */
static __always_inline struct file *fd_file(struct task_struct *task, __u64 fd)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *f = NULL;

	if (fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * Every executable mapping a traced process makes with mmap goes into its
 * pending ranges as it is made, with the table of its file if user space built
 * one, and marks the process stale: user space rereads its mappings and builds
 * the tables it lacks.
 * The exit of the syscall is the hook every kernel from 5.8 on has (this kind
 * of guest has neither kprobes nor fentry); the arguments are still in the
 * saved registers there. The executable and the dynamic loader, which exec
 * maps, come from /proc/PID/maps.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(unwind_mmap, struct pt_regs *regs, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct lt_unwind_range r = { .start = ret, .obj = LT_UNWIND_FP_OBJ };
	struct lt_unwind_file_key key = {};
	__u64 len, prot, flags, fd, off, mm;
	struct lt_unwind_proc *p, *empty;
	struct lt_unwind_file *f;
	struct file *file = NULL;

	if (BPF_CORE_READ(regs, orig_ax) != 9 /* __NR_mmap */ || (unsigned long)ret >= -4095UL)
		return 0;
	len = BPF_CORE_READ(regs, si);
	prot = BPF_CORE_READ(regs, dx);
	flags = BPF_CORE_READ(regs, r10);
	fd = BPF_CORE_READ(regs, r8);
	off = BPF_CORE_READ(regs, r9);
	if (!(prot & 4 /* PROT_EXEC */) || !len || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (!(flags & 0x20 /* MAP_ANONYMOUS */)) {
		file = fd_file(task, fd);
		if (!file)
			return 0;
	}
	mm = (__u64)BPF_CORE_READ(task, mm);
	p = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!p) {
		empty = bpf_map_lookup_elem(&unwind_empty, &zero);
		if (!empty)
			return 0;
		bpf_map_update_elem(&unwind_procs, &tgid, empty, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&unwind_procs, &tgid);
		if (!p)
			return 0;
		p->slot = LT_UNWIND_NO_SLOT;
	}
	if (p->mm && p->mm != mm)
		p->nr = p->nr_pending = 0;	/* an exec: the old image's mappings are gone */
	p->mm = mm;
	p->stale = 1;
	r.end = ret + ((len + page_size - 1) & ~(page_size - 1));
	if (file) {
		key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
		key.ino = BPF_CORE_READ(file, f_inode, i_ino);
		f = bpf_map_lookup_elem(&unwind_files, &key);
		if (f) {
			r.obj = f->obj;
			r.bias = ret - (off + f->delta);
		} else {
			r.obj = LT_UNWIND_NO_OBJ;
		}
	}
	if (p->nr_pending < LT_UNWIND_PENDING)
		p->pending[p->nr_pending++ & (LT_UNWIND_PENDING - 1)] = r;
	return 0;
}

#endif /* LT_UNWIND_BPF_H */
