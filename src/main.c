// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace: wires the command line, the tracer, the snapshots and the reports together. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_report.h"
#include "command.h"
#include "report.h"
#include "snapshot.h"
#include "tracer.h"

/* How often the targets' liveness and mappings are checked between reports. */
#define TICK_NS 1000000000ULL

struct session {
	const struct config *cfg;
	struct tracer *tracer;
	struct symbolizer *syms;
	struct snap_source *src;
	struct command *command;
	FILE *out;		/* periodic and final text reports */
};

/* Attaches the planned probes and registers the process for the reports. */
static int attach(struct session *s, pid_t pid, const struct alloc_plan *plan, bool from_start)
{
	int err;

	err = tracer__attach(s->tracer, pid, plan, from_start);
	if (!err)
		err = snap_source__add_process(s->src, pid);
	if (!err)
		err = snap_source__set_allocator(s->src, pid, plan->heap);
	return err;
}

static int attach_pid(struct session *s, pid_t pid)
{
	struct alloc_plan plan;
	int err;

	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "leaktrace: cannot attach to pid %d: no such process\n", pid);
		return -ESRCH;
	}
	err = alloc_plan__for_pid(pid, &plan);
	return err ? err : attach(s, pid, &plan, false);
}

static int start_command(struct session *s)
{
	struct alloc_plan plan;
	pid_t pid;
	int err;

	err = command__start(s->cfg->command, &s->command);
	if (err)
		return err;
	pid = command__pid(s->command);
	err = alloc_plan__for_exec(pid, &plan);
	if (!err)
		err = attach(s, pid, &plan, true);
	if (!err)
		err = command__resume(s->command);
	if (err)
		kill(pid, SIGKILL);	/* it never ran a single instruction of its own */
	return err;
}

static bool any_alive(const struct session *s)
{
	for (int i = 0; i < s->cfg->nr_pids; i++)
		if (!kill(s->cfg->pids[i], 0) || errno != ESRCH)
			return true;
	return false;
}

static void refresh_maps(void *arg, pid_t pid)
{
	snap_source__add_process(arg, pid);
}

static int write_output(const struct config *cfg, const struct snapshot *snap)
{
	FILE *f = fopen(cfg->output, "w");

	if (!f) {
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", cfg->output, strerror(errno));
		return -errno;
	}
	if (cfg->format == LT_FORMAT_JSON)
		report_json__write(f, snap);
	else
		report_text__write(f, snap, cfg->top);
	if (fclose(f)) {
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", cfg->output, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* -v: what a snapshot cost, so that its cost can be watched (and benchmarked). */
static void print_cost(const struct snapshot *snap, uint64_t ns)
{
	size_t stacks = 0;
	int64_t allocs = 0;

	for (size_t i = 0; i < snap->nr_procs; i++) {
		stacks += snap->procs[i].nr_stacks;
		allocs += snap->procs[i].allocs;
	}
	fprintf(stderr, "leaktrace: snapshot: %.1f ms, %zu stacks, %lld allocations\n", ns / 1e6,
		stacks, (long long)allocs);
}

static int report(struct session *s, bool final, struct snapshot **keep)
{
	uint64_t t0 = tracer__now_ns();
	struct snapshot *snap;
	int err;

	err = snap_source__take(s->src, &snap);
	if (err) {
		fprintf(stderr, "leaktrace: cannot read the BPF maps: %s\n", strerror(-err));
		return err;
	}
	if (s->cfg->verbose)
		print_cost(snap, tracer__now_ns() - t0);
	if (final || !s->cfg->quiet)
		report_text__write(s->out, snap, s->cfg->top);
	if (keep)
		*keep = snap;
	else
		snapshot__free(snap);
	return 0;
}

static struct timespec timeout_until(uint64_t deadline, uint64_t now)
{
	uint64_t d = deadline > now ? deadline - now : 0;

	return (struct timespec){ .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };
}

/* Reports every interval until the duration ends, a signal comes, or the targets end. */
static int trace_loop(struct session *s, const sigset_t *sigs)
{
	const struct config *cfg = s->cfg;
	uint64_t start = tracer__now_ns(), now = start, next_report, next_tick, end, wake;
	struct timespec ts;
	int sig;

	next_report = start + (uint64_t)(cfg->interval * 1e9);
	end = cfg->duration > 0 ? start + (uint64_t)(cfg->duration * 1e9) : UINT64_MAX;
	for (;;) {
		next_tick = now + TICK_NS;
		wake = next_report < next_tick ? next_report : next_tick;
		wake = wake < end ? wake : end;
		ts = timeout_until(wake, now);
		sig = sigtimedwait(sigs, NULL, &ts);
		now = tracer__now_ns();
		if (sig == SIGCHLD && s->command &&
		    command__poll(s->command, refresh_maps, s->src))
			return 0;
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			if (!s->command)
				return 0;
			/* The command decides: it gets the signal, we report when it ends. */
			kill(command__pid(s->command), sig);
		}
		if (now >= end)
			return 0;
		if (!s->command && !any_alive(s))
			return 0;
		if (now >= next_report) {
			if (report(s, false, NULL))
				return -EIO;
			next_report += (uint64_t)(cfg->interval * 1e9);
			if (next_report <= now)
				next_report = now + (uint64_t)(cfg->interval * 1e9);
		} else if (sig < 0) {
			for (int i = 0; i < cfg->nr_pids; i++)
				snap_source__add_process(s->src, cfg->pids[i]);
		}
	}
}

static int run(struct session *s, const sigset_t *sigs)
{
	const struct config *cfg = s->cfg;
	struct tracer_opts topts = {
		.max_allocs = cfg->max_allocs,
		.max_stacks = cfg->max_stacks,
		.min_size = cfg->min_size,
		.max_size = cfg->max_size,
		.verbose = cfg->verbose,
	};
	struct snap_filter filter = {
		.older = cfg->older,
		.min_size = cfg->min_size,
		.max_size = cfg->max_size,
	};
	struct snapshot *final = NULL;
	int err;

	err = tracer__new(&topts, &s->tracer);
	if (err)
		return err;
	s->syms = symbolizer__new();
	s->src = s->syms ? snap_source__new(s->tracer, s->syms, &filter) : NULL;
	if (!s->src)
		return -ENOMEM;
	if (cfg->command) {
		err = start_command(s);
	} else {
		for (int i = 0; i < cfg->nr_pids && !err; i++)
			err = attach_pid(s, cfg->pids[i]);
	}
	if (err)
		return err;
	if (!cfg->quiet && !cfg->command)
		fprintf(stderr, "leaktrace: tracing %d process%s, a report every %g s; Ctrl-C "
			"to stop\n", cfg->nr_pids, cfg->nr_pids > 1 ? "es" : "", cfg->interval);
	err = trace_loop(s, sigs);
	if (!err)
		err = report(s, true, &final);
	/* Detach before writing files: the targets run at full speed again at once. */
	tracer__free(s->tracer);
	s->tracer = NULL;
	if (!err && cfg->output)
		err = write_output(cfg, final);
	snapshot__free(final);
	return err;
}

int main(int argc, char **argv)
{
	struct session s = { .out = stdout };
	struct config cfg;
	sigset_t sigs;
	int err;

	if (argc > 1 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	switch (cli__parse(argc, argv, &cfg)) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_EXIT_USAGE:
		return 2;
	case CLI_RUN:
		break;
	}
	s.cfg = &cfg;
	/* In run mode stdout is the command's: reports go to stderr, as valgrind's do. */
	if (cfg.command)
		s.out = stderr;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	err = run(&s, &sigs);
	if (s.command && !err) {
		/* Wait for the end of a command that outlived -d. */
		while (!command__poll(s.command, refresh_maps, s.src))
			sigwaitinfo(&sigs, NULL);
	}
	tracer__free(s.tracer);
	snap_source__free(s.src);
	symbolizer__free(s.syms);
	if (s.command) {
		int code = command__exit_code(s.command);

		command__free(s.command);
		return err ? 1 : code;
	}
	command__free(s.command);
	return err ? 1 : 0;
}
