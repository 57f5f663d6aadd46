/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A self-contained interactive flamegraph of the outstanding bytes. */
#ifndef LT_EXPORT_SVG_H
#define LT_EXPORT_SVG_H

#include <stdio.h>

#include "snapshot.h"

int export_svg__write(FILE *f, const struct snapshot *snap);

#endif
