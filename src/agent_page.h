/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The agent's live page (/): one self-contained HTML file, its script reading the agent's JSON. */
#ifndef LT_AGENT_PAGE_H
#define LT_AGENT_PAGE_H

#include <stdio.h>

/* Writes the page; it refreshes itself every interval_s seconds. */
void agent_page__write(FILE *f, double interval_s);

#endif
