/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's types that CO-RE relocations may be rooted at, copied out of
 * the kernel's BTF into a small BTF of their own, for libbpf to search in
 * place of the kernel's whole (bpf_object_open_opts.btf_custom_path). libbpf
 * looks for each relocated type among every kernel type, about 1 ms a type
 * here (16 in leaktrace's object); one pass over them finds all.
 */
#ifndef LT_CORE_BTF_H
#define LT_CORE_BTF_H

#include <stddef.h>

struct btf;

/*
 * An empty file in memory for the BTF (a memfd), and its path, the one libbpf
 * is given at open (it reads the file at load). The fd, or -errno.
 */
int core_btf__reserve(char *path, size_t len);
/*
 * Writes into fd, a BTF of the kernel's types (kernel: its raw BTF, size
 * bytes, as kernel__btf gives it) named as the structs, unions, enums and typedefs of local (the BPF
 * object's BTF) are, libbpf's way (a "___flavor" suffix left out), and of the
 * types those embed: their members' types, except what pointers point to
 * (void: CO-RE matches any pointer with any). Each copied whole, as the
 * kernel has it. Where that cannot be done, the kernel's BTF whole. 0 or
 * -errno; *nr_types, how many types it wrote (0: the whole).
 */
int core_btf__write(int fd, const struct btf *local, const void *kernel, size_t size,
		    unsigned int *nr_types);

#endif
