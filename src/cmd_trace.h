/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Trace mode: `leaktrace [-p PID | -a | -- COMMAND]`, from attach to the final report. */
#ifndef LT_CMD_TRACE_H
#define LT_CMD_TRACE_H

#include "cli.h"

/* Traces as cfg says until its end; returns the exit status. */
int cmd_trace(const struct config *cfg);

#endif
