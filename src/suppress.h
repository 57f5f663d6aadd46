/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Suppressions (--suppress FILE, and a default set built in): stack patterns in
 * valgrind's format whose stacks are counted apart, as suppressed, and never as
 * leaks by --fail-on-leak. The format is described in README.md.
 */
#ifndef LT_SUPPRESS_H
#define LT_SUPPRESS_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

struct suppressions;

struct suppressions *suppress__new(void);
/*
 * Adds the entries of text, read from a file called name (for errors). 0, or
 * -EINVAL with one line "NAME:LINE: what is wrong" in err, or -ENOMEM.
 */
int suppress__parse(struct suppressions *s, const char *text, const char *name, char *err,
		    size_t size);
/* Reads path and adds its entries; 0 or a negative errno with one line in err. */
int suppress__load_file(struct suppressions *s, const char *path, char *err, size_t size);
/* Adds the built-in set (src/suppress_default.supp); 0 or -ENOMEM. */
int suppress__add_defaults(struct suppressions *s);
/* The built-in set's text, as --suppress-list-default prints it. */
const char *suppress__default_text(void);
/* How many entries apply to leaks (others, of other valgrind kinds, are skipped). */
size_t suppress__count(const struct suppressions *s);
/* The name of the first entry whose pattern matches the stack, or NULL. */
const char *suppress__match(const struct suppressions *s, const struct stack_stat *st);
/*
 * Marks every stack of snap that an entry matches (stack_stat.suppressed), and
 * counts them per process and per entry (snap->suppressions). 0 or -ENOMEM.
 */
int suppress__apply(const struct suppressions *s, struct snapshot *snap);
void suppress__free(struct suppressions *s);

#endif
