/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* C++ and Rust symbol names made readable, with libiberty's demangler. */
#ifndef LT_DEMANGLE_H
#define LT_DEMANGLE_H

#include "snapshot.h"

/*
 * The demangled form of a mangled C++ name ("_Z...") or Rust name (legacy "_ZN...17h<hash>E",
 * v0 "_R..."), to free(); NULL for any other name or one the demangler refuses.
 */
char *demangle__name(const char *name);
/*
 * Replaces the mangled names in snap's frames by their demangled form; the new
 * frames and strings belong to snap (its arena). 0 or -ENOMEM (names then stay raw).
 */
int demangle__snapshot(struct snapshot *snap);

#endif
