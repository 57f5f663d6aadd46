/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Integration test helpers: run leaktrace and the fixtures as child processes,
 * and read the JSON snapshots leaktrace writes.
 */
#ifndef LEAKTRACE_TESTS_HELPERS_H
#define LEAKTRACE_TESTS_HELPERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* Seconds a command may run before the helpers kill it and fail the test. */
#define RUN_TIMEOUT_S 30

/* The environment the Makefile gives: absolute paths of ./leaktrace and the fixtures. */
const char *env__leaktrace(void);
/* The absolute path of fixture NAME ("leaky-nofp"), resolved; the caller frees it. */
char *env__fixture(const char *name);

/* NAME of the repository (beside LEAKTRACE), in BUF; fails the test when it is not there. */
const char *env__repo_file(char *buf, size_t size, const char *name);

/* Waits for a condition on a busy host: polled, never timed. */
#define POLL_BOUND_MS 90000

/* CLOCK_MONOTONIC in milliseconds, for the bounds of polled waits; and a pause between polls. */
long long clock__now_ms(void);
void clock__sleep_ms(int ms);

/* A temporary directory for snapshots and logs, removed by tmpdir__free(). */
struct tmpdir {
	char path[64];
	char file[PATH_MAX];
};

void tmpdir__new(struct tmpdir *t);
/* The path of NAME in the directory; valid until the next call. */
const char *tmpdir__file(struct tmpdir *t, const char *name);
void tmpdir__free(struct tmpdir *t);

/* What a command did: its wait status and everything it wrote. */
struct run_result {
	int status;
	bool timed_out;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

/*
 * Run ARGV (NULL-terminated) with INPUT (or nothing) on its stdin, capturing its
 * stdout and stderr; kill it after TIMEOUT_S seconds. Fails the test on system errors.
 */
void run__cmd(char *const argv[], const char *input, int timeout_s, struct run_result *r);
/* The exit code, or -1 when it did not exit normally (signal, timeout). */
int run__exit_code(const struct run_result *r);
/* The number of lines in the captured stderr (a last line without '\n' counts). */
int run__err_lines(const struct run_result *r);
void run__free(struct run_result *r);

/*
 * Start ARGV in the background. IN_FD, OUT_FD, ERR_FD become its stdin, stdout
 * and stderr (-1: /dev/null). The child gets SIGKILL when the test process ends,
 * so nothing outlives a failed test.
 */
pid_t proc__spawn(char *const argv[], int in_fd, int out_fd, int err_fd);
/* Kill and reap every child still running: a suite's .fini, for tests that fail midway. */
void procs__cleanup(void);
/* Wait for PID up to TIMEOUT_MS; 0 and its wait status, or -1 on timeout. */
int proc__wait(pid_t pid, int timeout_ms, int *status);
/* SIGKILL and reap PID (no-op for pid <= 0). */
void proc__kill(pid_t pid);
/*
 * Whether our child PID still runs, unstopped: not exited, not a zombie, and in
 * state R or S in /proc (a traced or stopped process is T or t).
 */
bool proc__running(pid_t pid);
/*
 * Waits until no valgrind runs on the host (leaktrace -a holds off while one
 * does: another test's or another user's), failing after TIMEOUT_MS.
 */
void host__wait_no_valgrind(int timeout_ms);
/*
 * Whether leaktrace PID has its probes live: it holds probe links (BPF links or
 * perf events) and waits in its event loop's poll, past the attach. For runs
 * with -q, which print no "tracing" line.
 */
bool proc__probes_live(pid_t pid);

/* A fixture in attach mode: its pid, and pipes to its stdin and from its stdout. */
struct fixture {
	pid_t pid;
	int in_fd;
	int out_fd;
};

/*
 * Start "FIXTURE attach SCENARIO..." (ARGS NULL-terminated, after "attach") and
 * wait for its "ready PID" line.
 */
void fixture__start(struct fixture *f, const char *fixture, const char *const args[]);
/* The same for any ARGV that ends up exec'ing "FIXTURE attach ..." in the same process. */
void fixture__start_argv(struct fixture *f, char *const argv[]);
/* Read one line of its stdout (without '\n') within TIMEOUT_MS; fails the test otherwise. */
void fixture__read_line(struct fixture *f, char *buf, size_t len, int timeout_ms);
/* Let it go on: write a line to its stdin, then read its lines up to "done". */
void fixture__trigger(struct fixture *f);
void fixture__stop(struct fixture *f);

/* Wait until the file PATH contains NEEDLE; false after TIMEOUT_MS. */
bool file__wait_for(const char *path, const char *needle, int timeout_ms);
/*
 * Wait until leaktrace's stderr, kept in ERR_PATH, says NEEDLE ("leaktrace: tracing..."):
 * 90 s at most, for a host whose cores are busy; fails the test with that stderr.
 */
void file__assert_tracing(const char *err_path, const char *needle);

/*
 * Run "leaktrace -q -o DIR/run.json OPTS... -- EXE ARGS..." (OPTS and ARGS
 * NULL-terminated, OPTS may be NULL), assert it exits 0, and load the snapshot.
 * The command's stdout is kept in R (the caller frees it with run__free()).
 */
json_t *trace__run(struct tmpdir *t, const char *exe, const char *const opts[],
		   const char *const args[], struct run_result *r);

/* The stdout of a shell command line, its trailing newline cut; fails the test if it fails. */
void sh__output(const char *cmd, char *buf, size_t size);

/*
 * Load a JSON snapshot; fails the test when it is missing, not valid JSON, or does not
 * follow doc/leaktrace-snapshot.schema.json (tools/validate-snapshot).
 */
json_t *snapshot__load(const char *path);
/* The entry of PID in "processes", or NULL. */
json_t *snapshot__process(json_t *snap, pid_t pid);
/* The only entry whose "exe" is EXE (after realpath); fails the test if not exactly one. */
json_t *snapshot__process_by_exe(json_t *snap, const char *exe);
/* Integer member KEY of OBJ; fails the test when it is missing or not an integer. */
long long json__int(json_t *obj, const char *key);
/* The first (largest) stack of PROC whose frame 0 is FRAME0 and kind KIND, or NULL. */
json_t *stack__find(json_t *proc, const char *frame0, const char *kind);
/* String "symbol" of frame I of STACK, or NULL when there is no such frame. */
const char *stack__symbol(json_t *stack, size_t i);
/*
 * Assert that STACK's frames from FIRST on are named WANT (NULL-terminated), in order;
 * with WHOLE, that no frame follows them.
 */
void stack__assert_frames(json_t *stack, size_t first, const char *const want[], bool whole);

struct stack_sum {
	long long bytes;
	long long allocs;
	int stacks;
};

/* Sum over the stacks of PROC whose frame 0 is FRAME0 and kind KIND (NULL: any kind). */
struct stack_sum stack__sum(json_t *proc, const char *frame0, const char *kind);

#endif
