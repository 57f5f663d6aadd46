// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Integration test helpers: child processes with captured output and timeouts,
 * temporary directories, and queries on JSON snapshots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

const char *env__leaktrace(void)
{
	const char *path = getenv("LEAKTRACE");

	cr_assert_not_null(path, "LEAKTRACE is not set: it must be the absolute path of "
				 "./leaktrace (run the tests with `make test-integration`)");
	cr_assert_eq(access(path, X_OK), 0, "LEAKTRACE=%s: not an executable: %s", path,
		     strerror(errno));
	return path;
}

char *env__fixture(const char *name)
{
	const char *dir = getenv("FIXTURES");
	char path[PATH_MAX];
	char *real;

	cr_assert_not_null(dir, "FIXTURES is not set: it must be the absolute path of "
				".output/fixtures (run the tests with `make test-integration`)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	real = realpath(path, NULL);
	cr_assert_not_null(real, "fixture %s: %s (build it with `make fixtures`)", path,
			   strerror(errno));
	return real;
}

const char *env__repo_file(char *buf, size_t size, const char *name)
{
	char dir[PATH_MAX];

	/* LEAKTRACE is the ./leaktrace at the top of the repository (or a tree of links to it). */
	snprintf(dir, sizeof(dir), "%s", env__leaktrace());
	snprintf(buf, size, "%s/%s", dirname(dir), name);
	cr_assert_eq(access(buf, R_OK), 0, "%s: %s", buf, strerror(errno));
	return buf;
}

void tmpdir__new(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/leaktrace-test.XXXXXX");
	cr_assert_not_null(mkdtemp(t->path), "mkdtemp: %s", strerror(errno));
}

const char *tmpdir__file(struct tmpdir *t, const char *name)
{
	snprintf(t->file, sizeof(t->file), "%s/%s", t->path, name);
	return t->file;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tmpdir__free(struct tmpdir *t)
{
	if (t->path[0])
		nftw(t->path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	t->path[0] = '\0';
}

long long clock__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void clock__sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Make FD the child's descriptor TARGET (dup2 keeps close-on-exec when fd == target). */
static void child_fd(int fd, int target)
{
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else
		dup2(fd, target);
}

/* Children not reaped yet, for procs__cleanup() after a failed test. */
static pid_t spawned[32];

static void spawned_set(pid_t old, pid_t new)
{
	for (size_t i = 0; i < sizeof(spawned) / sizeof(spawned[0]); i++) {
		if (spawned[i] == old) {
			spawned[i] = new;
			return;
		}
	}
}

void procs__cleanup(void)
{
	for (size_t i = 0; i < sizeof(spawned) / sizeof(spawned[0]); i++) {
		if (spawned[i] > 0) {
			kill(spawned[i], SIGKILL);
			waitpid(spawned[i], NULL, 0);
		}
		spawned[i] = 0;
	}
}

pid_t proc__spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* Die with the test process, also when Criterion kills it on a timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		child_fd(in_fd, STDIN_FILENO);
		child_fd(out_fd, STDOUT_FILENO);
		child_fd(err_fd, STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	spawned_set(0, pid);
	return pid;
}

int proc__wait(pid_t pid, int timeout_ms, int *status)
{
	long long deadline = clock__now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		cr_assert_neq(r, -1, "waitpid %d: %s", (int)pid, strerror(errno));
		if (r == pid) {
			spawned_set(pid, 0);
			return 0;
		}
		if (clock__now_ms() >= deadline)
			return -1;
		clock__sleep_ms(10);
	}
}

void proc__kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	spawned_set(pid, 0);
}

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Append what FD has to read; false at end of file. */
static bool buf_read(struct buf *b, int fd)
{
	ssize_t n;

	if (b->cap - b->len < 4097) {
		b->cap = b->cap ? b->cap * 2 : 8192;
		b->data = realloc(b->data, b->cap);
		cr_assert_not_null(b->data, "out of memory");
	}
	n = read(fd, b->data + b->len, b->cap - b->len - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static void pipe_pair(int fds[2])
{
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0, "pipe: %s", strerror(errno));
}

/* Feed INPUT and drain stdout and stderr until both close or the deadline passes. */
static bool pump(int in_fd, const char *input, int out_fd, int err_fd, struct buf *out,
		 struct buf *err, long long deadline)
{
	size_t left = input ? strlen(input) : 0;
	struct pollfd p[3] = {
		{ .fd = out_fd, .events = POLLIN },
		{ .fd = err_fd, .events = POLLIN },
		{ .fd = left ? in_fd : -1, .events = POLLOUT },
	};

	if (!left)
		close(in_fd);
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		long long wait = deadline - clock__now_ms();

		if (wait <= 0)
			break;
		if (poll(p, 3, (int)wait) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd >= 0 && p[i].revents && !buf_read(i ? err : out, p[i].fd)) {
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
		if (p[2].fd >= 0 && p[2].revents) {
			ssize_t n = write(in_fd, input, left);

			if (n > 0) {
				input += n;
				left -= n;
			}
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				left = 0;
			if (!left) {
				close(in_fd);
				p[2].fd = -1;
			}
		}
	}
	if (p[2].fd >= 0)
		close(in_fd);
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return clock__now_ms() < deadline;
}

void run__cmd(char *const argv[], const char *input, int timeout_s, struct run_result *r)
{
	long long deadline = clock__now_ms() + timeout_s * 1000LL;
	struct buf out = { 0 }, err = { 0 };
	int in[2], o[2], e[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	/* A command that exits without reading its stdin must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	pipe_pair(in);
	pipe_pair(o);
	pipe_pair(e);
	pid = proc__spawn(argv, in[0], o[1], e[1]);
	close(in[0]);
	close(o[1]);
	close(e[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	r->timed_out = !pump(in[1], input, o[0], e[0], &out, &err, deadline);
	if (!r->timed_out) {
		long long left = deadline - clock__now_ms();

		r->timed_out = proc__wait(pid, left > 0 ? (int)left : 0, &r->status) != 0;
	}
	if (r->timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, &r->status, 0);
		spawned_set(pid, 0);
	}
	r->out = out.data ? out.data : strdup("");
	r->out_len = out.len;
	r->err = err.data ? err.data : strdup("");
	r->err_len = err.len;
}

int run__exit_code(const struct run_result *r)
{
	if (r->timed_out || !WIFEXITED(r->status))
		return -1;
	return WEXITSTATUS(r->status);
}

int run__err_lines(const struct run_result *r)
{
	int lines = 0;

	for (size_t i = 0; i < r->err_len; i++)
		if (r->err[i] == '\n')
			lines++;
	if (r->err_len && r->err[r->err_len - 1] != '\n')
		lines++;
	return lines;
}

void run__free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void fixture__read_line(struct fixture *f, char *buf, size_t len, int timeout_ms)
{
	long long deadline = clock__now_ms() + timeout_ms;
	size_t n = 0;

	/* One byte at a time: nothing after the line is taken from the pipe. */
	for (;;) {
		struct pollfd p = { .fd = f->out_fd, .events = POLLIN };
		long long wait = deadline - clock__now_ms();
		ssize_t got;
		char c;

		cr_assert_gt(wait, 0,
			     "fixture %d: no line on its stdout within %d ms (so far: '%.*s')",
			     (int)f->pid, timeout_ms, (int)n, buf);
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		got = read(f->out_fd, &c, 1);
		cr_assert_eq(got, 1, "fixture %d: its stdout closed (did it die?)", (int)f->pid);
		if (c == '\n')
			break;
		cr_assert_lt(n + 1, len, "fixture %d: line too long", (int)f->pid);
		buf[n++] = c;
	}
	buf[n] = '\0';
}

void fixture__start(struct fixture *f, const char *fixture, const char *const args[])
{
	char *argv[16] = { (char *)fixture, "attach" };
	int argc = 2;

	for (int i = 0; args && args[i]; i++) {
		cr_assert_lt(argc, 15, "too many fixture arguments");
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	fixture__start_argv(f, argv);
}

void fixture__start_argv(struct fixture *f, char *const argv[])
{
	char line[128];
	int in[2], out[2];
	int pid;

	signal(SIGPIPE, SIG_IGN);
	pipe_pair(in);
	pipe_pair(out);
	f->pid = proc__spawn(argv, in[0], out[1], STDERR_FILENO);
	close(in[0]);
	close(out[1]);
	f->in_fd = in[1];
	f->out_fd = out[0];
	fixture__read_line(f, line, sizeof(line), 10000);
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1, "fixture: expected 'ready PID', got '%s'",
		     line);
	cr_assert_eq(pid, f->pid, "fixture: 'ready %d' but its pid is %d", pid, (int)f->pid);
}

void fixture__trigger(struct fixture *f)
{
	char line[256];

	cr_assert_eq(write(f->in_fd, "go\n", 3), 3, "fixture %d: cannot write its stdin: %s",
		     (int)f->pid, strerror(errno));
	for (;;) {
		fixture__read_line(f, line, sizeof(line), 10000);
		if (!strcmp(line, "done"))
			break;
		cr_assert_eq(strncmp(line, "truth ", 6), 0,
			     "fixture %d: expected 'truth ...' or 'done', got '%s'", (int)f->pid,
			     line);
	}
}

void fixture__stop(struct fixture *f)
{
	proc__kill(f->pid);
	f->pid = 0;
	if (f->in_fd >= 0)
		close(f->in_fd);
	if (f->out_fd >= 0)
		close(f->out_fd);
	f->in_fd = f->out_fd = -1;
}

bool file__wait_for(const char *path, const char *needle, int timeout_ms)
{
	long long deadline = clock__now_ms() + timeout_ms;

	for (;;) {
		char buf[65536];
		FILE *fp = fopen(path, "r");
		size_t n = 0;

		if (fp) {
			n = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
		}
		buf[n] = '\0';
		if (strstr(buf, needle))
			return true;
		if (clock__now_ms() >= deadline)
			return false;
		clock__sleep_ms(10);
	}
}

void file__assert_tracing(const char *err_path, const char *needle)
{
	const int timeout_s = 90;
	char text[4096];
	ssize_t n = 0;
	int fd;

	if (file__wait_for(err_path, needle, timeout_s * 1000))
		return;
	fd = open(err_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	text[n > 0 ? n : 0] = '\0';
	cr_assert_fail("leaktrace did not say \"%s\" within %d s; its stderr:\n%s", needle,
		       timeout_s, text);
}

/* path against doc/leaktrace-snapshot.schema.json, by tools/validate-snapshot beside LEAKTRACE. */
static void snapshot__validate(const char *path)
{
	char dir[PATH_MAX], cmd[2 * PATH_MAX + 64], out[4096];
	size_t n;
	FILE *p;
	int status;

	snprintf(dir, sizeof(dir), "%s", env__leaktrace());
	snprintf(cmd, sizeof(cmd), "'%s/tools/validate-snapshot' '%s' 2>&1", dirname(dir), path);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "snapshot %s does not follow the JSON Schema:\n%s", path, out);
}

json_t *snapshot__load(const char *path)
{
	json_error_t error;
	json_t *snap = json_load_file(path, 0, &error);

	cr_assert_not_null(snap, "snapshot %s: %s (line %d)", path, error.text, error.line);
	cr_assert(json_is_object(snap), "snapshot %s: not a JSON object", path);
	cr_assert_eq(json__int(snap, "leaktrace"), 1, "snapshot %s: schema version", path);
	cr_assert(json_is_array(json_object_get(snap, "processes")),
		  "snapshot %s: no \"processes\" array", path);
	snapshot__validate(path);
	return snap;
}

long long json__int(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_integer(v), "JSON member \"%s\" is missing or not an integer", key);
	return json_integer_value(v);
}

json_t *snapshot__process(json_t *snap, pid_t pid)
{
	json_t *procs = json_object_get(snap, "processes");
	json_t *proc;
	size_t i;

	json_array_foreach(procs, i, proc)
		if (json__int(proc, "pid") == pid)
			return proc;
	return NULL;
}

json_t *snapshot__process_by_exe(json_t *snap, const char *exe)
{
	json_t *procs = json_object_get(snap, "processes");
	json_t *proc, *found = NULL;
	int matches = 0;
	size_t i;

	json_array_foreach(procs, i, proc) {
		const char *e = json_string_value(json_object_get(proc, "exe"));
		char *real = e ? realpath(e, NULL) : NULL;

		if ((e && !strcmp(e, exe)) || (real && !strcmp(real, exe))) {
			found = proc;
			matches++;
		}
		free(real);
	}
	cr_assert_eq(matches, 1, "snapshot: %d processes with exe %s, expected 1", matches, exe);
	return found;
}

const char *stack__symbol(json_t *stack, size_t i)
{
	json_t *frame = json_array_get(json_object_get(stack, "frames"), i);

	if (!frame)
		return NULL;
	return json_string_value(json_object_get(frame, "symbol"));
}

void stack__assert_frames(json_t *stack, size_t first, const char *const want[], bool whole)
{
	size_t n = json_array_size(json_object_get(stack, "frames")), i;

	cr_assert_not_null(stack, "no such stack");
	for (i = 0; want[i]; i++)
		cr_assert_str_eq(stack__symbol(stack, first + i) ?: "(none)", want[i],
				 "frame %zu of %zu: '%s', expected %s", first + i, n,
				 stack__symbol(stack, first + i) ?: "(none)", want[i]);
	if (whole)
		cr_assert_eq(n, first + i, "%zu frames, expected %zu: frame %zu is '%s'", n,
			     first + i, first + i, stack__symbol(stack, first + i) ?: "(none)");
}

struct stack_sum stack__sum(json_t *proc, const char *frame0, const char *kind)
{
	json_t *stacks = json_object_get(proc, "stacks");
	struct stack_sum sum = { 0 };
	json_t *stack;
	size_t i;

	cr_assert(json_is_array(stacks), "process without a \"stacks\" array");
	json_array_foreach(stacks, i, stack) {
		const char *sym = stack__symbol(stack, 0);
		const char *k = json_string_value(json_object_get(stack, "kind"));

		if (!sym || strcmp(sym, frame0))
			continue;
		if (kind && (!k || strcmp(k, kind)))
			continue;
		sum.bytes += json__int(stack, "bytes");
		sum.allocs += json__int(stack, "allocs");
		sum.stacks++;
	}
	return sum;
}

json_t *stack__find(json_t *proc, const char *frame0, const char *kind)
{
	json_t *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *sym = stack__symbol(stack, 0);
		const char *k = json_string_value(json_object_get(stack, "kind"));

		if (sym && !strcmp(sym, frame0) && (!kind || (k && !strcmp(k, kind))))
			return stack;
	}
	return NULL;
}

bool proc__running(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *fp;
	size_t n;
	int status;

	if (waitpid(pid, &status, WNOHANG) != 0) {
		spawned_set(pid, 0);
		return false;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* "pid (comm) S ...": the comm may hold spaces and parentheses. */
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'R' || paren[2] == 'S');
}

/* A valgrind tool's process: its executable is valgrind's tool binary (memcheck-amd64-linux). */
static bool is_valgrind(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strstr(exe, "/valgrind/") && n > 6 && !strcmp(exe + n - 6, "-linux");
}

static pid_t valgrind_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	cr_assert_not_null(d);
	while (!found && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && is_valgrind(atoi(e->d_name)))
			found = atoi(e->d_name);
	closedir(d);
	return found;
}

void host__wait_no_valgrind(int timeout_ms)
{
	pid_t pid;

	for (int waited = 0; (pid = valgrind_running()) && waited < timeout_ms; waited += 100)
		usleep(100 * 1000);
	cr_assert_eq(pid, 0, "a valgrind (pid %d) still runs after %d ms: leaktrace -a holds off",
		     (int)pid, timeout_ms);
}

static int probe_links(pid_t pid)
{
	char path[64], fd[PATH_MAX + 64], target[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		ssize_t len;

		snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
		len = readlink(fd, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += !strcmp(target, "anon_inode:bpf_link") ||
		     !strcmp(target, "anon_inode:[perf_event]");
	}
	closedir(d);
	return n;
}

bool proc__probes_live(pid_t pid)
{
	char path[64], wchan[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(wchan, sizeof(wchan), f))
			wchan[0] = '\0';
		fclose(f);
	}
	return !strncmp(wchan, "poll_schedule_timeout", 21) && probe_links(pid) > 0;
}

json_t *trace__run(struct tmpdir *t, const char *exe, const char *const opts[],
		   const char *const args[], struct run_result *r)
{
	char *argv[64];
	char out[PATH_MAX];
	int argc = 0;

	snprintf(out, sizeof(out), "%s", tmpdir__file(t, "run.json"));
	argv[argc++] = (char *)env__leaktrace();
	argv[argc++] = "-q";
	argv[argc++] = "-o";
	argv[argc++] = out;
	for (int i = 0; opts && opts[i]; i++)
		argv[argc++] = (char *)opts[i];
	argv[argc++] = "--";
	argv[argc++] = (char *)exe;
	for (int i = 0; args && args[i]; i++) {
		cr_assert_lt(argc, 62, "too many arguments");
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	run__cmd(argv, NULL, RUN_TIMEOUT_S, r);
	cr_assert_eq(run__exit_code(r), 0,
		     "leaktrace -- %s %s: exit code %d (status 0x%x%s), stderr:\n%s", exe,
		     args && args[0] ? args[0] : "", run__exit_code(r), r->status,
		     r->timed_out ? ", timed out" : "", r->err);
	return snapshot__load(out);
}

void sh__output(const char *cmd, char *buf, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	cr_assert_not_null(p, "popen %s", cmd);
	n = fread(buf, 1, size - 1, p);
	buf[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed: %s", cmd, buf);
	buf[strcspn(buf, "\n")] = '\0';
}
