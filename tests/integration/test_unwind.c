// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The default walk (--unwind auto) and --unwind dwarf: on fixtures built
 * without frame pointers, the stacks equal gdb's backtrace at the allocation,
 * address for address (gdb unwinds in the process, with debug information
 * where it has it; both run without address space randomization); with frame
 * pointers, dwarf and fp give the same stacks.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/personality.h>
#include <sys/syscall.h>
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
 * gdb's backtrace where the allocator returns to its caller (site), the first
 * time it does: the pc there and the return addresses of the frames above, in
 * "exe run [arg]". A breakpoint in the allocator would not do: a uprobe there
 * (another leaktrace, tracing every process) takes the trap before gdb.
 */
static void gdb_backtrace(const char *exe, const char *arg, const char *site, struct names *out)
{
	char brk[64];
	char *argv[] = { "gdb",
			 "-nx",
			 "-batch",
			 "-ex",
			 "set debuginfod enabled off",
			 "-ex",
			 "set backtrace past-main on",
			 "-ex",
			 brk,
			 "-ex",
			 "run",
			 "-ex",
			 "p/x $pc",
			 "-ex",
			 "bt",
			 "--args",
			 (char *)exe,
			 "run",
			 (char *)arg,
			 NULL };
	struct run_result r;
	char *line, *save;

	snprintf(brk, sizeof(brk), "break *%s", site);
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "gdb failed:\n%s%s", r.out, r.err);
	/* "$1 = 0x5555555563b3", then "#1  0x00007ffff7e5b1f5 in start_thread (...) at ..." */
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *addr = strstr(line, "0x");

		if (!strncmp(line, "$1 = ", 5) || (line[0] == '#' && line[1] != '0')) {
			cr_assert_not_null(addr, "a gdb frame without an address: %s", line);
			names__add_address(out, addr);
		}
	}
	cr_assert_gt(out->n, 1, "gdb showed no frames:\n%s", r.out);
	run__free(&r);
}

/* Field ("symbol", "address") of the frames of frame0's stack, "exe run [arg]" under opts. */
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

/* frame0: the allocator's caller, as leaktrace names it (demangled). */
static void assert_equals_gdb(const char *fixture, const char *arg, const char *frame0)
{
	char *exe = env__fixture(fixture);
	struct names gdb = {}, ours = {};

	/* Inherited by gdb's and leaktrace's children: the same addresses in both runs. */
	cr_assert_neq(personality(ADDR_NO_RANDOMIZE), -1);
	/* The default walk (--unwind auto): tables for these files without frame pointers. */
	traced_stack(exe, arg, frame0, NULL, "address", &ours);
	gdb_backtrace(exe, arg, ours.v[0], &gdb);
	assert_same(&ours, "leaktrace", &gdb, "gdb");
	names__free(&gdb);
	names__free(&ours);
	free(exe);
}

Test(unwind, thread_stack_equals_gdb_without_frame_pointers, .timeout = 120)
{
	assert_equals_gdb("leaky-nofp", "threads", "thread_main");
}

Test(unwind, operator_new_stack_equals_gdb_without_frame_pointers, .timeout = 120)
{
	assert_equals_gdb("leaky_cxx-nofp", NULL, "leak_array()");
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
 * Four stacks in turn whose allocations return to one place with one stack
 * pointer (the fixture's twins scenario): each is told apart by the return
 * addresses above it, whichever way the walk goes, and none borrows the walk
 * of the one before (a walk is taken again only when every word it read is
 * the same).
 */
static void assert_twins(const char *fixture, const char *const opts[])
{
	static const char *const pairs[4][2] = {
		{ "twin_a", "outer_x" },
		{ "twin_b", "outer_x" },
		{ "twin_a", "outer_y" },
		{ "twin_b", "outer_y" },
	};
	const char *const args[] = { "run", "twins", NULL };
	char *exe = env__fixture(fixture);
	int found[4] = { 0 };
	json_t *snap, *proc, *stack;
	struct run_result r;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *f0 = stack__symbol(stack, 0), *f1, *f2;
		int k;

		if (!f0 || strcmp(f0, "twin_leaf"))
			continue;
		f1 = stack__symbol(stack, 1);
		f2 = stack__symbol(stack, 2);
		for (k = 0; k < 4; k++)
			if (f1 && f2 && !strcmp(f1, pairs[k][0]) && !strcmp(f2, pairs[k][1]))
				break;
		cr_assert_lt(k, 4, "%s: a twin_leaf stack through %s, %s", fixture, f1 ? f1 : "-",
			     f2 ? f2 : "-");
		found[k]++;
		cr_assert_eq(json__int(stack, "allocs"), 150, "%s: %s from %s: %lld allocations",
			     fixture, pairs[k][0], pairs[k][1], json__int(stack, "allocs"));
		cr_assert_eq(json__int(stack, "bytes"), 14400, "%s: %s from %s: %lld bytes",
			     fixture, pairs[k][0], pairs[k][1], json__int(stack, "bytes"));
		cr_assert(!json_is_true(json_object_get(stack, "truncated")), "%s: stack cut",
			  fixture);
		cr_assert_str_eq(stack__symbol(stack,
					       json_array_size(json_object_get(stack, "frames")) -
						       1),
				 "_start", "%s: %s from %s does not end at _start", fixture,
				 pairs[k][0], pairs[k][1]);
	}
	for (int k = 0; k < 4; k++)
		cr_assert_eq(found[k], 1, "%s: %d stacks of %s from %s", fixture, found[k],
			     pairs[k][0], pairs[k][1]);
	/* Told apart only by a return address more than 4 KiB above the stack pointer. */
	for (int k = 0; k < 2; k++) {
		const char *const far[] = { "far_pad", k ? "far_y" : "far_x", NULL };
		int n = 0;

		json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
			const char *f0 = stack__symbol(stack, 0), *f2 = stack__symbol(stack, 2);

			if (!f0 || strcmp(f0, "far_leaf") || !f2 || strcmp(f2, far[1]))
				continue;
			n++;
			stack__assert_frames(stack, 1, far, false);
			cr_assert_eq(json__int(stack, "allocs"), 300,
				     "%s: far_leaf from %s: %lld "
				     "allocations",
				     fixture, far[1], json__int(stack, "allocs"));
			cr_assert_eq(json__int(stack, "bytes"), 24000,
				     "%s: far_leaf from %s: %lld "
				     "bytes",
				     fixture, far[1], json__int(stack, "bytes"));
		}
		cr_assert_eq(n, 1, "%s: %d stacks of far_leaf from %s", fixture, n, far[1]);
	}
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

Test(unwind, stacks_alike_up_to_their_callers_are_told_apart, .timeout = 120)
{
	assert_twins("leaky-nofp", NULL);
	assert_twins("leaky-fp", NULL);
	assert_twins("leaky-fp", dwarf);
}

/*
 * --unwind auto: the fixture built with frame pointers is walked by them (no
 * table; -v says so), libc by its table: the same stack as dwarf's, to _start.
 */
Test(unwind, auto_walks_frame_pointer_builds_by_them_and_agrees_with_dwarf, .timeout = 120)
{
	const char *const autom[] = { "--unwind", "auto", NULL };
	char *exe = env__fixture("leaky-fp");
	char *argv[] = { (char *)env__leaktrace(),
			 "--unwind",
			 "auto",
			 "-v",
			 "-q",
			 "--no-scan",
			 "--",
			 exe,
			 "run",
			 "malloc",
			 NULL };
	struct names a = {}, b = {};
	struct run_result r;
	char want[PATH_MAX + 64];

	traced_stack(exe, "calloc", "leak_calloc", dwarf, "symbol", &a);
	traced_stack(exe, "calloc", "leak_calloc", autom, "symbol", &b);
	cr_assert_eq(a.n, b.n, "dwarf: %d frames, auto: %d", a.n, b.n);
	for (int i = 0; i < a.n; i++)
		cr_assert_str_eq(a.v[i], b.v[i], "frame %d: dwarf %s, auto %s", i, a.v[i], b.v[i]);
	cr_assert_str_eq(b.v[b.n - 1], "_start", "auto's last frame: %s", b.v[b.n - 1]);
	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s", r.err);
	snprintf(want, sizeof(want), "leaktrace: %s keeps frame pointers: walked by them", exe);
	cr_assert_not_null(strstr(r.err, want), "no '%s' in:\n%s", want, r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: unwind table of "), "libc has a table:\n%s",
			   r.err);
	run__free(&r);
	names__free(&a);
	names__free(&b);
	free(exe);
}

/* leaktrace --unwind dwarf -v -p PID in the background, its stderr in a file. */
struct bg_tracer {
	pid_t pid;
	char json[PATH_MAX];
	char err[PATH_MAX];
};

static void bg__start(struct bg_tracer *b, struct tmpdir *t, pid_t target)
{
	char pid[16];
	char *argv[] = { (char *)env__leaktrace(),
			 "--unwind",
			 "dwarf",
			 "-v",
			 "-i",
			 "3600",
			 "-p",
			 pid,
			 "-o",
			 b->json,
			 NULL };
	int fd;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	snprintf(b->json, sizeof(b->json), "%s", tmpdir__file(t, "unwind.json"));
	snprintf(b->err, sizeof(b->err), "%s", tmpdir__file(t, "stderr.txt"));
	fd = open(b->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	b->pid = proc__spawn(argv, -1, -1, fd);
	close(fd);
	file__assert_tracing(b->err, "leaktrace: tracing");
}

/* SIGINT, then its snapshot. */
static json_t *bg__stop(struct bg_tracer *b)
{
	int status;

	kill(b->pid, SIGINT);
	cr_assert_eq(proc__wait(b->pid, 60000, &status), 0, "leaktrace did not stop");
	return snapshot__load(b->json);
}

/* Lets the fixture run its scenarios; returns the bytes and allocations of its truth line. */
static void fixture__go(struct fixture *f, const char *truth, long long *bytes, long long *allocs)
{
	char line[256], want[128];

	snprintf(want, sizeof(want), "truth %s %%lld %%lld", truth);
	cr_assert_eq(write(f->in_fd, "go\n", 3), 3);
	for (;;) {
		fixture__read_line(f, line, sizeof(line), 10000);
		if (!strcmp(line, "done"))
			break;
		cr_assert_eq(sscanf(line, want, bytes, allocs), 2, "unexpected line '%s'", line);
	}
}

/*
 * A library loaded with dlopen after the attach: once leaktrace has its table,
 * the stacks that run through it are whole.
 */
Test(unwind, stack_through_a_library_loaded_after_the_attach, .timeout = 120)
{
	const char *args[] = { "dlopen", NULL };
	char line[256], *exe = env__fixture("leaky-nofp");
	long long bytes = -1, allocs = -1;
	json_t *snap, *proc, *stack, *frame;
	struct bg_tracer tr;
	struct stack_sum sum;
	struct fixture f;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	fixture__start(&f, exe, args);
	bg__start(&tr, &t, f.pid);
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 10000);
	cr_assert_str_eq(line, "dlopened");
	/* leaktrace's next tick rereads the process's mappings and builds libz's table. */
	cr_assert(file__wait_for(tr.err, "unwind table of /usr/lib/x86_64-linux-gnu/libz.so",
				 15000),
		  "no unwind table for libz");
	fixture__go(&f, "leak_zalloc", &bytes, &allocs);
	snap = bg__stop(&tr);
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
		cr_assert(!json_is_true(json_object_get(stack, "truncated")), "stack %zu cut", i);
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
	free(exe);
	tmpdir__free(&t);
}

/* The file offset of function name in exe: nm gives its address, the segments its offset. */
static uint64_t function_offset(const char *exe, const char *name)
{
	char cmd[PATH_MAX + 64], line[256], sym[128], type;
	unsigned long long addr = 0;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	FILE *p, *f;

	snprintf(cmd, sizeof(cmd), "nm %s", exe);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a;

		if (sscanf(line, "%llx %c %127s", &a, &type, sym) == 3 && !strcmp(sym, name))
			addr = a;
	}
	pclose(p);
	cr_assert_neq(addr, 0, "%s not in %s", name, exe);
	f = fopen(exe, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(&eh, sizeof(eh), 1, f), 1);
	for (int i = 0; i < eh.e_phnum; i++) {
		cr_assert_eq(fseek(f, eh.e_phoff + (long)i * eh.e_phentsize, SEEK_SET), 0);
		cr_assert_eq(fread(&ph, sizeof(ph), 1, f), 1);
		if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz) {
			fclose(f);
			return addr - ph.p_vaddr + ph.p_offset;
		}
	}
	fclose(f);
	cr_assert_fail("%s: no segment holds %s", exe, name);
	return 0;
}

/* A uretprobe on func in pid (a perf event, no BPF): it replaces func's return address. */
static int uretprobe_open(const char *exe, const char *func, pid_t pid)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	unsigned int type, bit;
	FILE *f;
	int fd;

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	cr_assert(f && fscanf(f, "%u", &type) == 1);
	fclose(f);
	f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "r");
	cr_assert(f && fscanf(f, "config:%u", &bit) == 1);
	fclose(f);
	attr.type = type;
	attr.config = 1ULL << bit;
	attr.config1 = (uint64_t)(uintptr_t)exe;   /* uprobe_path */
	attr.config2 = function_offset(exe, func); /* probe_offset */
	fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	cr_assert_geq(fd, 0, "perf_event_open: %s", strerror(errno));
	return fd;
}

/*
 * Another tool's uretprobe on leak_malloc is pending while it allocates: its
 * return address on the stack is the kernel's trampoline, and the walk takes
 * the original from the kernel's record of it.
 */
Test(unwind, return_address_replaced_by_a_pending_uretprobe_is_recovered, .timeout = 120)
{
	const char *args[] = { "malloc", NULL };
	const char *want[] = { "leak_malloc",
			       "run_scenarios",
			       "attach_mode",
			       "main",
			       "__libc_start_call_main",
			       "__libc_start_main",
			       "_start",
			       NULL };
	char *exe = env__fixture("leaky-nofp");
	long long bytes = -1, allocs = -1;
	json_t *snap, *proc, *stack;
	struct bg_tracer tr;
	struct fixture f;
	struct tmpdir t;
	int probe;

	tmpdir__new(&t);
	fixture__start(&f, exe, args);
	probe = uretprobe_open(exe, "leak_malloc", f.pid);
	bg__start(&tr, &t, f.pid);
	fixture__go(&f, "leak_malloc", &bytes, &allocs);
	snap = bg__stop(&tr);
	close(probe);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	stack = stack__find(proc, "leak_malloc", "heap");
	cr_assert_not_null(stack);
	cr_assert_eq(json__int(stack, "bytes"), bytes);
	cr_assert(!json_is_true(json_object_get(stack, "truncated")), "the stack is cut");
	stack__assert_frames(stack, 0, want, true);
	json_decref(snap);
	fixture__stop(&f);
	free(exe);
	tmpdir__free(&t);
}

/* Debian's libLLVM (clang's, 100+ MB), as the Makefile links bigso-linked with it. */
static void libllvm_path(char *buf, size_t size)
{
	glob_t g;

	cr_assert_eq(glob("/usr/lib/x86_64-linux-gnu/libLLVM-*.so.1", 0, NULL, &g), 0,
		     "no libLLVM (tools/install-deps installs clang, which brings it)");
	cr_assert_not_null(realpath(g.gl_pathv[0], buf));
	cr_assert_lt(strlen(buf), size);
	globfree(&g);
}

/*
 * Each stack of proc through caller: the frame inside it is LLVMContextCreate in
 * libLLVM, and from it outwards the stack is exactly caller, main, libc's start
 * and _start. Returns how many there are.
 */
static int assert_whole_through(json_t *proc, const char *caller)
{
	static const char *const outer[] = { "main", "__libc_start_call_main", "__libc_start_main",
					     "_start" };
	json_t *stack, *frames;
	int found = 0;
	size_t i, j, n;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		frames = json_object_get(stack, "frames");
		n = json_array_size(frames);
		for (j = 0; j < n && strcmp(stack__symbol(stack, j) ?: "", caller); j++)
			;
		if (j == n)
			continue;
		found++;
		cr_assert(!json_is_true(json_object_get(stack, "truncated")), "stack %zu cut", i);
		cr_assert_null(json_object_get(stack, "table_pending"));
		cr_assert_gt(j, 0);
		cr_assert_str_eq(stack__symbol(stack, j - 1) ?: "(none)", "LLVMContextCreate");
		cr_assert_not_null(strstr(
			json_string_value(json_object_get(json_array_get(frames, j - 1), "module")) ?:
				"",
			"/libLLVM-"));
		cr_assert_eq(n - j, 5, "stack %zu: %zu frames from %s on", i, n - j, caller);
		for (size_t k = 0; k < 4; k++)
			cr_assert_str_eq(stack__symbol(stack, j + 1 + k) ?: "(none)", outer[k]);
	}
	return found;
}

/*
 * The clang-size case: a program linked with a 100+ MB library allocates in it
 * as its first act. In run mode the tables of what the exec maps are built
 * before it runs, so that first allocation is walked whole, by default
 * (--unwind auto); so are the library's constructors', which the loader's
 * entry code calls (it has no CFI: its entry point is the outermost frame).
 */
Test(unwind, first_allocations_in_a_100mb_library_linked_are_whole_by_default, .timeout = 300)
{
	const char *args[] = { "run", NULL };
	char *exe = env__fixture("bigso-linked-nofp");
	struct run_result r;
	json_t *snap, *proc, *stack;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert_geq(assert_whole_through(proc, "make_context"), 1, "no stack from make_context");
	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		cr_assert(!json_is_true(json_object_get(stack, "truncated")),
			  "stack %zu (frame 0 %s) cut", i, stack__symbol(stack, 0) ?: "?");
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/*
 * The same library loaded with dlopen after the attach, its first allocation
 * made at once: a stack walked before the library's table is built says so
 * (table_pending), none is cut silently; once leaktrace has the table, stacks
 * through it are whole.
 */
Test(unwind, a_100mb_library_dlopened_is_marked_until_its_table_then_whole, .timeout = 300)
{
	char line[256], want[PATH_MAX + 32], lib[PATH_MAX], *exe = env__fixture("bigso-nofp");
	const char *args[] = { lib, NULL };
	json_t *snap, *proc, *stack;
	char pid[16], err_path[PATH_MAX], json[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	int fd, status;
	pid_t tracer;
	size_t i;

	libllvm_path(lib, sizeof(lib));
	tmpdir__new(&t);
	fixture__start(&f, exe, args);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "bigso.json"));
	snprintf(err_path, sizeof(err_path), "%s", tmpdir__file(&t, "stderr.txt"));
	fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	{
		char *argv[] = {
			(char *)env__leaktrace(), "-v", "-i", "3600", "-p", pid, "-o", json, NULL
		};

		tracer = proc__spawn(argv, -1, -1, fd);
	}
	close(fd);
	file__assert_tracing(err_path, "leaktrace: tracing");
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "loaded");
	snprintf(want, sizeof(want), "leaktrace: unwind table of %s", lib);
	cr_assert(file__wait_for(err_path, want, 120000), "no '%s'", want);
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "done");
	kill(tracer, SIGINT);
	cr_assert_eq(proc__wait(tracer, 30000, &status), 0, "leaktrace did not stop");
	snap = snapshot__load(json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	cr_assert_geq(assert_whole_through(proc, "create_again"), 1, "no stack from create_again");
	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		cr_assert(!json_is_true(json_object_get(stack, "truncated")) ||
				  json_is_true(json_object_get(stack, "table_pending")),
			  "stack %zu (frame 0 %s) cut, not marked table_pending", i,
			  stack__symbol(stack, 0) ?: "?");
	json_decref(snap);
	fixture__stop(&f);
	tmpdir__free(&t);
	free(exe);
}

/*
 * A process that execs another image: leaktrace reads the new image's mappings
 * while it is stopped at the exec, and the programs add those the loader maps
 * after. Neither may undo the other: with the waker off (as if always late, on
 * a loaded host) the new image's first allocation is walked whole to _start.
 */
Test(unwind, the_image_after_an_exec_is_walked_whole_without_a_reread, .timeout = 120)
{
	static const char *const outer[] = {
		"leak_malloc",	     "run_scenarios", "main", "__libc_start_call_main",
		"__libc_start_main", "_start"
	};
	const char *args[] = { "exec", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	json_t *snap, *proc, *stack;
	struct tmpdir t;
	size_t n, first;

	tmpdir__new(&t);
	setenv("LEAKTRACE_NO_WAKE", "1", 1);
	snap = trace__run(&t, exe, dwarf, args, &r);
	unsetenv("LEAKTRACE_NO_WAKE");
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert_not_null(proc);
	stack = stack__find(proc, "leak_malloc", "heap");
	cr_assert_not_null(stack, "no stack from leak_malloc");
	cr_assert_eq(json__int(stack, "bytes"), 100000);
	cr_assert_eq(json__int(stack, "allocs"), 1000);
	n = json_array_size(json_object_get(stack, "frames"));
	for (first = 0; first < n && strcmp(stack__symbol(stack, first), "leak_malloc"); first++)
		;
	cr_assert_eq(n - first, 6, "%zu frames from leak_malloc on", n - first);
	for (size_t k = 0; k < 6; k++)
		cr_assert_str_eq(stack__symbol(stack, first + k) ?: "(none)", outer[k]);
	cr_assert(!json_is_true(json_object_get(stack, "truncated")));
	cr_assert_null(json_object_get(stack, "table_pending"));
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}
