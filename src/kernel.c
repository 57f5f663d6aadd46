// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the running kernel offers. Everything but BTF itself is read from the
 * kernel's BTF (its enums and functions name what it implements), which costs a
 * few milliseconds and loads no program: a feature is there when its name is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* The largest kernel BTF read (6.18's is 5.2 MiB). */
#define KERNEL_BTF_MAX (256u << 20)

void *kernel__btf(size_t *size)
{
	struct stat st;
	size_t n = 0;
	ssize_t got;
	char *buf;
	int fd;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > KERNEL_BTF_MAX) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	buf = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (buf != MAP_FAILED) {
		close(fd);
		*size = st.st_size;
		return buf;
	}
	/* Before 6.16: read, into memory mapped all the same (one way to free it). */
	buf = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	while (buf != MAP_FAILED && n < (size_t)st.st_size) {
		got = read(fd, buf + n, st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	close(fd);
	if (buf == MAP_FAILED)
		return NULL;
	if (n != (size_t)st.st_size) {
		munmap(buf, st.st_size);
		errno = EIO; /* its size changed, or a read failed */
		return NULL;
	}
	*size = n;
	return buf;
}

void kernel__btf_free(void *btf, size_t size)
{
	if (btf)
		munmap(btf, size);
}

/*
 * A feature is there when the kernel's BTF has its name: an enum value
 * (BPF_FUNC_find_vma) or a function (__x64_sys_uretprobe). Only those
 * declare such names.
 */
static void probe_btf(struct kernel_features *k, const struct btf_header *h, size_t size)
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
	const char *s = NULL, *end = NULL;
	size_t len;

	if (h && size >= sizeof(*h) && h->magic == BTF_MAGIC && h->hdr_len >= sizeof(*h) &&
	    h->hdr_len <= size && h->str_len && h->str_off <= size - h->hdr_len &&
	    h->str_len <= size - h->hdr_len - h->str_off) {
		s = (const char *)h + h->hdr_len + h->str_off;
		end = s + h->str_len;
	}
	/* Each name ends with a NUL, or where the section does. */
	for (const char *p = s; p && p < end; p += len + 1) {
		len = strnlen(p, end - p);
		if (*p != 'B' && *p != '_')
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			*names[i].found |= len == strlen(names[i].name) &&
					   !memcmp(p, names[i].name, len);
	}
}

void kernel__probe(struct kernel_features *k, const void *btf, size_t size)
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
		probe_btf(k, btf, size);
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
