// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exports in trace mode (-o FILE.folded|.svg|.pb.gz), leaktrace report on a real
 * snapshot, and C++ names demangled (or kept raw with --no-demangle).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* "leaktrace -q [OPTS...] -o DIR/NAME -- FIXTURE ARGS..." must exit 0; returns the file. */
static char *trace_to(struct tmpdir *t, const char *name, const char *opt, const char *fixture,
		      const char *const args[])
{
	char *exe = env__fixture(fixture), *path = strdup(tmpdir__file(t, name)), *body;
	char *argv[16] = { (char *)env__leaktrace(), "-q", "-o", path };
	struct run_result r;
	int argc = 4;
	FILE *f;
	long n;

	if (opt)
		argv[argc++] = (char *)opt;
	argv[argc++] = "--";
	argv[argc++] = exe;
	for (int i = 0; args && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "leaktrace -o %s: exit %d, stderr:\n%s", name,
		     run__exit_code(&r), r.err);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "leaktrace wrote no %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	body = calloc(1, n + 1);
	cr_assert_eq(fread(body, 1, n, f), (size_t)n);
	fclose(f);
	run__free(&r);
	free(exe);
	free(path);
	return body;
}

/* Runs leaktrace with ARGV (after the binary's name); its stdout, after exit 0. */
static char *leaktrace(const char *const args[])
{
	char *argv[16] = { (char *)env__leaktrace() }, *out;
	struct run_result r;
	int argc = 1;

	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "leaktrace %s: exit %d, stderr:\n%s", args[0],
		     run__exit_code(&r), r.err);
	out = strdup(r.out ? r.out : "");
	run__free(&r);
	return out;
}

static const char *const malloc_run[] = { "run", "malloc", NULL };

Test(export, folded_from_trace_mode_has_the_leak_root_first, .timeout = 60)
{
	struct tmpdir t;
	char *got;

	tmpdir__new(&t);
	got = trace_to(&t, "leak.folded", NULL, "leaky-fp", malloc_run);
	cr_assert_not_null(strstr(got, ";main;run_scenarios;leak_malloc 100000\n"), "%s", got);
	cr_assert_eq(strncmp(got, "leaky-fp;", 9), 0, "%s", got);
	free(got);
	tmpdir__free(&t);
}

Test(export, svg_from_trace_mode_has_the_leaking_frame, .timeout = 60)
{
	struct tmpdir t;
	char *got;

	tmpdir__new(&t);
	got = trace_to(&t, "leak.svg", NULL, "leaky-fp", malloc_run);
	cr_assert_not_null(strstr(got, "<g class=\"f\" data-name=\"leak_malloc\""), "%.3000s", got);
	/* Its 1,000 blocks and, under it (whole stacks), the stdio buffer of its truth's printf. */
	cr_assert_not_null(strstr(got, "data-bytes=\"104096\" data-allocs=\"1001\""), "%.3000s",
			   got);
	cr_assert_not_null(strstr(got, "data-name=\"_IO_file_doallocate\""), "%.3000s", got);
	free(got);
	tmpdir__free(&t);
}

Test(export, pprof_from_trace_mode_lists_the_leak_with_its_bytes, .timeout = 120)
{
	struct tmpdir t;
	char cmd[1024], line[512];
	bool found = false;
	FILE *p;

	if (system("command -v go >/dev/null 2>&1")) {
		fprintf(stderr, "SKIPPED export::pprof_from_trace_mode_lists_the_leak_with_its_"
				"bytes: no go (tools/install-deps test installs golang-go)\n");
		cr_skip_test("no go");
	}
	tmpdir__new(&t);
	free(trace_to(&t, "leak.pb.gz", NULL, "leaky-fp", malloc_run));
	snprintf(cmd, sizeof(cmd), "HOME=\"${HOME:-/tmp}\" go tool pprof -top -unit=B %s 2>&1",
		 tmpdir__file(&t, "leak.pb.gz"));
	p = popen(cmd, "r");
	while (fgets(line, sizeof(line), p))
		found |= strstr(line, "100000B") && strstr(line, " leak_malloc\n");
	pclose(p);
	cr_assert(found, "go tool pprof -top does not list leak_malloc with 100000B");
	tmpdir__free(&t);
}

/*
 * The same snapshot gives the same output whichever way: here, JSON back to itself.
 * The snapshot names each module's build ID, read from the file.
 */
Test(export, report_of_a_real_snapshot_round_trips_and_exports, .timeout = 60)
{
	struct tmpdir t;
	char *json, *again, *folded;
	char path[PATH_MAX];

	tmpdir__new(&t);
	json = trace_to(&t, "run.json", NULL, "leaky-fp", malloc_run);
	snprintf(path, sizeof(path), "%s", tmpdir__file(&t, "run.json"));
	again = leaktrace((const char *const[]){ "report", path, "--format", "json", NULL });
	cr_assert_str_eq(again, json);
	cr_assert_not_null(strstr(json, "leaky-fp\":\""), "no build ID for the fixture: %s", json);
	cr_assert_eq(strspn(strstr(json, "leaky-fp\":\"") + 11, "0123456789abcdef"), 40, "%s",
		     json);
	folded = leaktrace((const char *const[]){ "report", path, "--format", "folded", NULL });
	cr_assert_not_null(strstr(folded, ";run_scenarios;leak_malloc 100000\n"), "%s", folded);
	free(json);
	free(again);
	free(folded);
	tmpdir__free(&t);
}

/* Traces the mangled fixture (with OPT, or none) and asserts the leak's frame 0 is SYMBOL. */
static void assert_leak_symbol(const char *opt, const char *symbol)
{
	char want[128];
	struct tmpdir t;
	char *json;

	tmpdir__new(&t);
	json = trace_to(&t, "run.json", opt, "mangled-nofp", NULL);
	cr_assert_not_null(strstr(json, "\"bytes\":640,\"allocs\":10,"), "%s", json);
	snprintf(want, sizeof(want), "\"frames\":[{\"symbol\":\"%s\"", symbol);
	cr_assert_not_null(strstr(strstr(json, "\"bytes\":640,"), want), "%s", json);
	free(json);
	tmpdir__free(&t);
}

Test(export, cpp_names_are_demangled, .timeout = 60)
{
	assert_leak_symbol(NULL, "demo::leak_cpp(unsigned long)");
}

Test(export, no_demangle_keeps_cpp_names_raw, .timeout = 60)
{
	assert_leak_symbol("--no-demangle", "_ZN4demo8leak_cppEm");
}

/* A 64 KiB tmpfs at DIR/full, filled up but for an old x.json holding "old\n". */
static char *full_fs(struct tmpdir *t)
{
	char *dir = strdup(tmpdir__file(t, "full")), path[PATH_MAX], block[4096] = { 0 };
	FILE *f;

	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0, "mount: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/x.json", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("old\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/filler", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	while (fwrite(block, 1, sizeof(block), f) == sizeof(block))
		;
	while (fwrite(block, 1, 1, f) == 1)
		;
	fclose(f);
	return dir;
}

/* The full file system holds the old x.json, unchanged, and the filler: nothing else. */
static void assert_untouched(const char *dir)
{
	char path[PATH_MAX], buf[16] = "";
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);
	FILE *f;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			cr_assert(!strcmp(e->d_name, "x.json") || !strcmp(e->d_name, "filler"),
				  "left behind: %s", e->d_name);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 2);
	snprintf(path, sizeof(path), "%s/x.json", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(buf, 1, sizeof(buf) - 1, f), 4);
	fclose(f);
	cr_assert_str_eq(buf, "old\n");
}

/* A full disk: exit 1 with the reason, and no cut file (the old one stays as it was). */
Test(export, full_file_system_leaves_no_partial_file, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp"), out[PATH_MAX], want[PATH_MAX + 64];
	struct run_result r;
	struct tmpdir t;
	char *dir;

	tmpdir__new(&t);
	dir = full_fs(&t);
	snprintf(out, sizeof(out), "%s/x.json", dir);
	run__cmd((char *[]){ (char *)env__leaktrace(), "-q", "-o", out, "--", exe, "run", "malloc",
			     NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 1, "exit %d:\n%s", run__exit_code(&r), r.err);
	snprintf(want, sizeof(want), "leaktrace: cannot write %s: No space left on device\n", out);
	cr_assert(r.err_len >= strlen(want) && !strcmp(r.err + r.err_len - strlen(want), want),
		  "stderr does not end with %s:\n%s", want, r.err);
	assert_untouched(dir);
	run__free(&r);

	/* leaktrace report -o the same. */
	run__cmd((char *[]){ (char *)env__leaktrace(), "report", "tests/unit/golden/snapshot.json",
			     "-o", out, NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 1, "exit %d:\n%s", run__exit_code(&r), r.err);
	snprintf(want, sizeof(want), "leaktrace report: cannot write %s: No space left on device\n",
		 out);
	cr_assert_str_eq(r.err, want);
	assert_untouched(dir);
	run__free(&r);
	umount(dir);
	free(dir);
	free(exe);
	tmpdir__free(&t);
}

/* A host's JSON claims other names: report --host NAME keeps the data, under NAME alone. */
Test(export, report_host_replaces_what_a_host_claims, .timeout = 30)
{
	static const char claims[] =
		"{\"leaktrace\": 1, \"host\": \"evil\", \"hosts\": [\"web1\", \"web2\"], "
		"\"processes\": [{\"pid\": 3, \"comm\": \"svc\", "
		"\"origins\": [{\"host\": \"web1\", \"pid\": 9}], "
		"\"stacks\": [{\"bytes\": 64, \"allocs\": 1, \"frames\": [{\"symbol\": \"f\"}], "
		"\"origins\": [{\"host\": \"web2\", \"pid\": 9}]}]}]}\n";
	char *in, *out;
	struct tmpdir t;
	json_t *snap, *proc, *stack;
	FILE *f;

	tmpdir__new(&t);
	in = strdup(tmpdir__file(&t, "claims.json"));
	out = strdup(tmpdir__file(&t, "named.json"));
	f = fopen(in, "w");
	cr_assert_not_null(f);
	fputs(claims, f);
	cr_assert_eq(fclose(f), 0);
	free(leaktrace((const char *const[]){ "report", in, "--host", "web9", "-o", out, NULL }));
	snap = snapshot__load(out);
	cr_assert_str_eq(json_string_value(json_object_get(snap, "host")), "web9");
	cr_assert_null(json_object_get(snap, "hosts"));
	proc = snapshot__process(snap, 3);
	cr_assert_not_null(proc);
	cr_assert_null(json_object_get(proc, "origins"));
	stack = json_array_get(json_object_get(proc, "stacks"), 0);
	cr_assert_eq(json__int(stack, "bytes"), 64);
	cr_assert_null(json_object_get(stack, "origins"));
	json_decref(snap);
	free(in);
	free(out);
	tmpdir__free(&t);
}

/* The bytes of PATH, NUL-terminated; their count in LEN. */
static char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *body;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	body = calloc(1, n + 1);
	cr_assert_eq(fread(body, 1, n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return body;
}

/* -o - is standard output, in every format: the same bytes as -o FILE, and no file named "-". */
Test(export, report_dash_o_writes_stdout_in_every_format, .timeout = 60)
{
	static const char *const formats[] = { "json", "text", "folded", "svg", "pprof" };
	static const char golden[] = "tests/unit/golden/snapshot.json";
	struct run_result r;
	struct tmpdir t;
	char *want;
	size_t len;

	tmpdir__new(&t);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char *path = strdup(tmpdir__file(&t, formats[i]));

		free(leaktrace((const char *const[]){ "report", golden, "--format", formats[i],
						      "-o", path, NULL }));
		want = slurp_file(path, &len);
		run__cmd((char *[]){ (char *)env__leaktrace(), "report", (char *)golden, "--format",
				     (char *)formats[i], "-o", "-", NULL },
			 NULL, RUN_TIMEOUT_S, &r);
		cr_assert_eq(run__exit_code(&r), 0, "report -o - --format %s: %s", formats[i],
			     r.err);
		cr_assert_eq(r.out_len, len, "--format %s: %zu bytes on stdout, %zu in the file",
			     formats[i], r.out_len, len);
		cr_assert_eq(memcmp(r.out, want, len), 0,
			     "--format %s: stdout differs from -o FILE", formats[i]);
		cr_assert_eq(r.err_len, 0, "--format %s: stderr: %s", formats[i], r.err);
		run__free(&r);
		free(want);
		free(path);
	}
	/* Without --format: text, as without -o. */
	want = leaktrace((const char *const[]){ "report", golden, NULL });
	run__cmd((char *[]){ (char *)env__leaktrace(), "report", (char *)golden, "-o", "-", NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_str_eq(r.out, want);
	run__free(&r);
	cr_assert_neq(access("-", F_OK), 0, "a file named - was created");
	free(want);
	tmpdir__free(&t);
}

/* leaktrace report - reads the snapshot from standard input. */
Test(export, report_dash_reads_stdin, .timeout = 60)
{
	static const char golden[] = "tests/unit/golden/snapshot.json";
	struct run_result r;
	char *json;
	size_t len;

	json = slurp_file(golden, &len);
	run__cmd((char *[]){ (char *)env__leaktrace(), "report", "-", "--format", "json", "-o", "-",
			     NULL },
		 json, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "report - : %s", r.err);
	cr_assert_str_eq(r.out, json);
	run__free(&r);
	free(json);
}

/*
 * Run mode with -o -: after what the command writes (nothing here), stdout holds the snapshot
 * alone, in the format asked; the report goes to stderr.
 */
Test(export, trace_dash_o_writes_the_snapshot_to_stdout, .timeout = 90)
{
	char *exe = env__fixture("leaky-fp"), cmd[PATH_MAX + 64], *path;
	struct run_result r;
	struct stack_sum sum;
	struct tmpdir t;
	json_t *snap;
	FILE *f;

	tmpdir__new(&t);
	/* Not exec'd: the stacks of an image exec'd in the shell's process are cut (a bug). */
	snprintf(cmd, sizeof(cmd), "%s run malloc >/dev/null", exe);
	run__cmd((char *[]){ (char *)env__leaktrace(), "-q", "-o", "-", "--format", "folded", "--",
			     "sh", "-c", cmd, NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d: %s", run__exit_code(&r), r.err);
	/* Folded lines only: "frames COUNT". */
	for (const char *l = r.out; *l; l = strchr(l, '\n') + 1) {
		size_t n = strcspn(l, "\n");

		cr_assert(l[n] == '\n' && n > 2 && memchr(l, ' ', n) &&
				  strspn(l + n - 1, "0123456789") == 1,
			  "not a folded line on stdout: %.*s", (int)n, l);
	}
	cr_assert_not_null(strstr(r.out, ";main;run_scenarios;leak_malloc 100000\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "leaktrace on"), "a report on stdout:\n%s", r.out);
	cr_assert_not_null(strstr(r.err, "leaktrace on"), "no report on stderr:\n%s", r.err);
	run__free(&r);

	run__cmd((char *[]){ (char *)env__leaktrace(), "-q", "-o", "-", "--format", "json", "--",
			     "sh", "-c", cmd, NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d: %s", run__exit_code(&r), r.err);
	path = strdup(tmpdir__file(&t, "stdout.json"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(r.out, 1, r.out_len, f), r.out_len);
	cr_assert_eq(fclose(f), 0);
	snap = snapshot__load(path);
	sum = stack__sum(snapshot__process_by_exe(snap, exe), "leak_malloc", "heap");
	cr_assert_eq(sum.bytes, 100000, "leak_malloc bytes: %lld", sum.bytes);
	cr_assert_eq(sum.allocs, 1000, "leak_malloc allocs: %lld", sum.allocs);
	cr_assert_neq(access("-", F_OK), 0, "a file named - was created");
	json_decref(snap);
	run__free(&r);
	free(path);
	free(exe);
	tmpdir__free(&t);
}

/* pprof is binary: -o - refuses a terminal, as leaktrace report does without -o. */
Test(export, dash_o_refuses_binary_to_a_terminal, .timeout = 30)
{
	struct run_result r;

	run__cmd((char *[]){ "script", "-qec",
			     "\"$LEAKTRACE\" -o - --format pprof -- true; echo rc=$?", "/dev/null",
			     NULL },
		 NULL, RUN_TIMEOUT_S, &r);
	cr_assert_not_null(strstr(r.out, "leaktrace: -o -: pprof is binary: give -o FILE.pb.gz or "
					 "redirect stdout\r\nrc=2"),
			   "%s", r.out);
	run__free(&r);
}
