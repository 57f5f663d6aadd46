// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the running kernel offers. Everything but BTF itself is read from the
 * kernel's BTF (its enums and functions name what it implements), which costs a
 * few milliseconds and loads no program: a feature is there when its name is.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "kernel.h"

/* Whether enum type_name of btf has a value named value. */
static bool btf_has_enum_value(const struct btf *btf, const char *type_name, const char *value)
{
	int id = btf__find_by_name_kind(btf, type_name, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_enum *e = t ? btf_enum(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), value))
			return true;
	return false;
}

static void probe_btf(struct kernel_features *k)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf)
		return;
	k->tp_btf = btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_RAW_TP");
	k->probe_read_user = btf_has_enum_value(btf, "bpf_func_id", "BPF_FUNC_probe_read_user");
	k->ringbuf = btf_has_enum_value(btf, "bpf_map_type", "BPF_MAP_TYPE_RINGBUF");
	k->for_each_map_elem =
		btf_has_enum_value(btf, "bpf_func_id", "BPF_FUNC_for_each_map_elem");
	k->find_vma = btf_has_enum_value(btf, "bpf_func_id", "BPF_FUNC_find_vma");
	k->uprobe_multi = btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI");
	k->uprobe_session =
		btf_has_enum_value(btf, "bpf_attach_type", "BPF_TRACE_UPROBE_SESSION");
	/* The syscall the uretprobe trampoline makes instead of a trap (x86-64). */
	k->uretprobe_syscall = btf__find_by_name_kind(btf, "__x64_sys_uretprobe",
						      BTF_KIND_FUNC) > 0;
	btf__free(btf);
}

void kernel__probe(struct kernel_features *k)
{
	struct utsname u;
	int major, minor;

	memset(k, 0, sizeof(*k));
	k->version = -1;
	if (!uname(&u)) {
		snprintf(k->release, sizeof(k->release), "%s", u.release);
		if (sscanf(u.release, "%d.%d", &major, &minor) == 2)
			k->version = major * 1000 + minor;
	}
	k->btf = !access("/sys/kernel/btf/vmlinux", R_OK);
	k->uprobes = !access("/sys/bus/event_source/devices/uprobe/type", R_OK);
	if (k->btf)
		probe_btf(k);
}

const char *kernel__missing(const struct kernel_features *k, char *buf, size_t len)
{
	/* The required features, each named with the release that brought it. */
	const struct {
		bool have;
		const char *what;
	} need[] = {
		{ k->tp_btf, "BTF-typed tracepoints (tp_btf, Linux 5.5)" },
		{ k->probe_read_user, "the bpf_probe_read_user helper (Linux 5.5)" },
	};

	if (!k->btf) {
		snprintf(buf, len, "leaktrace: kernel %s has no BTF (/sys/kernel/btf/vmlinux): "
			 "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)", k->release);
		return buf;
	}
	if (!k->uprobes) {
		snprintf(buf, len, "leaktrace: kernel %s has no uprobes: use a kernel built with "
			 "CONFIG_UPROBE_EVENTS=y", k->release);
		return buf;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].have)
			continue;
		snprintf(buf, len, "leaktrace: kernel %s lacks %s: leaktrace needs Linux 5.8 "
			 "or newer", k->release, need[i].what);
		return buf;
	}
	/* 5.5 to 5.7 have the above, not CAP_BPF and CAP_PERFMON (5.8): untested, refused. */
	if (k->version >= 0 && k->version < KERNEL_FLOOR) {
		snprintf(buf, len, "leaktrace: kernel %s is older than 5.8, the oldest leaktrace "
			 "runs on", k->release);
		return buf;
	}
	return NULL;
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

void kernel__print(FILE *f, const struct kernel_features *k)
{
	fprintf(f, "leaktrace: kernel %s: BTF %s, uprobes %s, tp_btf %s, ringbuf %s, "
		"bpf_for_each_map_elem %s, bpf_find_vma %s, uprobe_multi %s, uretprobe syscall %s, "
		"uprobe session %s\n", k->release, yes(k->btf), yes(k->uprobes), yes(k->tp_btf),
		yes(k->ringbuf), yes(k->for_each_map_elem), yes(k->find_vma), yes(k->uprobe_multi),
		yes(k->uretprobe_syscall), yes(k->uprobe_session));
}
