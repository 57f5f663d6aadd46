// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* -p PID checked before the attach, so that each kind of wrong pid gets its own reason. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* The kernel's PF_KTHREAD, field 9 (flags) of /proc/PID/stat. */
#define PF_KTHREAD 0x00200000UL

const char target__exited_during_attach[] = "it exited during the attach";

/* State and flags from /proc/PID/stat; -errno when it cannot be read. */
static int read_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold anything, ')' too: the fields follow the last one. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EINVAL;
	return 0;
}

pid_t target__tgid(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	if (f)
		fclose(f);
	return tgid;
}

const char *target__why_not(pid_t pid, char *buf, size_t size)
{
	unsigned long flags;
	pid_t tgid;
	char state;

	if (pid <= 0 || read_stat(pid, &state, &flags))
		return "no such process";
	tgid = target__tgid(pid);
	if (tgid > 0 && tgid != pid) {
		snprintf(buf, size,
			 "it is a thread of process %d: trace that process "
			 "(-p %d)",
			 tgid, tgid);
		return buf;
	}
	if (flags & PF_KTHREAD)
		return "it is a kernel thread: it has no user-space memory to trace";
	if (state == 'Z' || state == 'X')
		return "it is a zombie (it exited; its parent has not reaped it yet): nothing "
		       "left to trace";
	return NULL;
}
