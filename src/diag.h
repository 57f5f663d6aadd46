/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every message leaktrace prints on stderr: one line each, "leaktrace: " (or the command's
 * prefix) first, and shown or not by -q and -v. stderr escapes control bytes (escape__stderr),
 * so a name of a target's cannot drive the terminal.
 */
#ifndef LT_DIAG_H
#define LT_DIAG_H

#include <stdbool.h>

/*
 * -q hides diag__info; -v shows diag__debug. With many targets (-a), a failure on one of
 * them (diag__target) is shown only with -v.
 */
void diag__setup(bool quiet, bool verbose);
void diag__set_many_targets(bool many);
/* "leaktrace report" for the report command; the default is "leaktrace". */
void diag__set_prefix(const char *prefix);
bool diag__verbose(void);

/* What failed; always shown. fmt without the prefix and the newline. */
void diag__error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something is not counted, or counted otherwise than asked; always shown. */
void diag__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress and status; hidden by -q. */
void diag__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What things cost and how they were done; shown with -v. */
void diag__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failure on one target process: an error, or debug among many targets (-a). */
void diag__target(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * For a step that runs at every tick: true when err is a failure other than the last one
 * (*last), which is said once, not at each tick; a success resets it.
 */
bool diag__new_failure(int *last, int err);

#endif
