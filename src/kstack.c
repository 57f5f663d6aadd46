// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel stacks as reports show them: each return address symbolized from
 * kallsyms, and the frames above the allocation's caller left out (the BPF
 * program's, the tracepoint's, the allocator's), as user stacks leave out the
 * allocator's.
 */
#include <string.h>

#include "kallsyms.h"
#include "kstack.h"

/*
 * Functions of the tracing machinery and of the allocators themselves, by
 * prefix: where a tracepoint names no caller (mm_page_alloc), frame 0 is the
 * first frame past these.
 */
static bool allocator_frame(const char *name)
{
	static const char *const prefixes[] = {
		"bpf_",
		"__bpf_",
		"trace_",
		"__traceiter_",
		"perf_",
		/* the page allocator */
		"__alloc_pages",
		"alloc_pages",
		"__alloc_frozen_pages",
		"alloc_frozen_pages",
		"get_page_from_freelist",
		"__folio_alloc",
		"folio_alloc",
		"__get_free_pages",
		"get_zeroed_page",
		"rmqueue",
		"post_alloc_hook",
		"prep_new_page",
		"vma_alloc_folio",
		"alloc_pages_mpol",
		"folio_alloc_mpol",
		"filemap_alloc_folio",
		/* the slab and percpu allocators, when their caller is not found */
		"kmalloc",
		"__kmalloc",
		"kmem_cache_alloc",
		"__kmem_cache_alloc",
		"slab_alloc",
		"__slab_alloc",
		"___slab_alloc",
		"__do_kmalloc",
		"pcpu_alloc",
		"__alloc_percpu",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void symbolize(const struct kallsyms *ks, uint64_t ip, struct frame *fr)
{
	const char *name, *module;
	uint64_t off;

	memset(fr, 0, sizeof(*fr));
	fr->address = ip;
	fr->kernel = true;
	if (kallsyms__lookup(ks, ip, &name, &off, &module))
		return;
	fr->symbol = name;
	fr->offset = off;
	fr->module = module;
}

/* The first frame to show: the one at call_site, else the first past the allocator's. */
static int first_frame(const struct frame *all, int nr, uint64_t call_site)
{
	int i;

	for (i = 0; call_site && i < nr; i++)
		if (all[i].address == call_site)
			return i;
	for (i = 0; i < nr - 1; i++)
		if (!all[i].symbol || !allocator_frame(all[i].symbol))
			break;
	return i;
}

int kstack__frames(const struct kallsyms *ks, const uint64_t *ips, int nr, uint64_t call_site,
		   struct frame *out)
{
	int first, n = 0;

	for (int i = 0; i < nr; i++)
		symbolize(ks, ips[i], &out[i]);
	first = first_frame(out, nr, call_site);
	for (int i = first; i < nr; i++)
		out[n++] = out[i];
	return n;
}
