// SPDX-License-Identifier: GPL-2.0
/* Benchmark: many outstanding allocations over many distinct call stacks, to time a snapshot.
 * Usage: many [ALLOCS [STACKS [SLEEP_S]]]   (default 1000000 10000 5)
 * Makes ALLOCS malloc(16) calls spread evenly over STACKS distinct call stacks, keeps them
 * all, prints "ready ALLOCS STACKS", sleeps SLEEP_S seconds and exits without freeing.
 *
 * Stack k descends a chain of DEPTH levels; level d goes through step0() or step1() by bit d
 * of k, so the return addresses on the stack spell k in binary: 2^DEPTH distinct stacks.
 * Build with -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -fno-shrink-wrap,
 * so that every level is a real frame whose prologue sets up %rbp first thing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEPTH 14 /* 2^14 = 16384 >= the largest STACKS accepted */
#define MAX_ALLOCS 4000000

static void *keep[MAX_ALLOCS];
static long nr_kept;

static void level(int d, long k, long n);

/*
 * The leaf: frame 0 of every stack; the frames above it tell the stacks apart. n >= 1 always,
 * and a do-while has no early exit, so that gcc does not shrink-wrap the frame setup (it is
 * built with -fno-shrink-wrap as well).
 */
static void __attribute__((noinline)) leaf(long n)
{
	do {
		keep[nr_kept] = malloc(16);
		if (!keep[nr_kept]) {
			fprintf(stderr, "many: out of memory\n");
			exit(1);
		}
		nr_kept++;
	} while (--n > 0);
}

/* Two functions with distinct bodies, so that no optimisation folds them into one. */
static void __attribute__((noinline)) step0(int d, long k, long n)
{
	level(d + 1, k, n);
	__asm__ volatile("" ::: "memory");
}

static void __attribute__((noinline)) step1(int d, long k, long n)
{
	level(d + 1, k, n);
	__asm__ volatile("nop" ::: "memory");
}

static void __attribute__((noinline)) level(int d, long k, long n)
{
	if (d == DEPTH)
		leaf(n);
	else if (k >> d & 1)
		step1(d, k, n);
	else
		step0(d, k, n);
}

int main(int argc, char **argv)
{
	long allocs = argc > 1 ? atol(argv[1]) : 1000000;
	long stacks = argc > 2 ? atol(argv[2]) : 10000;
	int sleep_s = argc > 3 ? atoi(argv[3]) : 5;

	if (allocs < 1 || allocs > MAX_ALLOCS || stacks < 1 || stacks > 1L << DEPTH ||
	    sleep_s < 0) {
		fprintf(stderr, "usage: many [ALLOCS<=%d [STACKS<=%d [SLEEP_S]]]\n", MAX_ALLOCS,
			1 << DEPTH);
		return 2;
	}
	/* Spread the remainder over the first stacks, so exactly ALLOCS are made. */
	for (long k = 0; k < stacks && k < allocs; k++)
		level(0, k, allocs / stacks + (k < allocs % stacks));
	printf("ready %ld %ld\n", nr_kept, stacks);
	fflush(stdout);
	sleep(sleep_s);
	return 0;
}
