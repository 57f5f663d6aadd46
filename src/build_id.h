/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The build IDs of the modules a snapshot's frames name, so that exports can identify builds. */
#ifndef LT_BUILD_ID_H
#define LT_BUILD_ID_H

#include "snapshot.h"

/*
 * Fills each process's modules with the build ID of every file its frames name
 * that has one, read as /proc/PID/root/PATH (the process's own view), else PATH.
 * Best effort: a file that is gone is left out. 0 or -ENOMEM.
 */
int build_id__fill(struct snapshot *snap);
/* The build ID p's modules list for path, or NULL. */
const char *build_id__of(const struct proc_stat *p, const char *path);

#endif
