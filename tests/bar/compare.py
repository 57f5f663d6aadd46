#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""compare.py NAME VG_LOG LT_JSON [VG_STDOUT LT_STDOUT VG_RC LT_RC]

valgrind's LEAK SUMMARY of its first process against leaktrace's first process (its heap
stacks summed), for make bar. One line: NAME MATCH|DIFF and, for DIFF, each kind that differs
as kind vg=bytes/blocks lt=bytes/blocks; notes when the outputs or exit statuses differ."""
import json, re, sys, hashlib
vg_suppressed = (0, 0)

KINDS = [("in_use", "in use at exit", "bytes", "allocs"),
         ("definite", "definitely lost", "lost_bytes", "lost_allocs"),
         ("indirect", "indirectly lost", "indirect_bytes", "indirect_allocs"),
         ("possible", "possibly lost", "possible_bytes", "possible_allocs"),
         ("reachable", "still reachable", "reachable_bytes", "reachable_allocs")]

def vg_parse(path):
    top = None
    vals = {}
    for line in open(path, errors="replace"):
        m = re.match(r"==(\d+)== Command: ", line)
        if m and top is None:
            top = m.group(1)
        m = re.match(r"==(\d+)==\s+([a-z ]+): ([\d,]+) bytes in ([\d,]+) blocks", line)
        if m and m.group(1) == top:
            vals[m.group(2).strip()] = (int(m.group(3).replace(",", "")), int(m.group(4).replace(",", "")))
    if "in use at exit" not in vals:
        return None
    global vg_suppressed
    vg_suppressed = vals.get("suppressed", (0, 0))
    return {k: vals.get(label, (0, 0)) for k, label, _, _ in KINDS}

def lt_parse(path):
    d = json.load(open(path))
    procs = d["processes"]
    if not procs:
        return None, 0
    p = procs[0]
    out = {}
    for k, _, fb, fa in KINDS:
        b = a = 0
        for s in p.get("stacks", []):
            if s.get("kind") != "heap":
                continue
            b += s.get(fb, 0); a += s.get(fa, 0)
        out[k] = (b, a)
    return out, len(procs)

def sha(path):
    try:
        return hashlib.sha256(open(path, "rb").read()).hexdigest()[:12]
    except OSError:
        return "-"

name, vgl, ltj = sys.argv[1:4]
try:
    vg = vg_parse(vgl)
except OSError:
    vg = None
try:
    lt, nprocs = lt_parse(ltj)
except (OSError, ValueError, KeyError) as e:
    lt, nprocs = None, 0
notes = []
if len(sys.argv) > 7:
    vo, lo, vrc, lrc = sys.argv[4:8]
    if sha(vo) != sha(lo):
        notes.append("stdout differs")
    if vrc != lrc:
        notes.append(f"exit vg={vrc} lt={lrc}")
if vg is not None and vg_suppressed != (0, 0):
    notes.append(f"vg suppressed {vg_suppressed[0]}/{vg_suppressed[1]}")
if nprocs > 1:
    notes.append(f"{nprocs} processes in json")
if vg is None or lt is None:
    print(f"{name:12s} ERROR vg={'ok' if vg else 'none'} lt={'ok' if lt else 'none'} {' '.join(notes)}")
    sys.exit(2)
diffs = [f"{k} vg={vg[k][0]}/{vg[k][1]} lt={lt[k][0]}/{lt[k][1]}" for k, *_ in KINDS if vg[k] != lt[k]]
verdict = "MATCH" if not diffs else "DIFF"
extra = "" if not diffs else "  " + "; ".join(diffs)
if not diffs:
    extra = f"  (in_use {vg['in_use'][0]}/{vg['in_use'][1]})"
print(f"{name:12s} {verdict}{extra}{'  [' + ', '.join(notes) + ']' if notes else ''}")
