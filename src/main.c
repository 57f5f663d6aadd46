// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace: the command line dispatched to its command (trace mode or `report`). */
#include <malloc.h>
#include <string.h>

#include "cli.h"
#include "cmd_report.h"
#include "cmd_trace.h"
#include "escape.h"
#include "exit_status.h"

int main(int argc, char **argv)
{
	struct config cfg;

	/* Messages name targets' files and symbols, and report's snapshots' hosts: all escaped. */
	escape__stderr();
	/*
	 * One malloc arena: the threads that build unwind tables and close links would each
	 * keep one of their own, with what they freed (1.5 MiB of the peak on many.c).
	 */
	mallopt(M_ARENA_MAX, 1);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	switch (cli__parse(argc, argv, &cfg)) {
	case CLI_EXIT_OK:
		return LT_EXIT_OK;
	case CLI_EXIT_USAGE:
		return LT_EXIT_USAGE;
	case CLI_RUN:
		break;
	}
	return cmd_trace(&cfg);
}
