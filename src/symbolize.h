/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Turns a process's stack addresses into frames: function+offset and module. */
#ifndef LT_SYMBOLIZE_H
#define LT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"

struct symbolizer;
struct debuginfo;
struct procmap;

struct symbolizer *symbolizer__new(void);
/*
 * Remembers pid's mappings (re-read at every call while it lives), so that its
 * stacks can still be symbolized after it exits. 0 or a negative errno: -ESRCH
 * when the process is gone (or a zombie); the mappings read before are kept then.
 * A pid first seen by symbolizer__frame/stack is added then.
 */
int symbolizer__add_process(struct symbolizer *s, pid_t pid);
/*
 * Mappings captured as they were made (tracer_opts.capture_mappings), so that a
 * process gone before its /proc/PID/maps was read is still symbolized; a later
 * symbolizer__add_process of a live one replaces them with what /proc says.
 * pid exec'd exe (NULL: unknown): its mappings start afresh, empty.
 */
int symbolizer__exec(struct symbolizer *s, pid_t pid, const char *exe);
/* pid mapped m, which replaces the mappings it overlaps. 0, -EINVAL or -ENOMEM. */
int symbolizer__map(struct symbolizer *s, pid_t pid, const struct procmap *m);
/* child forked from parent: it starts with a copy of parent's mappings. 0, -ESRCH, -ENOMEM. */
int symbolizer__fork(struct symbolizer *s, pid_t parent, pid_t child);
/* Forgets a process's mappings. */
void symbolizer__remove_process(struct symbolizer *s, pid_t pid);
/*
 * One address; 0, or -ENOENT when no mapping holds it (out->symbol NULL then),
 * -ESRCH for a process never seen that is gone. A mapped file is opened once per
 * (dev, inode), as the exact mapped inode (target_file__open_mapped); after its
 * process exited, as PATH only when that is the same device and inode.
 */
int symbolizer__frame(struct symbolizer *s, pid_t pid, uint64_t addr, struct frame *out);
/*
 * A stack walked by frame pointers, innermost first: frame 0 is always kept;
 * frame i+1 only when the function of frame i keeps a frame pointer and frame
 * i+1 is a return address right after a call in an executable file mapping.
 * The walk stops after a frame whose function is unknown, and at a zero address.
 * Frames after the first are return addresses: their function is looked up one
 * byte back. Fills out[] and returns how many frames are sound; *truncated tells
 * that the walk was cut before its end.
 */
int symbolizer__stack(struct symbolizer *s, pid_t pid, const uint64_t *ips, int nr,
		      struct frame *out, bool *truncated);
/*
 * A stack walked with unwind tables (--unwind=dwarf): every frame is sound, so
 * all nr are kept; frames after the first are looked up one byte back. Returns nr.
 */
int symbolizer__stack_unwound(struct symbolizer *s, pid_t pid, const uint64_t *ips, int nr,
			      struct frame *out);
/* The file (device and inode) mapped at addr; 0, or -ENOENT for no file there. */
int symbolizer__file_id(struct symbolizer *s, pid_t pid, uint64_t addr, dev_t *dev, ino_t *ino);
/* The build ID of the file pid maps at path (as its frames name it), or NULL. */
const char *symbolizer__build_id(struct symbolizer *s, pid_t pid, const char *path);
/* The (first) executable mapping of the file pid maps at path; 0 or -ENOENT. */
int symbolizer__text_mapping(struct symbolizer *s, pid_t pid, const char *path,
			     struct text_mapping *out);
/* The main executable (/proc/PID/exe, read by symbolizer__add_process); 0, -ESRCH or -ENOENT. */
int symbolizer__exe(struct symbolizer *s, pid_t pid, const char **path);
/*
 * file:line and inlined calls (struct frame) from the modules' DWARF: their own,
 * their debug file's (.gnu_debuglink, /usr/lib/debug/.build-id), then d's by
 * build ID: its debug directories, then debuginfod, fetched off this path (the
 * frames of a module being fetched get their lines at a later call). d stays
 * the caller's; without it, no debug directories nor debuginfod.
 */
void symbolizer__set_debuginfo(struct symbolizer *s, struct debuginfo *d);
/*
 * Adds file:line to nr frames of pid (as symbolizer__stack gave them), and the
 * calls inlined at each as frames of their own (*frames is reallocated). Returns
 * the new count; *pending tells that a module's debug info is being fetched:
 * a later call may add more (symbolizer__fetch_generation changes then).
 */
int symbolizer__add_lines(struct symbolizer *s, pid_t pid, struct frame **frames, int nr,
			  bool *pending);
unsigned int symbolizer__fetch_generation(struct symbolizer *s);
/* The final report: add_lines may wait up to seconds in all for debuginfod's answers. */
void symbolizer__wait_fetches(struct symbolizer *s, double seconds);
/*
 * After a report's stacks got their lines: the pages of DWARF read for them
 * leave leaktrace's RSS (page cache, read again if a later stack needs them).
 */
void symbolizer__release_lines(struct symbolizer *s);
void symbolizer__free(struct symbolizer *s);

#endif
