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
/* Seconds each host traces: long enough for the leak to start on both after both attach. */
#define TRACE_S "6"

static const char *sweep_path(void)
{
	static char path[PATH_MAX];

	return env__repo_file(path, sizeof(path), "tools/leak-sweep");
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

/*
 * The fleet: host 0 is "fleet" (ssh_config maps it to its port; its file must not be
 * fleet.json), logged in as a user of its own who may sudo; host 1 is 127.0.0.1:PORT, logged
 * in as root, with this very leaktrace in its PATH (run, not copied); and a port where
 * nothing listens.
 */
struct host {
	int port;
	pid_t sshd;
	char label[32];
	char spec[96]; /* [user@]host[:port] as leak-sweep takes it */
};

struct fleet {
	struct host h[2];
	int dead_fd, dead_port;
	char dead[32];
	char user[32];
	char sudoers[64];
	char ssh_opts[3 * PATH_MAX + 128];
	char leaker[PATH_MAX];
	char out[PATH_MAX];
};

static struct fleet fl;

static void host__start(struct host *h, int n, const char *path)
{
	char conf[PATH_MAX], text[3 * PATH_MAX], log[PATH_MAX], name[32];
	int fd;

	/* A port that was free a moment ago; sshd gets it before anyone else is likely to. */
	close(bound_port(&h->port));
	/* sftp as a real host has it: Ansible copies files with it. */
	snprintf(text, sizeof(text),
		 "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile none\n"
		 "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
		 "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n"
		 "UsePAM no\nSubsystem sftp internal-sftp\nSetEnv PATH=%s\n",
		 h->port, dir.path, dir.path, path);
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

/* A user of the test's own whose ssh logins sudo to root without a password, if SUDO. */
static void user__add(bool sudo)
{
	char home[PATH_MAX], line[96];

	snprintf(fl.user, sizeof(fl.user), "ltsweep%d", (int)getpid());
	run_ok((char *[]){ "useradd", "-m", "-d", in_dir(home, sizeof(home), "home"), "-s",
			   "/bin/sh", fl.user, NULL });
	/* Not locked (sshd refuses a locked account a key login), and no password. */
	run_ok((char *[]){ "usermod", "-p", "*", fl.user, NULL });
	if (!sudo)
		return;
	snprintf(fl.sudoers, sizeof(fl.sudoers), "/etc/sudoers.d/%s", fl.user);
	snprintf(line, sizeof(line), "%s ALL=(root) NOPASSWD: ALL\n", fl.user);
	write_file(fl.sudoers, line);
	cr_assert_eq(chmod(fl.sudoers, 0440), 0);
}

static void fleet__start(bool sudo)
{
	char key[PATH_MAX], file[PATH_MAX + 64], path2[PATH_MAX + 64], text[PATH_MAX + 128];
	char *demo = env__fixture("demo-fp");

	tmpdir__new(&dir);
	/* The user reads authorized_keys here (sshd reads it as the user). */
	cr_assert_eq(chmod(dir.path, 0755), 0);
	/* sshd needs its privilege separation directory, which its service would make. */
	mkdir("/run/sshd", 0755);
	run_ok((char *[]){ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
			   in_dir(file, sizeof(file), "host_key"), NULL });
	in_dir(key, sizeof(key), "id");
	run_ok((char *[]){ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key, NULL });
	run_ok((char *[]){ "cp", in_dir(file, sizeof(file), "id.pub"),
			   in_dir(text, sizeof(text), "authorized_keys"), NULL });
	cr_assert_eq(chmod(text, 0644), 0);
	user__add(sudo);
	cr_assert_eq(mkdir(in_dir(path2, sizeof(path2), "bin"), 0755), 0);
	run_ok((char *[]){ "cp", (char *)env__leaktrace(), path2, NULL });
	strcat(path2, ":/usr/sbin:/usr/bin:/sbin:/bin");
	host__start(&fl.h[0], 1, "/usr/sbin:/usr/bin:/sbin:/bin");
	host__start(&fl.h[1], 2, path2);
	snprintf(fl.h[0].label, sizeof(fl.h[0].label), "fleet");
	snprintf(fl.h[0].spec, sizeof(fl.h[0].spec), "%s@fleet", fl.user);
	snprintf(fl.h[1].label, sizeof(fl.h[1].label), "127.0.0.1:%d", fl.h[1].port);
	snprintf(fl.h[1].spec, sizeof(fl.h[1].spec), "root@127.0.0.1:%d", fl.h[1].port);
	snprintf(text, sizeof(text), "Host fleet\n\tHostName 127.0.0.1\n\tPort %d\n", fl.h[0].port);
	write_file(in_dir(file, sizeof(file), "ssh_config"), text);
	fl.dead_fd = bound_port(&fl.dead_port);
	snprintf(fl.dead, sizeof(fl.dead), "127.0.0.1:%d", fl.dead_port);
	/* No shared connections: nothing of the sweep's stays on the hosts after it. */
	snprintf(fl.ssh_opts, sizeof(fl.ssh_opts),
		 "-F %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
		 "-o ControlMaster=no -i %s",
		 in_dir(file, sizeof(file), "ssh_config"), key);
	in_dir(fl.leaker, sizeof(fl.leaker), LEAKER);
	run_ok((char *[]){ "cp", demo, fl.leaker, NULL });
	in_dir(fl.out, sizeof(fl.out), "out");
	free(demo);
}

static void fleet_fini(void)
{
	procs__cleanup();
	if (fl.dead_fd > 0)
		close(fl.dead_fd);
	if (*fl.user) {
		if (*fl.sudoers)
			unlink(fl.sudoers);
		/* -f: an sshd session of the sweep's may be ending still. */
		run_ok((char *[]){ "userdel", "-f", fl.user, NULL });
	}
	tmpdir__free(&dir);
	memset(&fl, 0, sizeof(fl));
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

/* The NUL-separated command line of pid, its separators made blanks; "" if it is gone. */
static void cmdline_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[n] = '\0';
}

/* How many processes have NEEDLE in their command line (this test's own aside). */
static int processes_with(const char *needle)
{
	char line[4096];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc");

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		pid_t pid = atoi(e->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		cmdline_of(pid, line, sizeof(line));
		n += strstr(line, needle) != NULL;
	}
	closedir(d);
	return n;
}

/*
 * Whether the trace of host LABEL runs with its probes live: leaktrace itself, not the
 * timeout that runs it.
 */
static bool traces(const char *label)
{
	char line[4096], host[96];
	const char *at, *prefix = "/leaktrace -a -q -d " TRACE_S " -i ";
	struct dirent *e;
	bool found = false;
	DIR *d = opendir("/proc");

	cr_assert_not_null(d);
	snprintf(host, sizeof(host), " --host %s --comm %s ", label, LEAKER);
	while (!found && (e = readdir(d))) {
		if (atoi(e->d_name) <= 0)
			continue;
		cmdline_of(atoi(e->d_name), line, sizeof(line));
		at = strstr(line, prefix);
		/* The binary's path is the first word. */
		found = at && (size_t)(at - line) + 10 == strcspn(line, " ") &&
			strstr(line, host) && proc__probes_live(atoi(e->d_name));
	}
	closedir(d);
	return found;
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

/* Whether our child pid has ended (a zombie until waited for); D and T states are running. */
static bool has_ended(pid_t pid)
{
	char path[64], buf[512], *paren;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return !paren || paren[1] != ' ' || paren[2] == 'Z';
}

struct sweep_run {
	int status;
	char *out, *err;
	pid_t leak;
};

/*
 * Runs ARGV (leak-sweep, or ansible-playbook) to its end, with the leaking service started
 * once both hosts run leaktrace and have had time to attach, so that each traces it from its
 * exec. The two share this kernel, and a leaktrace -a that attaches while another attaches or
 * detaches on the same libc sometimes misses a process already running (uprobe_multi links;
 * the hosts of a fleet have a kernel each).
 */
static bool sweep__try(char *const argv[], const char *label0, const char *label1,
		       struct sweep_run *r)
{
	char file[PATH_MAX];
	int out_fd, err_fd, tries;
	pid_t sweep;

	out_fd = open(in_dir(file, sizeof(file), "sweep.out"),
		      O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err_fd = open(in_dir(file, sizeof(file), "sweep.err"),
		      O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(out_fd >= 0 && err_fd >= 0);
	sweep = proc__spawn(argv, -1, out_fd, err_fd);

	/* Ansible on a busy machine: up to 90 s until both have attached their probes. */
	for (tries = 0; tries < 900 && !(traces(label0) && traces(label1)); tries++) {
		if (has_ended(sweep))
			break;
		usleep(100 * 1000);
	}
	if (!(traces(label0) && traces(label1))) {
		r->out = read_fd(dup(out_fd));
		/* -a does not start while a valgrind runs on the host (another test's). */
		if (strstr(r->out, "held off: ")) {
			proc__wait(sweep, 180 * 1000, &r->status);
			close(err_fd);
			free(r->out);
			return false;
		}
		cr_assert_fail("the sweep's leaktrace did not start on both hosts within 90 s; "
			       "its output:\n%s%s",
			       r->out, read_fd(dup(err_fd)));
	}
	r->leak = proc__spawn((char *[]){ fl.leaker, NULL }, -1, -1, -1);
	cr_assert_eq(proc__wait(sweep, 180 * 1000, &r->status), 0, "%s did not end", argv[0]);
	r->out = read_fd(out_fd);
	r->err = read_fd(err_fd);
	/* -a stops when a valgrind starts on the host (another test's). */
	if (!access(in_dir(file, sizeof(file), "out/hosts.txt"), R_OK) &&
	    strstr(read_all(file), ": held off: ")) {
		proc__kill(r->leak);
		free(r->out);
		free(r->err);
		return false;
	}
	return true;
}

/*
 * Runs ARGV (leak-sweep, or ansible-playbook) to its end, with the leaking service started
 * once both hosts run leaktrace with its probes attached, so that each traces it from its
 * exec. A valgrind running on the host holds leaktrace -a off: then it waits for that
 * valgrind to end and sweeps again.
 */
static void sweep__run(char *const argv[], const char *label0, const char *label1,
		       struct sweep_run *r)
{
	for (int tries = 0; tries < 5; tries++) {
		host__wait_no_valgrind(300 * 1000);
		if (sweep__try(argv, label0, label1, r))
			return;
		struct run_result rm;

		run__cmd((char *[]){ "rm", "-rf", fl.out, NULL }, NULL, 60, &rm);
		cr_assert_eq(run__exit_code(&rm), 0, "rm -rf %s: %s", fl.out, rm.err);
		run__free(&rm);
	}
	cr_assert_fail("a valgrind kept starting on this host: leaktrace -a held off 5 times");
}

/* N with thousands separated by commas, as fleet.txt prints bytes. */
static char *grouped(long long n, char *buf, size_t size)
{
	char digits[32];
	size_t len, j = 0;

	snprintf(digits, sizeof(digits), "%lld", n);
	len = strlen(digits);
	for (size_t i = 0; i < len && j + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = digits[i];
	}
	buf[j] = '\0';
	return buf;
}

/*
 * What every sweep leaves: each host's snapshot named as it was reached, with the leak traced
 * from its exec (512 bytes a request, exactly); the fleet ranking with the leak first, on
 * both hosts, its bytes the sum of theirs; hosts.txt; and nothing on the hosts: each private
 * directory gone, no guard, no leaktrace.
 */
static void assert_fleet(const struct sweep_run *r, const char *label0, const char *label1)
{
	const char *labels[2] = { label0, label1 };
	char file[PATH_MAX + 64], want[PATH_MAX + 128], num[32], *text, *line, *cols[16];
	long long bytes = 0;
	json_t *snap, *proc, *stack, *hosts, *row;
	size_t i;

	/* hosts.txt, in the order given. */
	text = read_all(in_dir(file, sizeof(file), "out/hosts.txt"));
	line = line_starting(text, labels[0]);
	cr_assert(strstr(line, ": ok in ") && strstr(line, " s, leaktrace copied"), "%s", text);
	free(line);
	line = line_starting(text, labels[1]);
	snprintf(want, sizeof(want), " s, ran %s/bin/leaktrace", dir.path);
	cr_assert(strstr(line, ": ok in ") && strstr(line, want), "%s", text);
	free(line);
	free(text);

	for (i = 0; i < 2; i++) {
		snprintf(file, sizeof(file), "%s/hosts/%s.json", fl.out, labels[i]);
		snap = snapshot__load(file);
		cr_assert_str_eq(json_string_value(json_object_get(snap, "host")), labels[i]);
		proc = snapshot__process_by_exe(snap, fl.leaker);
		stack = stack__find(proc, "remember_client", "heap");
		cr_assert_not_null(stack, "%s: no remember_client stack", file);
		cr_assert_geq(json__int(stack, "allocs"), 10);
		cr_assert_eq(json__int(stack, "bytes"), 512 * json__int(stack, "allocs"));
		cr_assert_str_eq(stack__symbol(stack, 1), "handle_request");
		bytes += json__int(stack, "bytes");
		json_decref(snap);
	}

	/* The fleet ranking: the leak first, one line for both hosts, their bytes summed. */
	text = read_all(in_dir(file, sizeof(file), "out/fleet.txt"));
	/* #, function, process, hosts, bytes, size and growth (number, unit), trend, on. */
	line = line_starting(text, "  1  ");
	cr_assert_eq(columns(line, cols, 16), 12, "rank 1 of:\n%s", text);
	cr_assert_str_eq(cols[1], "remember_client");
	cr_assert_str_eq(cols[2], LEAKER);
	cr_assert_str_eq(cols[3], "2/2");
	cr_assert_str_eq(cols[4], grouped(bytes, num, sizeof(num)), "rank 1 of:\n%s", text);
	cr_assert_str_eq(cols[9], "growing");
	snprintf(want, sizeof(want), "%s,", label0);
	cr_assert_str_eq(cols[10], want);
	cr_assert_str_eq(cols[11], label1);
	free(line);
	snprintf(want, sizeof(want), "[1] remember_client in %s (%s): %s pid %d, %s pid %d\n",
		 LEAKER, fl.leaker, label0, (int)r->leak, label1, (int)r->leak);
	cr_assert_not_null(strstr(text, want), "no '%s' in:\n%s", want, text);
	free(text);

	snap = snapshot__load(in_dir(file, sizeof(file), "out/fleet.json"));
	row = json_array_get(json_object_get(snap, "suspects"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(row, "symbol")), "remember_client");
	cr_assert_eq(json__int(row, "bytes"), bytes);
	cr_assert_eq(json_array_size(json_object_get(row, "hosts")), 2);
	cr_assert_eq(json_array_size(json_object_get(snap, "hosts")), 2);
	json_decref(snap);
	text = read_all(in_dir(file, sizeof(file), "out/fleet.folded"));
	cr_assert_not_null(strstr(text, LEAKER ";"), "%s", text);
	cr_assert_not_null(strstr(text, ";handle_request;remember_client "), "%s", text);
	free(text);
	text = read_all(in_dir(file, sizeof(file), "out/fleet.svg"));
	cr_assert_not_null(strstr(text, "remember_client"));
	free(text);

	/* Nothing left on the hosts: the private directories, their guards, the tracers. */
	hosts = json_load_file(in_dir(file, sizeof(file), "out/hosts.json"), 0, NULL);
	cr_assert(json_is_array(hosts) && json_array_size(hosts) == 3);
	for (i = 0; i < 2; i++) {
		const char *rdir;

		row = json_array_get(hosts, i);
		cr_assert_str_eq(json_string_value(json_object_get(row, "host")), labels[i]);
		cr_assert_str_eq(json_string_value(json_object_get(row, "result")), "ok");
		cr_assert_eq(json__int(row, "exit_status"), 0);
		rdir = json_string_value(json_object_get(row, "remote_dir"));
		cr_assert(rdir && !strncmp(rdir, "/tmp/leaktrace.", 15), "%s", rdir);
		cr_assert(access(rdir, F_OK) && errno == ENOENT, "%s is left on the host", rdir);
		cr_assert_eq(processes_with(rdir), 0, "a process of %s is left", rdir);
		snprintf(want, sizeof(want), " --host %s ", labels[i]);
		cr_assert_eq(processes_with(want), 0, "a leaktrace%sis left", want);
	}
	json_decref(hosts);
}

/* tools/leak-sweep: hosts on the command line, one dead; the fleet view; exit status 1. */
Test(sweep, front_end_over_ansible_three_hosts_one_dead, .timeout = 300, .fini = fleet_fini)
{
	char want[PATH_MAX + 128], file[PATH_MAX];
	struct sweep_run r;

	fleet__start(true);
	sweep__run((char *[]){ (char *)sweep_path(), "-d", TRACE_S, "-o", fl.out, "-S", fl.ssh_opts,
			       "-b", (char *)env__leaktrace(), fl.h[0].spec, fl.h[1].spec, fl.dead,
			       "--", "--comm", LEAKER, NULL },
		   fl.h[0].label, fl.h[1].label, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1,
		  "status 0x%x\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want),
		 "%s: unreachable: ssh: connect to host 127.0.0.1 port %d: "
		 "Connection refused\n",
		 fl.dead, fl.dead_port);
	cr_assert_str_eq(r.err, want);
	assert_fleet(&r, fl.h[0].label, fl.h[1].label);
	cr_assert_not_null(strstr(r.out, read_all(in_dir(file, sizeof(file), "out/fleet.txt"))),
			   "fleet.txt is not printed:\n%s", r.out);
	proc__kill(r.leak);
}

/*
 * ansible-playbook itself with an inventory of groups and names of its own: the same fleet
 * view, the dead host's reason in hosts.txt and in the play's failure, exit status 2.
 */
Test(sweep, playbook_with_an_inventory_three_hosts_one_dead, .timeout = 300, .fini = fleet_fini)
{
	char inv[PATH_MAX], text[4 * PATH_MAX], playbook[PATH_MAX], extra[PATH_MAX + 128];
	char want[256], msg[320], file[PATH_MAX], *hosts;
	struct sweep_run r;

	fleet__start(true);
	snprintf(text, sizeof(text),
		 "all:\n  children:\n    web:\n      hosts:\n"
		 "        alpha: {ansible_host: fleet, ansible_user: %s}\n"
		 "        beta: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root}\n"
		 "    db:\n      hosts:\n"
		 "        gamma: {ansible_host: 127.0.0.1, ansible_port: %d}\n"
		 "  vars:\n    ansible_ssh_common_args: \"%s\"\n",
		 fl.user, fl.h[1].port, fl.dead_port, fl.ssh_opts);
	write_file(in_dir(inv, sizeof(inv), "inventory.yml"), text);
	env__repo_file(playbook, sizeof(playbook), "deploy/ansible/leak-sweep.yml");
	snprintf(extra, sizeof(extra),
		 "{\"duration\": %s, \"outdir\": \"%s\", \"leaktrace_bin\": \"%s\", "
		 "\"leaktrace_options\": \"--comm %s\"}",
		 TRACE_S, fl.out, env__leaktrace(), LEAKER);
	setenv("ANSIBLE_NOCOLOR", "1", 1);
	sweep__run((char *[]){ "ansible-playbook", "-i", inv, playbook, "-e", extra, NULL },
		   "alpha", "beta", &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
		  "status 0x%x\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
	assert_fleet(&r, "alpha", "beta");
	hosts = read_all(in_dir(file, sizeof(file), "out/hosts.txt"));
	snprintf(want, sizeof(want),
		 "gamma: unreachable: ssh: connect to host 127.0.0.1 port %d: Connection refused\n",
		 fl.dead_port);
	cr_assert_not_null(strstr(hosts, want), "%s", hosts);
	free(hosts);
	/* The play's result says which host failed, and why. */
	snprintf(msg, sizeof(msg), "\"msg\": \"1 of 3 hosts did not answer: %.*s\"}",
		 (int)strlen(want) - 1, want);
	cr_assert_not_null(strstr(r.out, msg), "no '%s' in:\n%s", msg, r.out);
	proc__kill(r.leak);
}

static void sweep_fini(void)
{
	procs__cleanup();
	tmpdir__free(&dir);
}

/*
 * A stand-in for leaktrace whose exit status and last line depend on the host it is told it
 * runs on (--host): the failures a fleet has that this machine does not (a kernel without
 * BTF, BPF refused, -a held off, a hang).
 */
static const char fake_leaktrace[] =
	"#!/bin/sh\n"
	"case $1 in --version) echo 'leaktrace 0.1.0'; exit 0;; esac\n"
	"prev= host=\n"
	"for a; do [ \"$prev\" = --host ] && host=$a; prev=$a; done\n"
	"case $host in\n"
	"nobtf) echo 'leaktrace: kernel 4.19.0-test has no BTF (/sys/kernel/btf/vmlinux)' >&2; exit 4;;\n"
	"noperm) echo 'leaktrace: cannot load BPF programs: permission denied' >&2; exit 5;;\n"
	"heldoff) echo 'leaktrace: -a would break pid 42 (valgrind)' >&2; exit 7;;\n"
	"slow) exec sleep 60;;\n"
	"esac\n"
	"exit 1\n";

/*
 * Each host's reason from leaktrace's exit status (and sudo's refusal, and ssh's), none
 * stopping the others: hosts.txt and hosts.json say which and why, the play fails naming
 * them, and nothing is left on the hosts.
 */
Test(sweep, playbook_tells_each_failure_by_its_exit_status, .timeout = 300, .fini = fleet_fini)
{
	static const char *const want[][2] = {
		{ "nobtf", "no BPF: kernel 4.19.0-test has no BTF (/sys/kernel/btf/vmlinux)" },
		{ "noperm", "not permitted: cannot load BPF programs: permission denied" },
		{ "heldoff", "held off: -a would break pid 42 (valgrind)" },
		{ "slow", "timed out after 3 s" },
		{ "nosudo", "not permitted: cannot become root: Missing sudo password" },
	};
	char inv[PATH_MAX], text[4 * PATH_MAX], playbook[PATH_MAX], extra[3 * PATH_MAX];
	char fake[PATH_MAX], line[512], file[PATH_MAX], *hosts;
	const char *rdir;
	struct run_result r;
	json_t *rows, *row;

	fleet__start(false);
	write_file(in_dir(fake, sizeof(fake), "fake-leaktrace"), fake_leaktrace);
	cr_assert_eq(chmod(fake, 0755), 0);
	snprintf(text, sizeof(text),
		 "all:\n  hosts:\n"
		 "    nobtf: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root}\n"
		 "    noperm: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root}\n"
		 "    heldoff: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root}\n"
		 "    slow: {ansible_host: 127.0.0.1, ansible_port: %d, ansible_user: root}\n"
		 "    nosudo: {ansible_host: fleet, ansible_user: %s}\n"
		 "    dead: {ansible_host: 127.0.0.1, ansible_port: %d}\n"
		 "  vars:\n    ansible_ssh_common_args: \"%s\"\n",
		 fl.h[1].port, fl.h[1].port, fl.h[1].port, fl.h[1].port, fl.user, fl.dead_port,
		 fl.ssh_opts);
	write_file(in_dir(inv, sizeof(inv), "inventory.yml"), text);
	env__repo_file(playbook, sizeof(playbook), "deploy/ansible/leak-sweep.yml");
	snprintf(extra, sizeof(extra),
		 "{\"duration\": 1, \"time_limit\": 3, \"outdir\": \"%s\", "
		 "\"leaktrace_bin\": \"%s\"}",
		 fl.out, fake);
	setenv("ANSIBLE_NOCOLOR", "1", 1);
	run__cmd((char *[]){ "ansible-playbook", "-i", inv, "--forks", "10", playbook, "-e", extra,
			     NULL },
		 NULL, 240, &r);
	cr_assert_eq(run__exit_code(&r), 2, "exit %d\n%s%s", run__exit_code(&r), r.out, r.err);

	hosts = read_all(in_dir(file, sizeof(file), "out/hosts.txt"));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(line, sizeof(line), "%s: %s\n", want[i][0], want[i][1]);
		cr_assert_not_null(strstr(hosts, line), "no '%s' in:\n%s", line, hosts);
	}
	snprintf(line, sizeof(line),
		 "dead: unreachable: ssh: connect to host 127.0.0.1 port %d: Connection refused\n",
		 fl.dead_port);
	cr_assert_not_null(strstr(hosts, line), "no '%s' in:\n%s", line, hosts);
	free(hosts);
	snprintf(line, sizeof(line), "\"msg\": \"6 of 6 hosts did not answer: nobtf: %s; ",
		 want[0][1]);
	cr_assert_not_null(strstr(r.out, line), "no '%s' in:\n%s", line, r.out);
	/* No host answered: no fleet view. */
	cr_assert(access(in_dir(file, sizeof(file), "out/fleet.json"), F_OK) && errno == ENOENT);

	/* The exit statuses, and nothing left where leaktrace ran. */
	rows = json_load_file(in_dir(file, sizeof(file), "out/hosts.json"), 0, NULL);
	cr_assert(json_is_array(rows) && json_array_size(rows) == 6);
	for (size_t i = 0; i < 4; i++) {
		static const int status[] = { 4, 5, 7, 124 };

		row = json_array_get(rows, i);
		cr_assert_str_eq(json_string_value(json_object_get(row, "host")), want[i][0]);
		cr_assert_eq(json__int(row, "exit_status"), status[i], "%s", want[i][0]);
		rdir = json_string_value(json_object_get(row, "remote_dir"));
		cr_assert(rdir && access(rdir, F_OK) && errno == ENOENT, "%s is left", rdir);
		cr_assert_eq(processes_with(rdir), 0, "a process of %s is left", rdir);
	}
	json_decref(rows);
	run__free(&r);
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
