// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --unwind dwarf: on fixtures built without frame pointers, the stacks equal
 * gdb's backtrace at the allocation, address for address (gdb unwinds in the
 * process, with debug information where it has it; both run without address
 * space randomization); with frame pointers, dwarf and fp give the same stacks.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define MAX_NAMES 64

struct names {
	char *v[MAX_NAMES];
	int n;
};

static void names__add(struct names *ns, const char *name, size_t len)
{
	cr_assert_lt(ns->n, MAX_NAMES, "too many frames");
	ns->v[ns->n++] = strndup(name, len);
}

/* An address as "0x..." without leading zeros, so that gdb's and ours compare. */
static void names__add_address(struct names *ns, const char *hex)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%#llx", strtoull(hex, NULL, 16));
	names__add(ns, buf, strlen(buf));
}

static void names__free(struct names *ns)
{
	while (ns->n)
		free(ns->v[--ns->n]);
}

/* "leak_array()" and "leak_array" name the same function: gdb drops C++ parameters. */
static size_t name_len(const char *s)
{
	return strcspn(s, " (");
}

/*
 * gdb's backtrace in the allocator entry point alloc, the first time func calls
 * it: the addresses of frames #1 on (the allocator's caller and up), in
 * "exe run [arg]". The breakpoint is set in main, once the libraries are
 * mapped, so that it is on the function itself, not the executable's PLT entry.
 */
static void gdb_backtrace(const char *exe, const char *arg, const char *func, const char *alloc,
			  struct names *out)
{
	char brk[128];
	char *argv[] = { "gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off",
			 "-ex", "set backtrace past-main on", "-ex", "break main", "-ex", "run",
			 "-ex", brk, "-ex", "continue", "-ex", "bt",
			 "--args", (char *)exe, "run", (char *)arg, NULL };
	struct run_result r;
	char *line, *save;

	snprintf(brk, sizeof(brk), "break %s if $_caller_matches(\"^%s\")", alloc, func);
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "gdb failed:\n%s", r.err);
	/* "#1  0x000055555555520d in leak_array () at tests/fixtures/leaky_cxx.cc:21" */
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *addr = strstr(line, "0x");

		if (line[0] != '#' || line[1] == '0')
			continue;
		cr_assert_not_null(addr, "a gdb frame without an address: %s", line);
		names__add_address(out, addr);
	}
	cr_assert_gt(out->n, 1, "gdb showed no frames:\n%s", r.out);
	run__free(&r);
}

/* Field "symbol" or "address" of the frames whose frame 0 is frame0, in "exe run [arg]" under opts. */
static void traced_stack(const char *exe, const char *arg, const char *frame0,
			 const char *const opts[], const char *field, struct names *out)
{
	const char *args[] = { "run", arg, NULL };
	json_t *snap, *proc, *stack, *frame;
	struct run_result r;
	struct stack_sum sum;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	sum = stack__sum(proc, frame0, "heap");
	cr_assert_eq(sum.stacks, 1, "%s: %d stacks, expected 1", frame0, sum.stacks);
	stack = stack__find(proc, frame0, "heap");
	cr_assert(!json_is_true(json_object_get(stack, "truncated")), "%s: stack cut", frame0);
	json_array_foreach(json_object_get(stack, "frames"), i, frame) {
		const char *v = json_string_value(json_object_get(frame, field));

		cr_assert_not_null(v, "%s: frame %zu has no %s", frame0, i, field);
		if (!strcmp(field, "address"))
			names__add_address(out, v);
		else
			names__add(out, v, name_len(v));
	}
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

static void assert_same(const struct names *a, const char *what_a, const struct names *b,
			const char *what_b)
{
	for (int i = 0; i < a->n || i < b->n; i++) {
		const char *x = i < a->n ? a->v[i] : "(none)", *y = i < b->n ? b->v[i] : "(none)";

		cr_assert_str_eq(x, y, "frame %d: %s has %s, %s has %s", i, what_a, x, what_b, y);
	}
}

static const char *const dwarf[] = { "--unwind", "dwarf", NULL };

/* func: the allocator's caller as gdb takes it; frame0: as leaktrace names it (demangled). */
static void assert_equals_gdb(const char *fixture, const char *arg, const char *func,
			      const char *frame0, const char *alloc)
{
	char *exe = env__fixture(fixture);
	struct names gdb = {}, ours = {};

	/* Inherited by gdb's and leaktrace's children: the same addresses in both runs. */
	cr_assert_neq(personality(ADDR_NO_RANDOMIZE), -1);
	gdb_backtrace(exe, arg, func, alloc, &gdb);
	traced_stack(exe, arg, frame0, dwarf, "address", &ours);
	assert_same(&ours, "leaktrace", &gdb, "gdb");
	names__free(&gdb);
	names__free(&ours);
	free(exe);
}

Test(unwind, thread_stack_equals_gdb_without_frame_pointers, .timeout = 120)
{
	assert_equals_gdb("leaky-nofp", "threads", "thread_main", "thread_main", "malloc");
}

Test(unwind, operator_new_stack_equals_gdb_without_frame_pointers, .timeout = 120)
{
	assert_equals_gdb("leaky_cxx-nofp", NULL, "leak_array", "leak_array()", "_Znam");
}

Test(unwind, dwarf_and_fp_agree_with_frame_pointers, .timeout = 120)
{
	const char *const fp[] = { "--unwind", "fp", NULL };
	char *exe = env__fixture("leaky-fp");
	struct names a = {}, b = {};

	traced_stack(exe, "calloc", "leak_calloc", dwarf, "symbol", &a);
	traced_stack(exe, "calloc", "leak_calloc", fp, "symbol", &b);
	/* fp shows what it can prove; dwarf reaches the end of the stack through libc too. */
	cr_assert_geq(a.n, b.n, "dwarf: %d frames, fp: %d", a.n, b.n);
	cr_assert_gt(b.n, 2, "fp: only %d frames", b.n);
	for (int i = 0; i < b.n; i++)
		cr_assert_str_eq(a.v[i], b.v[i], "frame %d: dwarf %s, fp %s", i, a.v[i], b.v[i]);
	cr_assert_str_eq(a.v[a.n - 1], "_start", "dwarf's last frame: %s", a.v[a.n - 1]);
	names__free(&a);
	names__free(&b);
	free(exe);
}

/*
 * A library loaded with dlopen after the attach: once leaktrace has its table,
 * the stacks that run through it are whole.
 */
Test(unwind, stack_through_a_library_loaded_after_the_attach, .timeout = 120)
{
	const char *args[] = { "dlopen", NULL };
	char pid[16], line[256], *json, *err, *exe = env__fixture("leaky-nofp");
	char *argv[] = { (char *)env__leaktrace(), "--unwind", "dwarf", "-v", "-i", "3600", "-p",
			 pid, "-o", NULL, NULL };
	long long bytes = -1, allocs = -1;
	json_t *snap, *proc, *stack, *frame;
	struct stack_sum sum;
	struct fixture f;
	struct tmpdir t;
	int fd, status;
	pid_t tracer;
	size_t i;

	tmpdir__new(&t);
	json = strdup(tmpdir__file(&t, "dlopen.json"));
	err = strdup(tmpdir__file(&t, "stderr.txt"));
	argv[9] = json;
	fixture__start(&f, exe, args);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	tracer = proc__spawn(argv, -1, -1, fd);
	close(fd);
	cr_assert(file__wait_for(err, "leaktrace: tracing", 15000), "leaktrace did not start");
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 10000);
	cr_assert_str_eq(line, "dlopened");
	/* The mmap of libz marked the process; leaktrace's next tick builds the table. */
	cr_assert(file__wait_for(err, "unwind table of /usr/lib/x86_64-linux-gnu/libz.so", 15000),
		  "no unwind table for libz");
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	for (;;) {
		fixture__read_line(&f, line, sizeof(line), 10000);
		if (!strcmp(line, "done"))
			break;
		cr_assert_eq(sscanf(line, "truth leak_zalloc %lld %lld", &bytes, &allocs), 2,
			     "unexpected line '%s'", line);
	}
	kill(tracer, SIGINT);
	cr_assert_eq(proc__wait(tracer, 15000, &status), 0, "leaktrace did not stop");
	snap = snapshot__load(json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	/* deflateInit2_ calls zalloc from several places: one stack each. */
	sum = stack__sum(proc, "leak_zalloc", "heap");
	cr_assert_eq(sum.bytes, bytes, "leak_zalloc: %lld bytes, the fixture says %lld", sum.bytes,
		     bytes);
	cr_assert_eq(sum.allocs, allocs);
	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *sym = stack__symbol(stack, 0);
		long libz = -1, caller = -1;
		size_t j, n;

		if (!sym || strcmp(sym, "leak_zalloc"))
			continue;
		cr_assert(!json_is_true(json_object_get(stack, "truncated")), "stack %zu is cut", i);
		n = json_array_size(json_object_get(stack, "frames"));
		json_array_foreach(json_object_get(stack, "frames"), j, frame) {
			const char *module = json_string_value(json_object_get(frame, "module"));

			if (module && strstr(module, "/libz.so"))
				libz = j;
			if (!strcmp(stack__symbol(stack, j) ?: "", "leak_dlopen") && caller < 0)
				caller = j;
		}
		/* zlib called back into the fixture: the walk went through libz and out of it. */
		cr_assert_gt(libz, 0, "stack %zu: no frame in libz", i);
		cr_assert_gt(caller, libz, "stack %zu: leak_dlopen is not above libz's frames", i);
		cr_assert_str_eq(stack__symbol(stack, n - 1) ?: "(none)", "_start");
	}
	json_decref(snap);
	fixture__stop(&f);
	free(json);
	free(err);
	free(exe);
	tmpdir__free(&t);
}
