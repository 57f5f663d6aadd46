// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a raw BTF through core_btf's walk, its choice of types by name
 * and its copy of them (the kernel's BTF, read as it is laid out). The copy
 * written is parsed back by libbpf, which must take it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "core_btf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The names an object would relocate: those the seeds' types have, and one with a flavor. */
static struct btf *local_names(void)
{
	static const char *const names[] = { "task_struct", "file", "item___v2", "kind_t" };
	struct btf *b = btf__new_empty();

	for (size_t i = 0; b && i < sizeof(names) / sizeof(names[0]); i++)
		btf__add_struct(b, names[i], 0);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct btf *local;
	static int fd = -1;
	unsigned int nr = 0;
	struct btf *back;
	char *copy;
	off_t len;

	if (!local)
		local = local_names();
	if (fd < 0)
		fd = memfd_create("fuzz-core-btf", 0);
	if (!local || fd < 0 || ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
		abort();
	/* Aligned, as the kernel's is. */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (core_btf__write(fd, local, copy, size, &nr))
		abort(); /* writing to memory cannot fail */
	len = lseek(fd, 0, SEEK_CUR);
	if (nr) {
		/* What it copied is a BTF libbpf takes whole. */
		void *out = malloc(len);

		if (pread(fd, out, len, 0) != len)
			abort();
		back = btf__new(out, len);
		if (!back || btf__type_cnt(back) != nr + 1)
			abort();
		btf__free(back);
		free(out);
	} else if (len != (off_t)size) {
		abort(); /* not taken: the input whole */
	}
	free(copy);
	return 0;
}
