// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace: wires the command line, the tracer, the snapshots and the reports together. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build_id.h"
#include "cli.h"
#include "cmd_report.h"
#include "command.h"
#include "demangle.h"
#include "export.h"
#include "output_file.h"
#include "procmaps.h"
#include "report.h"
#include "snapshot.h"
#include "target.h"
#include "tracer.h"
#include "units.h"

/* How often the targets' liveness and mappings are checked between reports. */
#define TICK_NS 1000000000ULL
/*
 * Under -a, how often new processes are looked for: their mappings are read and
 * a new allocator probed then, so a shorter tick misses fewer short-lived ones.
 */
#define TICK_ALL_NS 200000000ULL
/* --fail-on-leak: the exit status when the lost bytes reach the limit. */
#define LT_EXIT_LEAK 3

struct session {
	const struct config *cfg;
	struct tracer *tracer;
	struct symbolizer *syms;
	struct snap_source *src;
	struct command *command;
	FILE *out;		/* periodic and final text reports */
	struct snapshot *final;	/* the final report's, once taken */
	int exit_code;		/* when leaktrace fails: 1, or the shell's code for a bad command */
};

/* --lib: objects probed by hand, for pid or (-1) for every process. */
static int probe_libs(struct session *s, pid_t pid)
{
	struct alloc_plan plan;
	int err = 0;

	for (int i = 0; i < s->cfg->nr_libs && !err; i++) {
		err = alloc_plan__for_lib(s->cfg->libs[i], &plan);
		if (!err)
			err = tracer__probe(s->tracer, pid, &plan);
	}
	return err;
}

/* Attaches the planned probes and registers the process for the reports. */
static int attach(struct session *s, pid_t pid, const struct alloc_plan *plan, bool from_start)
{
	int err;

	err = tracer__add_target(s->tracer, pid, from_start);
	if (!err)
		err = tracer__probe(s->tracer, pid, plan);
	if (!err)
		err = probe_libs(s, pid);
	if (!err)
		err = snap_source__add_process(s->src, pid);
	if (!err)
		err = snap_source__set_allocator(s->src, pid, plan->heap);
	return err;
}

static int attach_pid(struct session *s, pid_t pid)
{
	struct alloc_plan plan;
	const char *why;
	char buf[128];
	int err;

	why = target__why_not(pid, buf, sizeof(buf));
	if (why) {
		fprintf(stderr, "leaktrace: cannot attach to pid %d: %s\n", pid, why);
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
	if (err) {
		/* As a shell says it: 127 when the command is not found, 126 when it cannot run. */
		s->exit_code = err == -ENOENT ? 127 : 126;
		return err;
	}
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

/* -a: a process seen for the first time gets its allocator probed, if it is new. */
static void probe_new(void *arg, pid_t pid)
{
	struct session *s = arg;
	struct alloc_plan plan;

	if (alloc_plan__for_pid(pid, &plan))
		return;
	if (!tracer__probe(s->tracer, -1, &plan))
		snap_source__set_allocator(s->src, pid, plan.heap);
}

static bool wanted(const struct config *cfg, pid_t pid)
{
	char comm[32] = "";
	bool found = !cfg->nr_pids;

	for (int i = 0; i < cfg->nr_pids; i++)
		found |= cfg->pids[i] == pid;
	if (!found || !cfg->comm)
		return found;
	proc__read_line(pid, "comm", comm, sizeof(comm));
	return !strcmp(comm, cfg->comm);
}

/* -a: every running process (kernel threads have no executable), narrowed by -p and --comm. */
static int attach_all(struct session *s)
{
	struct alloc_plan plan;
	char exe[PATH_MAX];
	struct dirent *d;
	Dl_info libc;
	int n = 0, err;
	DIR *dir;
	pid_t pid;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	alloc_plan__quiet(!s->cfg->verbose);
	while ((d = readdir(dir))) {
		pid = atoi(d->d_name);
		if (pid <= 0 || pid == getpid() || proc__exe(pid, exe, sizeof(exe)) ||
		    !wanted(s->cfg, pid))
			continue;
		err = tracer__add_target(s->tracer, pid, false);
		if (err)
			break;
		n++;
	}
	closedir(dir);
	/*
	 * Processes started later mostly use the system's libc: probe it before they come.
	 * It is leaktrace's own libc, not leaktrace's allocator (a sanitizer build has its own).
	 */
	if (dladdr((void *)gnu_get_libc_version, &libc) && libc.dli_fname &&
	    !alloc_plan__for_lib(libc.dli_fname, &plan))
		tracer__probe(s->tracer, -1, &plan);
	err = probe_libs(s, -1);
	if (err)
		return err;
	/* The targets map now lists them: plan each one through the same path as newcomers. */
	snap_source__refresh(s->src, probe_new, s);
	if (s->cfg->verbose)
		fprintf(stderr, "leaktrace: -a: %d processes traced at start\n", n);
	return 0;
}

static bool any_alive(const struct session *s)
{
	for (int i = 0; i < s->cfg->nr_pids; i++)
		if (!kill(s->cfg->pids[i], 0) || errno != ESRCH)
			return true;
	return false;
}


/* The same writer as `leaktrace report`: one snapshot gives one output, either way. */
static int write_output(const struct config *cfg, struct snapshot *snap)
{
	struct export_opts opts = { .top = cfg->top, .counts = cfg->counts, .lost = cfg->lost };
	struct output_file o;
	int err;

	/* Saved with the snapshot, so that a pprof made from its JSON later has them too. */
	build_id__fill(snap);
	if (cfg->host)
		snprintf(snap->host, sizeof(snap->host), "%s", cfg->host);
	err = output_file__open(&o, cfg->output);
	if (!err) {
		err = export__write_saved(o.f, snap, cfg->format, &opts);
		if (!err)
			err = output_file__close(&o, true);
		else
			output_file__close(&o, false);
	}
	if (err) {
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", cfg->output, strerror(-err));
		return err;
	}
	return 0;
}

static long own_rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* -v: what a snapshot cost and what leaktrace holds, so that both can be watched. */
static void print_cost(const struct session *s, const struct snapshot *snap, uint64_t ns)
{
	size_t stacks = 0;
	int64_t allocs = 0;

	for (size_t i = 0; i < snap->nr_procs; i++) {
		stacks += snap->procs[i].nr_stacks;
		allocs += snap->procs[i].allocs;
	}
	fprintf(stderr, "leaktrace: snapshot: %.1f ms, %zu stacks, %lld allocations\n", ns / 1e6,
		stacks, (long long)allocs);
	fprintf(stderr, "leaktrace: memory: %ld KiB resident, %llu KiB in BPF maps\n",
		own_rss_kib(), (unsigned long long)tracer__map_memory(s->tracer) / 1024);
	tracer__unwind_print(s->tracer);
}

static int report(struct session *s, bool final, struct snapshot **keep)
{
	uint64_t t0 = tracer__now_ns();
	struct snapshot *snap;
	int err;

	snap_source__set_scan(s->src, final ? s->cfg->scan_final : s->cfg->scan);
	snap_source__with_exited(s->src, final);
	err = snap_source__take(s->src, &snap);
	if (err) {
		fprintf(stderr, "leaktrace: cannot read the BPF maps: %s\n", strerror(-err));
		return err;
	}
	if (s->cfg->verbose)
		print_cost(s, snap, tracer__now_ns() - t0);
	if (s->cfg->demangle)
		demangle__snapshot(snap);	/* on failure names stay raw: still a report */
	if (final || !s->cfg->quiet)
		report_text__write(s->out, snap, s->cfg->top);
	if (keep)
		*keep = snap;
	else
		snapshot__free(snap);
	return 0;
}

/*
 * Run mode: the command stops in its exit with its memory still mapped. The
 * final report is taken now: its mappings are read, and its memory scanned.
 */
static void command_exiting(void *arg, pid_t pid, const struct user_regs_struct *regs)
{
	struct session *s = arg;

	snap_source__add_process(s->src, pid);
	snap_source__exiting(s->src, pid, regs);
	if (!s->final && report(s, true, &s->final))
		s->final = NULL;
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
		next_tick = now + (cfg->all ? TICK_ALL_NS : TICK_NS);
		wake = next_report < next_tick ? next_report : next_tick;
		wake = wake < end ? wake : end;
		ts = timeout_until(wake, now);
		sig = sigtimedwait(sigs, NULL, &ts);
		now = tracer__now_ns();
		if (sig == SIGCHLD && s->command &&
		    command__poll(s->command, command_exiting, s))
			return 0;
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			if (!s->command)
				return 0;
			/* The command decides: it gets the signal, we report when it ends. */
			kill(command__pid(s->command), sig);
		}
		if (now >= end)
			return 0;
		if (!s->command && !cfg->all && !any_alive(s))
			return 0;
		if (cfg->all)
			snap_source__refresh(s->src, probe_new, s);
		tracer__unwind_refresh(s->tracer);
		if (now >= next_report) {
			if (report(s, false, NULL))
				return -EIO;
			/* Exited processes were reported once: their records can go. */
			snap_source__reap(s->src);
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
		.follow_new = cfg->all && !cfg->nr_pids,
		.follow_children = cfg->all,
		.comm = cfg->comm,
		.sample_bytes = cfg->sample_bytes,
		.sample_seed = cfg->sample_seed ? cfg->sample_seed : tracer__now_ns() | 1,
		.unwind = cfg->unwind,
		.max_unwind_rows = (cfg->max_unwind_mb << 20) / sizeof(struct lt_unwind_row),
		/* A started command maps its libraries at once, -a's newcomers too: catch them. */
		.unwind_mmap_hook = cfg->command || cfg->all,
		.verbose = cfg->verbose,
	};
	struct snap_filter filter = {
		.older = cfg->older,
		.min_size = cfg->min_size,
		.max_size = cfg->max_size,
		.busy_only = cfg->all,
		.sample_bytes = cfg->sample_bytes,
		.scan = cfg->scan,
		.scan_freeze = cfg->scan_freeze,
		.verbose = cfg->verbose,
	};
	int err;

	/* Found now, not after the whole trace: the snapshot would be lost. */
	err = cfg->output ? output_file__check(cfg->output) : 0;
	if (err) {
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", cfg->output, strerror(-err));
		return err;
	}
	err = tracer__new(&topts, &s->tracer);
	if (err)
		return err;
	s->syms = symbolizer__new();
	s->src = s->syms ? snap_source__new(s->tracer, s->syms, &filter) : NULL;
	if (!s->src)
		return -ENOMEM;
	if (cfg->command) {
		err = start_command(s);
	} else if (cfg->all) {
		err = attach_all(s);
	} else {
		for (int i = 0; i < cfg->nr_pids && !err; i++)
			err = attach_pid(s, cfg->pids[i]);
	}
	if (err)
		return err;
	if (!cfg->quiet && cfg->all)
		fprintf(stderr, "leaktrace: tracing all processes%s%s, a report every %g s; "
			"Ctrl-C to stop\n", cfg->comm ? " named " : "", cfg->comm ? cfg->comm : "",
			cfg->interval);
	else if (!cfg->quiet && !cfg->command)
		fprintf(stderr, "leaktrace: tracing %d process%s, a report every %g s; Ctrl-C "
			"to stop\n", cfg->nr_pids, cfg->nr_pids > 1 ? "es" : "", cfg->interval);
	err = trace_loop(s, sigs);
	if (!err && !s->final)
		err = report(s, true, &s->final);
	/* Detach before writing files: the targets run at full speed again at once. */
	tracer__free(s->tracer);
	s->tracer = NULL;
	if (!err && cfg->output)
		err = write_output(cfg, s->final);
	return err;
}

/* --fail-on-leak: true when the final report's lost bytes reach the limit (said on stderr). */
static bool leak_gate(const struct config *cfg, const struct snapshot *snap)
{
	char lost[32], limit[32];
	int64_t bytes = 0;

	if (!cfg->fail_on_leak || !snap)
		return false;
	for (size_t i = 0; i < snap->nr_procs; i++)
		bytes += snap->procs[i].lost_bytes + snap->procs[i].indirect_bytes;
	if (bytes < (int64_t)cfg->fail_on_leak_bytes)
		return false;
	fprintf(stderr, "leaktrace: %s bytes lost, --fail-on-leak %s: failing\n",
		units__grouped(bytes, lost, sizeof(lost)),
		units__grouped(cfg->fail_on_leak_bytes, limit, sizeof(limit)));
	return true;
}

int main(int argc, char **argv)
{
	struct session s = { .out = stdout, .exit_code = 1 };
	struct config cfg;
	sigset_t sigs;
	bool gate;
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
		while (!command__poll(s.command, NULL, NULL))
			sigwaitinfo(&sigs, NULL);
	}
	tracer__free(s.tracer);
	snap_source__free(s.src);
	symbolizer__free(s.syms);
	gate = !err && leak_gate(&cfg, s.final);
	snapshot__free(s.final);
	if (s.command) {
		int code = command__exit_code(s.command);

		command__free(s.command);
		/* A failed command says more than its leaks; a leak fails one that passed. */
		return err ? s.exit_code : code ? code : gate ? LT_EXIT_LEAK : 0;
	}
	return err ? s.exit_code : gate ? LT_EXIT_LEAK : 0;
}
