// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run mode. The command and, unless told otherwise, every process it starts
 * are traced with ptrace (PTRACE_SEIZE) for three moments only: the start of
 * a new process and the stop after exec (probes go live before it runs), and
 * the stop at exit (its memory is scanned while it still exists). Signals
 * pass through; a stopping signal stops it as it would untraced, and SIGCONT
 * continues it (group stops are listened to, never held).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "command.h"
#include "diag.h"
#include "target.h"

/* How long the command may take to reach its exec, and leaktrace to let every process go. */
#define EXEC_DEADLINE_MS 30000
#define DETACH_DEADLINE_MS 2000
/* How long a new process waits for its parent's fork event before it runs without. */
#define HELD_DEADLINE_MS 2000

/* A thread traced: the command's, or one of its descendants'. */
struct task {
	pid_t tid;
	bool started;	     /* its first stop was handled: it runs */
	bool announced;	     /* its parent's fork, vfork or clone event was handled */
	bool held;	     /* stopped at its first stop until it is announced */
	uint64_t held_since; /* ms */
};

struct command {
	pid_t pid;
	int status;
	bool ended;
	struct task *tasks;
	size_t nr_tasks;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* The task of tid, added when new; NULL when out of memory. */
static struct task *task_get(struct command *c, pid_t tid)
{
	struct task *tasks;

	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i].tid == tid)
			return &c->tasks[i];
	tasks = realloc(c->tasks, (c->nr_tasks + 1) * sizeof(*tasks));
	if (!tasks)
		return NULL;
	c->tasks = tasks;
	c->tasks[c->nr_tasks] = (struct task){ .tid = tid };
	return &c->tasks[c->nr_tasks++];
}

static void task_remove(struct command *c, pid_t tid)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		if (c->tasks[i].tid == tid) {
			c->tasks[i] = c->tasks[--c->nr_tasks];
			return;
		}
	}
}

/* In the child: wait until leaktrace holds it, restore the signals leaktrace blocks, exec. */
static void child_exec(char **argv, int go_fd, int err_fd)
{
	sigset_t none;
	char go;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (read(go_fd, &go, 1) == 1)
		execvp(argv[0], argv);
	err = errno;
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/* A child that never ran the command: killed and reaped (a traced one may stop on its way). */
static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status))
		ptrace(PTRACE_CONT, pid, NULL, NULL);
}

/* The errno the child sends when its exec fails, 0 when the pipe closes on a successful exec. */
static int exec_error(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int err = 0;

	if (poll(&p, 1, EXEC_DEADLINE_MS) != 1)
		return -ETIMEDOUT;
	if (read(fd, &err, sizeof(err)) == sizeof(err))
		return -err;
	return 0;
}

static int wait_deadline(pid_t pid, int *status, uint64_t deadline)
{
	pid_t r;

	while ((r = waitpid(pid, status, __WALL | WNOHANG)) == 0) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		pause_ms(1);
	}
	return r < 0 ? -errno : 0;
}

/* Waits for the stop after exec; signals that come first pass through. */
static int wait_exec(struct command *c)
{
	uint64_t deadline = now_ms() + EXEC_DEADLINE_MS;
	int status, err;

	for (;;) {
		err = wait_deadline(c->pid, &status, deadline);
		if (err)
			return err;
		if (!WIFSTOPPED(status))
			return -ECHILD;
		if (status >> 8 == (SIGTRAP | PTRACE_EVENT_EXEC << 8))
			return 0;
		ptrace(PTRACE_CONT, c->pid, NULL,
		       (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status)));
	}
}

static int start(struct command *c, char **argv, bool children)
{
	long opts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;
	int go[2], errp[2], err = 0;

	if (children)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		goto err_close_go;
	}
	c->pid = fork();
	if (c->pid == 0) {
		close(go[1]);
		child_exec(argv, go[0], errp[1]);
	}
	if (c->pid < 0)
		err = -errno;
	else if (ptrace(PTRACE_SEIZE, c->pid, NULL, (void *)opts))
		err = -errno;
	/* Held now: it may exec. The pipe closes on a successful exec, or carries its errno. */
	else if (write(go[1], "g", 1) != 1)
		err = -errno;
	close(errp[1]);
	close(go[1]);
	close(go[0]);
	if (!err)
		err = exec_error(errp[0]);
	if (!err)
		err = wait_exec(c);
	close(errp[0]);
	if (!err && !task_get(c, c->pid))
		err = -ENOMEM;
	if (!err)
		c->tasks[0].started = c->tasks[0].announced = true;
	if (err && c->pid > 0)
		reap(c->pid);
	return err;

err_close_go:
	close(go[0]);
	close(go[1]);
	return err;
}

int command__start(char **argv, bool children, struct command **out)
{
	struct command *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = start(c, argv, children);
	if (err) {
		diag__error("cannot run '%s': %s", argv[0], strerror(-err));
		free(c->tasks);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

pid_t command__pid(const struct command *c)
{
	return c->pid;
}

int command__resume(struct command *c)
{
	return ptrace(PTRACE_CONT, c->pid, NULL, NULL) ? -errno : 0;
}

static bool stopping(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* A new task's first stop handled: a new process is probed for itself, then it runs. */
static void task_begin(struct task *t, const struct command_ops *ops, void *arg)
{
	t->started = true;
	t->held = false;
	if (ops && ops->started && target__tgid(t->tid) == t->tid)
		ops->started(arg, t->tid);
	ptrace(PTRACE_CONT, t->tid, NULL, NULL);
}

/*
 * The parent's side of fork, vfork or clone, the parent stopped: a fork
 * child's copy of the heap is taken now, before either runs on; the child
 * starts once both sides are seen.
 */
static void new_child(struct command *c, pid_t tid, int ev, const struct command_ops *ops,
		      void *arg)
{
	unsigned long child;
	struct task *t;

	if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child))
		return;
	t = task_get(c, child);
	if (!t || t->announced)
		return;
	if (ev == PTRACE_EVENT_FORK && ops && ops->forked)
		ops->forked(arg, target__tgid(tid), child);
	t->announced = true;
	if (t->held)
		task_begin(t, ops, arg);
}

/* An event of ours: a new child, an exec, an exit. */
static void event(struct command *c, pid_t tid, int ev, const struct command_ops *ops, void *arg)
{
	struct user_regs_struct regs;
	unsigned long former;

	if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) {
		new_child(c, tid, ev, ops, arg);
	} else if (ev == PTRACE_EVENT_EXEC) {
		/* A thread other than the leader that execs takes the leader's id. */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, NULL, &former) && (pid_t)former != tid)
			task_remove(c, former);
		if (ops && ops->exec)
			ops->exec(arg, tid);
	} else if (ev == PTRACE_EVENT_EXIT && ops && ops->exiting && target__tgid(tid) == tid) {
		ops->exiting(arg, tid, arch__regs_read(tid, &regs) ? NULL : &regs);
	}
}

/* A stop: a new process's first, our events, a signal to pass on, or a group stop. */
static void handle_stop(struct command *c, pid_t tid, int status, const struct command_ops *ops,
			void *arg)
{
	int ev = status >> 16, sig = WSTOPSIG(status);
	struct task *t = task_get(c, tid);

	if (t && !t->started) {
		/* A new task's first stop: it waits for its parent's side, which comes. */
		if (t->announced) {
			task_begin(t, ops, arg);
		} else {
			t->held = true;
			t->held_since = now_ms();
		}
		return;
	} else if (ev == PTRACE_EVENT_STOP && stopping(sig)) {
		/* Stopped as untraced: SIGCONT wakes it, without us. */
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		return;
	} else if (ev) {
		event(c, tid, ev, ops, arg);
		sig = 0; /* no signal: ours */
	}
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);
}

/* A task whose parent's side never came (the parent was killed): it runs without. */
static void release_held(struct command *c, const struct command_ops *ops, void *arg)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i].held && now - c->tasks[i].held_since >= HELD_DEADLINE_MS)
			task_begin(&c->tasks[i], ops, arg);
}

int command__poll(struct command *c, const struct command_ops *ops, void *arg)
{
	int status;
	pid_t r;

	release_held(c, ops, arg);
	/* Every process's events, also after the command ended: none stays held. */
	while ((r = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
		if (WIFSTOPPED(status)) {
			handle_stop(c, r, status, ops, arg);
			continue;
		}
		task_remove(c, r);
		if (r == c->pid) {
			c->status = status;
			c->ended = true;
		}
	}
	return c->ended;
}

int command__release(struct command *c, pid_t pid)
{
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL))
		return -errno;
	task_remove(c, pid);
	return 0;
}

int command__exit_code(const struct command *c)
{
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return WEXITSTATUS(c->status);
}

/*
 * Every task still traced is interrupted and detached at its next stop, with
 * the signal it was stopped for: a process stopped by a signal stays stopped.
 */
static void detach_all(struct command *c)
{
	uint64_t deadline = now_ms() + DETACH_DEADLINE_MS;
	int status, sig;
	pid_t r;

	for (size_t i = 0; i < c->nr_tasks; i++) {
		/* One held at its first stop is stopped already: it goes at once. */
		if (c->tasks[i].held && !ptrace(PTRACE_DETACH, c->tasks[i].tid, NULL, NULL))
			task_remove(c, c->tasks[i--].tid);
		else
			ptrace(PTRACE_INTERRUPT, c->tasks[i].tid, NULL, NULL);
	}
	while (c->nr_tasks && now_ms() < deadline) {
		r = waitpid(-1, &status, __WALL | WNOHANG);
		if (r < 0)
			break;
		if (r == 0) {
			pause_ms(1);
			continue;
		}
		/* A group stop is kept by the kernel at detach; a signal is passed on. */
		if (WIFSTOPPED(status)) {
			sig = status >> 16 ? 0 : WSTOPSIG(status);
			ptrace(PTRACE_DETACH, r, NULL, (void *)(long)sig);
		}
		task_remove(c, r);
	}
}

void command__free(struct command *c)
{
	if (!c)
		return;
	detach_all(c);
	free(c->tasks);
	free(c);
}
