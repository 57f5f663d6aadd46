// SPDX-License-Identifier: GPL-2.0
/* LD_PRELOAD library that counts calls to the malloc family and prints the totals to
 * stderr at exit, so the benchmark can state how many allocations a workload makes.
 * It forwards every call to the next definition (glibc) through dlsym(RTLD_NEXT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

static unsigned long n_malloc, n_calloc, n_realloc, n_free;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym itself may call calloc before real_calloc is known: serve that from a static pool. */
static char bootstrap[4096];
static size_t bootstrap_used;
static int resolving;

static void resolve(void)
{
	if (real_malloc || resolving)
		return;
	resolving = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	resolving = 0;
}

static void *bootstrap_alloc(size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (bootstrap_used + size > sizeof(bootstrap))
		return NULL;
	p = bootstrap + bootstrap_used;
	bootstrap_used += size;
	return p; /* static storage is already zero, as calloc needs */
}

static int from_bootstrap(void *p)
{
	return (char *)p >= bootstrap && (char *)p < bootstrap + sizeof(bootstrap);
}

void *malloc(size_t size)
{
	resolve();
	if (!real_malloc)
		return bootstrap_alloc(size);
	__atomic_add_fetch(&n_malloc, 1, __ATOMIC_RELAXED);
	return real_malloc(size);
}

void *calloc(size_t nmemb, size_t size)
{
	resolve();
	if (!real_calloc)
		return bootstrap_alloc(nmemb * size);
	__atomic_add_fetch(&n_calloc, 1, __ATOMIC_RELAXED);
	return real_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
	resolve();
	__atomic_add_fetch(&n_realloc, 1, __ATOMIC_RELAXED);
	if (from_bootstrap(ptr)) {
		/* never happens in practice; moving out of the pool would need the old size */
		return NULL;
	}
	return real_realloc(ptr, size);
}

void free(void *ptr)
{
	if (!ptr || from_bootstrap(ptr))
		return;
	resolve();
	__atomic_add_fetch(&n_free, 1, __ATOMIC_RELAXED);
	real_free(ptr);
}

__attribute__((destructor)) static void report(void)
{
	char buf[256];
	int len;

	/* snprintf+write, not fprintf: stdio may already be torn down at exit */
	len = snprintf(buf, sizeof(buf),
		       "count_malloc: malloc %lu calloc %lu realloc %lu free %lu allocations %lu\n",
		       n_malloc, n_calloc, n_realloc, n_free, n_malloc + n_calloc + n_realloc);
	if (len > 0)
		(void)!write(2, buf, (size_t)len);
}
