// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `leaktrace report`: convert, diff and merge saved snapshots. */
#include <stdio.h>

#include "cmd_report.h"

int cmd_report(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "leaktrace: report: not available yet\n");
	return 2;
}
