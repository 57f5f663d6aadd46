/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The mappings the BPF side captured as processes made them, read into the symbolizer. */
#ifndef LT_MAPPING_EVENTS_H
#define LT_MAPPING_EVENTS_H

#include <stddef.h>

#include <linux/types.h>

#include "leaktrace.h"

struct mapping_events;
struct symbolizer;

/* Reads the ring buffer at fd (tracer_maps__mapping_events opens it) into syms. 0 or a negative errno. */
int mapping_events__new(int fd, struct symbolizer *syms, struct mapping_events **out);
/* Applies every event sent since the last call, in the order they were made. */
void mapping_events__poll(struct mapping_events *m);
void mapping_events__free(struct mapping_events *m);

/*
 * One event applied to syms; size is what the ring buffer holds. -EINVAL for an
 * event that is not whole (a bad size or path), -ENOMEM.
 */
int mapping_events__apply(struct symbolizer *syms, const void *data, size_t size);
/*
 * e's path, its components joined outermost first, into buf; -EINVAL when it has
 * none, or they do not end within e->names, -ENAMETOOLONG when buf is too short.
 */
int mapping_event__path(const struct lt_map_event *e, char *buf, size_t len);

#endif
