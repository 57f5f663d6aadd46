/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The build IDs of the modules a snapshot's frames name, so that exports can identify builds. */
#ifndef LT_BUILD_ID_H
#define LT_BUILD_ID_H

#include "snapshot.h"
#include "symbolize.h"

/*
 * Fills each process's modules with the build ID of every file its frames name
 * that has one, from the file the symbolizer read for that process's mapping of
 * it (never another file of the same path), and where its code is mapped. Best
 * effort: a file that could not be read has no build ID. 0 or -ENOMEM.
 */
int build_id__fill(struct snapshot *snap, struct symbolizer *syms);

#endif
