// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tools/leak-sweep against two real sshd on loopback (their own host key,
 * authorized_keys and temporary directory, each a "host") and a port where nothing
 * listens, with a leaking service running: per-host snapshots, the fleet ranking,
 * the dead host's reason, the exit status, and nothing left on the hosts.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define SSHD "/usr/sbin/sshd"
/* The leaking service under a name of its own, so that --comm sees only it. */
#define LEAKER "sweep-leaker"

static const char *sweep_path(void)
{
	static char path[PATH_MAX];
	char dir[PATH_MAX];

	/* LEAKTRACE is the ./leaktrace at the top of the repository. */
	snprintf(dir, sizeof(dir), "%s", env__leaktrace());
	snprintf(path, sizeof(path), "%s/tools/leak-sweep", dirname(dir));
	cr_assert_eq(access(path, X_OK), 0, "%s: %s", path, strerror(errno));
	return path;
}

/* A loopback TCP socket on a free port, bound and not listening: connecting is refused. */
static int bound_port(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, len), 0, "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static bool port_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a));

	if (fd >= 0)
		close(fd);
	return ok;
}

static void run_ok(char *const argv[])
{
	struct run_result r;

	run__cmd(argv, NULL, 30, &r);
	cr_assert_eq(run__exit_code(&r), 0, "%s failed: %s", argv[0], r.err);
	run__free(&r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static struct tmpdir dir;

/* The path of NAME in the test's directory, in BUF (tmpdir__file has one buffer only). */
static char *in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir.path, name);
	return buf;
}

/* One "host": an sshd on PORT whose sessions get DIR/tmp-N as TMPDIR and PATH as PATH. */
struct host {
	int port;
	pid_t sshd;
	char tmp[PATH_MAX];
	char label[32];
	bool own_leaktrace; /* DIR/bin/leaktrace is in its PATH */
};

static void host__start(struct host *h, int n, const char *path)
{
	char conf[PATH_MAX], text[3 * PATH_MAX], log[PATH_MAX], name[32];
	int fd;

	snprintf(name, sizeof(name), "tmp-%d", n);
	cr_assert_eq(mkdir(in_dir(h->tmp, sizeof(h->tmp), name), 0700), 0);
	/* A port that was free a moment ago; sshd gets it before anyone else is likely to. */
	close(bound_port(&h->port));
	/* Host 1 is "fleet" (ssh_config maps it to its port): its file must not be fleet.json. */
	if (n == 1)
		snprintf(h->label, sizeof(h->label), "fleet");
	else
		snprintf(h->label, sizeof(h->label), "127.0.0.1:%d", h->port);
	snprintf(text, sizeof(text),
		 "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile none\n"
		 "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
		 "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n"
		 "UsePAM no\nSetEnv TMPDIR=%s PATH=%s\n",
		 h->port, dir.path, dir.path, h->tmp, path);
	snprintf(name, sizeof(name), "sshd-%d.conf", n);
	in_dir(conf, sizeof(conf), name);
	write_file(conf, text);
	snprintf(name, sizeof(name), "sshd-%d.log", n);
	in_dir(log, sizeof(log), name);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	h->sshd = proc__spawn((char *[]){ SSHD, "-D", "-e", "-f", conf, NULL }, -1, -1, fd);
	close(fd);
	for (int i = 0; i < 500 && !port_accepts(h->port); i++)
		usleep(10000);
	cr_assert(port_accepts(h->port), "sshd on port %d did not start; see %s", h->port, log);
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n == 0;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(getdelim(&buf, &len, '\0', f) >= 0, true, "%s is empty", path);
	fclose(f);
	return buf;
}

/* The line of TEXT that starts with PREFIX, as a new string; fails the test if none. */
static char *line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, prefix, strlen(prefix)))
			return strndup(p, strcspn(p, "\n"));
	}
	cr_assert_fail("no line starting with '%s' in:\n%s", prefix, text);
	return NULL;
}

/* Splits a ranking line into its columns (separated by runs of spaces). */
static int columns(char *line, char *cols[], int max)
{
	int n = 0;

	for (char *tok = strtok(line, " "); tok && n < max; tok = strtok(NULL, " "))
		cols[n++] = tok;
	return n;
}

/*
 * Whether a process is the trace of host h (not its probe's leaktrace --version): a
 * leaktrace -a from a copy under the host's TMPDIR, or from its own.
 */
static bool runs_leaktrace_of(pid_t pid, const struct host *h)
{
	char path[64], exe[PATH_MAX], own[PATH_MAX], args[256] = "";
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(args, 1, sizeof(args) - 1, f); /* "leaktrace\0-a\0..." */
	fclose(f);
	if (n <= 0 || strcmp(args + strlen(args) + 1, "-a"))
		return false;
	if (h->own_leaktrace)
		return !strcmp(exe, in_dir(own, sizeof(own), "bin/leaktrace"));
	return !strncmp(exe, h->tmp, strlen(h->tmp)) && exe[strlen(h->tmp)] == '/';
}

/* Waits up to 30 s until the leaktrace of each host runs; false if they do not. */
static bool wait_for_tracers(const struct host h[2])
{
	for (int tries = 0; tries < 600; tries++) {
		bool seen[2] = { false, false };
		DIR *d = opendir("/proc");
		struct dirent *e;

		cr_assert_not_null(d);
		while ((e = readdir(d)))
			for (int i = 0; i < 2; i++)
				seen[i] |= runs_leaktrace_of(atoi(e->d_name), &h[i]);
		closedir(d);
		if (seen[0] && seen[1])
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* What a file descriptor's file holds from its start, NUL-terminated; closes it. */
static char *read_fd(int fd)
{
	FILE *f = fdopen(fd, "r");
	char *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(f);
	rewind(f);
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static void sweep_fini(void)
{
	procs__cleanup();
	tmpdir__free(&dir);
}

/*
 * Host 1 has no leaktrace in PATH: the sweep copies its own into a temporary directory
 * there and removes it. Host 2 has this very leaktrace in PATH: it is run, not copied.
 */
Test(sweep, two_hosts_and_a_dead_port, .timeout = 120, .fini = sweep_fini)
{
	char key[PATH_MAX], ssh_opts[3 * PATH_MAX + 128], path2[PATH_MAX + 64], outdir[PATH_MAX];
	char leaker[PATH_MAX], dead[32], file[PATH_MAX + 64], want[PATH_MAX + 128];
	char *demo = env__fixture("demo-fp"), *hosts, *fleet, *line, *cols[16], *out, *err;
	int dead_fd, dead_port, out_fd, err_fd, status;
	json_t *snap, *proc, *stack, *merged, *sus;
	struct host h[2];
	pid_t leak, sweep;

	tmpdir__new(&dir);
	/* sshd needs its privilege separation directory, which its service would make. */
	mkdir("/run/sshd", 0755);
	run_ok((char *[]){ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
			   in_dir(file, sizeof(file), "host_key"), NULL });
	in_dir(key, sizeof(key), "id");
	run_ok((char *[]){ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key, NULL });
	run_ok((char *[]){ "cp", in_dir(file, sizeof(file), "id.pub"),
			   in_dir(want, sizeof(want), "authorized_keys"), NULL });
	cr_assert_eq(mkdir(in_dir(path2, sizeof(path2), "bin"), 0755), 0);
	run_ok((char *[]){ "cp", (char *)env__leaktrace(), path2, NULL });
	strcat(path2, ":/usr/sbin:/usr/bin:/sbin:/bin");
	host__start(&h[0], 1, "/usr/sbin:/usr/bin:/sbin:/bin");
	host__start(&h[1], 2, path2);
	snprintf(want, sizeof(want), "Host fleet\n\tHostName 127.0.0.1\n\tPort %d\n", h[0].port);
	write_file(in_dir(file, sizeof(file), "ssh_config"), want);
	h[1].own_leaktrace = true;
	dead_fd = bound_port(&dead_port);
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", dead_port);

	in_dir(leaker, sizeof(leaker), LEAKER);
	run_ok((char *[]){ "cp", demo, leaker, NULL });
	in_dir(outdir, sizeof(outdir), "out");
	snprintf(ssh_opts, sizeof(ssh_opts),
		 "-F %s -o StrictHostKeyChecking=no "
		 "-o UserKnownHostsFile=/dev/null -i %s",
		 in_dir(file, sizeof(file), "ssh_config"), key);
	out_fd = open(in_dir(file, sizeof(file), "sweep.out"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	err_fd = open(in_dir(file, sizeof(file), "sweep.err"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(out_fd >= 0 && err_fd >= 0);
	sweep = proc__spawn((char *[]){ (char *)sweep_path(), "-d", "4", "-o", outdir, "-S",
					ssh_opts, "-b", (char *)env__leaktrace(), h[0].label,
					h[1].label, dead, "--", "--comm", LEAKER, NULL },
			    -1, out_fd, err_fd);
	/*
	 * The leaking service starts once both "hosts" run leaktrace and have had time to
	 * attach, so that each traces it from its exec. The two share this kernel, and a
	 * leaktrace -a that attaches while another attaches or detaches on the same libc
	 * sometimes misses a process already running (uprobe_multi links; the hosts of a
	 * fleet have a kernel each).
	 */
	if (!wait_for_tracers(h)) {
		err = read_fd(dup(err_fd));
		/* -a does not start while a valgrind runs on the host (another test's). */
		if (strstr(err, "(valgrind, which reads"))
			cr_skip_test("a valgrind runs on this host, so leaktrace -a does not:\n%s",
				     err);
		cr_assert_fail("the sweep's leaktrace did not start on both hosts within 30 s; "
			       "leak-sweep's stderr:\n%s",
			       err);
	}
	usleep(1500 * 1000);
	leak = proc__spawn((char *[]){ leaker, NULL }, -1, -1, -1);
	cr_assert_eq(proc__wait(sweep, 90 * 1000, &status), 0, "leak-sweep did not end");
	close(dead_fd);
	proc__kill(leak);
	out = read_fd(out_fd);
	err = read_fd(err_fd);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		  "status 0x%x\nstdout:\n%s\n"
		  "stderr:\n%s",
		  status, out, err);
	snprintf(want, sizeof(want),
		 "%s: unreachable: ssh: connect to host 127.0.0.1 port %d: "
		 "Connection refused\n",
		 dead, dead_port);
	cr_assert_str_eq(err, want);

	/* Each host's snapshot, named as it was reached, with the leak in it. */
	for (int i = 0; i < 2; i++) {
		snprintf(file, sizeof(file), "%s/hosts/%s.json", outdir, h[i].label);
		snap = snapshot__load(file);
		cr_assert_str_eq(json_string_value(json_object_get(snap, "host")), h[i].label);
		proc = snapshot__process_by_exe(snap, leaker);
		stack = stack__find(proc, "remember_client", "heap");
		cr_assert_not_null(stack, "%s: no remember_client stack", file);
		cr_assert_geq(json__int(stack, "allocs"), 10);
		cr_assert_eq(json__int(stack, "bytes"), 512 * json__int(stack, "allocs"));
		cr_assert_str_eq(stack__symbol(stack, 1), "handle_request");
		json_decref(snap);
		cr_assert(dir_is_empty(h[i].tmp), "the sweep left files in %s", h[i].tmp);
	}

	hosts = read_all(in_dir(file, sizeof(file), "out/hosts.txt"));
	line = line_starting(hosts, h[0].label);
	cr_assert(strstr(line, ": ok in ") && strstr(line, " s, leaktrace copied"), "%s", line);
	free(line);
	line = line_starting(hosts, h[1].label);
	snprintf(want, sizeof(want), " s, ran %s/bin/leaktrace", dir.path);
	cr_assert(strstr(line, ": ok in ") && strstr(line, want), "%s", line);
	free(line);
	cr_assert_not_null(strstr(hosts, want), "%s", hosts);
	free(hosts);

	/* The fleet ranking: the leak first, one line for both hosts. */
	fleet = read_all(in_dir(file, sizeof(file), "out/fleet.txt"));
	/* #, function, process, hosts, bytes, size and growth (number, unit), trend, on. */
	line = line_starting(fleet, "  1  ");
	cr_assert_eq(columns(line, cols, 16), 12, "rank 1 of:\n%s", fleet);
	cr_assert_str_eq(cols[1], "remember_client");
	cr_assert_str_eq(cols[2], LEAKER);
	cr_assert_str_eq(cols[3], "2/2");
	cr_assert_str_eq(cols[9], "growing");
	snprintf(want, sizeof(want), "%s,", h[0].label);
	cr_assert_str_eq(cols[10], want);
	cr_assert_str_eq(cols[11], h[1].label);
	free(line);
	snprintf(want, sizeof(want), "[1] remember_client in %s (%s): %s pid %d, %s pid %d\n",
		 LEAKER, leaker, h[0].label, (int)leak, h[1].label, (int)leak);
	cr_assert_not_null(strstr(fleet, want), "no '%s' in:\n%s", want, fleet);
	cr_assert_not_null(strstr(out, fleet), "fleet.txt is not printed:\n%s", out);
	free(fleet);

	merged = snapshot__load(in_dir(file, sizeof(file), "out/fleet.json"));
	sus = json_array_get(json_object_get(merged, "suspects"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(sus, "symbol")), "remember_client");
	cr_assert_eq(json_array_size(json_object_get(sus, "hosts")), 2);
	cr_assert_eq(json_array_size(json_object_get(merged, "hosts")), 2);
	json_decref(merged);
	fleet = read_all(in_dir(file, sizeof(file), "out/fleet.folded"));
	cr_assert_not_null(strstr(fleet, LEAKER ";"), "%s", fleet);
	cr_assert_not_null(strstr(fleet, ";handle_request;remember_client "), "%s", fleet);
	free(fleet);
	fleet = read_all(in_dir(file, sizeof(file), "out/fleet.svg"));
	cr_assert_not_null(strstr(fleet, "remember_client"));
	free(fleet);
	free(out);
	free(err);
	free(demo);
}

/* Run leak-sweep with ARGS and assert exit status 2 and one "leak-sweep: " line with PHRASE. */
static void assert_usage_error(char *const args[], const char *phrase)
{
	char *argv[16] = { (char *)sweep_path() };
	struct run_result r;
	int n = 1;

	while (*args)
		argv[n++] = *args++;
	run__cmd(argv, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 2, "exit %d: %s", run__exit_code(&r), r.err);
	cr_assert_eq(run__err_lines(&r), 1, "%s", r.err);
	cr_assert_eq(strncmp(r.err, "leak-sweep: ", 12), 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, phrase), "no '%s' in: %s", phrase, r.err);
	cr_assert_eq(r.out_len, 0, "%s", r.out);
	run__free(&r);
}

Test(sweep, usage_errors_exit_2_with_one_line)
{
	assert_usage_error((char *[]){ NULL }, "no hosts");
	assert_usage_error((char *[]){ "-d", "0", "h", NULL }, "-d: '0' is not a number");
	assert_usage_error((char *[]){ "-j", "x", "h", NULL }, "-j: 'x'");
	assert_usage_error((char *[]){ "-d", "60", "-t", "60", "h", NULL },
			   "must be longer than -d");
	assert_usage_error((char *[]){ "web 1", NULL }, "'web 1' is not a host");
	assert_usage_error((char *[]){ "a@h:22", "b@h:22", NULL }, "host h:22 is given twice");
	assert_usage_error((char *[]){ "-f", "/nonexistent", NULL }, "-f /nonexistent");
	assert_usage_error((char *[]){ "h", "--", "-o", "x.svg", NULL }, "'-o'");
	assert_usage_error((char *[]){ "h", "--", "-d", "5", NULL }, "leak-sweep's -d");
	assert_usage_error((char *[]){ "--frobnicate", NULL }, "unknown option '--frobnicate'");
}

Test(sweep, help_is_a_manual_on_stdout)
{
	struct run_result r;

	run__cmd((char *[]){ (char *)sweep_path(), "--help", NULL }, NULL, 20, &r);
	cr_assert_eq(run__exit_code(&r), 0);
	cr_assert_eq(r.err_len, 0, "%s", r.err);
	for (const char *const *s = (const char *const[]){ "SYNOPSIS", "OPTIONS", "OUTPUT",
							   "EXIT STATUS", "EXAMPLES", NULL };
	     *s; s++)
		cr_assert_not_null(strstr(r.out, *s), "--help lacks %s", *s);
	run__free(&r);
}

/* A file outside the output directory that a planted link points to: it must stay as it is. */
static void assert_victim_untouched(const char *victim)
{
	char *text = read_all(victim);

	cr_assert_str_eq(text, "precious\n", "%s was written through a planted link", victim);
	free(text);
}

/*
 * An output directory prepared by someone else: links planted for hosts.txt and
 * fleet.txt, another owner, others' write permission. Each is refused before
 * anything is written, and the files the links point to are untouched.
 */
Test(sweep, output_directory_of_someone_else_is_refused, .fini = sweep_fini)
{
	char out[PATH_MAX], victim[PATH_MAX], link[PATH_MAX + 16];

	tmpdir__new(&dir);
	in_dir(victim, sizeof(victim), "victim");
	write_file(victim, "precious\n");
	in_dir(out, sizeof(out), "planted");
	cr_assert_eq(mkdir(out, 0700), 0);
	snprintf(link, sizeof(link), "%s/hosts.txt", out);
	cr_assert_eq(symlink(victim, link), 0);
	snprintf(link, sizeof(link), "%s/fleet.txt", out);
	cr_assert_eq(symlink(victim, link), 0);
	assert_usage_error((char *[]){ "-o", out, "127.0.0.1:1", NULL }, "not empty");
	assert_victim_untouched(victim);

	/* A link as the directory itself. */
	in_dir(link, sizeof(link), "link-to-dir");
	cr_assert_eq(symlink(dir.path, link), 0);
	assert_usage_error((char *[]){ "-o", link, "127.0.0.1:1", NULL }, "not a directory");

	in_dir(out, sizeof(out), "nobodys");
	cr_assert_eq(mkdir(out, 0700), 0);
	cr_assert_eq(chown(out, 65534, 65534), 0);
	assert_usage_error((char *[]){ "-o", out, "127.0.0.1:1", NULL },
			   "owned by uid 65534, not by you or root");

	in_dir(out, sizeof(out), "shared");
	cr_assert_eq(mkdir(out, 0700), 0);
	cr_assert_eq(chmod(out, 01777), 0);
	assert_usage_error((char *[]){ "-o", out, "127.0.0.1:1", NULL },
			   "others can write it (mode 1777)");
}

/* No -o: a new directory, private, whose name nobody could have guessed and prepared. */
Test(sweep, default_output_directory_is_new_private_and_unpredictable, .timeout = 60,
     .fini = sweep_fini)
{
	char cmd[2 * PATH_MAX + 64], *name = NULL;
	int dead_fd, dead_port, n = 0;
	struct run_result r;
	struct dirent *e;
	struct stat st;
	DIR *d;

	tmpdir__new(&dir);
	dead_fd = bound_port(&dead_port);
	snprintf(cmd, sizeof(cmd), "cd %s && exec %s 127.0.0.1:%d", dir.path, sweep_path(),
		 dead_port);
	run__cmd((char *[]){ "sh", "-c", cmd, NULL }, NULL, 30, &r);
	close(dead_fd);
	cr_assert_eq(run__exit_code(&r), 1, "%s", r.err);
	d = opendir(dir.path);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "leak-sweep-", 11)) {
			name = strdup(e->d_name);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1);
	/* leak-sweep-YYYYmmdd-HHMMSS.XXXXXX */
	cr_assert_eq(strlen(name), strlen("leak-sweep-20240101-000000.XXXXXX"), "%s", name);
	cr_assert_eq(name[26], '.', "%s", name);
	cr_assert_eq(stat(in_dir(cmd, sizeof(cmd), name), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "mode %o", st.st_mode & 07777);
	free(name);
	run__free(&r);
}
