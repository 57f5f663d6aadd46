// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probe floor of `make bench`: runs a command with empty BPF programs on the
 * allocator functions leaktrace would probe, so that a traced run can be set
 * against what the traps alone cost.
 *
 * Usage: floor [-v] entry|placed|session -- COMMAND [ARGS...]
 *        floor [-v] entry|placed|session -p PID
 *   entry   at each function's entry (offset 0), as a plain uprobe tool puts them
 *   placed  where leaktrace puts them: the plan's probe_offset (src/allocator.c),
 *           or the entry where the prologue moved %rsp first (src/tracer.c)
 *   session at leaktrace's places, on the links leaktrace makes on kernels 6.13+
 *           (src/tracer.c): per object, one uprobe_multi link for free's entries
 *           and one uprobe session for the others, entry and return
 * Either way, as leaktrace does: an entry probe on every function, a return
 * probe on each but the frees and munmap, attached for the command's pid; entry
 * and placed with a perf link per probe, as leaktrace does before 6.6.
 *
 * The plan is this process's own (alloc_plan__for_pid(getpid())): the command
 * must use the same allocator (glibc's, for the loop and sqlite3). The command
 * is forked, waits on a pipe until the probes are attached, then execs: no
 * ptrace. Its stdio passes through; on stderr at its end:
 *   floor: <mode>: <n> functions, <m> off the entry, <links> probes, <seconds> s
 * (from the release of the command to its exit). Exits with its exit status.
 *
 * With -p, the probes go on a running process, planned for its own allocator
 * (redis-server's jemalloc, as leaktrace -p plans it): "floor: attached" on
 * stderr once they are live, until SIGINT or SIGTERM; then they are removed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "allocator.h"
#include "kernel.h"
#include "empty.skel.h"

/* Entry and return probes on every function at most. */
#define MAX_LINKS (2 * LT_MAX_PROBES)

/* The exit status of floor's own failures, apart from the command's. */
#define FLOOR_FAILED 125

struct floor {
	struct empty_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	int nr_links;
	int multi_fds[MAX_LINKS]; /* session: the uprobe_multi links */
	int nr_multi;
	int nr_funcs; /* functions probed */
	int moved;    /* of them, probed away from their entry */
	bool placed;
	bool session;
};

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: floor [-v] entry|placed|session -- COMMAND [ARGS...]\n"
			"       floor [-v] entry|placed|session -p PID\n");
	return 2;
}

/*
 * Forks the command, stopped before its exec on a read of the pipe: one byte
 * lets it exec, end of file (floor failed) makes it exit.
 */
static pid_t spawn(char **argv, int *go_fd)
{
	int fds[2];
	pid_t pid;
	char go;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(FLOOR_FAILED);
		close(fds[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "floor: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	if (pid < 0)
		close(fds[1]);
	else
		*go_fd = fds[1];
	return pid;
}

static int add_link(struct floor *fl, struct bpf_program *prog, pid_t pid,
		    const struct alloc_probe *p, uint64_t offset, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, p->path, offset, &opts);
	if (!link)
		return -errno;
	fl->links[fl->nr_links++] = link;
	return 0;
}

/* One uprobe_multi link on the probes in path: free's entries, or a session for the others. */
static int add_multi(struct floor *fl, pid_t pid, const struct alloc_plan *plan, const char *path,
		     bool session)
{
	struct uprobe_multi_attr attr = {};
	__u64 offsets[LT_MAX_PROBES];
	int fd, cnt = 0;

	for (int i = 0; i < plan->nr_probes; i++) {
		const struct alloc_probe *p = &plan->probes[i];

		if (!strcmp(p->path, path) && (p->func != LT_FREE) == session) {
			offsets[cnt++] = p->probe_offset;
			fl->nr_funcs++;
			fl->moved += p->probe_offset != p->offset;
		}
	}
	if (!cnt)
		return 0;
	attr.prog_fd = bpf_program__fd(session ? fl->skel->progs.empty_session :
						 fl->skel->progs.empty_entry);
	attr.attach_type = session ? LT_TRACE_UPROBE_SESSION : LT_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.cnt = cnt;
	attr.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	fl->multi_fds[fl->nr_multi++] = fd;
	fl->nr_links += cnt;
	return 0;
}

/* The links of tracer__attach on 6.13+: free's link first, then the session, per object. */
static int attach_session(struct floor *fl, pid_t pid, const struct alloc_plan *plan,
			  const char *self_exe)
{
	int err = 0;

	for (int i = 0; i < plan->nr_probes && !err; i++) {
		const char *path = plan->probes[i].path;
		int j;

		for (j = 0; j < i && strcmp(plan->probes[j].path, path); j++)
			;
		if (j < i || !strcmp(path, self_exe))
			continue;
		err = add_multi(fl, pid, plan, path, false);
		if (!err)
			err = add_multi(fl, pid, plan, path, true);
		if (err)
			fprintf(stderr,
				"floor: cannot attach a uprobe session to %s: %s "
				"(kernels 6.13+)\n",
				path, strerror(-err));
	}
	return err;
}

/* The probes of tracer__probe (src/tracer.c), with empty programs. */
static int attach(struct floor *fl, pid_t pid, const struct alloc_plan *plan)
{
	const struct alloc_probe *p;
	char self_exe[64];
	uint64_t offset;
	int err = 0, i;

	snprintf(self_exe, sizeof(self_exe), "/proc/%d/exe", getpid());
	if (fl->session)
		return attach_session(fl, pid, plan, self_exe);
	for (i = 0; i < plan->nr_probes && !err; i++) {
		p = &plan->probes[i];
		/* floor's own executable is not the command's: nothing of it is probed */
		if (!strcmp(p->path, self_exe))
			continue;
		offset = fl->placed ? p->probe_offset : p->offset;
		fl->nr_funcs++;
		fl->moved += offset != p->offset;
		err = add_link(fl, fl->skel->progs.empty_entry, pid, p, offset, false);
		if (!err && p->func != LT_FREE && p->func != LT_MUNMAP)
			err = add_link(fl, fl->skel->progs.empty_return, pid, p, offset, true);
		if (err)
			fprintf(stderr, "floor: cannot probe %s in %s at +0x%llx: %s\n", p->name,
				p->path, (unsigned long long)offset, strerror(-err));
		else if (verbose)
			fprintf(stderr, "floor: %s at %s+0x%llx (entry +%llu)\n", p->name, p->path,
				(unsigned long long)p->offset,
				(unsigned long long)(offset - p->offset));
	}
	return err;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Side by side, as tracer.c does: each uretprobe removal waits for the kernel. */
static void destroy_links(struct floor *fl)
{
	pthread_t threads[MAX_LINKS];
	int i, n;

	for (n = 0; n < fl->nr_links; n++)
		if (pthread_create(&threads[n], NULL, destroy_link, fl->links[n]))
			break;
	for (i = n; i < fl->nr_links; i++)
		bpf_link__destroy(fl->links[i]);
	while (n--)
		pthread_join(threads[n], NULL);
	while (fl->nr_multi)
		close(fl->multi_fds[--fl->nr_multi]);
	fl->nr_links = 0;
}

/* Lets the command exec and waits for its end; its exit status, or FLOOR_FAILED. */
static int run(struct floor *fl, pid_t pid, int go_fd)
{
	double t0, t1;
	int status;

	t0 = now_s();
	if (write(go_fd, "g", 1) != 1) {
		fprintf(stderr, "floor: cannot start the command: %s\n", strerror(errno));
		return FLOOR_FAILED;
	}
	close(go_fd);
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "floor: cannot wait for the command: %s\n", strerror(errno));
		return FLOOR_FAILED;
	}
	t1 = now_s();
	fprintf(stderr, "floor: %s: %d functions, %d off the entry, %d probes, %.6f s\n",
		fl->session ? "session" :
		fl->placed  ? "placed" :
			      "entry",
		fl->nr_funcs, fl->moved, fl->nr_links, t1 - t0);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* -p: the probes stay on the running process until SIGINT or SIGTERM. */
static int hold(struct floor *fl, pid_t pid, const struct alloc_plan *plan)
{
	sigset_t stop;
	int sig;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (attach(fl, pid, plan))
		return FLOOR_FAILED;
	fprintf(stderr, "floor: attached: %d functions, %d off the entry, %d probes\n",
		fl->nr_funcs, fl->moved, fl->nr_links);
	sigwait(&stop, &sig);
	return 0;
}

int main(int argc, char **argv)
{
	struct floor fl = { 0 };
	struct alloc_plan plan;
	int go_fd = -1, ret = FLOOR_FAILED, i = 1, status;
	pid_t pid = 0;

	if (i < argc && !strcmp(argv[i], "-v")) {
		verbose = true;
		i++;
	}
	if (i + 2 >= argc || (strcmp(argv[i + 1], "--") && strcmp(argv[i + 1], "-p")) ||
	    (strcmp(argv[i], "entry") && strcmp(argv[i], "placed") && strcmp(argv[i], "session")))
		return usage();
	if (!strcmp(argv[i + 1], "-p")) {
		pid = atoi(argv[i + 2]);
		if (pid <= 0 || i + 3 != argc)
			return usage();
	}
	fl.placed = strcmp(argv[i], "entry");
	fl.session = !strcmp(argv[i], "session");
	libbpf_set_print(libbpf_print);

	if (alloc_plan__for_pid(pid ? pid : getpid(), &plan))
		return FLOOR_FAILED;
	fl.skel = empty_bpf__open();
	if (fl.skel) {
		bpf_program__set_expected_attach_type(fl.skel->progs.empty_session,
						      LT_TRACE_UPROBE_SESSION);
		if (fl.session)
			bpf_program__set_expected_attach_type(fl.skel->progs.empty_entry,
							      LT_TRACE_UPROBE_MULTI);
		bpf_program__set_autoload(fl.skel->progs.empty_session, fl.session);
		bpf_program__set_autoload(fl.skel->progs.empty_return, !fl.session);
		if (empty_bpf__load(fl.skel)) {
			empty_bpf__destroy(fl.skel);
			fl.skel = NULL;
		}
	}
	if (!fl.skel) {
		fprintf(stderr, "floor: cannot load the empty programs: %s (run as root)\n",
			strerror(errno));
		return FLOOR_FAILED;
	}
	if (pid) {
		ret = hold(&fl, pid, &plan);
		goto detach;
	}
	pid = spawn(argv + i + 2, &go_fd);
	if (pid < 0) {
		fprintf(stderr, "floor: cannot fork: %s\n", strerror(errno));
		goto destroy_skel;
	}
	if (attach(&fl, pid, &plan)) {
		close(go_fd); /* the command exits without running */
		waitpid(pid, &status, 0);
		goto detach;
	}
	ret = run(&fl, pid, go_fd);

detach:
	destroy_links(&fl);
destroy_skel:
	empty_bpf__destroy(fl.skel);
	return ret;
}
