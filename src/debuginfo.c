// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Separate debug files by build ID: local debug directories, and debuginfod.
 * libdebuginfod is loaded at run time (dlopen), as elfutils' own tools do: the
 * static leaktrace binary must run where it is missing, and it needs libcurl.
 */
#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "debuginfo.h"
#include "diag.h"
#include "elf_syms.h"
#include "stop.h"
#include "target_file.h"

#define MAX_BUILD_ID 64 /* bytes; GNU's are 20 */

enum fetch_state { FETCH_QUEUED, FETCH_RUNNING, FETCH_DONE };

struct fetch {
	char build_id[2 * MAX_BUILD_ID + 1];
	enum fetch_state state;
	int fd; /* when done: the debug file, or -1 */
};

/* libdebuginfod's client API, found by dlsym. */
struct dfd_api {
	debuginfod_client *(*begin)(void);
	int (*find_debuginfo)(debuginfod_client *c, const unsigned char *id, int len, char **path);
};

struct debuginfo {
	char **dirs;
	size_t nr_dirs;
	bool want_debuginfod;
	double timeout_s;
	int api_state; /* 0 not tried, 1 loaded, -1 unavailable */
	void *lib;
	struct dfd_api api;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a fetch queued, ended, or quit */
	pthread_t worker;
	bool worker_started;
	bool quit;
	struct fetch **fetches;
	size_t nr_fetches, cap_fetches;
	unsigned int generation;
	double budget_end; /* debuginfo__fetch waits for answers until then (now_s) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool valid_build_id(const char *id)
{
	size_t n = strlen(id);

	return n >= 2 && n <= 2 * MAX_BUILD_ID && !(n % 2) && strspn(id, "0123456789abcdef") == n;
}

_Static_assert(DEBUGINFO_MAX_DIRS == 8, "DEBUGINFO_USAGE says up to 8");

int debuginfo__parse_option(struct debuginfo_args *a, int c, const char *arg)
{
	switch (c) {
	case DEBUGINFO_OPT_DIR:
		if (a->nr_dirs == DEBUGINFO_MAX_DIRS) {
			diag__error("--debug-dir: at most %d directories", DEBUGINFO_MAX_DIRS);
			return -EINVAL;
		}
		a->dirs[a->nr_dirs++] = arg;
		return 0;
	case DEBUGINFO_OPT_NO_DEBUGINFOD:
		a->no_debuginfod = true;
		return 0;
	}
	diag__error("option %#x is no debug info option", c);
	return -EINVAL;
}

struct debuginfo_opts debuginfo__opts(const struct debuginfo_args *a)
{
	return (struct debuginfo_opts){
		.dirs = a->dirs,
		.nr_dirs = a->nr_dirs,
		.debuginfod = !a->no_debuginfod,
	};
}

struct debuginfo *debuginfo__new(const struct debuginfo_opts *opts)
{
	struct debuginfo *d = calloc(1, sizeof(*d));
	size_t i;

	if (!d)
		return NULL;
	d->nr_dirs = opts->nr_dirs + 1;
	d->dirs = calloc(d->nr_dirs, sizeof(*d->dirs));
	if (!d->dirs)
		goto err_free;
	for (i = 0; i < d->nr_dirs; i++) {
		d->dirs[i] = strdup(i < opts->nr_dirs ? opts->dirs[i] : ELF_SYMS_DEBUG_ROOT);
		if (!d->dirs[i])
			goto err_free;
	}
	d->want_debuginfod = opts->debuginfod;
	d->timeout_s = opts->fetch_timeout_s > 0 ? opts->fetch_timeout_s :
						   DEBUGINFO_FETCH_TIMEOUT_S;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	return d;

err_free:
	for (i = 0; d->dirs && i < d->nr_dirs; i++)
		free(d->dirs[i]);
	free(d->dirs);
	free(d);
	return NULL;
}

void debuginfo__free(struct debuginfo *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->quit = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->worker_started)
		pthread_join(d->worker, NULL);
	for (size_t i = 0; i < d->nr_fetches; i++) {
		if (d->fetches[i]->fd >= 0)
			close(d->fetches[i]->fd);
		free(d->fetches[i]);
	}
	free(d->fetches);
	for (size_t i = 0; i < d->nr_dirs; i++)
		free(d->dirs[i]);
	free(d->dirs);
	if (d->lib)
		dlclose(d->lib);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
}

/* fd when it is an ELF file carrying build_id; else closed, and -ENOENT. */
static int keep_if_same(int fd, const char *build_id)
{
	char *id;
	bool same;

	if (fd < 0)
		return -ENOENT;
	id = elf_syms__fd_build_id(fd);
	same = id && !strcmp(id, build_id);
	free(id);
	if (same)
		return fd;
	close(fd);
	return -ENOENT;
}

int debuginfo__open_local(const struct debuginfo *d, const char *build_id)
{
	char path[4096];
	int fd;

	if (!valid_build_id(build_id))
		return -ENOENT;
	for (size_t i = 0; i < d->nr_dirs; i++) {
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", d->dirs[i], build_id,
			 build_id + 2);
		fd = keep_if_same(target_file__open(path), build_id);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

/*
 * make static's binary: glibc's dlopen in a static binary needs the very glibc it was linked
 * with on the host, so that build never loads libdebuginfod (report --symbolize can, elsewhere).
 */
#ifndef LT_STATIC_BUILD
#define LT_STATIC_BUILD 0
#endif

static bool load_api(struct debuginfo *d)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	struct dfd_api *a = &d->api;

	if (d->api_state)
		return d->api_state > 0;
	d->api_state = -1;
	if (!d->want_debuginfod || !urls || !*urls || LT_STATIC_BUILD)
		return false;
	d->lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!d->lib)
		return false;
	a->begin = (typeof(a->begin))dlsym(d->lib, "debuginfod_begin");
	a->find_debuginfo = (typeof(a->find_debuginfo))dlsym(d->lib, "debuginfod_find_debuginfo");
	if (!a->begin || !a->find_debuginfo)
		return false;
	d->api_state = 1;
	return true;
}

bool debuginfo__has_debuginfod(struct debuginfo *d)
{
	bool has;

	pthread_mutex_lock(&d->lock);
	has = load_api(d);
	pthread_mutex_unlock(&d->lock);
	return has;
}

/* The child's part of a fetch: the debug file's path (in debuginfod's cache) written to out. */
static void __attribute__((noreturn))
fetch_child(struct debuginfo *d, const char *build_id, int out)
{
	unsigned char id[MAX_BUILD_ID];
	size_t len = strlen(build_id) / 2;
	debuginfod_client *c;
	char *path = NULL;
	int fd = -1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (size_t i = 0; i < len; i++)
		sscanf(build_id + 2 * i, "%2hhx", &id[i]);
	c = d->api.begin();
	if (c)
		fd = d->api.find_debuginfo(c, id, (int)len, &path);
	if (fd >= 0 && path && write(out, path, strlen(path)) < 0)
		_exit(1);
	_exit(0);
}

static bool told_to_quit(struct debuginfo *d)
{
	bool quit;

	pthread_mutex_lock(&d->lock);
	quit = d->quit;
	pthread_mutex_unlock(&d->lock);
	return quit;
}

/*
 * Reads the child's answer until it ends; kills it at the time limit or when
 * told to quit. Returns the length read into path, or -1.
 */
static ssize_t child_answer(struct debuginfo *d, pid_t pid, int in, char *path, size_t size)
{
	struct pollfd p = { .fd = in, .events = POLLIN };
	double deadline = now_s() + d->timeout_s;
	size_t got = 0;
	ssize_t n = -1;

	while (!told_to_quit(d) && now_s() < deadline) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(in, path + got, size - 1 - got);
		if (n <= 0)
			break;
		got += n;
		if (got == size - 1)
			break;
	}
	if (n != 0)
		kill(pid, SIGKILL);
	path[got] = '\0';
	return n == 0 ? (ssize_t)got : -1;
}

/*
 * One fetch, without the lock. libdebuginfod runs in a child process: it can be
 * ended at once (at the time limit, or when leaktrace stops), where the library
 * itself looks at a cancel request only between its waits of a second or more,
 * and a child's end cannot leave the library's state half-way in ours.
 */
static int fetch_one(struct debuginfo *d, const char *build_id)
{
	char path[PATH_MAX];
	int pipefd[2], fd = -1;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		fetch_child(d, build_id, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid > 0 && child_answer(d, pid, pipefd[0], path, sizeof(path)) > 0)
		fd = target_file__open(path);
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return keep_if_same(fd, build_id);
}

static struct fetch *next_queued(struct debuginfo *d)
{
	for (size_t i = 0; i < d->nr_fetches; i++)
		if (d->fetches[i]->state == FETCH_QUEUED)
			return d->fetches[i];
	return NULL;
}

static void *worker_main(void *arg)
{
	struct debuginfo *d = arg;
	struct fetch *f;
	int fd;

	pthread_mutex_lock(&d->lock);
	while (!d->quit) {
		f = next_queued(d);
		if (!f) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		f->state = FETCH_RUNNING;
		pthread_mutex_unlock(&d->lock);
		fd = fetch_one(d, f->build_id);
		pthread_mutex_lock(&d->lock);
		f->fd = fd;
		f->state = FETCH_DONE;
		d->generation++;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static struct fetch *find_fetch(struct debuginfo *d, const char *build_id)
{
	for (size_t i = 0; i < d->nr_fetches; i++)
		if (!strcmp(d->fetches[i]->build_id, build_id))
			return d->fetches[i];
	return NULL;
}

/* Queues a fetch of build_id, starting the worker at the first; with the lock held. */
static struct fetch *queue_fetch(struct debuginfo *d, const char *build_id)
{
	struct fetch *f, **v;
	size_t cap;

	if (d->nr_fetches == d->cap_fetches) {
		cap = d->cap_fetches ? 2 * d->cap_fetches : 16;
		v = realloc(d->fetches, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->fetches = v;
		d->cap_fetches = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	strcpy(f->build_id, build_id);
	f->fd = -1;
	if (!d->worker_started) {
		if (pthread_create(&d->worker, NULL, worker_main, d)) {
			free(f);
			return NULL;
		}
		d->worker_started = true;
	}
	d->fetches[d->nr_fetches++] = f;
	pthread_cond_broadcast(&d->cond);
	return f;
}

/* The answer of f, with the lock held: a dup of its fd, -EINPROGRESS or -ENOENT. */
static int fetch_answer(const struct fetch *f)
{
	int fd;

	if (!f)
		return -ENOENT;
	if (f->state != FETCH_DONE)
		return -EINPROGRESS;
	if (f->fd < 0)
		return -ENOENT;
	fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	return fd >= 0 ? fd : -ENOENT;
}

static struct fetch *get_fetch(struct debuginfo *d, const char *build_id)
{
	struct fetch *f;

	if (!valid_build_id(build_id) || !load_api(d))
		return NULL;
	f = find_fetch(d, build_id);
	return f ? f : queue_fetch(d, build_id);
}

/* Waits for f's answer (or for every fetch, f NULL) until deadline, or a stop; with the lock. */
static void wait_done(struct debuginfo *d, const struct fetch *f, double deadline);

int debuginfo__fetch(struct debuginfo *d, const char *build_id)
{
	struct fetch *f;
	int ret;

	pthread_mutex_lock(&d->lock);
	f = get_fetch(d, build_id);
	if (f && d->budget_end > now_s())
		wait_done(d, f, d->budget_end);
	ret = fetch_answer(f);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int nr_pending(const struct debuginfo *d)
{
	int n = 0;

	for (size_t i = 0; i < d->nr_fetches; i++)
		n += d->fetches[i]->state != FETCH_DONE;
	return n;
}

/* Absolute CLOCK_REALTIME time seconds from now, for pthread_cond_timedwait. */
static struct timespec realtime_in(double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)seconds;
	ts.tv_nsec += (long)((seconds - (time_t)seconds) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void wait_done(struct debuginfo *d, const struct fetch *f, double deadline)
{
	struct timespec slice;

	while ((f ? f->state != FETCH_DONE : nr_pending(d) > 0) && !d->quit && !stop__requested() &&
	       now_s() < deadline) {
		/* In slices: SIGINT sets a flag, and must end us within a second. */
		slice = realtime_in(0.1);
		pthread_cond_timedwait(&d->cond, &d->lock, &slice);
	}
}

int debuginfo__fetch_wait(struct debuginfo *d, const char *build_id)
{
	struct fetch *f;
	int ret;

	pthread_mutex_lock(&d->lock);
	f = get_fetch(d, build_id);
	if (f)
		wait_done(d, f, now_s() + d->timeout_s + 2);
	ret = fetch_answer(f);
	pthread_mutex_unlock(&d->lock);
	return ret == -EINPROGRESS ? -ENOENT : ret;
}

int debuginfo__wait(struct debuginfo *d, double seconds)
{
	int n;

	pthread_mutex_lock(&d->lock);
	wait_done(d, NULL, now_s() + seconds);
	n = nr_pending(d);
	pthread_mutex_unlock(&d->lock);
	return n;
}

unsigned int debuginfo__generation(struct debuginfo *d)
{
	unsigned int g;

	pthread_mutex_lock(&d->lock);
	g = d->generation;
	pthread_mutex_unlock(&d->lock);
	return g;
}

void debuginfo__wait_budget(struct debuginfo *d, double seconds)
{
	double end = now_s() + seconds;

	pthread_mutex_lock(&d->lock);
	wait_done(d, NULL, end);
	d->budget_end = end;
	pthread_mutex_unlock(&d->lock);
}
