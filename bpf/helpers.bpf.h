/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the BPF units share: the settings the loader writes for all of them and
 * small helpers. It uses no unit's names: units include it (leaktrace.bpf.c,
 * unwind.bpf.h, mappings.bpf.h), never the other way round.
 */
#ifndef LT_HELPERS_BPF_H
#define LT_HELPERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"

const volatile __u64 page_size = 4096;
/* How far above the stack pointer a frame pointer may be before the walk stops. */
const volatile __u64 stack_span = 8 << 20;

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	return lt_mix(h, v);
}

/*
 * A return address at slot that a pending uretprobe (another tool's, or one of
 * ours on an outer call) replaced with its trampoline: the kernel keeps the
 * original in the task's return instances, each with the slot it replaced. 0
 * when none is found. A global function (5.6+): the verifier checks its loop
 * once, not once per caller (inlined, it was 6,600 of the entry program's
 * 13,200 instructions checked, and 5 ms of the session program's 29).
 */
__noinline __u64 uretprobe_original(__u64 slot)
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

#endif /* LT_HELPERS_BPF_H */
