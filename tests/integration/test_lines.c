// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Source lines: every frame with DWARF has the file:line eu-addr2line gives for
 * it, inlined calls are frames of their own, pprof's -list shows the leaking
 * line, a stripped binary is named through debuginfod on loopback, and a
 * snapshot of a stripped binary is named again by `report --symbolize`.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define MAX_LEVELS 16

/* One function level of an address, as eu-addr2line -f -i prints it: innermost first. */
struct level {
	char function[256];
	char file[PATH_MAX];
	int line;
};

/* The number after the last ':' of buf, cut off there; -1 when it is not a number. */
static int cut_number(char *buf)
{
	char *colon = strrchr(buf, ':');

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	*colon = '\0';
	return atoi(colon + 1);
}

/* "FILE:LINE" or "FILE:LINE:COLUMN" into file and line. */
static void parse_location(const char *text, struct level *lv)
{
	int last, before;

	snprintf(lv->file, sizeof(lv->file), "%s", text);
	last = cut_number(lv->file);
	cr_assert_geq(last, 0, "eu-addr2line printed '%s', no FILE:LINE", text);
	before = cut_number(lv->file);
	lv->line = before >= 0 ? before : last;
}

/* The oracle: eu-addr2line -f -i on module at link-time address addr. */
static int addr2line(const char *module, unsigned long long addr, struct level *out)
{
	char hex[32], *save = NULL, *fn, *loc;
	char *argv[] = { "eu-addr2line", "-f", "-i", "-e", (char *)module, hex, NULL };
	struct run_result r;
	int n = 0;

	snprintf(hex, sizeof(hex), "0x%llx", addr);
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	/* "FUNCTION" (or "??") and "??:0", exit code 1: no DWARF there (as for _start). */
	if (strstr(r.out, "\n??:0\n")) {
		run__free(&r);
		return 0;
	}
	cr_assert_eq(run__exit_code(&r), 0, "eu-addr2line -e %s %s: %s", module, hex, r.err);
	for (fn = strtok_r(r.out, "\n", &save); fn && n < MAX_LEVELS;
	     fn = strtok_r(NULL, "\n", &save)) {
		loc = strtok_r(NULL, "\n", &save);
		cr_assert_not_null(loc, "eu-addr2line: no location after '%s'", fn);
		/* "make_block inlined at FILE:LINE:COL in leak_inlined": its first word. */
		snprintf(out[n].function, sizeof(out[n].function), "%.*s", (int)strcspn(fn, " "),
			 fn);
		parse_location(loc, &out[n]);
		n++;
	}
	run__free(&r);
	return n;
}

static unsigned long long hex_field(json_t *frame, const char *key)
{
	const char *s = json_string_value(json_object_get(frame, key));

	cr_assert_not_null(s, "frame without \"%s\"", key);
	return strtoull(s, NULL, 16);
}

static const char *str_field(json_t *frame, const char *key)
{
	const char *s = json_string_value(json_object_get(frame, key));

	return s ? s : "(none)";
}

/*
 * Every frame of stack in module against eu-addr2line at its return address
 * less one: the frames of one address (the inlined ones, then the real one) are
 * its levels, innermost first. Returns how many addresses were checked.
 */
static int check_stack(json_t *stack, const char *module)
{
	json_t *frames = json_object_get(stack, "frames"), *fr;
	struct level lv[MAX_LEVELS];
	size_t i = 0, k;
	int checked = 0, n;

	while (i < json_array_size(frames)) {
		fr = json_array_get(frames, i);
		if (strcmp(str_field(fr, "module"), module)) {
			i++;
			continue;
		}
		n = addr2line(module, hex_field(fr, "module_offset") - 1, lv);
		if (!n) {
			cr_assert_null(json_object_get(fr, "file"),
				       "frame %zu (%s) has a file, "
				       "eu-addr2line none",
				       i, str_field(fr, "symbol"));
			i++;
			continue;
		}
		for (k = 0; k < (size_t)n; k++, i++) {
			fr = json_array_get(frames, i);
			cr_assert_not_null(fr, "frame %zu missing: eu-addr2line has %d levels", i,
					   n);
			cr_assert_str_eq(str_field(fr, "symbol"), lv[k].function,
					 "frame %zu: '%s', eu-addr2line says '%s'", i,
					 str_field(fr, "symbol"), lv[k].function);
			cr_assert_str_eq(str_field(fr, "file"), lv[k].file,
					 "frame %zu (%s): file '%s', eu-addr2line says '%s'", i,
					 lv[k].function, str_field(fr, "file"), lv[k].file);
			cr_assert_eq(json_integer_value(json_object_get(fr, "line")), lv[k].line,
				     "frame %zu (%s): line %lld, eu-addr2line says %d", i,
				     lv[k].function,
				     json_integer_value(json_object_get(fr, "line")), lv[k].line);
			cr_assert_eq(json_is_true(json_object_get(fr, "inlined")),
				     k + 1 < (size_t)n, "frame %zu (%s): inlined is %s", i,
				     lv[k].function, k + 1 < (size_t)n ? "not true" : "true");
		}
		checked++;
	}
	return checked;
}

/* The line eu-addr2line gives for frame 0 of stack (its outermost level). */
static int oracle_line(json_t *stack, const char *module, struct level *out)
{
	json_t *fr = json_array_get(json_object_get(stack, "frames"), 0);
	struct level lv[MAX_LEVELS];
	int n = addr2line(module, hex_field(fr, "module_offset") - 1, lv);

	cr_assert_gt(n, 0);
	*out = lv[0];
	return out->line;
}

Test(lines, every_frame_has_eu_addr2lines_file_and_line, .timeout = 120)
{
	const char *opts[] = { "--unwind", "dwarf", NULL };
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	json_t *snap, *stack;
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	stack = stack__find(snapshot__process_by_exe(snap, exe), "leak_malloc", "heap");
	cr_assert_not_null(stack, "no stack with leak_malloc as frame 0");
	/* leak_malloc, run_scenarios, main: and _start, which has no DWARF, is skipped. */
	cr_assert_geq(check_stack(stack, exe), 3, "fewer than 3 frames in %s", exe);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(lines, an_inlined_call_is_a_frame_of_its_own, .timeout = 120)
{
	const char *opts[] = { "--unwind", "dwarf", NULL };
	const char *args[] = { "run", NULL };
	char *exe = env__fixture("inlined-nofp");
	json_t *snap, *stack, *f0, *f1;
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	cr_assert(strstr(r.out, "truth leak_inlined 640 10"), "fixture said: %s", r.out);
	stack = stack__find(snapshot__process_by_exe(snap, exe), "make_block", "heap");
	cr_assert_not_null(stack, "no stack with the inlined make_block as frame 0");
	cr_assert_eq(json__int(stack, "bytes"), 640);
	cr_assert_eq(json__int(stack, "allocs"), 10);
	f0 = json_array_get(json_object_get(stack, "frames"), 0);
	f1 = json_array_get(json_object_get(stack, "frames"), 1);
	cr_assert(json_is_true(json_object_get(f0, "inlined")), "make_block is not inlined");
	cr_assert_str_eq(str_field(f1, "symbol"), "leak_inlined");
	cr_assert_null(json_object_get(f1, "inlined"), "leak_inlined is marked inlined");
	cr_assert_str_eq(str_field(f0, "address"), str_field(f1, "address"),
			 "an inlined call and its caller have one address");
	cr_assert_geq(check_stack(stack, exe), 2);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

/* The text reports, live and of the saved snapshot, name the line: "leak_malloc (leaky.c:N)". */
Test(lines, text_reports_show_function_and_line, .timeout = 120)
{
	const char *opts[] = { "--unwind", "dwarf", NULL };
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	char want[128], out[PATH_MAX];
	json_t *snap, *stack;
	struct run_result r, rep;
	struct level lv;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	stack = stack__find(snapshot__process_by_exe(snap, exe), "leak_malloc", "heap");
	cr_assert_not_null(stack);
	snprintf(want, sizeof(want), "leak_malloc (leaky.c:%d)", oracle_line(stack, exe, &lv));
	cr_assert(strstr(r.err, want), "the final report has no '%s':\n%s", want, r.err);
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "run.json"));
	char *argv[] = { (char *)env__leaktrace(), "report", out, NULL };

	run__cmd(argv, NULL, RUN_TIMEOUT_S, &rep);
	cr_assert_eq(run__exit_code(&rep), 0, "report: %s", rep.err);
	cr_assert(strstr(rep.out, want), "report of the saved snapshot has no '%s':\n%s", want,
		  rep.out);
	run__free(&rep);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

/* A Go tool's output of a profile, through `go tool pprof ARGS FILE`. */
static void pprof(const char *arg1, const char *arg2, const char *file, struct run_result *r)
{
	char *argv[] = { "go", "tool", "pprof", (char *)arg1, (char *)arg2, (char *)file, NULL };

	if (!arg2) {
		argv[4] = (char *)file;
		argv[5] = NULL;
	}
	run__cmd(argv, NULL, 120, r);
	cr_assert_eq(run__exit_code(r), 0, "go tool pprof %s: %s", arg1, r->err);
}

Test(lines, go_pprof_lists_the_leaking_line_and_the_executables_mapping_first, .timeout = 300)
{
	const char *opts[] = { "--unwind", "dwarf", NULL };
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	char json[PATH_MAX], pb[PATH_MAX], want[PATH_MAX + 64], *line;
	unsigned long long start = 0, limit = 0, off = 0;
	json_t *snap, *stack;
	struct run_result r, p;
	struct level lv;
	struct tmpdir t;
	int n;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	stack = stack__find(snapshot__process_by_exe(snap, exe), "leak_malloc", "heap");
	cr_assert_not_null(stack);
	n = oracle_line(stack, exe, &lv);
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "run.json"));
	snprintf(pb, sizeof(pb), "%s", tmpdir__file(&t, "run.pb.gz"));
	char *argv[] = { (char *)env__leaktrace(), "report", json, "-o", pb, NULL };

	run__cmd(argv, NULL, RUN_TIMEOUT_S, &p);
	cr_assert_eq(run__exit_code(&p), 0, "report -o %s: %s", pb, p.err);
	run__free(&p);

	/* -list: the routine in its source file, the 100,000 bytes on the leaking line. */
	pprof("-list", "^leak_malloc$", pb, &p);
	snprintf(want, sizeof(want), "ROUTINE ======================== leak_malloc in %s", lv.file);
	cr_assert(strstr(p.out, want), "no '%s' in:\n%s", want, p.out);
	snprintf(want, sizeof(want), "97.66kB    97.66kB     %d:", n);
	cr_assert(strstr(p.out, want), "line %d does not hold 97.66kB:\n%s", n, p.out);
	run__free(&p);

	/* -lines: the function at its line. */
	pprof("-lines", "-top", pb, &p);
	snprintf(want, sizeof(want), "leak_malloc %s:%d", lv.file, n);
	cr_assert(strstr(p.out, want), "no '%s' in:\n%s", want, p.out);
	cr_assert(strstr(p.out, "File: leaky-nofp\n"), "the profile is not the fixture's:\n%s",
		  p.out);
	run__free(&p);

	/* -raw: mapping 1 is the executable, with the range its code was mapped at. */
	pprof("-raw", NULL, pb, &p);
	line = strstr(p.out, "Mappings\n1: ");
	cr_assert_not_null(line, "no mapping 1:\n%s", p.out);
	cr_assert_eq(sscanf(line, "Mappings\n1: %llx/%llx/%llx", &start, &limit, &off), 3,
		     "mapping 1: %.80s", line);
	cr_assert(start && limit > start, "mapping 1 is 0x%llx-0x%llx", start, limit);
	snprintf(want, sizeof(want), " %s ", exe);
	cr_assert(strstr(line, want) && strstr(line, want) < strchr(line + 9, '\n'),
		  "mapping 1 is not %s: %.200s", exe, line);
	run__free(&p);

	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

/* A free TCP port on loopback, as the kernel picks one. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * debuginfod on loopback, serving a directory with the unstripped fixture;
 * returns its pid once it answers for build_id (polled, generous bound).
 */
static pid_t start_debuginfod(struct tmpdir *t, const char *unstripped, const char *build_id,
			      char *url, size_t size)
{
	char port[16], dir[PATH_MAX], db[PATH_MAX], cmd[PATH_MAX * 3], probe[512], log[PATH_MAX];
	char *argv[] = {
		"debuginfod", "-p", port, "-F", dir, "-d", db, "-t", "0", "-g", "0", NULL
	};
	char *curl[] = { "curl", "-sf", "-o", "/dev/null", probe, NULL };
	struct run_result r;
	int log_fd, status;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", free_port());
	snprintf(dir, sizeof(dir), "%s", tmpdir__file(t, "served"));
	snprintf(db, sizeof(db), "%s", tmpdir__file(t, "debuginfod.sqlite"));
	snprintf(cmd, sizeof(cmd), "mkdir %s && cp %s %s/", dir, unstripped, dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(log, sizeof(log), "%s", tmpdir__file(t, "debuginfod.log"));
	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(log_fd, 0);
	pid = proc__spawn(argv, -1, log_fd, log_fd);
	close(log_fd);
	snprintf(url, size, "http://127.0.0.1:%s", port);
	snprintf(probe, sizeof(probe), "%s/buildid/%s/debuginfo", url, build_id);
	/* It scans the directory after it starts: poll until it serves the file. */
	for (int i = 0; i < 600; i++) {
		run__cmd(curl, NULL, RUN_TIMEOUT_S, &r);
		if (!run__exit_code(&r)) {
			run__free(&r);
			return pid;
		}
		run__free(&r);
		/* Not proc__running: a server writing its database may be in D state. */
		if (!proc__wait(pid, 0, &status)) {
			snprintf(cmd, sizeof(cmd), "cat %s >&2", log);
			cr_assert_eq(system(cmd), 0);
			cr_assert_fail("debuginfod exited (status 0x%x); its log is above", status);
		}
		usleep(100 * 1000);
	}
	cr_assert_fail("debuginfod on %s never served %s", url, build_id);
	return -1;
}

/* The leak_malloc stack of a snapshot of the stripped fixture: frame 0 is then unnamed. */
static json_t *stripped_stack(json_t *snap, const char *exe)
{
	json_t *proc = snapshot__process_by_exe(snap, exe), *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		if (json__int(stack, "bytes") == 100000 && json__int(stack, "allocs") == 1000)
			return stack;
	cr_assert_fail("no stack of 100000 bytes in 1000 allocations");
	return NULL;
}

/* Frame 0 of stack is leak_malloc at the line eu-addr2line gives in the unstripped build. */
static void assert_named(json_t *stack, const char *unstripped, const char *what)
{
	json_t *fr = json_array_get(json_object_get(stack, "frames"), 0);
	struct level lv[MAX_LEVELS];

	cr_assert_gt(addr2line(unstripped, hex_field(fr, "module_offset") - 1, lv), 0);
	cr_assert_str_eq(str_field(fr, "symbol"), "leak_malloc", "%s: frame 0 is '%s'", what,
			 str_field(fr, "symbol"));
	cr_assert_str_eq(str_field(fr, "file"), lv[0].file, "%s: file '%s', expected '%s'", what,
			 str_field(fr, "file"), lv[0].file);
	cr_assert_eq(json_integer_value(json_object_get(fr, "line")), lv[0].line,
		     "%s: line %lld, expected %d", what,
		     json_integer_value(json_object_get(fr, "line")), lv[0].line);
}

Test(debuginfod, a_stripped_fixture_is_named_through_debuginfod_on_loopback, .timeout = 180)
{
	const char *args[] = { "run", "malloc", NULL };
	const char *off[] = { "--no-debuginfod", NULL };
	char *stripped = env__fixture("leaky-stripped"), *full = env__fixture("leaky-nofp");
	char url[128], cache[PATH_MAX], build_id[128];
	json_t *snap, *stack;
	struct run_result r;
	struct tmpdir t;
	pid_t server;

	tmpdir__new(&t);
	snprintf(cache, sizeof(cache), "%s", tmpdir__file(&t, "cache"));
	cr_assert_eq(setenv("DEBUGINFOD_CACHE_PATH", cache, 1), 0);
	/* Without debuginfod the stripped fixture's frames have no name. */
	snap = trace__run(&t, stripped, off, args, &r);
	stack = stripped_stack(snap, stripped);
	cr_assert_str_eq(str_field(json_array_get(json_object_get(stack, "frames"), 0), "symbol"),
			 "[unknown]");
	snprintf(build_id, sizeof(build_id), "%s",
		 str_field(json_array_get(json_object_get(stack, "frames"), 0), "build_id"));
	json_decref(snap);
	run__free(&r);

	server = start_debuginfod(&t, full, build_id, url, sizeof(url));
	cr_assert_eq(setenv("DEBUGINFOD_URLS", url, 1), 0);
	/* --no-debuginfod: still unnamed, though a server is there. */
	snap = trace__run(&t, stripped, off, args, &r);
	stack = stripped_stack(snap, stripped);
	cr_assert_str_eq(str_field(json_array_get(json_object_get(stack, "frames"), 0), "symbol"),
			 "[unknown]", "--no-debuginfod asked debuginfod");
	json_decref(snap);
	run__free(&r);

	snap = trace__run(&t, stripped, NULL, args, &r);
	assert_named(stripped_stack(snap, stripped), full, "through debuginfod");
	json_decref(snap);
	run__free(&r);
	proc__kill(server);
	unsetenv("DEBUGINFOD_URLS");
	free(stripped);
	free(full);
	tmpdir__free(&t);
}

Test(symbolize, report_symbolize_names_a_stripped_binarys_snapshot_by_build_id, .timeout = 120)
{
	const char *args[] = { "run", "malloc", NULL };
	const char *off[] = { "--no-debuginfod", NULL };
	char *stripped = env__fixture("leaky-stripped"), *full = env__fixture("leaky-nofp");
	char dir[PATH_MAX], cmd[PATH_MAX * 3], in[PATH_MAX], out[PATH_MAX];
	const char *id;
	json_t *snap, *stack;
	struct run_result r, rep;
	struct tmpdir t;

	tmpdir__new(&t);
	unsetenv("DEBUGINFOD_URLS");
	snap = trace__run(&t, stripped, off, args, &r);
	stack = stripped_stack(snap, stripped);
	id = str_field(json_array_get(json_object_get(stack, "frames"), 0), "build_id");
	/* A developer's debug directory: the unstripped build's debug file, by build ID. */
	snprintf(dir, sizeof(dir), "%s", tmpdir__file(&t, "debug"));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/.build-id/%.2s && objcopy --only-keep-debug %s "
		 "%s/.build-id/%.2s/%s.debug",
		 dir, id, full, dir, id, id + 2);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(in, sizeof(in), "%s", tmpdir__file(&t, "run.json"));
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "named.json"));
	char *argv[] = { (char *)env__leaktrace(),
			 "report",
			 "--symbolize",
			 "--no-debuginfod",
			 "--debug-dir",
			 dir,
			 in,
			 "-o",
			 out,
			 NULL };

	run__cmd(argv, NULL, RUN_TIMEOUT_S, &rep);
	cr_assert_eq(run__exit_code(&rep), 0, "report --symbolize: %s", rep.err);
	run__free(&rep);
	json_decref(snap);
	snap = snapshot__load(out);
	assert_named(stripped_stack(snap, stripped), full, "report --symbolize --debug-dir");
	json_decref(snap);

	/* Without the directory nothing here knows the build: frames stay, and it says so. */
	char *bare[] = { (char *)env__leaktrace(),
			 "report",
			 "--symbolize",
			 "--no-debuginfod",
			 in,
			 "-o",
			 out,
			 NULL };

	run__cmd(bare, NULL, RUN_TIMEOUT_S, &rep);
	cr_assert_eq(run__exit_code(&rep), 0, "report --symbolize: %s", rep.err);
	cr_assert(strstr(rep.err, "modules not found by build ID"), "stderr: %s", rep.err);
	run__free(&rep);
	snap = snapshot__load(out);
	cr_assert_str_eq(str_field(json_array_get(json_object_get(stripped_stack(snap, stripped),
								  "frames"),
						  0),
				   "symbol"),
			 "[unknown]");
	json_decref(snap);
	run__free(&r);
	free(stripped);
	free(full);
	tmpdir__free(&t);
}

/*
 * A gate in front of a debuginfod: it takes connections at once, and passes them
 * on only once opened, so that a fetch is under way for as long as a test says.
 */
struct gate {
	int listen_fd;
	int port;
	int upstream_port;
	atomic_bool open;
	atomic_int accepted;
};

static void relay(int a, int b)
{
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	char buf[65536];
	ssize_t n;

	while (poll(p, 2, -1) > 0) {
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write(p[!i].fd, buf, n) != n)
				return;
		}
	}
}

static void *gate_main(void *arg)
{
	struct gate *g = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c, up;

	a.sin_port = htons(g->upstream_port);
	while ((c = accept(g->listen_fd, NULL, NULL)) >= 0) {
		atomic_fetch_add(&g->accepted, 1);
		while (!atomic_load(&g->open))
			usleep(10 * 1000);
		up = socket(AF_INET, SOCK_STREAM, 0);
		if (up >= 0 && !connect(up, (struct sockaddr *)&a, sizeof(a)))
			relay(c, up);
		close(up);
		close(c);
	}
	return NULL;
}

static void gate__start(struct gate *g, int upstream_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	pthread_t t;

	g->upstream_port = upstream_port;
	atomic_init(&g->open, false);
	atomic_init(&g->accepted, 0);
	g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(g->listen_fd, 0);
	cr_assert_eq(bind(g->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(g->listen_fd, 8), 0);
	cr_assert_eq(getsockname(g->listen_fd, (struct sockaddr *)&a, &len), 0);
	g->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&t, NULL, gate_main, g), 0);
	pthread_detach(t);
}

/* Polls cond() until it holds, 60 s at most (a busy machine). */
static bool wait_until(bool (*cond)(void *), void *arg)
{
	for (int i = 0; i < 6000; i++) {
		if (cond(arg))
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static bool gate_accepted(void *arg)
{
	return atomic_load(&((struct gate *)arg)->accepted) > 0;
}

Test(debuginfod, a_fetch_is_off_the_report_path_and_a_later_report_has_its_lines, .timeout = 240)
{
	const char *scenario[] = { "malloc", NULL };
	char *stripped = env__fixture("leaky-stripped"), *full = env__fixture("leaky-nofp");
	char build_id[128], url[128], dir_url[160], cache[PATH_MAX], log[PATH_MAX], out[PATH_MAX];
	char cmd[PATH_MAX + 64], pid_s[16], want[128];
	struct fixture f;
	struct gate g;
	struct tmpdir t;
	json_t *snap, *fr;
	struct level lv[MAX_LEVELS];
	pid_t server, lt;
	int log_fd, status, upstream;

	tmpdir__new(&t);
	snprintf(cmd, sizeof(cmd), "readelf -n %s | sed -n 's/.*Build ID: //p'", stripped);
	sh__output(cmd, build_id, sizeof(build_id));
	server = start_debuginfod(&t, full, build_id, url, sizeof(url));
	cr_assert_eq(sscanf(url, "http://127.0.0.1:%d", &upstream), 1);
	gate__start(&g, upstream);
	snprintf(dir_url, sizeof(dir_url), "http://127.0.0.1:%d", g.port);
	snprintf(cache, sizeof(cache), "%s", tmpdir__file(&t, "cache"));
	cr_assert_eq(setenv("DEBUGINFOD_CACHE_PATH", cache, 1), 0);
	cr_assert_eq(setenv("DEBUGINFOD_URLS", dir_url, 1), 0);

	fixture__start(&f, stripped, scenario);
	snprintf(log, sizeof(log), "%s", tmpdir__file(&t, "leaktrace.log"));
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "final.json"));
	snprintf(pid_s, sizeof(pid_s), "%d", (int)f.pid);
	char *argv[] = {
		(char *)env__leaktrace(), "-p", pid_s, "-i", "1", "-n", "1", "-o", out, NULL
	};

	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(log_fd, 0);
	lt = proc__spawn(argv, -1, log_fd, log_fd);
	close(log_fd);
	file__assert_tracing(log, "leaktrace: tracing 1 process");
	fixture__trigger(&f);
	/* The fetch has started and hangs at the gate: reports go on, the frame unnamed. */
	cr_assert(wait_until(gate_accepted, &g), "debuginfod was never asked");
	cr_assert(file__wait_for(log, "  [unknown]  ", 60000),
		  "no report while the fetch hangs (the report path waits for it?)");
	atomic_store(&g.open, true);
	cr_assert(file__wait_for(log, "leak_malloc (leaky.c:", 60000),
		  "no report names leak_malloc once the fetch ended");
	kill(lt, SIGINT);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end after SIGINT");
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status), "leaktrace: status 0x%x", status);

	/* The line the reports named is eu-addr2line's for the frame, in the unstripped build. */
	snap = snapshot__load(out);
	fr = json_array_get(json_object_get(stripped_stack(snap, stripped), "frames"), 0);
	cr_assert_gt(addr2line(full, hex_field(fr, "module_offset") - 1, lv), 0);
	snprintf(want, sizeof(want), "leak_malloc (leaky.c:%d)", lv[0].line);
	cr_assert(file__wait_for(log, want, 1000), "the reports do not say '%s'", want);
	assert_named(stripped_stack(snap, stripped), full, "a later report");
	json_decref(snap);
	fixture__stop(&f);
	proc__kill(server);
	unsetenv("DEBUGINFOD_URLS");
	free(stripped);
	free(full);
	tmpdir__free(&t);
}
