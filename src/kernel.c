// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the running kernel offers. Everything but BTF itself is read from the
 * kernel's BTF (its enums and functions name what it implements), which costs a
 * few milliseconds and loads no program: a feature is there when its name is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/btf.h>

#include "arch.h"
#include "kernel.h"

/* The names looked for, and where each one's answer goes. */
struct btf_name {
	const char *name;
	bool *found;
};

/* len bytes at off; sysfs hands them out a page at a time. 0 or -1. */
static int read_at(int fd, char *buf, size_t len, off_t off)
{
	ssize_t n;

	for (size_t done = 0; done < len; done += n) {
		n = pread(fd, buf + done, len - done, off + done);
		if (n <= 0)
			return -1;
	}
	return 0;
}

/*
 * The string section of the kernel's BTF, read alone: every type, enum value
 * and function has its name there. Parsing the whole BTF (btf__load_vmlinux_btf)
 * took 15-40 ms of a start, which libbpf then spends again for CO-RE.
 */
static char *btf_strings(size_t *len)
{
	struct btf_header h;
	char *s = NULL;
	int fd;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!read_at(fd, (char *)&h, sizeof(h), 0) && h.magic == BTF_MAGIC &&
	    h.hdr_len >= sizeof(h) && h.str_len && h.str_len <= 64 << 20)
		s = malloc(h.str_len + 1);
	if (s && read_at(fd, s, h.str_len, (off_t)h.hdr_len + h.str_off)) {
		free(s);
		s = NULL;
	}
	close(fd);
	if (s) {
		s[h.str_len] = 0;
		*len = h.str_len;
	}
	return s;
}

/*
 * A feature is there when the kernel's BTF has its name: an enum value
 * (BPF_FUNC_find_vma) or a function (__x64_sys_uretprobe). Only those
 * declare such names.
 */
static void probe_btf(struct kernel_features *k)
{
	const struct btf_name names[] = {
		{ "BPF_TRACE_RAW_TP", &k->tp_btf },
		{ "BPF_FUNC_probe_read_user", &k->probe_read_user },
		{ "BPF_MAP_TYPE_RINGBUF", &k->ringbuf },
		{ "BPF_FUNC_for_each_map_elem", &k->for_each_map_elem },
		{ "BPF_FUNC_find_vma", &k->find_vma },
		{ "BPF_TRACE_UPROBE_MULTI", &k->uprobe_multi },
		{ "BPF_TRACE_UPROBE_SESSION", &k->uprobe_session },
		/* The syscall the uretprobe trampoline makes instead of a trap. */
		{ ARCH_URETPROBE_SYSCALL, &k->uretprobe_syscall },
	};
	size_t len = 0;
	char *s = btf_strings(&len);

	for (char *p = s, *end = s + len; s && p < end; p += strlen(p) + 1) {
		if (*p != 'B' && *p != '_')
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			*names[i].found |= !strcmp(p, names[i].name);
	}
	free(s);
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
		snprintf(buf, len,
			 "leaktrace: kernel %s has no BTF (/sys/kernel/btf/vmlinux): "
			 "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)",
			 k->release);
		return buf;
	}
	if (!k->uprobes) {
		snprintf(buf, len,
			 "leaktrace: kernel %s has no uprobes: use a kernel built with "
			 "CONFIG_UPROBE_EVENTS=y",
			 k->release);
		return buf;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].have)
			continue;
		snprintf(buf, len,
			 "leaktrace: kernel %s lacks %s: leaktrace needs Linux 5.8 "
			 "or newer",
			 k->release, need[i].what);
		return buf;
	}
	/* 5.5 to 5.7 have the above, not CAP_BPF and CAP_PERFMON (5.8): untested, refused. */
	if (k->version >= 0 && k->version < KERNEL_FLOOR) {
		snprintf(buf, len,
			 "leaktrace: kernel %s is older than 5.8, the oldest leaktrace "
			 "runs on",
			 k->release);
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
	fprintf(f,
		"leaktrace: kernel %s: BTF %s, uprobes %s, tp_btf %s, ringbuf %s, "
		"bpf_for_each_map_elem %s, bpf_find_vma %s, uprobe_multi %s, uretprobe syscall %s, "
		"uprobe session %s\n",
		k->release, yes(k->btf), yes(k->uprobes), yes(k->tp_btf), yes(k->ringbuf),
		yes(k->for_each_map_elem), yes(k->find_vma), yes(k->uprobe_multi),
		yes(k->uretprobe_syscall), yes(k->uprobe_session));
	fprintf(f, "leaktrace: arch %s: %s\n", ARCH_NAME, ARCH_PATH);
}
