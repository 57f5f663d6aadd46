/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whether leaktrace should cut short what it is doing: a stop signal is waiting
 * (SIGINT, SIGTERM, SIGHUP, blocked and taken only in the main loop), or the
 * run's deadline passed. Long steps (reading symbols, building unwind tables,
 * scans, planning probes) ask between pieces of work, so that a run ends on time.
 */
#ifndef LT_STOP_H
#define LT_STOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* The signals that mean "stop"; they stay blocked, for the main loop to take. */
void stop__watch(const sigset_t *sigs);
/* After this time (CLOCK_MONOTONIC ns; 0: none), long work is cut short. Only moves earlier. */
void stop__set_deadline(uint64_t ns);
/* True when a stop signal is waiting or the deadline passed; cheap enough for inner loops. */
bool stop__requested(void);

#endif
