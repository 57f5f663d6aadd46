// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * leaktrace agent: the last snapshot and the history served over HTTP (/metrics, pprof, JSON,
 * the live page), targets found by cgroup or systemd unit, and the heap of each traced process
 * at its end kept in the state directory. The trace (cmd_trace.c) takes the snapshots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_page.h"
#include "cmd_agent.h"
#include "diag.h"
#include "export.h"
#include "export_metrics.h"
#include "history.h"
#include "http_server.h"
#include "output_file.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* Where the v2 hierarchy is on a host that mounts v1's controllers too (systemd's "hybrid"). */
#define CGROUP_HYBRID_ROOT CGROUP_ROOT "/unified"
/* How deep cgroups are walked: below a target cgroup, and to find a unit's. */
#define CGROUP_MAX_DEPTH 8
/* The state directory's bounds: files kept, and stacks per file (the largest). */
#define STATE_MAX_FILES 16
#define STATE_MAX_STACKS 1000
/* Processes whose end was written, remembered so that each is written once. */
#define SAVED_MAX 256

/* Where a traced process lives: its cgroup and unit, and its cgroup's OOM kills when last seen. */
struct place {
	pid_t pid;
	char cgroup[256];
	char unit[128];
	char oom_file[PATH_MAX]; /* its memory cgroup's counts: memory.events (v2), oom_control */
	long oom_kills;
};

struct agent {
	const struct config *cfg;
	struct http_server *http;
	struct history *history;
	struct snapshot *snap;
	struct place *places;
	size_t nr_places;
	struct metrics_self self;
	bool state_ok;	 /* the state directory exists */
	int targets_err; /* the last failure to find --cgroup or --unit, said once */
	pid_t saved[SAVED_MAX];
	size_t nr_saved;
	uint64_t saves; /* since the start: the next slot of saved */
};

/* The v2 hierarchy's mount: /sys/fs/cgroup, or its /unified on a hybrid host. */
static const char *v2_root(void)
{
	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) &&
	    !access(CGROUP_HYBRID_ROOT "/cgroup.procs", F_OK))
		return CGROUP_HYBRID_ROOT;
	return CGROUP_ROOT;
}

/* A unit's name as systemd names its cgroup: nginx is nginx.service. */
static void unit_name(const char *unit, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", unit, strchr(unit, '.') ? "" : ".service");
}

/* The directory named name under dir, depth levels down at most; 0 with its path in out. */
static int find_dir(const char *dir, const char *name, int depth, char *out, size_t size)
{
	char path[PATH_MAX];
	struct dirent *d;
	int err = -ENOENT;
	DIR *dp;

	if (depth < 0 || !(dp = opendir(dir)))
		return -ENOENT;
	while (err && (d = readdir(dp))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (!strcmp(d->d_name, name)) {
			snprintf(out, size, "%s", path);
			err = 0;
		} else {
			err = find_dir(path, name, depth - 1, out, size);
		}
	}
	closedir(dp);
	return err;
}

/* The cgroup directory of --cgroup or --unit; 0 or -ENOENT with one line said (say). */
static int target_dir(const struct agent_args *args, char *out, size_t size, bool say)
{
	char name[256];
	struct stat st;

	if (args->unit) {
		unit_name(args->unit, name, sizeof(name));
		if (!find_dir(v2_root(), name, CGROUP_MAX_DEPTH, out, size))
			return 0;
		if (say)
			diag__error("--unit %s: no cgroup %s under %s: is the unit running?",
				    args->unit, name, v2_root());
		return -ENOENT;
	}
	if (!strncmp(args->cgroup, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1))
		snprintf(out, size, "%s", args->cgroup);
	else
		snprintf(out, size, "%s/%s", v2_root(), args->cgroup + (args->cgroup[0] == '/'));
	if (!stat(out, &st) && S_ISDIR(st.st_mode))
		return 0;
	if (say)
		diag__error("--cgroup %s: %s is not a cgroup directory", args->cgroup, out);
	return -ENOENT;
}

/* The processes of dir and of the cgroups under it, appended to pids. */
static int read_procs(const char *dir, int depth, pid_t *pids, int n, int max)
{
	char path[PATH_MAX], line[32];
	struct dirent *d;
	FILE *f;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && n < max && fgets(line, sizeof(line), f))
		if (atoi(line) > 0)
			pids[n++] = atoi(line);
	if (f)
		fclose(f);
	if (depth <= 0 || !(dp = opendir(dir)))
		return n;
	while (n < max && (d = readdir(dp))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = read_procs(path, depth - 1, pids, n, max);
	}
	closedir(dp);
	return n;
}

int agent__targets(struct agent *a, pid_t *pids, int max)
{
	const struct agent_args *args = &a->cfg->agent;
	char dir[PATH_MAX];
	int err;

	if (!args->cgroup && !args->unit)
		return 0;
	/* Read at every snapshot: a unit that stopped is said once, until it is back. */
	err = target_dir(args, dir, sizeof(dir), a->targets_err == 0);
	a->targets_err = err;
	return err ? err : read_procs(dir, CGROUP_MAX_DEPTH, pids, 0, max);
}

/* The "oom_kill" count of a memory cgroup's memory.events or memory.oom_control; -1: unknown. */
static long oom_kills(const char *path)
{
	char line[64];
	long n = -1;
	FILE *f;

	f = path[0] ? fopen(path, "re") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/*
 * pid's cgroup (v2: the "0::" line), the systemd unit that is its innermost .service or
 * .scope, and where its memory cgroup counts OOM kills (v2, or v1's memory controller).
 */
static bool read_place(struct place *p)
{
	char path[64], line[sizeof(p->cgroup) + 64], *c;
	FILE *f;

	p->cgroup[0] = p->unit[0] = p->oom_file[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)p->pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		c = strchr(line, ':');
		if (!strncmp(line, "0::", 3)) {
			size_t n = strnlen(line + 3, sizeof(p->cgroup) - 1);

			memcpy(p->cgroup, line + 3, n); /* a longer path is cut: a label still */
			p->cgroup[n] = 0;
		} else if (c && !strncmp(c + 1, "memory:", 7) && !p->oom_file[0]) {
			snprintf(p->oom_file, sizeof(p->oom_file),
				 CGROUP_ROOT "/memory%s/memory.oom_control", c + 8);
		}
	}
	if (f)
		fclose(f);
	if (p->cgroup[0] && access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0)
		snprintf(p->oom_file, sizeof(p->oom_file), CGROUP_ROOT "%s/memory.events",
			 p->cgroup);
	snprintf(line, sizeof(line), "%s", p->cgroup);
	while ((c = strrchr(line, '/'))) {
		const char *dot = strrchr(c + 1, '.');

		if (dot && (!strcmp(dot, ".service") || !strcmp(dot, ".scope"))) {
			snprintf(p->unit, sizeof(p->unit), "%s", c + 1);
			break;
		}
		*c = 0;
	}
	p->oom_kills = oom_kills(p->oom_file);
	/* Ended meanwhile (a zombie has no executable): its count may hold its own kill. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	return readlink(path, line, sizeof(line)) > 0;
}

static const struct place *place_of(const struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->nr_places; i++)
		if (a->places[i].pid == pid)
			return &a->places[i];
	return NULL;
}

/* The places of snap's processes: read again for the living, as last seen for the others. */
static void update_places(struct agent *a, const struct snapshot *snap)
{
	struct place *v = calloc(snap->nr_procs ? snap->nr_procs : 1, sizeof(*v)), now;
	const struct place *old;

	if (!v)
		return; /* the old ones serve */
	for (size_t i = 0; i < snap->nr_procs; i++) {
		old = place_of(a, snap->procs[i].pid);
		now = (struct place){ .pid = snap->procs[i].pid };
		/* Read while it lived, or as last seen: its OOM count stays the one before its end. */
		if ((snap->procs[i].alive && read_place(&now)) || !old)
			v[i] = now;
		else
			v[i] = *old;
	}
	free(a->places);
	a->places = v;
	a->nr_places = snap->nr_procs;
}

static int state_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return !strncmp(d->d_name, "leaktrace-", 10) && len > 15 &&
	       !strcmp(d->d_name + len - 5, ".json");
}

/*
 * Makes room for one more file: the oldest go until STATE_MAX_FILES - 1 stay (their names,
 * leaktrace-TIME-PID.json with TIME zero-padded, sort by age).
 */
static void prune_state(const char *dir)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n;

	n = scandir(dir, &names, state_file, alphasort);
	for (int i = 0; i < n; i++) {
		if (i < n - (STATE_MAX_FILES - 1)) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			unlink(path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* p's end, alone in a snapshot of its own (its largest stacks), to the state directory. */
static void save_end(struct agent *a, const struct snapshot *snap, const struct proc_stat *p)
{
	struct export_opts opts = { .top = a->cfg->top };
	const struct place *pl = place_of(a, p->pid);
	struct snapshot one = *snap;
	struct proc_stat proc = *p;
	struct output_file o;
	char path[PATH_MAX];
	bool oom;
	int err;

	if (proc.nr_stacks > STATE_MAX_STACKS)
		proc.nr_stacks = STATE_MAX_STACKS;
	one.procs = &proc;
	one.nr_procs = 1;
	snprintf(path, sizeof(path), "%s/leaktrace-%011lld-%d.json", a->cfg->agent.state_dir,
		 (long long)snap->taken.tv_sec, (int)p->pid);
	prune_state(a->cfg->agent.state_dir);
	err = output_file__open(&o, path);
	if (!err) {
		err = export__write(o.f, &one, LT_FORMAT_JSON, &opts);
		err = output_file__close(&o, !err) ?: err;
	}
	/* Its cgroup counted an OOM kill since it was last seen alive: the kernel ended it. */
	oom = pl && pl->oom_kills >= 0 && oom_kills(pl->oom_file) > pl->oom_kills;
	if (err)
		diag__warn("pid %d (%s) ended; cannot write its last snapshot to %s: %s", p->pid,
			   p->comm, path, strerror(-err));
	else
		diag__info("pid %d (%s) %s; its last snapshot: %s", p->pid, p->comm,
			   oom ? "was killed by the OOM killer" : "ended", path);
}

/* The processes snap reports gone, each written once. */
static void save_ends(struct agent *a, const struct snapshot *snap)
{
	bool seen;

	for (size_t i = 0; i < snap->nr_procs && a->state_ok; i++) {
		const struct proc_stat *p = &snap->procs[i];

		if (p->alive || !p->nr_stacks)
			continue;
		seen = false;
		for (size_t j = 0; j < a->nr_saved && !seen; j++)
			seen = a->saved[j] == p->pid;
		if (seen)
			continue;
		/* A ring of the last SAVED_MAX: the oldest makes room. */
		a->saved[a->saves++ % SAVED_MAX] = p->pid;
		if (a->nr_saved < SAVED_MAX)
			a->nr_saved++;
		save_end(a, snap, p);
	}
}

static int64_t own_rss(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib < 0 ? -1 : (int64_t)kib * 1024;
}

void agent__watch(struct agent *a, pid_t pid)
{
	struct place *v, now = { .pid = pid };

	if (place_of(a, pid) || !read_place(&now))
		return;
	v = realloc(a->places, (a->nr_places + 1) * sizeof(*v));
	if (!v)
		return; /* read at the next snapshot */
	a->places = v;
	a->places[a->nr_places++] = now;
}

void agent__publish(struct agent *a, struct snapshot *snap, const struct agent_cost *cost)
{
	char *line;

	update_places(a, snap);
	save_ends(a, snap);
	if (!history__line(snap, a->cfg->top, &line))
		history__push(a->history, line);
	snapshot__free(a->snap);
	a->snap = snap;
	a->self.snapshots++;
	a->self.map_bytes = cost->map_bytes;
	a->self.bpf_run_s = cost->bpf_run_s;
	a->self.snapshot_s = cost->snapshot_s;
	a->self.mappings_lost = cost->mappings_lost;
	a->self.processes = cost->processes;
	a->self.history_lines = history__len(a->history);
}

static int write_metrics(struct agent *a, FILE *f)
{
	struct metrics_proc_labels *labels = calloc(a->nr_places + 1, sizeof(*labels));
	struct metrics_input in = { .snap = a->snap, .top = a->cfg->top, .self = &a->self };
	int err;

	if (!labels)
		return -ENOMEM;
	for (size_t i = 0; i < a->nr_places; i++)
		labels[i] = (struct metrics_proc_labels){ a->places[i].pid, a->places[i].cgroup,
							  a->places[i].unit };
	in.labels = labels;
	in.nr_labels = a->nr_places;
	a->self.rss_bytes = own_rss();
	err = export_metrics__write(f, &in);
	free(labels);
	return err;
}

/* What a path serves: a writer of the last snapshot, or of the agent's own state. */
enum body { BODY_METRICS, BODY_HISTORY, BODY_PAGE, BODY_SNAPSHOT };

static const struct route {
	const char *path;
	const char *type;
	enum body body;
	enum lt_format format; /* BODY_SNAPSHOT's */
} routes[] = {
	{ "/metrics", "text/plain; version=0.0.4; charset=utf-8", BODY_METRICS, LT_FORMAT_NONE },
	{ "/debug/pprof/heap", "application/octet-stream", BODY_SNAPSHOT, LT_FORMAT_PPROF },
	{ "/snapshot.json", "application/json", BODY_SNAPSHOT, LT_FORMAT_JSON },
	{ "/flamegraph.svg", "image/svg+xml", BODY_SNAPSHOT, LT_FORMAT_SVG },
	{ "/history.ndjson", "application/x-ndjson", BODY_HISTORY, LT_FORMAT_NONE },
	{ "/", "text/html; charset=utf-8", BODY_PAGE, LT_FORMAT_NONE },
};

static int write_body(struct agent *a, const struct route *rt, FILE *f)
{
	struct export_opts opts = { .top = a->cfg->top };

	switch (rt->body) {
	case BODY_METRICS:
		return write_metrics(a, f);
	case BODY_HISTORY:
		history__write(a->history, f);
		return 0;
	case BODY_PAGE:
		agent_page__write(f, a->cfg->interval);
		return 0;
	default:
		return export__write_saved(f, a->snap, rt->format, &opts);
	}
}

static int answer(void *arg, const char *path, struct http_reply *r)
{
	struct agent *a = arg;
	const struct route *rt = NULL;
	FILE *f;
	int err;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rt; i++)
		if (!strcmp(path, routes[i].path))
			rt = &routes[i];
	if (!rt || (rt->body == BODY_SNAPSHOT && !a->snap)) {
		r->status = rt ? 503 : 404;
		r->len = asprintf(&r->body, "leaktrace: %s\n",
				  rt ? "no snapshot yet: one comes every interval (-i)" :
				       "not found: see / or /metrics");
		return (int)r->len < 0 ? -ENOMEM : 0;
	}
	f = open_memstream(&r->body, &r->len);
	if (!f)
		return -ENOMEM;
	err = write_body(a, rt, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	r->type = rt->type;
	return err;
}

static void open_state_dir(struct agent *a)
{
	const char *dir = a->cfg->agent.state_dir;
	struct stat st;

	if (mkdir(dir, 0750) && errno != EEXIST)
		diag__warn("--state-dir %s: %s: the last snapshots of processes that end are not "
			   "kept",
			   dir, strerror(errno));
	else if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		diag__warn("--state-dir %s is not a directory: the last snapshots of processes "
			   "that end are not kept",
			   dir);
	else
		a->state_ok = true;
}

int agent__new(const struct config *cfg, struct event_loop *l, struct agent **out)
{
	struct agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->self.bpf_run_s = -1;
	err = history__new(cfg->agent.history, &a->history);
	if (!err)
		err = http_server__new(cfg->agent.listen, l, answer, a, &a->http);
	if (err) {
		agent__free(a);
		return err;
	}
	if (!http_listen__is_local(cfg->agent.listen))
		diag__warn("--listen %s is not a loopback address: whoever reaches it sees the "
			   "targets' functions and paths",
			   cfg->agent.listen);
	open_state_dir(a);
	diag__info("serving %s (/metrics, /debug/pprof/heap, /snapshot.json, "
		   "/history.ndjson, /)",
		   http_server__url(a->http));
	*out = a;
	return 0;
}

void agent__free(struct agent *a)
{
	if (!a)
		return;
	http_server__free(a->http);
	history__free(a->history);
	snapshot__free(a->snap);
	free(a->places);
	free(a);
}
