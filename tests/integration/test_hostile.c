// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A hostile host: an unprivileged user (nobody) plants FIFOs, debug links,
 * bind mounts in a user namespace, symlinks in a chroot, truncates files it
 * maps, holds a thread in vfork, runs valgrind, maps a library from a FUSE
 * file system whose daemon stops answering. leaktrace (root) must end on
 * time, read only the files the target really maps, and leave it running.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define NOBODY "65534"
/* Generous: leaktrace's own bound is -d + 5 s, a signal + 0.5 s; the host is busy. */
#define END_BOUND_MS 20000

static char *fx_nofp;

static void init(void)
{
	fx_nofp = env__fixture("leaky-nofp");
}

static void fini(void)
{
	procs__cleanup();
	free(fx_nofp);
}

TestSuite(hostile, .init = init, .fini = fini);

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command built like printf; fails the test when it fails. */
static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* A temporary directory nobody can enter: the attacker's files live there. */
static void attacker_dir(struct tmpdir *t)
{
	tmpdir__new(t);
	cr_assert_eq(chmod(t->path, 0755), 0);
}

/* leaktrace in the background: its pid and the paths of its snapshot and stderr. */
struct lt {
	pid_t pid;
	char json[PATH_MAX];
	char err[PATH_MAX];
	long long started_ms;
};

/* Starts "leaktrace -p PID -o DIR/lt.json ARGS..." and waits until it traces. */
static void lt_start(struct lt *lt, struct tmpdir *t, pid_t target, const char *const args[])
{
	char *argv[32] = { (char *)env__leaktrace(), "-p", NULL, "-o", lt->json };
	char pid[16];
	int argc = 5, err;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	argv[2] = pid;
	snprintf(lt->json, sizeof(lt->json), "%s", tmpdir__file(t, "lt.json"));
	snprintf(lt->err, sizeof(lt->err), "%s", tmpdir__file(t, "lt.err"));
	for (int i = 0; args && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	err = open(lt->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(err, 0);
	lt->started_ms = clock__now_ms();
	lt->pid = proc__spawn(argv, -1, -1, err);
	close(err);
	file__assert_tracing(lt->err, "leaktrace: tracing");
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Asserts that leaktrace exits 0 within bound_ms of since_ms. */
static void lt_wait_ok(struct lt *lt, long long since_ms, long long bound_ms)
{
	long long left = since_ms + bound_ms - clock__now_ms();
	int status;

	cr_assert_eq(proc__wait(lt->pid, left > 0 ? (int)left : 0, &status), 0,
		     "leaktrace did not end within %lld ms; stderr:\n%s", bound_ms, slurp(lt->err));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "leaktrace failed: status 0x%x; stderr:\n%s", status, slurp(lt->err));
}

/* The leak_malloc stack of pid in leaktrace's snapshot: 1000 blocks, 100,000 bytes. */
static void assert_leak_malloc(const char *json, pid_t pid)
{
	json_t *snap = snapshot__load(json), *proc = snapshot__process(snap, pid);
	struct stack_sum sum;

	cr_assert_not_null(proc, "pid %d is not in the snapshot", pid);
	sum = stack__sum(proc, "leak_malloc", "heap");
	cr_assert_eq(sum.bytes, 100000, "leak_malloc: %lld bytes", sum.bytes);
	cr_assert_eq(sum.allocs, 1000);
	json_decref(snap);
}

/*
 * A stripped copy of the leaky fixture at DIR/NAME whose .gnu_debuglink holds
 * LINK (with a CRC of 0): what its owner chose, as a file name.
 */
static void plant_debuglink(struct tmpdir *t, const char *name, const char *link)
{
	char path[PATH_MAX], data[PATH_MAX];
	size_t len = strlen(link) + 1;
	FILE *f;

	snprintf(data, sizeof(data), "%s", tmpdir__file(t, "link.bin"));
	f = fopen(data, "w");
	cr_assert_not_null(f);
	fwrite(link, 1, len, f);
	/* Padding to 4, then the CRC. */
	for (size_t i = len; i % 4; i++)
		fputc(0, f);
	fwrite("\0\0\0\0", 1, 4, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s", tmpdir__file(t, name));
	sh("strip -o %s %s && objcopy --add-section .gnu_debuglink=%s %s", path, fx_nofp, data,
	   path);
}

/* Starts DIR/NAME attach malloc as nobody. */
static void start_as_nobody(struct fixture *f, struct tmpdir *t, const char *name)
{
	char *argv[] = { "setpriv",
			 "--reuid=" NOBODY,
			 "--regid=" NOBODY,
			 "--clear-groups",
			 (char *)tmpdir__file(t, name),
			 "attach",
			 "malloc",
			 NULL };

	fixture__start_argv(f, argv);
}

/* The state letter of /proc/PID/stat. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	p = f && fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	if (f)
		fclose(f);
	return p && p[1] == ' ' ? p[2] : 0;
}

/* pid goes on: running, or asleep (D too: in a page fault or a write), never stopped or dead. */
static void assert_going_on(pid_t pid)
{
	char state = proc_state(pid);

	cr_assert(state && strchr("RSD", state), "pid %d: state '%c'", pid, state ? state : '-');
}

/*
 * Debug links that name a FIFO: "../../.." up to one, and a plain name beside
 * the binary. Root's leaktrace used to open it and block there for good.
 */
static void debuglink_fifo(const char *link_fmt, bool sigterm)
{
	const char *args[] = { "-i", "100", sigterm ? NULL : "-d", "2", NULL };
	char link[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;
	long long since;

	attacker_dir(&t);
	sh("mkfifo -m 0666 %s", tmpdir__file(&t, "fifo"));
	snprintf(link, sizeof(link), link_fmt, t.path);
	plant_debuglink(&t, "leaky", link);
	start_as_nobody(&f, &t, "leaky");
	lt_start(&lt, &t, f.pid, args);
	fixture__trigger(&f);
	since = lt.started_ms;
	if (sigterm) {
		/* The final report symbolizes the stripped binary after the signal. */
		since = clock__now_ms();
		cr_assert_eq(kill(lt.pid, SIGTERM), 0);
	}
	lt_wait_ok(&lt, since, END_BOUND_MS);
	cr_assert_eq(proc_state(f.pid), 'S', "the target is not running: %c", proc_state(f.pid));
	/* Nothing opened the FIFO for reading: a writer that does not wait finds no reader. */
	cr_assert_eq(open(tmpdir__file(&t, "fifo"), O_WRONLY | O_NONBLOCK), -1);
	cr_assert_eq(errno, ENXIO);
	fixture__stop(&f);
	tmpdir__free(&t);
}

Test(hostile, debuglink_up_to_a_fifo_is_not_followed, .timeout = 90)
{
	debuglink_fifo("../../../../../../../..%s/fifo", false);
}

Test(hostile, debuglink_to_a_fifo_beside_the_binary_does_not_block, .timeout = 90)
{
	debuglink_fifo("fifo", false);
}

Test(hostile, sigterm_ends_a_run_whose_target_has_a_fifo_debuglink, .timeout = 90)
{
	debuglink_fifo("fifo", true);
}

/*
 * In its own user and mount namespace, nobody bind-mounts a FIFO over the
 * binary its process runs: the path in maps now names the FIFO. The symbols
 * come from the mapped file itself.
 */
Test(hostile, fifo_bind_mounted_over_the_binary_in_a_user_namespace, .timeout = 90)
{
	const char *args[] = { "-i", "100", "-d", "2", NULL };
	char script[PATH_MAX * 4];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;

	attacker_dir(&t);
	sh("cp %s %s/leaky && mkfifo -m 0666 %s/fifo && mkdir -m 0777 %s/w", fx_nofp, t.path,
	   t.path, t.path);
	/* Once the fixture runs (its maps name the binary), the FIFO covers it. */
	snprintf(script, sizeof(script),
		 "(while ! grep -q '%s/leaky' /proc/$$/maps; do sleep 0.05; done; "
		 "mount --bind %s/fifo %s/leaky && echo yes > %s/w/covered) & "
		 "exec %s/leaky attach malloc",
		 t.path, t.path, t.path, t.path, t.path);
	char *argv[] = { "setpriv",
			 "--reuid=" NOBODY,
			 "--regid=" NOBODY,
			 "--clear-groups",
			 "unshare",
			 "-Urm",
			 "sh",
			 "-c",
			 script,
			 NULL };

	fixture__start_argv(&f, argv);
	cr_assert(file__wait_for(tmpdir__file(&t, "w/covered"), "yes", 10000),
		  "the FIFO was not mounted over the binary");
	lt_start(&lt, &t, f.pid, args);
	fixture__trigger(&f);
	lt_wait_ok(&lt, lt.started_ms, 2000 + END_BOUND_MS);
	assert_leak_malloc(lt.json, f.pid);
	cr_assert_eq(proc_state(f.pid), 'S');
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * A chroot whose path (as leaktrace's maps show it) leads, inside the chroot,
 * to an absolute symlink to a host file: a decoy whose one function covers
 * every address. Its name must never show.
 */
Test(hostile, absolute_symlink_in_a_chroot_does_not_lead_to_a_host_file, .timeout = 90)
{
	const char *args[] = { "-i", "100", "-d", "2", NULL };
	char root[PATH_MAX], inside[PATH_MAX * 2];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;

	attacker_dir(&t);
	snprintf(root, sizeof(root), "%s/root", t.path);
	sh("mkdir -p %s/lib/x86_64-linux-gnu %s/lib64 && cp %s %s/leaky && "
	   "cp /lib/x86_64-linux-gnu/libc.so.6 %s/lib/x86_64-linux-gnu/ && "
	   "cp /lib64/ld-linux-x86-64.so.2 %s/lib64/",
	   root, root, fx_nofp, root, root, root);
	sh("printf 'void decoy(void) { __asm__(\".fill 1048576, 1, 0x90\"); }\\n"
	   "int main(void) { decoy(); return 0; }\\n' | cc -O0 -x c - -o %s/decoy",
	   t.path);
	/* Inside the chroot, its own path as seen from outside: a link to the host's decoy. */
	snprintf(inside, sizeof(inside), "%s%s", root, root);
	sh("mkdir -p %s && ln -s %s/decoy %s/leaky", inside, t.path, inside);
	char *argv[] = { "setpriv",	    "--reuid=" NOBODY,
			 "--regid=" NOBODY, "--clear-groups",
			 "unshare",	    "-Ur",
			 "chroot",	    root,
			 "/leaky",	    "attach",
			 "malloc",	    NULL };

	fixture__start_argv(&f, argv);
	lt_start(&lt, &t, f.pid, args);
	fixture__trigger(&f);
	lt_wait_ok(&lt, lt.started_ms, 2000 + END_BOUND_MS);
	assert_leak_malloc(lt.json, f.pid);
	cr_assert_null(strstr(slurp(lt.json), "\"decoy\""), "a host file's symbol was reported");
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * The source of a mapper that nobody runs: it maps a copy of an ELF file
 * executable and truncates and rewrites it for ever, while it allocates.
 */
static const char mapper_src[] =
	"#include <fcntl.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <sys/mman.h>\n"
	"#include <sys/stat.h>\n#include <unistd.h>\n"
	"int main(int argc, char **argv) {\n"
	"  int fd = open(argv[1], O_RDWR); struct stat st; fstat(fd, &st);\n"
	"  char *copy = malloc(st.st_size); pread(fd, copy, st.st_size, 0);\n"
	"  if (mmap(0, st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)"
	" return 1;\n"
	"  printf(\"ready %d\\n\", getpid()); fflush(stdout);\n"
	"  for (;;) { ftruncate(fd, 0); usleep(2000); pwrite(fd, copy, st.st_size, 0);"
	" free(malloc(64)); usleep(2000); }\n}\n";

/* Runs leaktrace -p on the truncating mapper n times with opts; none may die of a signal. */
static void run_against_truncation(pid_t pid, struct tmpdir *t, const char *unwind, int n)
{
	char pidstr[16];

	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	for (int i = 0; i < n; i++) {
		char *argv[] = {
			(char *)env__leaktrace(), "-p", pidstr, "-q", "-d", "0.5", "--unwind",
			(char *)unwind,		  NULL
		};
		struct run_result r;

		run__cmd(argv, NULL, 30, &r);
		cr_assert(!r.timed_out, "leaktrace did not end; stderr:\n%s", r.err);
		cr_assert(WIFEXITED(r.status), "--unwind %s, run %d: leaktrace died of signal %d",
			  unwind, i, WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
		/* A file cut short while its probes go in may fail the attach: said, not a crash. */
		cr_assert(WEXITSTATUS(r.status) == 0 || (WEXITSTATUS(r.status) == 1 &&
							 !strncmp(r.err, "leaktrace: ", 11)),
			  "status %d; stderr:\n%s", WEXITSTATUS(r.status), r.err);
		run__free(&r);
	}
}

Test(hostile, a_mapped_file_truncated_in_a_loop_never_kills_leaktrace, .timeout = 240)
{
	char src[PATH_MAX], bin[PATH_MAX], lib[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	FILE *fp;

	attacker_dir(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "mapper.c"));
	snprintf(bin, sizeof(bin), "%s", tmpdir__file(&t, "mapper"));
	snprintf(lib, sizeof(lib), "%s", tmpdir__file(&t, "lib.so"));
	fp = fopen(src, "w");
	cr_assert_not_null(fp);
	fputs(mapper_src, fp);
	fclose(fp);
	sh("cc -O1 -w -o %s %s && cp /usr/lib/x86_64-linux-gnu/libstdc++.so.6 %s && "
	   "chown " NOBODY " %s",
	   bin, src, lib, lib);
	char *argv[] = {
		"setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups", bin, lib, NULL
	};

	fixture__start_argv(&f, argv);
	/* The library is read when the allocator is looked for (default) and for its CFI (dwarf). */
	run_against_truncation(f.pid, &t, "fp", 6);
	run_against_truncation(f.pid, &t, "dwarf", 6);
	/* Running on (R, S, or D in its writes), not stopped, not dead. */
	cr_assert(strchr("RSD", proc_state(f.pid)) && proc_state(f.pid), "state %c",
		  proc_state(f.pid));
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * A thread of the target in vfork (uninterruptible until the child execs or
 * exits): --scan-freeze cannot stop it. The scan goes on with it running, says
 * so, and leaves the process running.
 */
static const char vforker_src[] =
	"#include <pthread.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
	"static void *volatile keep[1000];\n"
	"static void *hold(void *a) { char c; if (vfork() == 0) { read(0, &c, 1); _exit(0); }"
	" for (;;) pause(); }\n"
	"int main(void) { pthread_t t; pthread_create(&t, 0, hold, 0);\n"
	"  printf(\"ready %d\\n\", getpid()); fflush(stdout);\n"
	"  for (int i = 0;; i = (i + 1) % 1000) { free(keep[i]); keep[i] = malloc(100);"
	" usleep(1000); }\n}\n";

Test(hostile, scan_freeze_with_a_thread_in_vfork_ends_and_releases, .timeout = 90)
{
	const char *args[] = { "--scan", "--scan-freeze=5", "-i", "100", "-d", "2", NULL };
	char src[PATH_MAX], bin[PATH_MAX];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;
	FILE *fp;

	attacker_dir(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "vforker.c"));
	snprintf(bin, sizeof(bin), "%s", tmpdir__file(&t, "vforker"));
	fp = fopen(src, "w");
	cr_assert_not_null(fp);
	fputs(vforker_src, fp);
	fclose(fp);
	sh("cc -O1 -w -pthread -o %s %s", bin, src);
	char *argv[] = { "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups", bin,
			 NULL };

	fixture__start_argv(&f, argv);
	lt_start(&lt, &t, f.pid, args);
	lt_wait_ok(&lt, lt.started_ms, 2000 + END_BOUND_MS);
	cr_assert_not_null(strstr(slurp(lt.err), "1 thread did not stop for the scan (asleep in "
						 "the kernel): scanned running"),
			   "stderr:\n%s", slurp(lt.err));
	/* Released: the main thread runs on (R or S), it is not in a tracing stop (t). */
	for (int i = 0; i < 100 && proc_state(f.pid) == 't'; i++)
		usleep(10000);
	cr_assert(proc_state(f.pid) == 'S' || proc_state(f.pid) == 'R', "state %c",
		  proc_state(f.pid));
	fixture__stop(&f); /* closing its stdin ends the vfork child */
	tmpdir__free(&t);
}

/*
 * A process in its own mount namespace, whose binary there is a bind mount
 * over a host file of the same path (a decoy), exits before its stacks are
 * symbolized: its frames may be unknown, never the decoy's names.
 */
Test(hostile, an_exited_process_of_another_mount_namespace_is_not_symbolized_from_ours,
     .timeout = 90)
{
	const char *args[] = { "-i", "100", NULL };
	char script[PATH_MAX * 4];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;

	attacker_dir(&t);
	sh("cp %s %s/real", fx_nofp, t.path);
	sh("printf 'void decoy(void) { __asm__(\".fill 1048576, 1, 0x90\"); }\\n"
	   "int main(void) { decoy(); return 0; }\\n' | cc -O0 -x c - -o %s/prog",
	   t.path);
	snprintf(script, sizeof(script),
		 "mount --bind %s/real %s/prog && exec %s/prog attach malloc", t.path, t.path,
		 t.path);
	char *argv[] = { "setpriv",
			 "--reuid=" NOBODY,
			 "--regid=" NOBODY,
			 "--clear-groups",
			 "unshare",
			 "-Urm",
			 "sh",
			 "-c",
			 script,
			 NULL };
	fixture__start_argv(&f, argv);
	lt_start(&lt, &t, f.pid, args);
	fixture__trigger(&f);
	pid_t pid = f.pid;

	/* It exits: leaktrace ends, and symbolizes its stacks then. */
	fixture__stop(&f);
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	json_t *snap = snapshot__load(lt.json), *proc = snapshot__process(snap, pid);

	cr_assert_not_null(proc, "pid %d is not in the snapshot", pid);
	cr_assert_null(strstr(slurp(lt.json), "\"decoy\""), "the host's file was read:\n%s",
		       slurp(lt.json));
	json_decref(snap);
	tmpdir__free(&t);
}

/* A static binary built with frame pointers has no .eh_frame_hdr: its .eh_frame is read. */
static void static_binary_stacks(const char *unwind)
{
	char src[PATH_MAX], bin[PATH_MAX], json[PATH_MAX], *out;
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *proc, *stack;

	tmpdir__new(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "static.c"));
	snprintf(bin, sizeof(bin), "%s", tmpdir__file(&t, "static"));
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "static.json"));
	sh("printf '#include <stdlib.h>\\n"
	   "void *volatile keep;\\n"
	   "__attribute__((noinline)) void *st_leaf(int n) { return malloc(n); }\\n"
	   "__attribute__((noinline)) void *st_mid(int n) { void *p = st_leaf(n); keep = p;"
	   " return p; }\\n"
	   "int main(void) { for (int i = 0; i < 10; i++) st_mid(1000); return 0; }\\n' > %s && "
	   "cc -static -O1 -fno-omit-frame-pointer -o %s %s",
	   src, bin, src);
	char *argv[] = { (char *)env__leaktrace(),
			 "-v",
			 "-q",
			 "--unwind",
			 (char *)unwind,
			 "-o",
			 json,
			 "--",
			 bin,
			 NULL };

	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "stderr:\n%s", r.err);
	out = r.err;
	cr_assert_null(strstr(out, "No such file or directory"), "stderr:\n%s", out);
	snap = snapshot__load(json);
	proc = snapshot__process_by_exe(snap, bin);
	stack = stack__find(proc, "st_leaf", "heap");
	cr_assert_not_null(stack, "no st_leaf stack");
	cr_assert_eq(json__int(stack, "bytes"), 10000);
	stack__assert_frames(stack, 0, (const char *const[]){ "st_leaf", "st_mid", "main", NULL },
			     false);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

Test(hostile, static_frame_pointer_binary_walked_whole_by_dwarf, .timeout = 90)
{
	static_binary_stacks("dwarf");
}

Test(hostile, static_frame_pointer_binary_walked_whole_by_auto, .timeout = 90)
{
	static_binary_stacks("auto");
}

/* The stalled FUSE daemon fs ends, its mount at mnt gone first (a lookup there would wait). */
static void fuse_end(struct fixture *fs, const char *mnt)
{
	cr_assert_eq(umount2(mnt, MNT_DETACH), 0, "%s: %s", mnt, strerror(errno));
	kill(fs->pid, SIGKILL);
	cr_assert_eq(proc__wait(fs->pid, 60000, NULL), 0);
}

/*
 * A library mapped from FUSE, whose daemon stops answering once the program
 * read it (as any user's daemon may: FUSE needs no privilege in a user
 * namespace): leaktrace attaches, reports and ends on SIGINT all the same,
 * never opening, stat'ing or reading the file, whose frames keep their module.
 */
Test(hostile, a_library_on_fuse_whose_daemon_stops_answering_is_never_read, .timeout = 240)
{
	char *daemon = env__fixture("fusestall"), *exe = env__fixture("dlplug-nofp");
	char *lib = env__fixture("libplug-nofp.so"), src[PATH_MAX], mnt[PATH_MAX];
	char served[PATH_MAX + 32], line[128], buf[4096];
	const char *args[] = { "-v", "-i", "3600", NULL };
	struct fixture fs, f;
	struct tmpdir t;
	struct lt lt;
	json_t *snap, *proc, *stack;
	const char *module;
	int fd;

	tmpdir__new(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "src"));
	snprintf(mnt, sizeof(mnt), "%s", tmpdir__file(&t, "mnt"));
	snprintf(served, sizeof(served), "%s/libplug-nofp.so", mnt);
	sh("mkdir %s %s && cp %s %s/", src, mnt, lib, src);
	fixture__start_argv(&fs, (char *const[]){ daemon, src, mnt, NULL });
	fixture__start_argv(&f, (char *const[]){ exe, served, NULL });
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "loaded");
	/* The program's pages of it in the kernel's cache: it runs on after the stall. */
	fd = open(served, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", served, strerror(errno));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	kill(fs.pid, SIGUSR1);
	fixture__read_line(&fs, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "stalled");

	lt_start(&lt, &t, f.pid, args);
	cr_assert_eq(write(f.in_fd, "go\n", 3), 3);
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "truth plug_leak 800 8");
	fixture__read_line(&f, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "done");
	kill(lt.pid, SIGINT);
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	cr_assert(file__wait_for(lt.err, "libplug-nofp.so: not read: it is on FUSE", 0),
		  "stderr:\n%s", slurp(lt.err));

	snap = snapshot__load(lt.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	stack = stack__find(proc, "[unknown]", "heap");
	cr_assert_not_null(stack, "no stack from the library: %s", slurp(lt.json));
	cr_assert_eq(json__int(stack, "bytes"), 800);
	cr_assert_eq(json__int(stack, "allocs"), 8);
	module = json_string_value(
		json_object_get(json_array_get(json_object_get(stack, "frames"), 0), "module"));
	cr_assert(module && !strcmp(module, served), "frame 0 in %s", module ?: "(none)");
	json_decref(snap);

	fixture__stop(&f);
	fuse_end(&fs, mnt);
	tmpdir__free(&t);
	free(daemon);
	free(exe);
	free(lib);
}

/*
 * The debug link of a stripped program, beside it, is a symbolic link its owner
 * planted into a FUSE mount whose daemon stopped answering: a name looked up
 * there would wait with the daemon, for ever. leaktrace never looks one up:
 * it reports the leak (unnamed: no debug file) and ends on SIGINT.
 */
Test(hostile, a_debug_link_into_a_stalled_fuse_mount_is_never_looked_up, .timeout = 240)
{
	char *daemon = env__fixture("fusestall"), src[PATH_MAX], mnt[PATH_MAX], line[128];
	const char *args[] = { "-v", "-i", "3600", NULL };
	json_t *snap, *proc, *stack;
	struct fixture fs, f;
	struct tmpdir t;
	struct lt lt;
	size_t i;

	attacker_dir(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "src"));
	snprintf(mnt, sizeof(mnt), "%s", tmpdir__file(&t, "mnt"));
	sh("mkdir %s %s && touch %s/leaky.debug", src, mnt, src);
	sh("ln -s %s/leaky.debug %s", mnt, tmpdir__file(&t, "leaky.debug"));
	plant_debuglink(&t, "leaky", "leaky.debug");
	fixture__start_argv(&fs, (char *const[]){ daemon, src, mnt, NULL });
	kill(fs.pid, SIGUSR1);
	fixture__read_line(&fs, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "stalled");

	start_as_nobody(&f, &t, "leaky");
	lt_start(&lt, &t, f.pid, args);
	fixture__trigger(&f);
	kill(lt.pid, SIGINT);
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	snap = snapshot__load(lt.json);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc, "pid %d is not in the snapshot", f.pid);
	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		if (json__int(stack, "bytes") == 100000 && json__int(stack, "allocs") == 1000)
			break;
	cr_assert_lt(i, json_array_size(json_object_get(proc, "stacks")),
		     "no stack of 100,000 B in 1,000 blocks: %s", slurp(lt.json));
	json_decref(snap);

	fixture__stop(&f);
	fuse_end(&fs, mnt);
	tmpdir__free(&t);
	free(daemon);
}

/*
 * Run mode plans an exec by asking the program's loader for its list, with the
 * program's LD_LIBRARY_PATH: one into a FUSE mount whose daemon stopped
 * answering holds that loader in the kernel, where not even SIGKILL ends it.
 * leaktrace gives it its 10 s, kills it and goes on without waiting for it (it
 * waited for ever); once the daemon is gone, the program runs and its leak is
 * reported.
 */
Test(hostile, exec_planned_when_the_loader_waits_on_fuse, .timeout = 240)
{
	char *daemon = env__fixture("fusestall"), src[PATH_MAX], mnt[PATH_MAX], err[PATH_MAX];
	char json[PATH_MAX], script[2 * PATH_MAX + 64], line[128];
	json_t *snap, *stack;
	struct fixture fs;
	struct tmpdir t;
	int fd, status;
	pid_t lt;

	tmpdir__new(&t);
	snprintf(src, sizeof(src), "%s", tmpdir__file(&t, "src"));
	snprintf(mnt, sizeof(mnt), "%s", tmpdir__file(&t, "mnt"));
	snprintf(err, sizeof(err), "%s", tmpdir__file(&t, "lt.err"));
	snprintf(json, sizeof(json), "%s", tmpdir__file(&t, "lt.json"));
	sh("mkdir %s %s", src, mnt);
	fixture__start_argv(&fs, (char *const[]){ daemon, src, mnt, NULL });
	kill(fs.pid, SIGUSR1);
	fixture__read_line(&fs, line, sizeof(line), 60000);
	cr_assert_str_eq(line, "stalled");

	snprintf(script, sizeof(script), "LD_LIBRARY_PATH=%s exec %s run malloc", mnt, fx_nofp);
	char *argv[] = {
		(char *)env__leaktrace(), "-v", "-q", "-o", json, "--", "sh", "-c", script, NULL
	};
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	lt = proc__spawn(argv, -1, -1, fd);
	close(fd);
	cr_assert(file__wait_for(err, "did not end on SIGKILL: left", 90000), "stderr:\n%s",
		  slurp(err));
	/* The daemon gone, what waited on it fails: the program finds its libraries elsewhere. */
	fuse_end(&fs, mnt);
	cr_assert_eq(proc__wait(lt, 90000, &status), 0, "leaktrace did not end: stderr:\n%s",
		     slurp(err));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: stderr:\n%s", status,
		  slurp(err));
	snap = snapshot__load(json);
	stack = stack__find(snapshot__process_by_exe(snap, fx_nofp), "leak_malloc", "heap");
	cr_assert_not_null(stack, "no leak_malloc stack: %s", slurp(json));
	cr_assert_eq(json__int(stack, "bytes"), 100000);
	cr_assert_eq(json__int(stack, "allocs"), 1000);
	json_decref(snap);
	tmpdir__free(&t);
	free(daemon);
}

/*
 * dwz moves what two programs' DWARF share to a supplement file, t/sup.debug,
 * which each names in .gnu_debugaltlink by the path recorded. dz1 leaks 10
 * blocks of 400 B from dz1_leaf (line 4); leaktrace -v runs it and must end
 * with exit 0, saying said (when not NULL). Returns the snapshot, and the
 * leak's frame 0 in *frame.
 */
static json_t *dwz_leak_frame(struct tmpdir *t, const char *recorded, const char *said,
			      json_t **frame)
{
	char json[PATH_MAX];
	struct run_result r;
	json_t *snap, *stack;

	snprintf(json, sizeof(json), "%s", tmpdir__file(t, "dz1.json"));
	sh("cd %s && printf '#include <stdlib.h>\\n"
	   "struct dz_item { long a; char name[24]; struct dz_item *next; };\\n"
	   "void *volatile keep;\\n"
	   "__attribute__((noinline)) void *dz1_leaf(int n) { keep = malloc(sizeof(struct dz_item) "
	   "* n); return keep; }\\n"
	   "int main(void) { for (int i = 0; i < 10; i++) dz1_leaf(10); return 0; }\\n' > dz1.c && "
	   "sed s/dz1_/dz2_/ dz1.c > dz2.c && cc -g -O1 -o dz1 dz1.c && cc -g -O1 -o dz2 dz2.c && "
	   "dwz -m sup.debug -M %s dz1 dz2 && readelf -S dz1 | grep -q gnu_debugaltlink",
	   t->path, recorded);
	char *argv[] = { (char *)env__leaktrace(),	 "-v", "-q", "-o", json, "--",
			 (char *)tmpdir__file(t, "dz1"), NULL };

	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "leaktrace did not end well: stderr:\n%s", r.err);
	cr_assert(!said || strstr(r.err, said), "no \"%s\" in stderr:\n%s", said, r.err);
	run__free(&r);
	snap = snapshot__load(json);
	stack = stack__find(snapshot__process_by_exe(snap, tmpdir__file(t, "dz1")), "dz1_leaf",
			    "heap");
	cr_assert_not_null(stack, "no dz1_leaf stack: %s", slurp(json));
	cr_assert_eq(json__int(stack, "bytes"), 4000);
	cr_assert_eq(json__int(stack, "allocs"), 10);
	*frame = json_array_get(json_object_get(stack, "frames"), 0);
	return snap;
}

/* The supplement where its link says: the frames have their lines, read through it too. */
Test(hostile, dwz_supplement_is_read_where_its_link_says, .timeout = 90)
{
	char sup[PATH_MAX];
	struct tmpdir t;
	json_t *snap, *frame;

	tmpdir__new(&t);
	snprintf(sup, sizeof(sup), "%s", tmpdir__file(&t, "sup.debug"));
	snap = dwz_leak_frame(&t, sup, NULL, &frame);
	cr_assert_eq(json__int(frame, "line"), 4, "frame 0: %s", json_dumps(frame, 0));
	json_decref(snap);
	tmpdir__free(&t);
}

/*
 * A program's owner names a FIFO as its DWARF's supplement: libdw opened that
 * path itself, blocking, and leaktrace never ended. Now it is looked for as
 * any target's file is, and one named but not found leaves the program
 * without lines, never without its end or its names.
 */
Test(hostile, dwz_supplement_link_to_a_fifo_is_not_opened, .timeout = 90)
{
	char fifo[PATH_MAX], said[PATH_MAX + 80];
	struct tmpdir t;
	json_t *snap, *frame;

	tmpdir__new(&t);
	snprintf(fifo, sizeof(fifo), "%s", tmpdir__file(&t, "fifo"));
	sh("mkfifo -m 0666 %s", fifo);
	snprintf(said, sizeof(said), "no source lines: its DWARF's supplement %s (build ID ", fifo);
	snap = dwz_leak_frame(&t, fifo, said, &frame);
	cr_assert_null(json_object_get(frame, "line"), "frame 0: %s", json_dumps(frame, 0));
	/* Nothing opened the FIFO for reading: a writer that does not wait finds no reader. */
	cr_assert_eq(open(fifo, O_WRONLY | O_NONBLOCK), -1);
	cr_assert_eq(errno, ENXIO);
	json_decref(snap);
	tmpdir__free(&t);
}

/*
 * valgrind reads its client's code to translate it: the breakpoints of -a's
 * system-wide probes would be in its copy of libc (mmap, a probed function it
 * does not replace), and it would die of SIGTRAP there.
 */
static void start_under_valgrind(struct fixture *f)
{
	char *argv[] = { "valgrind", "-q", (char *)fx_nofp, "attach", "mmap", NULL };

	if (access("/usr/bin/valgrind", X_OK))
		cr_skip_test("no valgrind");
	fixture__start_argv(f, argv);
}

Test(hostile, all_does_not_start_while_valgrind_runs, .timeout = 150)
{
	/* -d 60: held off, it ends at once; a start slower than -d would end it unchecked. */
	char *argv[] = { (char *)env__leaktrace(), "-a", "-q", "-d", "60", NULL };
	char pid[32];
	struct run_result r;
	struct fixture f;

	start_under_valgrind(&f);
	run__cmd(argv, NULL, 90, &r);
	/* 7: held off by a process the probes would break. */
	cr_assert_eq(run__exit_code(&r), 7, "stderr:\n%s", r.err);
	cr_assert_eq(run__err_lines(&r), 1, "stderr:\n%s", r.err);
	/* It names the first it finds: another engineer's valgrind may run on this host too. */
	snprintf(pid, sizeof(pid), "pid %d (valgrind,", f.pid);
	cr_assert(strstr(r.err, pid) || strstr(r.err, "(valgrind, which reads its programs' code)"),
		  "stderr:\n%s", r.err);
	run__free(&r);
	fixture__trigger(&f); /* its mmap leak runs: no breakpoint was there */
	assert_going_on(f.pid);
	fixture__stop(&f);
}

/*
 * The attacker's dynamic loader: asked for its list (as leaktrace plans an
 * exec), it writes the uid it runs as to argv[0].uid; run by the kernel, it
 * ends the program. Static, so the kernel takes it as an interpreter.
 */
static const char fake_ld_src[] =
	"#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
	"int main(int argc, char **argv) {\n"
	"  char path[4096]; FILE *f;\n"
	"  if (argc < 2 || strcmp(argv[1], \"--list\")) return 0;\n"
	"  if (access(\"hang\", F_OK) == 0) for (;;) pause();\n"
	"  snprintf(path, sizeof(path), \"%s.uid\", argv[0]);\n"
	"  f = fopen(path, \"w\"); if (f) { fprintf(f, \"%u\\n\", getuid()); fclose(f); }\n"
	"  return 0;\n}\n";

/*
 * Builds the attacker's loader and a program that names it, and runs
 * "leaktrace -q -- setpriv (as nobody) PROG" in the attacker's directory;
 * with hang, the loader never answers. *uid: what the loader wrote, or "".
 */
static void exec_with_fake_loader(struct tmpdir *t, bool hang, struct run_result *r, char *uid,
				  size_t size)
{
	char src[PATH_MAX], ld[PATH_MAX], prog[PATH_MAX], cwd[PATH_MAX];
	FILE *fp;

	snprintf(src, sizeof(src), "%s", tmpdir__file(t, "fake-ld.c"));
	snprintf(ld, sizeof(ld), "%s", tmpdir__file(t, "fake-ld"));
	snprintf(prog, sizeof(prog), "%s", tmpdir__file(t, "prog"));
	fp = fopen(src, "w");
	cr_assert_not_null(fp);
	fputs(fake_ld_src, fp);
	fclose(fp);
	sh("cc -static -O1 -w -o %s %s && echo 'int main(void) { return 0; }' > %s.c && "
	   "cc -w -Wl,--dynamic-linker=%s -o %s %s.c && chmod 0777 %s",
	   ld, src, prog, ld, prog, prog, t->path);
	if (hang)
		sh("touch %s/hang", t->path);
	char *argv[] = { (char *)env__leaktrace(),
			 "-q",
			 "--",
			 "setpriv",
			 "--reuid=" NOBODY,
			 "--regid=" NOBODY,
			 "--clear-groups",
			 prog,
			 NULL };

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(t->path), 0);
	run__cmd(argv, NULL, 60, r);
	cr_assert_eq(chdir(cwd), 0);
	snprintf(uid, size, "%.63s", slurp(tmpdir__file(t, "fake-ld.uid")));
}

/*
 * Run mode follows a command that drops to nobody, and nobody execs a
 * program whose interpreter nobody wrote: leaktrace asks that interpreter for
 * its list (to plan the exec) as nobody, never as root.
 */
Test(hostile, exec_planned_with_the_processs_own_rights, .timeout = 120)
{
	char uid[PATH_MAX];
	struct run_result r;
	struct tmpdir t;

	attacker_dir(&t);
	exec_with_fake_loader(&t, false, &r, uid, sizeof(uid));
	cr_assert(*uid, "the interpreter was never asked:\n%s", r.err);
	cr_assert_str_eq(uid, NOBODY "\n", "the interpreter ran as uid %s", uid);
	run__free(&r);
	tmpdir__free(&t);
}

/* An interpreter that never answers its list holds the exec 10 s at most: the run ends. */
Test(hostile, exec_planned_when_the_loader_never_answers, .timeout = 120)
{
	char uid[PATH_MAX];
	struct run_result r;
	struct tmpdir t;

	attacker_dir(&t);
	exec_with_fake_loader(&t, true, &r, uid, sizeof(uid));
	/* It ended by itself (a program it cannot probe is said, and exit 1), and said prog's end. */
	cr_assert_geq(run__exit_code(&r), 0, "leaktrace did not end: stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "(prog) ") && strstr(r.err, "[exited]"), "stderr:\n%s", r.err);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * Starts argv (an -a leaktrace) with its stderr in t's lt.err, and waits for it to trace.
 * Another valgrind on the host holds -a off: wait for it to end, and start again.
 */
static void all_start(struct lt *lt, struct tmpdir *t, char **argv)
{
	int err, status;

	snprintf(lt->err, sizeof(lt->err), "%s", tmpdir__file(t, "lt.err"));
	for (int tries = 0; tries < 5; tries++) {
		host__wait_no_valgrind(300 * 1000);
		err = open(lt->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		cr_assert_geq(err, 0);
		lt->pid = proc__spawn(argv, -1, -1, err);
		close(err);
		if (file__wait_for(lt->err, "leaktrace: tracing all processes", 60000) ||
		    !strstr(slurp(lt->err), "(valgrind, which reads"))
			break;
		cr_assert_eq(proc__wait(lt->pid, 60000, &status), 0, "stderr:\n%s", slurp(lt->err));
	}
	cr_assert(strstr(slurp(lt->err), "leaktrace: tracing all processes"), "stderr:\n%s",
		  slurp(lt->err));
}

/* Told to, -a starts while valgrind runs: a user cannot hold it off by running one. */
Test(hostile, all_starts_beside_valgrind_when_told, .timeout = 90)
{
	char *argv[] = {
		(char *)env__leaktrace(), "-a", "--allow-translators", "-d", "60", "--comm",
		"no-such-comm",		  NULL
	};
	struct fixture f;
	struct tmpdir t;
	struct lt lt;
	int err;

	tmpdir__new(&t);
	start_under_valgrind(&f);
	snprintf(lt.err, sizeof(lt.err), "%s", tmpdir__file(&t, "lt.err"));
	err = open(lt.err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(err, 0);
	lt.pid = proc__spawn(argv, -1, -1, err);
	close(err);
	file__assert_tracing(lt.err, "leaktrace: tracing all processes");
	cr_assert_eq(kill(lt.pid, SIGINT), 0);
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	cr_assert_null(strstr(slurp(lt.err), "would break"), "stderr:\n%s", slurp(lt.err));
	fixture__stop(&f);
	tmpdir__free(&t);
}

Test(hostile, all_stops_and_detaches_when_valgrind_starts, .timeout = 900)
{
	char *argv[] = { (char *)env__leaktrace(), "-a", "-i", "100", "-d", "60", NULL };
	char said[96];
	struct fixture f;
	struct tmpdir t;
	struct lt lt;

	tmpdir__new(&t);
	all_start(&lt, &t, argv);
	start_under_valgrind(&f);
	snprintf(said, sizeof(said), "leaktrace: pid %d started (valgrind,", f.pid);
	cr_assert(file__wait_for(lt.err, said, 60000), "stderr:\n%s", slurp(lt.err));
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	fixture__trigger(&f);
	assert_going_on(f.pid);
	fixture__stop(&f);
	tmpdir__free(&t);
}

/*
 * -a's map of targets full (a busy build host starts thousands of processes between two
 * reports): a valgrind that starts then is not added, and /proc still finds it.
 */
Test(hostile, all_finds_valgrind_started_while_its_map_is_full, .timeout = 900)
{
	char *argv[] = { (char *)env__leaktrace(), "-a", "-i", "100", "-d", "120", NULL };
	struct fixture f;
	struct tmpdir t;
	struct lt lt;
	pid_t idle[24];

	/* Room for 16, and 24 idle processes fill it at the start (a fresh CI host has few). */
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		idle[i] = fork();
		cr_assert_geq(idle[i], 0);
		if (!idle[i]) {
			prctl(PR_SET_PDEATHSIG,
			      SIGKILL); /* gone with the test, even a failed one */
			for (;;)
				pause();
		}
	}
	setenv("LEAKTRACE_MAX_TARGETS", "16", 1);
	tmpdir__new(&t);
	all_start(&lt, &t, argv);
	cr_assert(strstr(slurp(lt.err), "not traced: the map of traced processes is full"),
		  "stderr:\n%s", slurp(lt.err));
	start_under_valgrind(&f);
	cr_assert(file__wait_for(lt.err, "which -a's breakpoints would break: tracing stopped",
				 60000),
		  "stderr:\n%s", slurp(lt.err));
	cr_assert(strstr(slurp(lt.err), "the map of traced processes is full: processes started"),
		  "stderr:\n%s", slurp(lt.err));
	lt_wait_ok(&lt, clock__now_ms(), END_BOUND_MS);
	fixture__trigger(&f);
	assert_going_on(f.pid);
	fixture__stop(&f);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		kill(idle[i], SIGKILL);
		waitpid(idle[i], NULL, 0);
	}
	tmpdir__free(&t);
}

/* A name given with --exclude-comm: -a does not start while such a process runs. */
Test(hostile, all_does_not_start_while_an_excluded_process_runs, .timeout = 900)
{
	char name[16], path[PATH_MAX], said[64];
	struct run_result r;
	struct fixture f;
	struct tmpdir t;

	tmpdir__new(&t);
	/* A name of its own: other fixtures may run on this host. */
	snprintf(name, sizeof(name), "hx%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", t.path, name);
	sh("cp %s %s", fx_nofp, path);
	char *fx[] = { path, "attach", "malloc", NULL };
	/* -d 60: held off, it ends at once; a start slower than -d would end it unchecked. */
	char *argv[] = { (char *)env__leaktrace(), "-a", "--exclude-comm", name, "-d", "60", NULL };

	fixture__start_argv(&f, fx);
	snprintf(said, sizeof(said), "(--exclude-comm %s)", name);
	/* Another valgrind on the host, found first, is named instead: wait for it to end. */
	for (int tries = 0;; tries++) {
		host__wait_no_valgrind(300 * 1000);
		run__cmd(argv, NULL, 90, &r);
		if (strstr(r.err, said) || !strstr(r.err, "(valgrind, which reads") || tries == 4)
			break;
		run__free(&r);
	}
	cr_assert_eq(run__exit_code(&r), 7, "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, said), "stderr:\n%s", r.err);
	run__free(&r);
	fixture__trigger(&f);
	fixture__stop(&f);
	tmpdir__free(&t);
}
