/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * -a and run mode: the executable file mappings of traced processes, sent to user
 * space as they are made. A process that lives a few milliseconds exits long
 * before user space reads /proc/PID/maps; with these its stacks are still
 * symbolized. A unit of its own (it uses only helpers.bpf.h and leaktrace.h): the
 * programs of leaktrace.bpf.c, none on the allocator's path, decide which
 * processes count and call it: at exec (the executable's and the interpreter's
 * code, which the kernel maps; it needs bpf_find_vma, 5.17, and is not loaded on
 * older kernels), at the exit of mmap (libraries), at fork (the child inherits
 * its parent's mappings).
 */
#ifndef LT_MAPPINGS_BPF_H
#define LT_MAPPINGS_BPF_H

#include "helpers.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* the loader sets 4096 when nothing is captured */
} map_events SEC(".maps");

/* Events the ring buffer had no room for: their processes' frames may stay unknown. */
__u64 map_events_lost = 0;

struct vma_found {
	__u64 start;
	__u64 end;
	__u64 pgoff;
	struct file *file;
};

static long vma_copy(struct task_struct *task, struct vm_area_struct *vma, void *arg)
{
	struct vma_found *out = arg;

	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->pgoff = vma->vm_pgoff;
	out->file = vma->vm_file;
	return 0;
}

/* The mount a vfsmount is part of, and back (struct mount is the kernel's own). */
static __always_inline struct mount *real_mount(struct vfsmount *vfs)
{
	return (struct mount *)((void *)vfs - bpf_core_field_offset(struct mount, mnt));
}

/*
 * The path of file as d_path gives it, up to its mount namespace's root: the
 * names of the dentries up to each mount's root, then of the mount point in
 * the parent mount. Innermost first into e->names; e->nr_names stays 0 when the
 * walk is deeper than LT_MAP_DEPTH or longer than LT_MAP_NAMES.
 */
static __always_inline void path_names(struct file *file, struct lt_map_event *e)
{
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry), *parent, *root;
	struct vfsmount *vfs = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = real_mount(vfs), *up;
	__u32 pos = 0, nr = 0;
	long n;

	for (int i = 0; i < LT_MAP_DEPTH; i++) {
		root = BPF_CORE_READ(vfs, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		if (d == root || d == parent) {
			up = BPF_CORE_READ(mnt, mnt_parent);
			if (d != root || up == mnt) {
				e->nr_names = nr;
				return;
			}
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			vfs = (struct vfsmount *)((void *)up +
						  bpf_core_field_offset(struct mount, mnt));
			continue;
		}
		n = bpf_probe_read_kernel_str(&e->names[pos & (LT_MAP_NAMES - 1)], LT_MAP_NAME_MAX,
					      BPF_CORE_READ(d, d_name.name));
		if (n <= 0 || pos + n > LT_MAP_NAMES)
			return;
		pos += n;
		nr++;
		d = parent;
	}
}

/*
 * Each reservation is checked at once, in the function that made it: kernels
 * before 6.3 do not know that a checked ring buffer record is not NULL any more.
 */
static __always_inline void event_init(struct lt_map_event *e, __u32 type, __u32 tgid)
{
	__builtin_memset(e, 0, offsetof(struct lt_map_event, names));
	e->type = type;
	e->tgid = tgid;
}

/* Sends [start, end) of file at offset. */
static __always_inline void send_map(__u32 type, __u32 tgid, struct file *file, __u64 start,
				     __u64 end, __u64 offset)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct lt_map_event *e = bpf_ringbuf_reserve(&map_events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&map_events_lost, 1);
		return;
	}
	event_init(e, type, tgid);
	e->start = start;
	e->end = end;
	e->offset = offset;
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->ino = BPF_CORE_READ(inode, i_ino);
	path_names(file, e);
	bpf_ringbuf_submit(e, 0);
}

/* Libraries: every executable file mapping a traced process makes with mmap (from mmap_exit). */
static __always_inline void maps_mmap(__u32 tgid, struct file *file, __u64 start, __u64 len,
				      __u64 off)
{
	send_map(LT_MAP_MMAP, tgid, file, start, start + ((len + page_size - 1) & ~(page_size - 1)),
		 off);
}

/* Sends that child starts with tgid's mappings (from maps_fork). */
static __always_inline void send_fork(__u32 tgid, __u32 child)
{
	struct lt_map_event *e = bpf_ringbuf_reserve(&map_events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&map_events_lost, 1);
		return;
	}
	event_init(e, LT_MAP_FORK, tgid);
	e->child = child;
	bpf_ringbuf_submit(e, 0);
}

#endif /* LT_MAPPINGS_BPF_H */
