// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probe floor: programs that do nothing, so that what a traced run costs
 * on top of them is leaktrace's own work, and what they cost is the trap.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int empty_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(struct pt_regs *ctx)
{
	return 0;
}

/* floor session (6.13+): returns 0, so that the return probe runs too. */
SEC("uprobe")
int empty_session(struct pt_regs *ctx)
{
	return 0;
}
