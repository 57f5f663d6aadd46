/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * leaktrace's own read-only pages that it read once and no longer needs: let
 * go, so that they leave its RSS (a later read maps them again from the page
 * cache, unchanged: never wrong, only slower).
 */
#ifndef LT_SELF_PAGES_H
#define LT_SELF_PAGES_H

#include <stddef.h>

/*
 * The executable's first segment, read by the dynamic loader at start: its
 * ELF headers, dynamic symbols and relocations (1.9 MiB of .rela.dyn). Call
 * after main begins.
 */
void self_pages__release_loader_data(void);
/* The whole pages of [p, p + size), read-only data of the executable (an embedded object). */
void self_pages__release(const void *p, size_t size);

#endif
