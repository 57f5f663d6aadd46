/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `leaktrace report`: convert, diff and merge saved snapshots. */
#ifndef LT_CMD_REPORT_H
#define LT_CMD_REPORT_H

/* argv[0] is "report"; returns the exit status. */
int cmd_report(int argc, char **argv);

#endif
