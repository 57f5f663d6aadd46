// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Which processes -a leaves alone: code translators, told by their files, and names given. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "exclude.h"
#include "procmaps.h"

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

bool exclude__translator_file(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

	/* valgrind's tools (memcheck-amd64-linux) and the preloads they put in the client. */
	if ((strstr(path, "/valgrind/") && ends_with(base, "-linux")) ||
	    starts_with(base, "vgpreload_"))
		*name = "valgrind";
	else if (starts_with(base, "libdynamorio.so"))
		*name = "DynamoRIO";
	else if (!strcmp(base, "pinbin") || starts_with(base, "libpinvm.so"))
		*name = "Pin";
	else if (starts_with(base, "qemu-") && !starts_with(base, "qemu-system-"))
		*name = "qemu-user";
	else
		return false;
	return true;
}

static bool translator(pid_t pid, const char **name)
{
	char exe[PATH_MAX];
	struct procmaps *maps;
	bool found = false;

	if (!proc__exe(pid, exe, sizeof(exe)) && exclude__translator_file(exe, name))
		return true;
	if (procmaps__read(pid, &maps))
		return false;
	for (size_t i = 0; i < maps->n && !found; i++)
		found = procmap__is_file(&maps->v[i]) &&
			exclude__translator_file(maps->v[i].path, name);
	procmaps__free(maps);
	return found;
}

bool exclude__match(pid_t pid, bool translators, const char *const *comms, int nr, char *why,
		    size_t size)
{
	const char *name;
	char comm[32] = "";

	if (translators && translator(pid, &name)) {
		snprintf(why, size, "%s, which reads its programs' code", name);
		return true;
	}
	proc__read_line(pid, "comm", comm, sizeof(comm));
	for (int i = 0; i < nr; i++) {
		if (!strcmp(comm, comms[i])) {
			snprintf(why, size, "--exclude-comm %s", comms[i]);
			return true;
		}
	}
	return false;
}
