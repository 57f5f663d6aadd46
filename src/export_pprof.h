/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A gzip-compressed profile.proto heap profile (inuse_space, inuse_objects). */
#ifndef LT_EXPORT_PPROF_H
#define LT_EXPORT_PPROF_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

int export_pprof__write(FILE *f, const struct snapshot *snap);
/* The profile.proto bytes before compression, to free(); 0 or -ENOMEM. */
int export_pprof__encode(const struct snapshot *snap, unsigned char **out, size_t *len);

#endif
