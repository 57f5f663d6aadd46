/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * leaktrace agent: what the always-on mode adds to a trace: its HTTP endpoints over the last
 * snapshot and the history, targets by cgroup or systemd unit, and the last snapshot of each
 * traced process that exits, kept in --state-dir.
 */
#ifndef LT_CMD_AGENT_H
#define LT_CMD_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "snapshot.h"

struct agent;
struct event_loop;

/* What leaktrace's own snapshot cost, as the trace measures it. */
struct agent_cost {
	uint64_t map_bytes;
	double bpf_run_s; /* < 0: unknown */
	double snapshot_s;
	uint64_t mappings_lost; /* captured mappings the ring buffer had no room for */
	uint64_t processes;	/* held: traced, or ended and not yet in a report */
};

/* Listens (one error line and -errno when it cannot) and serves from l. */
int agent__new(const struct config *cfg, struct event_loop *l, struct agent **out);
/* Accepts NULL. */
void agent__free(struct agent *a);
/*
 * The processes of --cgroup or --unit now, up to max, into pids; their count, or -errno with
 * one line said (the unit has no cgroup: not running). 0 without either option.
 */
int agent__targets(struct agent *a, pid_t *pids, int max);
/*
 * pid was attached: its cgroup is read now, so that an end before the next snapshot (an OOM
 * kill) is still told apart.
 */
void agent__watch(struct agent *a, pid_t pid);
/*
 * A snapshot to serve: taken (freed with the next), its line added to the history, and the
 * processes it reports gone written to the state directory.
 */
void agent__publish(struct agent *a, struct snapshot *snap, const struct agent_cost *cost);

#endif
