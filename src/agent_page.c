// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's live page: no network beyond the agent itself (no CDN, no font, no library). */
#include "agent_page.h"

void agent_page__write(FILE *f, double interval_s)
{
	fprintf(f, "<!doctype html><title>leaktrace</title><p>leaktrace agent, every %g s\n",
		interval_s);
}
