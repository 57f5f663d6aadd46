// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* kernel: the features read from the running kernel's BTF, and the refusal of old kernels. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "arch.h"
#include "kernel.h"

/* Debian 12's kernel: everything leaktrace requires, none of the 6.6+ fast paths. */
static struct kernel_features debian12(void)
{
	struct kernel_features k = {
		.release = "6.1.0-56-cloud-amd64",
		.version = 6001,
		.btf = true,
		.uprobes = true,
		.tp_btf = true,
		.probe_read_user = true,
		.ringbuf = true,
		.for_each_map_elem = true,
		.find_vma = true,
	};
	return k;
}

Test(kernel, debian12_kernel_is_accepted)
{
	struct kernel_features k = debian12();
	char buf[256];

	cr_assert_null(kernel__missing(&k, buf, sizeof(buf)));
}

Test(kernel, kernel_without_btf_is_refused_naming_btf)
{
	struct kernel_features k = debian12();
	char buf[256];

	k.btf = false;
	cr_assert_str_eq(
		kernel__missing(&k, buf, sizeof(buf)),
		"leaktrace: kernel 6.1.0-56-cloud-amd64 has no BTF (/sys/kernel/btf/vmlinux): "
		"use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)");
}

Test(kernel, kernel_without_uprobes_is_refused_naming_uprobes)
{
	struct kernel_features k = debian12();
	char buf[256];

	k.uprobes = false;
	cr_assert_str_eq(
		kernel__missing(&k, buf, sizeof(buf)),
		"leaktrace: kernel 6.1.0-56-cloud-amd64 has no uprobes: use a kernel built "
		"with CONFIG_UPROBE_EVENTS=y");
}

/* Ubuntu 18.04's 4.15 with a BTF backported by hand: no tp_btf, no probe_read_user. */
Test(kernel, kernel_4_15_is_refused_naming_tp_btf)
{
	struct kernel_features k = {
		.release = "4.15.0-20-generic",
		.version = 4015,
		.btf = true,
		.uprobes = true,
	};
	char buf[256];

	cr_assert_str_eq(kernel__missing(&k, buf, sizeof(buf)),
			 "leaktrace: kernel 4.15.0-20-generic lacks BTF-typed tracepoints (tp_btf, "
			 "Linux 5.5): leaktrace needs Linux 5.8 or newer");
}

Test(kernel, kernel_without_probe_read_user_is_refused_naming_it)
{
	struct kernel_features k = debian12();
	char buf[256];

	k.probe_read_user = false;
	cr_assert_str_eq(
		kernel__missing(&k, buf, sizeof(buf)),
		"leaktrace: kernel 6.1.0-56-cloud-amd64 lacks the bpf_probe_read_user helper "
		"(Linux 5.5): leaktrace needs Linux 5.8 or newer");
}

Test(kernel, kernel_5_7_with_tp_btf_and_probe_read_user_is_below_the_floor)
{
	struct kernel_features k = debian12();
	char buf[256];

	snprintf(k.release, sizeof(k.release), "5.7.19");
	k.version = 5007;
	k.ringbuf = false;
	k.for_each_map_elem = false;
	cr_assert_str_eq(
		kernel__missing(&k, buf, sizeof(buf)),
		"leaktrace: kernel 5.7.19 is older than 5.8, the oldest leaktrace runs on");
}

/*
 * On the machine's own kernel, each feature read from BTF agrees with the
 * mainline release that brought it (a vendor kernel with backports may differ).
 */
Test(kernel, features_of_the_running_kernel_match_its_release)
{
	struct kernel_features k;
	struct utsname u;
	size_t size = 0;
	void *btf = kernel__btf(&size);
	char buf[256];

	cr_assert_not_null(btf, "the kernel's BTF: %s", strerror(errno));
	kernel__probe(&k, btf, size);
	kernel__btf_free(btf, size);
	cr_assert_eq(uname(&u), 0);
	cr_assert_str_eq(k.release, u.release);
	cr_assert(k.btf, "this machine has /sys/kernel/btf/vmlinux");
	cr_assert_null(kernel__missing(&k, buf, sizeof(buf)), "refused: %s", buf);
	cr_assert_eq(k.ringbuf, k.version >= 5008);
	cr_assert_eq(k.for_each_map_elem, k.version >= 5013);
	cr_assert_eq(k.find_vma, k.version >= 5017);
	cr_assert_eq(k.uprobe_multi, k.version >= 6006);
	cr_assert_eq(k.uretprobe_syscall, k.version >= 6011);
	cr_assert_eq(k.uprobe_session, k.version >= 6013);
}

Test(kernel, verbose_line_names_every_feature)
{
	struct kernel_features k = debian12();
	char buf[1024] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	kernel__print(f, &k);
	fclose(f);
	cr_assert_str_eq(buf,
			 "leaktrace: kernel 6.1.0-56-cloud-amd64: BTF yes, uprobes yes, "
			 "tp_btf yes, ringbuf yes, bpf_for_each_map_elem yes, bpf_find_vma yes, "
			 "uprobe_multi no, "
			 "uretprobe syscall no, uprobe session no\n"
			 "leaktrace: arch " ARCH_NAME ": " ARCH_PATH "\n");
}
