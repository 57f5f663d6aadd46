/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the running kernel offers leaktrace: read once at start, cheaply, from its BTF. */
#ifndef LT_KERNEL_H
#define LT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/* The oldest kernel leaktrace runs on, as major * 1000 + minor. */
#define KERNEL_FLOOR 5008

struct kernel_features {
	char release[65]; /* uname -r */
	int version;	  /* major * 1000 + minor, -1 when unreadable */
	bool btf;	  /* /sys/kernel/btf/vmlinux: CO-RE and tp_btf need it */
	bool uprobes;	  /* the uprobe PMU (CONFIG_UPROBE_EVENTS) */
	/* Each as the kernel's BTF names it; none can be known without BTF. */
	bool tp_btf;		/* BPF_TRACE_RAW_TP: BTF-typed tracepoints, 5.5 */
	bool probe_read_user;	/* BPF_FUNC_probe_read_user, 5.5 */
	bool ringbuf;		/* BPF_MAP_TYPE_RINGBUF, 5.8 */
	bool for_each_map_elem; /* BPF_FUNC_for_each_map_elem, 5.13 */
	bool find_vma;		/* BPF_FUNC_find_vma, 5.17 */
	bool uprobe_multi;	/* BPF_TRACE_UPROBE_MULTI links, 6.6 */
	bool uretprobe_syscall; /* sys_uretprobe: returns without a trap, 6.11 */
	bool uprobe_session;	/* BPF_TRACE_UPROBE_SESSION, 6.13 */
};

/*
 * uprobe_multi links (6.6): one link, and one wait at detach, for all the
 * probes of an object. Debian 12's libbpf 1.1 has no API for them: the link is
 * made with bpf(BPF_LINK_CREATE) and the kernel's stable UAPI values, here
 * (src/tracer.c, and the probe floor of make bench).
 */
#define LT_TRACE_UPROBE_MULTI 48
#define LT_TRACE_UPROBE_SESSION 57 /* 6.13: one program at entry and return */
#define LT_F_UPROBE_MULTI_RETURN 1

struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
};

/*
 * The kernel's raw BTF (/sys/kernel/btf/vmlinux), read-only: mapped where the
 * kernel lets it be (6.16+: its own pages, no copy), else read (sysfs hands
 * it out a page at a time: 5 ms for its 5.2 MiB here). NULL with errno.
 */
void *kernel__btf(size_t *size);
/* Lets go of what kernel__btf gave; accepts NULL. */
void kernel__btf_free(void *btf, size_t size);
/*
 * Fills k from uname, sysfs and btf, the kernel's BTF as kernel__btf gave it
 * (NULL: none of the features it tells is there); never fails.
 */
void kernel__probe(struct kernel_features *k, const void *btf, size_t size);
/*
 * Why leaktrace cannot run on k: one line naming the missing feature and what
 * to do, written to buf; NULL when nothing required is missing.
 */
const char *kernel__missing(const struct kernel_features *k, char *buf, size_t len);
/* One line for -v: the release and every feature, "yes" or "no". */
void kernel__print(FILE *f, const struct kernel_features *k);

#endif
