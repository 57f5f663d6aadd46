// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Trace mode: the session of a live trace (-p, -a, a command), its loop and its reports. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "build_id.h"
#include "cli.h"
#include "cmd_agent.h"
#include "cmd_trace.h"
#include "command.h"
#include "debuginfo.h"
#include "demangle.h"
#include "diag.h"
#include "event_loop.h"
#include "exclude.h"
#include "exit_status.h"
#include "export.h"
#include "kmem.h"
#include "output_file.h"
#include "procmaps.h"
#include "report_text.h"
#include "self_pages.h"
#include "snap_source.h"
#include "stop.h"
#include "suppress.h"
#include "target.h"
#include "tracer.h"
#include "tracer_maps.h"
#include "units.h"

/*
 * How often the targets' liveness and mappings are checked between reports: a
 * library loaded with dlopen gets its unwind table at the next one.
 */
#define TICK_NS 200000000ULL
/*
 * Under -a, how often new processes are looked for: their mappings are read and
 * a new allocator probed then, so a shorter tick misses fewer short-lived ones.
 */
#define TICK_ALL_NS 200000000ULL
/* -a: planning the processes a tick found new stops after this long; the next tick goes on. */
#define PROBE_NEW_NS 100000000ULL
/*
 * How long the work after -d's end may take (the final report: symbols not read
 * yet, scans) before it is cut short; and after SIGINT/SIGTERM/SIGHUP, so that
 * leaktrace ends within a second of one, probes detached and targets let go.
 */
#define END_BOUND_NS 5000000000ULL
#define SIGNAL_BOUND_NS 500000000ULL
/* The final report waits at most this long in all for debuginfod's answers (within the above). */
#define FINAL_FETCH_WAIT_S 10.0
/* -p: how often an exec of a target is looked for: its new allocator is probed then. */
#define TICK_PID_NS 200000000ULL
struct session {
	const struct config *cfg;
	struct tracer *tracer;
	struct kmem *kmem; /* --kernel */
	struct symbolizer *syms;
	struct debuginfo *debuginfo; /* debug files by build ID: --debug-dir, debuginfod */
	struct snap_source *src;
	struct command *command;
	struct suppressions *supp; /* the default set and --suppress files */
	FILE *out;		   /* periodic and final text reports */
	struct snapshot *final;	   /* the final report's, once taken */
	pid_t hands_off;	   /* -a: a process started that the probes would harm */
	uint64_t targets_full;	   /* -a: new processes the BPF side could not add, so far */
	pid_t *news;		   /* -a: processes found new, not planned yet */
	size_t nr_news, cap_news;
	struct event_loop *loop;
	struct agent *agent; /* leaktrace agent: the endpoints the snapshots go to */
	int bpf_stats_fd;    /* leaktrace agent: BPF run-time statistics on while held */
	/* The processes attached by pid: -p's, and the agent's --cgroup or --unit ones. */
	pid_t pids[LT_MAX_PIDS];
	int nr_pids;
	int refresh_err, reap_err; /* the last failures of each tick's steps, said once */
	int interrupted;	   /* run mode: SIGINT/SIGTERM/SIGHUP passed on to the command */
	int abandoned;	/* run mode: a second SIGINT/SIGTERM/SIGHUP; the command let go */
	bool signalled; /* the trace ended on a signal: the end is due at once */
	int exit_code; /* when leaktrace fails: its reason (exit_status.h), or the shell's code for a bad command */
	/* -p: the first process's plan, made while the programs load. */
	struct alloc_plan_ahead *ahead;
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
	if (err == -E2BIG)
		diag__error("cannot trace pid %d: the map of traced processes is full", pid);
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
		diag__error("cannot attach to pid %d: %s", pid, why);
		s->exit_code = LT_EXIT_NO_TARGET;
		return -ESRCH;
	}
	err = alloc_plan__ahead_take(s->ahead, pid, &plan);
	s->ahead = NULL;
	if (err)
		err = alloc_plan__for_pid(pid, &plan);
	/* Its mappings unreadable: without CAP_SYS_PTRACE, or CAP_CHECKPOINT_RESTORE for map_files. */
	if (err == -EACCES || err == -EPERM)
		s->exit_code = LT_EXIT_NOT_PERMITTED;
	if (!err)
		err = attach(s, pid, &plan, false);
	if (!err && s->nr_pids < LT_MAX_PIDS)
		s->pids[s->nr_pids++] = pid;
	if (!err && s->agent)
		agent__watch(s->agent, pid);
	return err;
}

static bool attached(const struct session *s, pid_t pid)
{
	for (int i = 0; i < s->nr_pids; i++)
		if (s->pids[i] == pid)
			return true;
	return false;
}

/* The agent's targets that ended leave their room; the tracer lets their links go. */
static void drop_ended(struct session *s)
{
	int out = 0;

	for (int i = 0; i < s->nr_pids; i++)
		if (!kill(s->pids[i], 0) || errno != ESRCH)
			s->pids[out++] = s->pids[i];
	if (out < s->nr_pids)
		tracer__forget_ended(s->tracer);
	s->nr_pids = out;
}

/*
 * leaktrace agent: the processes of --cgroup or --unit not attached yet are; one that cannot
 * be (gone already, no allocator found) was said and is left out.
 */
static int agent_targets(struct session *s)
{
	pid_t pids[LT_MAX_PIDS];
	int n = agent__targets(s->agent, pids, LT_MAX_PIDS), added = 0;

	drop_ended(s);

	for (int i = 0; i < n; i++) {
		if (attached(s, pids[i]) || pids[i] == getpid())
			continue;
		if (s->nr_pids == LT_MAX_PIDS) {
			diag__warn("at most %d processes by cgroup or unit: pid %d and later ones "
				   "are not traced",
				   LT_MAX_PIDS, pids[i]);
			break;
		}
		if (!attach_pid(s, pids[i])) {
			diag__info("pid %d joined the targets", pids[i]);
			added++;
		}
	}
	if (added)
		tracer__unwind_wait(s->tracer);
	return n < 0 ? n : 0;
}

/*
 * Run mode: LeakSanitizer ptraces the process's threads at its exit, which
 * fails while leaktrace holds it: the process is let go once probed; its
 * blocks are still counted, but its children are not followed and its report
 * is taken after its exit, unscanned. Returns true when let go.
 */
static bool release_lsan(struct session *s, pid_t pid, const struct alloc_plan *plan)
{
	if (!plan->lsan || command__release(s->command, pid))
		return false;
	diag__warn("pid %d uses LeakSanitizer, which must ptrace it: let go of "
		   "it; its blocks are counted, unscanned, and its children are not followed",
		   pid);
	return true;
}

static int start_command(struct session *s)
{
	struct alloc_plan plan;
	pid_t pid;
	int err;

	err = command__start(s->cfg->command, !s->cfg->no_children, &s->command);
	if (err) {
		/* As a shell says it: 127 when the command is not found, 126 when it cannot run. */
		s->exit_code = err == -ENOENT ? 127 : 126;
		return err;
	}
	pid = command__pid(s->command);
	err = alloc_plan__for_exec(pid, &plan);
	if (!err) {
		/* Its tables before its first instruction: no stack is cut for want of one. */
		tracer__unwind_exec(s->tracer, pid, &plan);
		err = attach(s, pid, &plan, true);
		alloc_plan__release(&plan);
		if (!err && release_lsan(s, pid, &plan))
			return 0;
	} else if (err == -ENOENT && !s->cfg->no_children) {
		/* A stripped static shell (busybox): what it starts may still be traced. */
		diag__warn("what pid %d allocates itself is not counted; the "
			   "processes it starts are traced",
			   pid);
		err = tracer__add_target(s->tracer, pid, true);
		if (err == -E2BIG)
			diag__error("cannot trace pid %d: the map of traced processes is full",
				    pid);
		if (!err)
			err = snap_source__add_process(s->src, pid);
	}
	if (!err)
		err = command__resume(s->command);
	if (err)
		kill(pid, SIGKILL); /* it never ran a single instruction of its own */
	return err;
}

/*
 * Where -a's probes go: into every process (-1), which catches a newcomer's first call; the
 * agent's --comm NAME: into each process of that name only, once seen (each tick, a few ms
 * after its exec), so that the host's other processes take no trap.
 */
static bool per_process(const struct config *cfg)
{
	return cfg->agent.on && cfg->comm && !cfg->nr_pids;
}

/* -a: a process seen for the first time gets its allocator probed, if it is new. */
static void probe_new(struct session *s, pid_t pid)
{
	struct alloc_plan plan;

	if (alloc_plan__for_pid(pid, &plan))
		return;
	if (!per_process(s->cfg)) {
		if (!tracer__probe(s->tracer, -1, &plan))
			snap_source__set_allocator(s->src, pid, plan.heap);
		return;
	}
	/* Ended meanwhile, or not probed: said under -v only, as -a's skipped processes are. */
	if (!tracer__probe(s->tracer, pid, &plan) && !probe_libs(s, pid))
		snap_source__set_allocator(s->src, pid, plan.heap);
}

/* -a: what a refresh finds new waits in s->news (kept when memory is short: it comes again). */
static void note_new(void *arg, pid_t pid)
{
	struct session *s = arg;
	pid_t *v;

	if (s->nr_news == s->cap_news) {
		v = realloc(s->news, (s->cap_news ? 2 * s->cap_news : 64) * sizeof(*v));
		if (!v)
			return;
		s->news = v;
		s->cap_news = s->cap_news ? 2 * s->cap_news : 64;
	}
	s->news[s->nr_news++] = pid;
}

/* -a: pid would be harmed by the breakpoints (a valgrind, an excluded name): they all go. */
static void hold_off(struct session *s, pid_t pid, const char *verb)
{
	char why[96];

	if (!exclude__match(pid, !s->cfg->allow_translators, s->cfg->excludes, s->cfg->nr_excludes,
			    why, sizeof(why)))
		return;
	diag__warn("pid %d %s (%s), which -a's breakpoints would break: tracing stopped, probes "
		   "detached",
		   pid, verb, why);
	s->hands_off = pid;
}

/*
 * -a: every new process is checked against the exclusions before any is planned: planning
 * one takes milliseconds, a busy host starts thousands in a tick, and a valgrind must be let
 * alone before its client runs. Planning then goes on for budget_ns (0: to the end); the rest
 * wait for the next tick.
 */
static void probe_news(struct session *s, uint64_t budget_ns)
{
	uint64_t until = tracer__now_ns() + budget_ns;
	size_t i;

	for (i = 0; i < s->nr_news && !s->hands_off; i++)
		hold_off(s, s->news[i], "started");
	for (i = 0; i < s->nr_news && !s->hands_off && !stop__requested(); i++) {
		if (budget_ns && i && tracer__now_ns() > until)
			break;
		probe_new(s, s->news[i]);
	}
	if (i < s->nr_news)
		memmove(s->news, s->news + i, (s->nr_news - i) * sizeof(*s->news));
	s->nr_news -= i;
}

/*
 * -a: processes that started while the map of targets was full were not seen, and one may be
 * a valgrind that the breakpoints would break: /proc says. They stay untraced until a report
 * makes room (the exited processes' entries go once reported).
 */
static void check_unseen(struct session *s)
{
	uint64_t full = tracer__targets_full(s->tracer);
	struct dirent *d;
	DIR *dir;
	pid_t pid;

	if (full == s->targets_full)
		return;
	if (!s->targets_full)
		diag__warn("the map of traced processes is full: processes started until the next "
			   "report are not traced");
	s->targets_full = full;
	/* The agent's --comm: the breakpoints are in its processes alone. */
	if (per_process(s->cfg))
		return;
	dir = opendir("/proc");
	while (dir && (d = readdir(dir)) && !s->hands_off) {
		pid = atoi(d->d_name);
		if (pid > 0 && pid != getpid())
			hold_off(s, pid, "runs");
	}
	if (dir)
		closedir(dir);
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
	char exe[PATH_MAX], why[96];
	struct dirent *d;
	Dl_info libc;
	int n = 0, full = 0, err = 0;
	DIR *dir;
	pid_t pid;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	/* Under -a, a process without a findable allocator is skipped, not an error to print. */
	diag__set_many_targets(true);
	while ((d = readdir(dir)) && !stop__requested()) {
		pid = atoi(d->d_name);
		if (pid <= 0 || pid == getpid() || proc__exe(pid, exe, sizeof(exe)))
			continue;
		/* Probes of its own for each process of the agent's --comm: the others risk none. */
		if (per_process(s->cfg) && !wanted(s->cfg, pid))
			continue;
		/* The breakpoints are in every process that maps the allocator, not only wanted ones. */
		if (exclude__match(pid, !s->cfg->allow_translators, s->cfg->excludes,
				   s->cfg->nr_excludes, why, sizeof(why))) {
			diag__error(
				"-a would break pid %d (%s): its breakpoints are in "
				"every process that maps the allocator; trace others with -p, or "
				"when it has ended",
				pid, why);
			s->exit_code = LT_EXIT_HELD_OFF;
			err = -EBUSY;
			break;
		}
		if (!wanted(s->cfg, pid))
			continue;
		err = tracer__add_target(s->tracer, pid, false);
		if (err == -ESRCH && kill(pid, 0) && errno == ESRCH) {
			err = 0; /* it ended while found */
			continue;
		}
		/* New processes took the map's room as they came (their exits free it at reports). */
		if (err == -E2BIG) {
			full++;
			err = 0;
			continue;
		}
		if (err)
			break;
		n++;
	}
	closedir(dir);
	if (full)
		diag__warn("%d running processes not traced: the map of traced processes is full",
			   full);
	/* Ended before every process was checked: no probe goes in, not even libc's. */
	if (err || stop__requested())
		return err;
	/*
	 * Processes started later mostly use the system's libc: probe it before they come.
	 * It is leaktrace's own libc, not leaktrace's allocator (a sanitizer build has its own).
	 */
	if (!per_process(s->cfg) && dladdr((void *)gnu_get_libc_version, &libc) && libc.dli_fname &&
	    !alloc_plan__for_lib(libc.dli_fname, &plan))
		tracer__probe(s->tracer, -1, &plan);
	err = per_process(s->cfg) ? 0 : probe_libs(s, -1);
	if (err)
		return err;
	/* The targets map now lists them: plan each one through the same path as newcomers. */
	snap_source__refresh(s->src, note_new, s);
	probe_news(s, 0);
	diag__debug("-a: %d processes traced at start", n);
	return 0;
}

/* --kernel: the kmem and percpu tracepoints' programs, and their stacks' symbols. */
static int start_kernel(struct session *s)
{
	const struct config *cfg = s->cfg;
	struct kmem_opts o = {
		.max_blocks = cfg->max_allocs,
		.max_stacks = cfg->max_stacks,
		.sample_bytes = cfg->sample_bytes,
		.sample_seed = cfg->sample_seed ? cfg->sample_seed : tracer__now_ns() | 1,
		.verbose = cfg->verbose,
	};
	int err = kmem__new(&o, &s->kmem);

	return err ? err : snap_source__set_kernel(s->src, s->kmem);
}

static bool any_alive(const struct session *s)
{
	for (int i = 0; i < s->nr_pids; i++)
		if (!kill(s->pids[i], 0) || errno != ESRCH)
			return true;
	return false;
}

/* The same writer as `leaktrace report`: one snapshot gives one output, either way. */
static int write_output(const struct config *cfg, struct snapshot *snap, struct symbolizer *syms)
{
	struct export_opts opts = { .top = cfg->top,
				    .counts = cfg->counts,
				    .lost = cfg->lost,
				    .reserved = cfg->reserved,
				    .lines = cfg->lines };
	struct output_file o;
	int err;

	/* Saved with the snapshot, so that a pprof made from its JSON later has them too. */
	build_id__fill(snap, syms);
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
		diag__error("cannot write %s: %s", output_file__name(cfg->output), strerror(-err));
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
	diag__debug("snapshot: %.1f ms, %zu stacks, %lld allocations", ns / 1e6, stacks,
		    (long long)allocs);
	diag__debug("memory: %ld KiB resident, %llu KiB in BPF maps", own_rss_kib(),
		    (unsigned long long)tracer__map_memory(s->tracer) / 1024);
	tracer__unwind_print(s->tracer);
}

/* leaktrace agent: the snapshot to its endpoints, with what leaktrace itself costs. */
static void publish(struct session *s, struct snapshot *snap, uint64_t ns)
{
	struct agent_cost cost = { .map_bytes = tracer__map_memory(s->tracer),
				   .bpf_run_s = -1,
				   .snapshot_s = ns / 1e9,
				   .mappings_lost = tracer_maps__mapping_events_lost(s->tracer),
				   .processes = snap_source__nr_processes(s->src) };
	uint64_t run_ns;

	if (s->bpf_stats_fd >= 0 && !tracer__run_ns(s->tracer, &run_ns))
		cost.bpf_run_s = run_ns / 1e9;
	/* pprof's mappings name the build IDs, as -o FILE.pb.gz's do. */
	build_id__fill(snap, s->syms);
	agent__publish(s->agent, snap, &cost);
}

static int report(struct session *s, bool final, struct snapshot **keep)
{
	uint64_t t0 = tracer__now_ns();
	struct snapshot *snap = NULL;
	int err;

	snap_source__set_scan(s->src, final ? s->cfg->scan_final : s->cfg->scan);
	snap_source__with_exited(s->src, final);
	/* Debug info being fetched (debuginfod) is waited for, a while, for the last report. */
	if (final && !s->signalled)
		symbolizer__wait_fetches(s->syms, FINAL_FETCH_WAIT_S);
	err = snap_source__take(s->src, &snap);
	/* Run mode: the processes that ended before, each as its exit found it. */
	if (!err && final)
		err = snap_source__add_finished(s->src, snap);
	if (err) {
		diag__error("cannot read the BPF maps: %s", strerror(-err));
		snapshot__free(snap);
		return err;
	}
	if (s->cfg->verbose)
		print_cost(s, snap, tracer__now_ns() - t0);
	/* Before demangling: patterns may name a function either way, so both are tried. */
	if (suppress__apply(s->supp, snap))
		diag__error("out of memory applying the suppressions");
	if (s->cfg->demangle)
		demangle__snapshot(snap); /* on failure names stay raw: still a report */
	if (final || !s->cfg->quiet)
		report_text__write(s->out, snap, s->cfg->top);
	if (keep)
		*keep = snap;
	else if (s->agent)
		publish(s, snap, tracer__now_ns() - t0);
	else
		snapshot__free(snap);
	return 0;
}

/* Run mode, fork: the child starts with its parent's blocks, as its memory does. */
static void process_forked(void *arg, pid_t parent, pid_t child)
{
	struct session *s = arg;

	if (tracer__inherit(s->tracer, parent, child) == -ENOSPC)
		diag__warn("pid %d: the maps are full: some blocks it inherited "
			   "from pid %d are not counted (--max-allocs, --max-stacks)",
			   child, parent);
}

/*
 * Run mode: a process the command started (fork, vfork, clone), before its
 * first instruction: it runs its parent's image, probed for it alone.
 */
static void process_started(void *arg, pid_t pid)
{
	struct session *s = arg;
	struct alloc_plan plan;
	int err;

	err = alloc_plan__for_pid(pid, &plan);
	if (!err)
		err = attach(s, pid, &plan, false);
	if (err)
		diag__warn("pid %d, started by the command, is not traced: what it "
			   "allocates is not counted",
			   pid);
}

/*
 * Run mode: a traced process exec'd, its new image not run yet: the allocator
 * it will use (its LD_PRELOAD included) is probed before its first call.
 */
static void process_exec(void *arg, pid_t pid)
{
	struct session *s = arg;
	struct alloc_plan plan;
	int err;

	err = alloc_plan__for_exec(pid, &plan);
	if (!err) {
		err = tracer__probe(s->tracer, pid, &plan);
		if (!err)
			tracer__unwind_exec(s->tracer, pid, &plan);
		alloc_plan__release(&plan);
	}
	if (!err)
		err = probe_libs(s, pid);
	if (!err)
		err = snap_source__add_process(s->src, pid);
	if (!err)
		err = snap_source__set_allocator(s->src, pid, plan.heap);
	if (err)
		diag__warn("pid %d exec'd a program whose allocator cannot be "
			   "probed: what it allocates is not counted",
			   pid);
	else
		release_lsan(s, pid, &plan);
}

/*
 * Run mode: a process stops in its exit with its memory still mapped: its
 * report is taken now, its mappings read and its memory scanned. The
 * command's is the final report; the others' are kept for it.
 */
static void process_exiting(void *arg, pid_t pid, const struct user_regs_struct *regs)
{
	struct session *s = arg;

	snap_source__add_process(s->src, pid);
	snap_source__exiting(s->src, pid, regs);
	if (pid == command__pid(s->command)) {
		if (!s->final && report(s, true, &s->final))
			s->final = NULL;
		return;
	}
	snap_source__set_scan(s->src, s->cfg->scan_final);
	if (snap_source__finish(s->src, pid))
		diag__error("cannot take the report of pid %d at its exit", pid);
	snap_source__set_scan(s->src, s->cfg->scan);
	tracer__forget(s->tracer, pid);
}

static const struct command_ops run_ops = {
	.forked = process_forked,
	.started = process_started,
	.exec = process_exec,
	.exiting = process_exiting,
};

/* -p: a traced process exec'd; its new image's allocator is probed now, later than its start. */
static void probe_exec(void *arg, pid_t pid)
{
	struct session *s = arg;
	struct alloc_plan plan;
	char exe[PATH_MAX] = "?";

	proc__exe(pid, exe, sizeof(exe));
	if (alloc_plan__for_pid(pid, &plan) || tracer__probe(s->tracer, pid, &plan) ||
	    probe_libs(s, pid)) {
		diag__warn("pid %d exec'd %s, whose allocator cannot be probed: "
			   "what it allocates is not counted",
			   pid, exe);
		return;
	}
	snap_source__set_allocator(s->src, pid, plan.heap);
	diag__warn("pid %d exec'd %s: its allocator is probed from now on; "
		   "what it allocated before (up to %.1f s) is not counted",
		   pid, exe, TICK_PID_NS / 1e9);
}

static uint64_t tick_ns(const struct config *cfg)
{
	return cfg->all ? TICK_ALL_NS : cfg->nr_pids ? TICK_PID_NS : TICK_NS;
}

/*
 * What every wake of the trace does: the targets' news (new processes, exec,
 * exits), the unwind tables of new mappings, and the report when it is due.
 */
static int trace_step(struct session *s, bool timed_out, bool report_due)
{
	const struct config *cfg = s->cfg;
	int err;

	/* The agent stays: its endpoints serve the last snapshots, its cgroup may fill again. */
	if (!s->command && !cfg->all && !s->agent && !any_alive(s) &&
	    !(cfg->kernel && !cfg->nr_pids))
		return EVENT_LOOP_END;
	if (cfg->all || !s->command) {
		err = snap_source__refresh(s->src, cfg->all ? note_new : probe_exec, s);
		if (cfg->all)
			probe_news(s, PROBE_NEW_NS);
		if (diag__new_failure(&s->refresh_err, err))
			diag__warn("cannot read the traced processes from the BPF maps: %s: new "
				   "processes, exec and exits are seen late",
				   strerror(-err));
	}
	if (cfg->all && !s->hands_off)
		check_unseen(s);
	if (s->hands_off) {
		tracer__detach(s->tracer);
		return EVENT_LOOP_END;
	}
	tracer__unwind_refresh(s->tracer);
	if (per_process(cfg))
		tracer__forget_ended(s->tracer);
	tracer__flush(s->tracer);
	if (report_due) {
		if (s->agent)
			agent_targets(s);
		if (report(s, false, NULL))
			return -EIO;
		/* Exited processes were reported once: their records can go. */
		err = snap_source__reap(s->src);
		if (diag__new_failure(&s->reap_err, err))
			diag__warn("cannot drop exited processes' records from the BPF maps: %s: "
				   "they hold room until a later report",
				   strerror(-err));
	} else if (timed_out) {
		for (int i = 0; i < s->nr_pids; i++)
			snap_source__add_process(s->src, s->pids[i]);
	}
	return 0;
}

static int trace_signal(void *arg, int sig)
{
	struct session *s = arg;

	if (sig == SIGCHLD) {
		if (s->command && command__poll(s->command, &run_ops, s))
			return EVENT_LOOP_END;
		return trace_step(s, false, false);
	}
	/* leaktrace agent: SIGHUP reads the targets again. */
	if (s->agent && sig == SIGHUP) {
		agent_targets(s);
		return 0;
	}
	/* SIGINT, SIGTERM, SIGHUP: a second one ends leaktrace whatever the command does. */
	if (s->command && s->interrupted++)
		s->abandoned = sig;
	if (!s->command || s->abandoned) {
		stop__set_deadline(tracer__now_ns() + SIGNAL_BOUND_NS);
		s->signalled = true;
		return EVENT_LOOP_END;
	}
	/* The command decides: it gets the signal, we report when it ends. */
	kill(command__pid(s->command), sig);
	return trace_step(s, false, false);
}

static int trace_timer(struct session *s, bool report_due)
{
	/* Also at each tick: a new process held too long is let go. */
	if (s->command && command__poll(s->command, &run_ops, s))
		return EVENT_LOOP_END;
	return trace_step(s, true, report_due);
}

static int trace_tick(void *arg, uint64_t now)
{
	return trace_timer(arg, false);
}

static int trace_report(void *arg, uint64_t now)
{
	return trace_timer(arg, true);
}

static int trace_end(void *arg, uint64_t now)
{
	return EVENT_LOOP_END;
}

/*
 * Reports every interval until the duration ends, a signal comes, or the targets end.
 * The end's timer is added first (the loop has no other source yet): due with a report, it
 * runs first, as -d's end has no periodic report of its own (the final one follows).
 */
static int trace_loop(struct session *s, const sigset_t *sigs)
{
	const struct config *cfg = s->cfg;
	uint64_t start = tracer__now_ns(), interval = (uint64_t)(cfg->interval * 1e9);
	int end = 0, report, tick, signals, err;

	if (cfg->duration > 0)
		end = event_loop__add_timer(s->loop, start + (uint64_t)(cfg->duration * 1e9), 0,
					    trace_end, s);
	report = event_loop__add_timer(s->loop, start + interval, interval, trace_report, s);
	tick = event_loop__add_timer(s->loop, start + tick_ns(cfg), tick_ns(cfg), trace_tick, s);
	signals = event_loop__add_signals(s->loop, sigs, trace_signal, s);
	if (end < 0 || report < 0 || tick < 0 || signals < 0)
		err = -ENOMEM;
	else
		err = event_loop__run(s->loop);
	event_loop__remove(s->loop, signals);
	event_loop__remove(s->loop, tick);
	event_loop__remove(s->loop, report);
	if (cfg->duration > 0)
		event_loop__remove(s->loop, end);
	return err < 0 ? err : 0;
}

/* Why the tracer could not start, as a script tells it: the kernel, or the privileges. */
static int tracer_exit_status(int err)
{
	if (err == -ENOTSUP)
		return LT_EXIT_NO_BPF;
	if (err == -EPERM || err == -EACCES)
		return LT_EXIT_NOT_PERMITTED;
	return LT_EXIT_FAILURE;
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
		.follow_children = cfg->all || (cfg->command && !cfg->no_children),
		.comm = cfg->comm,
		.sample_bytes = cfg->sample_bytes,
		.sample_seed = cfg->sample_seed ? cfg->sample_seed : tracer__now_ns() | 1,
		.unwind = cfg->unwind,
		.max_unwind_rows = (cfg->max_unwind_mb << 20) / sizeof(struct lt_unwind_row),
		/* A started command maps its libraries at once, -a's newcomers too: catch them. */
		.sys_exit_fallback = cfg->command || cfg->all,
		/* -a's processes that come and go (run mode reads theirs in their exit stop). */
		.capture_mappings = cfg->all,
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
	struct debuginfo_opts dopts = debuginfo__opts(&cfg->debuginfo);
	int err;

	/* Found now, not after the whole trace: the snapshot would be lost. */
	err = cfg->output ? output_file__check(cfg->output) : 0;
	if (err) {
		diag__error("cannot write %s: %s", output_file__name(cfg->output), strerror(-err));
		return err;
	}
	if (event_loop__new(&s->loop))
		return -ENOMEM;
	/* leaktrace agent: its port taken before the probes go in, so that a clash costs nothing. */
	if (cfg->agent.on) {
		err = agent__new(cfg, s->loop, &s->agent);
		if (err)
			return err;
		/* /metrics's BPF run time: the kernel counts it while this descriptor is open. */
		s->bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	}
	/* -p: the first process's probes are planned while the programs load (6-17 ms of a start). */
	if (!cfg->command && !cfg->all && cfg->nr_pids)
		s->ahead = alloc_plan__ahead(cfg->pids[0]);
	err = tracer__new(&topts, &s->tracer);
	if (err) {
		s->exit_code = tracer_exit_status(err);
		return err;
	}
	s->syms = symbolizer__new();
	s->debuginfo = debuginfo__new(&dopts);
	if (s->syms && s->debuginfo)
		symbolizer__set_debuginfo(s->syms, s->debuginfo);
	s->src = s->syms && s->debuginfo ? snap_source__new(s->tracer, s->syms, &filter) : NULL;
	if (!s->src)
		return -ENOMEM;
	/* Weeks of processes that come and go: only the largest 16 gone are kept to the end. */
	if (s->agent)
		snap_source__forget_exited(s->src, 16);
	/* -d: counted from the start of the trace; what runs past it is cut END_BOUND_NS later. */
	if (cfg->duration > 0)
		stop__set_deadline(tracer__now_ns() + (uint64_t)(cfg->duration * 1e9) +
				   END_BOUND_NS);
	if (cfg->kernel)
		err = start_kernel(s);
	if (err) {
		return err;
	} else if (cfg->command) {
		err = start_command(s);
	} else if (cfg->all) {
		err = attach_all(s);
	} else {
		for (int i = 0; i < cfg->nr_pids && !err; i++)
			err = attach_pid(s, cfg->pids[i]);
		if (!err && s->agent)
			err = agent_targets(s);
	}
	/* -p: the probes are live; the unwind tables come before the trace does. */
	if (!err)
		err = tracer__unwind_wait(s->tracer);
	if (err)
		return err;
	if (cfg->all)
		diag__info("tracing all processes%s%s%s, a report every %g s; "
			   "Ctrl-C to stop",
			   cfg->comm ? " named " : "", cfg->comm ? cfg->comm : "",
			   cfg->kernel ? " and the kernel" : "", cfg->interval);
	else if (cfg->kernel && !cfg->nr_pids)
		diag__info("tracing the kernel's allocations, a report every %g s; Ctrl-C to stop",
			   cfg->interval);
	else if (!cfg->command)
		diag__info("tracing %d process%s%s, a report every %g s; Ctrl-C "
			   "to stop",
			   s->nr_pids, s->nr_pids != 1 ? "es" : "",
			   cfg->kernel ? " and the kernel" : "", cfg->interval);
	err = trace_loop(s, sigs);
	if (!err && !s->final)
		err = report(s, true, &s->final);
	/* Detach before writing files: the targets run at full speed again at once. */
	tracer__free(s->tracer);
	s->tracer = NULL;
	kmem__free(s->kmem);
	s->kmem = NULL;
	if (!err && cfg->output)
		err = write_output(cfg, s->final, s->syms);
	return err;
}

static int wait_signal(void *arg, int sig)
{
	struct session *s = arg;

	if (sig != SIGCHLD) {
		s->abandoned = sig;
		return EVENT_LOOP_END;
	}
	return command__poll(s->command, NULL, NULL) ? EVENT_LOOP_END : 0;
}

/* Waits for the end of a command that outlived -d; a signal ends the wait. */
static void wait_command(struct session *s, const sigset_t *sigs)
{
	int id;

	if (command__poll(s->command, NULL, NULL))
		return;
	id = event_loop__add_signals(s->loop, sigs, wait_signal, s);
	if (id < 0) {
		diag__error("cannot wait for the command's end: %s", strerror(-id));
		return;
	}
	event_loop__run(s->loop);
	event_loop__remove(s->loop, id);
}

/*
 * Each file symbolized stays open (it is read with pread, never mapped, so that
 * truncating it cannot hurt us): -a on a host of many containers may hold
 * thousands. The soft limit goes up to the hard one; not in run mode, where the
 * command would inherit it (select() fails on descriptors past 1024).
 */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/*
 * --fail-on-leak: true when the final report's lost bytes (of --leak-kinds, less
 * the suppressed stacks') reach the limit (said on stderr).
 */
static bool leak_gate(const struct config *cfg, const struct snapshot *snap)
{
	char lost[32], limit[32], supp[64];
	int64_t bytes = 0, suppressed = 0;

	if (!cfg->fail_on_leak || !snap)
		return false;
	for (size_t i = 0; i < snap->nr_procs; i++) {
		int64_t hidden;

		bytes += proc_stat__leaked(&snap->procs[i], cfg->leak_kinds, &hidden);
		suppressed += hidden;
	}
	if (bytes < (int64_t)cfg->fail_on_leak_bytes)
		return false;
	if (suppressed)
		snprintf(supp, sizeof(supp), " (%s more suppressed)",
			 units__grouped(suppressed, lost, sizeof(lost)));
	diag__warn("%s bytes lost%s, --fail-on-leak %s: failing",
		   units__grouped(bytes, lost, sizeof(lost)), suppressed ? supp : "",
		   units__grouped(cfg->fail_on_leak_bytes, limit, sizeof(limit)));
	return true;
}

/* The default set, unless turned off, then each --suppress file; an error is one line. */
static int load_suppressions(const struct config *cfg, struct suppressions **out)
{
	struct suppressions *supp = suppress__new();
	char err[512];
	int ret = supp ? 0 : -ENOMEM;

	if (!ret && !cfg->no_default_suppressions)
		ret = suppress__add_defaults(supp);
	if (ret == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
	for (int i = 0; i < cfg->nr_suppress && !ret; i++)
		ret = suppress__load_file(supp, cfg->suppress[i], err, sizeof(err));
	if (ret) {
		diag__error("--suppress: %s", err);
		suppress__free(supp);
		return ret;
	}
	*out = supp;
	return 0;
}

int cmd_trace(const struct config *cfg)
{
	struct session s = { .cfg = cfg,
			     .out = stdout,
			     .exit_code = LT_EXIT_FAILURE,
			     .bpf_stats_fd = -1 };
	sigset_t sigs, stops;
	bool gate;
	int err;

	diag__setup(cfg->quiet, cfg->verbose);
	self_pages__release_loader_data();
	if (load_suppressions(cfg, &s.supp))
		return LT_EXIT_USAGE;
	/* In run mode stdout is the command's: reports go to stderr, as valgrind's do. */
	if (cfg->command)
		s.out = stderr;
	/* With -o - it is the snapshot's. */
	if (cfg->output && output_file__is_stdout(cfg->output))
		s.out = stderr;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigs = stops;
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	stop__watch(&stops);
	if (!cfg->command)
		raise_fd_limit();

	err = run(&s, &sigs);
	alloc_plan__ahead_take(s.ahead, 0, NULL);
	if (s.command && !err && !s.abandoned)
		wait_command(&s, &sigs);
	agent__free(s.agent);
	if (s.bpf_stats_fd >= 0)
		close(s.bpf_stats_fd);
	event_loop__free(s.loop);
	tracer__free(s.tracer);
	free(s.news);
	kmem__free(s.kmem);
	snap_source__free(s.src);
	symbolizer__free(s.syms);
	debuginfo__free(s.debuginfo);
	gate = !err && leak_gate(cfg, s.final);
	snapshot__free(s.final);
	suppress__free(s.supp);
	if (s.command) {
		int code = command__exit_code(s.command);

		command__free(s.command);
		/* Let go before its end: as a shell says a command a signal ended. */
		if (s.abandoned)
			code = 128 + s.abandoned;
		/* A failed command says more than its leaks; a leak fails one that passed. */
		return err ? s.exit_code : code ? code : gate ? LT_EXIT_LEAK : 0;
	}
	return err ? s.exit_code : gate ? LT_EXIT_LEAK : LT_EXIT_OK;
}
