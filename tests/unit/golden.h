/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Golden files for the export tests: the fixed snapshot, captured output, comparisons. */
#ifndef LT_TEST_GOLDEN_H
#define LT_TEST_GOLDEN_H

#include <stddef.h>
#include <stdio.h>

#include "format.h"
#include "snapshot.h"

/* The fixed snapshot every format is tested on (tests run from the repository root). */
#define GOLDEN_SNAPSHOT "tests/unit/golden/snapshot.json"

/* Every output format, for the tests that run them all. */
#define GOLDEN_NR_FORMATS 5
extern const enum lt_format golden__formats[GOLDEN_NR_FORMATS];

/* A file's whole contents, NUL-terminated; fails the test when it cannot be read. */
char *golden__read(const char *path, size_t *len);
/* Loads a snapshot file; fails the test on any error. */
struct snapshot *golden__snapshot(const char *path);

/* Output captured from a writer: open with golden__open, then golden__close. */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

FILE *golden__open(struct capture *c);
void golden__close(struct capture *c);
/*
 * Asserts that got equals the golden file; LT_UPDATE_GOLDEN=1 rewrites the file
 * from got first (then review the diff).
 */
void golden__check(const char *path, const char *got, size_t len);

#endif
