#!/usr/bin/env bash
# leaktrace benchmarks, run by `make bench` from the repository root, as root.
# Every traced figure is printed next to an untraced one measured in the same run, with the
# ratio. No figure fails the run: only a broken leaktrace does (a crash, a wrong exit status,
# lost allocations or stacks, a changed output of the traced program).
#
# The probe floors run the same loop and sqlite3 workload under empty BPF programs (floor.c,
# empty.bpf.c) at the plain function entries and at leaktrace's own probe places, so that
# leaktrace's own cost shows apart from the cost of the traps.
#
# Tunables (environment): BENCH_LOOP_N (pairs, untraced, default 2000000), BENCH_LOOP_N_TRACED
# (pairs, traced and floors, default 200000: ns/pair is an average, the traced loop needs
# fewer), BENCH_SQL_ROWS (default 12000, about 520k allocations), BENCH_RUNS (default 3, best
# counts), BENCH_REDIS_N (redis-benchmark requests per test, default 100000),
# BENCH_REDIS_PORT (default 17379, loopback), BENCH_SAMPLE (--sample-bytes of the sampled loop,
# default 512K), BENCH_AGENT_S (seconds the agent's own CPU is measured over, default 60),
# BENCH_GETPPID_N (getppid calls per run, default 2000000),
# BENCH_KEEP=1 (keep the logs, in /tmp).
set -euo pipefail

LEAKTRACE=./leaktrace
OUT=.output/bench
CC=${CC:-gcc}
LOOP_N=${BENCH_LOOP_N:-2000000}
LOOP_N_TRACED=${BENCH_LOOP_N_TRACED:-200000}
SQL_ROWS=${BENCH_SQL_ROWS:-12000}
RUNS=${BENCH_RUNS:-3}
REDIS_N=${BENCH_REDIS_N:-100000}
REDIS_PORT=${BENCH_REDIS_PORT:-17379}
SAMPLE=${BENCH_SAMPLE:-512K}
MANY_ALLOCS=1000000
MANY_STACKS=10000
SQLITE=/usr/bin/sqlite3
CLANG=${CLANG:-clang}
BPFTOOL=${BPFTOOL:-bpftool}
ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# floor.c links leaktrace's objects with the static libraries the Makefile links them with.
STATIC_LIBS=$(sed -n 's/^STATIC_LIBS *:= *//p' Makefile)
WARNINGS="-Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter"
# A hung leaktrace must not hang `make bench`; no run comes near this.
TIMEOUT="timeout -k 10 300"

problems=()	# what went wrong, printed at the end; any entry makes the run fail

die() {
	echo "bench: $*" >&2
	exit 1
}

say() {	# progress, on stderr: the table comes at the end
	echo "bench: $*" >&2
}

problem() {
	problems+=("$*")
}

[ -x "$LEAKTRACE" ] || die "no $LEAKTRACE: run from the repository root after make (make bench does both)"
[ "$(id -u)" -eq 0 ] || die "leaktrace loads BPF programs: run as root"
[ -x "$SQLITE" ] || die "no $SQLITE: tools/install-deps bench installs it"

# Scratch files; kept when leaktrace misbehaved, for the logs and the SQL script.
tmp=$(mktemp -d /tmp/leaktrace-bench.XXXXXX)
redis_pid=
churn_pid=
cleanup() {
	[ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
	[ -z "$churn_pid" ] || kill "$churn_pid" 2>/dev/null || true
	[ ${#problems[@]} -gt 0 ] || [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# --- build the benchmark programs ---------------------------------------------------------
say "building the benchmark programs in $OUT; logs in $tmp"
mkdir -p "$OUT"
$CC -O2 -Wall -Wextra -o "$OUT/loop" tests/bench/loop.c
$CC -O2 -Wall -Wextra -o "$OUT/pipes" tests/bench/pipes.c
$CC -O2 -Wall -Wextra -o "$OUT/getppid" tests/bench/getppid.c
$CC -O2 -Wall -Wextra -fPIC -shared -o "$OUT/count_malloc.so" tests/bench/count_malloc.c -ldl
# many.c needs a real frame at every level of its call chains, with %rbp set up first thing.
$CC -g -O1 -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -fno-shrink-wrap \
	-Wall -Wextra -o "$OUT/many" tests/bench/many.c
$CC -O2 -Wall -Wextra -fPIC -shared -o "$OUT/exitstat.so" tests/bench/exitstat.c
$CC -O2 -Wall -Wextra -o "$OUT/heap" tests/bench/heap.c
$CC -O2 -Wall -Wextra -o "$OUT/reserve" tests/bench/reserve.c
# The floor: empty programs, built as the Makefile builds bpf/leaktrace.bpf.c, and a loader that
# plans with src/allocator.c. Only the objects it needs come out of the archive.
$CLANG -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$ARCH" -Ivmlinux/"$ARCH" -c tests/bench/empty.bpf.c \
	-o "$OUT/empty.bpf.o"
$BPFTOOL gen skeleton "$OUT/empty.bpf.o" name empty_bpf >"$OUT/empty.skel.h"
lib_objs=()
for src in src/*.c; do
	obj=.output/src/$(basename "${src%.c}").o
	# The other architecture's files (arch_arm64.c on x86) are not built.
	[ "$src" = src/main.c ] || [ ! -e "$obj" ] || lib_objs+=("$obj")
done
rm -f "$OUT/libleaktrace.a"
ar rcs "$OUT/libleaktrace.a" "${lib_objs[@]}"
# shellcheck disable=SC2086 # the flags and libraries are lists
$CC -g -O2 $WARNINGS -D_GNU_SOURCE -I"$OUT" -Isrc -Ibpf -o "$OUT/floor" tests/bench/floor.c \
	"$OUT/libleaktrace.a" $STATIC_LIBS -lpthread
EXITSTAT=$PWD/$OUT/exitstat.so
# bpf_stats (left on by a profiling session) times every program run with two clock reads:
# the traced runs and the floors alike, which makes their ratios look better than they are.
stats_note=""
if [ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)" = 1 ]; then
	stats_note="kernel.bpf_stats_enabled is 1: each BPF program run read the clock twice more"
	stats_note+=" (the figures are higher, the ratios lower, than with it off)"
fi
# The floors: at the entries and at leaktrace's places with a perf link per probe, and where
# the kernel has uprobe sessions (6.13+) at its places on the links leaktrace makes there.
FLOOR_MODES=(entry placed)
if grep -qa bpf_session_is_return /sys/kernel/btf/vmlinux 2>/dev/null; then
	FLOOR_MODES+=(session)
fi

# --- helpers ------------------------------------------------------------------------------

# Seconds since the epoch, to the microsecond (bash 5).
now() {
	echo "$EPOCHREALTIME"
}

# min A B ...: the smallest of the numbers.
min() {
	printf '%s\n' "$@" | sort -g | head -n1
}

# ratio A B: B / A, formatted, or "-" when either is missing or zero.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", b / a; else printf "-" }'
}

# ratio2 A B: B / A to two decimals, for ratios near 1 and below.
ratio2() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else printf "-" }'
}

# best A...: the smallest of the numbers given, "-" when none (a run that failed gives none).
best() {
	if [ $# -gt 0 ]; then min "$@"; else echo -; fi
}

# ms_since T0: milliseconds from T0 (a now()) to now.
ms_since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}

# exitstat FILE FIELD: field 1 (run time, s) or 2 (peak RSS, KiB) of the last line exitstat.so
# wrote to FILE, or nothing.
exitstat() {
	[ -s "$1" ] && tail -n1 "$1" | awk -v f="$2" '{ print $f }'
	return 0
}

# run_floor LABEL MODE -- CMD...: runs CMD under empty programs (floor.c) with the caller's
# redirections; records a problem when it does not exit with 0.
run_floor() {
	local label=$1 mode=$2 rc=0
	shift 3
	$TIMEOUT "$OUT/floor" -v "$mode" -- "$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		problem "$label: floor exited with status $rc (reproduce: $OUT/floor -v $mode -- $*)"
	fi
	return 0
}

# places FILE: "name +0xoffset +delta" of each probe a floor -v or leaktrace -v log lists.
places() {
	sed -n 's/^\(floor\|leaktrace: pid\): \(probed \)\{0,1\}\([^ ]*\) at [^ ]*+\(0x[0-9a-f]*\) (entry \(+[0-9]*\))$/\3 \4 \5/p' \
		"$1" | sort
}

# run_traced LABEL JSON [LEAKTRACE_OPTIONS...] -- CMD...: runs `leaktrace -q -o JSON OPTIONS --
# CMD...` with the caller's redirections, and records a problem if leaktrace does not exit with
# the command's status (0 for every program here) or if its snapshot shows lost data.
run_traced() {
	local label=$1 json=$2 rc=0
	local opts=()
	shift 2
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	$TIMEOUT "$LEAKTRACE" -q -o "$json" "${opts[@]}" -- "$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		problem "$label: leaktrace exited with status $rc, the command with 0" \
			"(reproduce: $LEAKTRACE -q -o /tmp/x.json${opts[*]:+ ${opts[*]}} -- $*)"
		return 0
	fi
	check_lost "$label" "$json"
}

# check_lost LABEL JSON: the counters of data leaktrace could not keep must be zero here.
check_lost() {
	local label=$1 json=$2 key n
	if [ ! -s "$json" ]; then
		problem "$label: leaktrace wrote no snapshot to -o $json"
		return 0
	fi
	for key in allocs_untracked stacks_dropped frees_unmatched; do
		n=$({ grep -o "\"$key\":[0-9]*" "$json" || true; } | head -n1 | cut -d: -f2)
		if [ "${n:-0}" -ne 0 ]; then
			problem "$label: the snapshot counts $key = $n"
		fi
	done
}

# --- 1. malloc+free loop ------------------------------------------------------------------
# loop.c times itself and prints ns per pair, so leaktrace's start and exit are not counted.
# The traced runs are verbose: their list of probe places is set against the floor's.
say "malloc+free loop, $RUNS runs untraced, traced, and under empty programs (${#FLOOR_MODES[@]} floors)"
loop_plain=()
loop_traced=()
loop_sampled=()
loop_sampled_multi=()
loop_entry=()
loop_placed=()
loop_session=()
for ((i = 0; i < RUNS; i++)); do
	loop_plain+=("$("$OUT/loop" "$LOOP_N")")
	run_traced "loop" "$tmp/loop.json" -v -- "$OUT/loop" "$LOOP_N_TRACED" \
		>"$tmp/loop.out" 2>"$tmp/loop.err"
	[ -s "$tmp/loop.out" ] && loop_traced+=("$(cat "$tmp/loop.out")")
	# Sampled: with uprobe sessions (6.13+) the calls not sampled skip their return probe;
	# LEAKTRACE_NO_SESSION=1 takes the path of older kernels, where they do not.
	for path in session multi; do
		[ "$path" = session ] || export LEAKTRACE_NO_SESSION=1
		run_traced "loop (sampled, $path)" "$tmp/loop.s.json" --sample-bytes "$SAMPLE" -- \
			"$OUT/loop" "$LOOP_N_TRACED" >"$tmp/loop.s.out" 2>"$tmp/loop.s.err"
		unset LEAKTRACE_NO_SESSION
		[ -s "$tmp/loop.s.out" ] || continue
		if [ "$path" = session ]; then
			loop_sampled+=("$(cat "$tmp/loop.s.out")")
		else
			loop_sampled_multi+=("$(cat "$tmp/loop.s.out")")
		fi
	done
	for mode in "${FLOOR_MODES[@]}"; do
		run_floor "loop (floor $mode)" "$mode" -- "$OUT/loop" "$LOOP_N_TRACED" \
			>"$tmp/loop.$mode.out" 2>"$tmp/loop.$mode.err"
		[ -s "$tmp/loop.$mode.out" ] || continue
		case $mode in
		entry) loop_entry+=("$(cat "$tmp/loop.$mode.out")") ;;
		placed) loop_placed+=("$(cat "$tmp/loop.$mode.out")") ;;
		session) loop_session+=("$(cat "$tmp/loop.$mode.out")") ;;
		esac
	done
done
loop_u=$(min "${loop_plain[@]}")
loop_t=$(best "${loop_traced[@]}")
loop_s=$(best "${loop_sampled[@]}")
loop_sm=$(best "${loop_sampled_multi[@]}")
loop_fe=$(best "${loop_entry[@]}")
loop_fp=$(best "${loop_placed[@]}")
loop_fs=$(best "${loop_session[@]}")
# The floor at leaktrace's places is only that if the places are the same.
places_note=""
if [ -z "$(places "$tmp/loop.err")" ]; then
	places_note="leaktrace -v listed no probe places: the floor's could not be compared"
elif ! diff <(places "$tmp/loop.err") <(places "$tmp/loop.placed.err") >"$tmp/places.diff"; then
	places_note="the floor's probe places differ from leaktrace's (< leaktrace, > floor):"
fi
floor_counts=$(sed -n 's/^floor: placed: \([0-9]*\) functions, \([0-9]*\) off the entry, \([0-9]*\) probes,.*/\1 functions (\2 off the entry here), \3 probes/p' \
	"$tmp/loop.placed.err")

# --- 1b. -a: a process not traced --------------------------------------------------------
# Under -a the probes sit in every process on the host; one that is not traced (--comm names
# another program) still takes their traps, but with uprobe sessions (6.13+) no return trap.

# all_loop LOG: sets all_v to ns per pair of the loop while `leaktrace -a --comm bench-nothing`
# runs, or to nothing. The loop starts once leaktrace says it is tracing.
all_loop() {
	local log=$1 fd pid line
	all_v=
	exec {fd}< <(exec "$LEAKTRACE" -v -a --comm bench-nothing -i 3600 2>&1 >/dev/null)
	pid=$!
	while IFS= read -r -u "$fd" line; do
		echo "$line" >>"$log"
		case $line in
		"leaktrace: tracing"*)
			all_v=$("$OUT/loop" "$LOOP_N_TRACED")
			break
			;;
		esac
	done
	kill -INT "$pid" 2>/dev/null || true
	timeout 60 cat <&"$fd" >>"$log" || true
	exec {fd}<&-
	wait "$pid" || problem "leaktrace -a did not exit with 0 after SIGINT (log: $log)"
}
say "malloc+free loop in a process not traced, under -a, $RUNS runs with and without sessions"
all_session=()
all_multi=()
for ((i = 0; i < RUNS; i++)); do
	all_loop "$tmp/all.session.err"
	[ -z "$all_v" ] || all_session+=("$all_v")
	export LEAKTRACE_NO_SESSION=1
	all_loop "$tmp/all.multi.err"
	unset LEAKTRACE_NO_SESSION
	[ -z "$all_v" ] || all_multi+=("$all_v")
done
all_s=$(best "${all_session[@]}")
all_m=$(best "${all_multi[@]}")

# --- 2. sqlite3 workload ------------------------------------------------------------------
# gen_sql ROWS: a deterministic script: ROWS inserts of text rows in one transaction, updates
# of a third and deletes of a fifth of them, then queries that sort and group.
gen_sql() {
	awk -v rows="$1" 'BEGIN {
		print "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, tag TEXT, qty INTEGER, note TEXT);"
		print "CREATE INDEX item_tag ON item(tag);"
		text = "lorem ipsum dolor sit amet consectetur adipiscing elit"
		print "BEGIN;"
		for (i = 1; i <= rows; i++)
			printf "INSERT INTO item VALUES (%d, '\''name-%d-%x'\'', '\''tag%d'\'', %d, '\''note %d: %s'\'');\n",
				i, i, i * 2654435761 % 4294967296, i % 97, i % 1000, i, substr(text, 1 + i % 20)
		print "COMMIT;"
		print "BEGIN;"
		for (i = 1; i <= rows; i += 3)
			printf "UPDATE item SET qty = qty + 1, note = note || '\'' updated'\'' WHERE id = %d;\n", i
		for (i = 2; i <= rows; i += 5)
			printf "DELETE FROM item WHERE id = %d;\n", i
		print "COMMIT;"
		print "SELECT tag, count(*), sum(qty) FROM item GROUP BY tag ORDER BY 3 DESC LIMIT 5;"
		print "SELECT name, note FROM item ORDER BY note DESC, name LIMIT 5;"
		print "SELECT count(*), avg(length(note)) FROM item;"
		print "SELECT qty % 10 AS q, count(*), group_concat(id) FROM (SELECT * FROM item WHERE qty < 20) GROUP BY q ORDER BY q;"
	}'
}
say "sqlite3 workload, $RUNS runs untraced, traced, and under empty programs (${#FLOOR_MODES[@]} floors)"
gen_sql "$SQL_ROWS" >"$tmp/work.sql"

# How many allocations the workload makes, counted once by an LD_PRELOAD library.
LD_PRELOAD="$PWD/$OUT/count_malloc.so" "$SQLITE" :memory: <"$tmp/work.sql" \
	>/dev/null 2>"$tmp/count.err"
sql_allocs=$(sed -n 's/^count_malloc:.* allocations \([0-9]*\)$/\1/p' "$tmp/count.err")
sql_allocs_k=$(awk -v n="${sql_allocs:-0}" 'BEGIN { printf "%dk", (n + 500) / 1000 }')

# Two times of each run: the wall time of the whole command, traced or not (what a CI run
# pays), and sqlite3's own run time as exitstat.so measures it inside the process, from
# before main to exit, without leaktrace's or the floor's start and exit: the figure the
# floors are compared on.
export BENCH_EXITSTAT_COMM=sqlite3
sql_plain=()
sql_traced=()
in_plain=()
in_traced=()
in_entry=()
in_placed=()
in_session=()
for ((i = 0; i < RUNS; i++)); do
	rm -f "$tmp/sql".*.stat
	t0=$(now)
	LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/sql.plain.stat \
		"$SQLITE" :memory: <"$tmp/work.sql" >"$tmp/sql.plain.out"
	t1=$(now)
	sql_plain+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")

	t0=$(now)
	LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/sql.traced.stat \
		run_traced "sqlite3 (stdin: $tmp/work.sql)" "$tmp/sql.json" -- "$SQLITE" :memory: \
		<"$tmp/work.sql" >"$tmp/sql.traced.out" 2>"$tmp/sql.err"
	t1=$(now)
	sql_traced+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	if ! cmp -s "$tmp/sql.plain.out" "$tmp/sql.traced.out"; then
		problem "sqlite3: its output under leaktrace differs from its output untraced"
	fi
	for mode in "${FLOOR_MODES[@]}"; do
		LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/sql.$mode.stat \
			run_floor "sqlite3 (floor $mode, stdin: $tmp/work.sql)" "$mode" -- \
			"$SQLITE" :memory: <"$tmp/work.sql" >"$tmp/sql.$mode.out" 2>"$tmp/sql.$mode.err"
		if ! cmp -s "$tmp/sql.plain.out" "$tmp/sql.$mode.out"; then
			problem "sqlite3: its output under the floor ($mode) differs from its output untraced"
		fi
	done
	for run in plain traced "${FLOOR_MODES[@]}"; do
		v=$(exitstat "$tmp/sql.$run.stat" 1)
		[ -n "$v" ] || continue
		case $run in
		plain) in_plain+=("$v") ;;
		traced) in_traced+=("$v") ;;
		entry) in_entry+=("$v") ;;
		placed) in_placed+=("$v") ;;
		session) in_session+=("$v") ;;
		esac
	done
done
unset BENCH_EXITSTAT_COMM
sql_u=$(min "${sql_plain[@]}")
sql_t=$(min "${sql_traced[@]}")
secs() {	# secs S: seconds to the millisecond, or "-"
	awk -v s="$1" 'BEGIN { if (s + 0 > 0) printf "%.3f", s; else printf "-" }'
}
in_u=$(secs "$(best "${in_plain[@]}")")
in_t=$(secs "$(best "${in_traced[@]}")")
in_fe=$(secs "$(best "${in_entry[@]}")")
in_fp=$(secs "$(best "${in_placed[@]}")")
in_fs=$(secs "$(best "${in_session[@]}")")

# leaktrace's own fixed cost (load, attach, detach, exit) on a command that does nothing;
# it is part of the sqlite3 traced wall time above. It varies from run to run (detaching waits
# for the kernel's RCU grace periods): the best of RUNS as well.
fixed_runs=()
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	run_traced "true" "$tmp/true.json" -- /bin/true 2>/dev/null
	t1=$(now)
	fixed_runs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done
fixed=$(min "${fixed_runs[@]}")

# --- 3. snapshot of 1M outstanding allocations over 10k stacks -----------------------------
# (--no-scan: the snapshot alone; the scan has its own figures below.)
# leaktrace -v prints after each snapshot:
#   leaktrace: snapshot: <ms> ms, <n> stacks, <m> allocations
# First: the only snapshot is the final one, so it symbolizes all 10k stacks (cold).
# Then: a snapshot every second while many.c sleeps with all its blocks; stacks are cached
# (warm): the cost of each periodic report.
# exitstat.so in leaktrace gives its peak RSS (VmHWM) at its exit: its own, not many.c's.
snap_ms() {	# snap_ms FILE: times of the snapshots that saw all of many.c's allocations
	sed -n 's/^leaktrace: snapshot: \([0-9.]*\) ms, [0-9]* stacks, \([0-9]*\) allocations$/\1 \2/p' \
		"$1" | awk -v m="$MANY_ALLOCS" '$2 >= m { print $1 }'
}
say "snapshot of $MANY_ALLOCS allocations over $MANY_STACKS stacks"
rm -f "$tmp/many1.stat" "$tmp/many2.stat"
LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/many1.stat BENCH_EXITSTAT_COMM=leaktrace \
	run_traced "many (cold)" "$tmp/many1.json" -v --no-scan -i 1000 -- \
	"$OUT/many" "$MANY_ALLOCS" "$MANY_STACKS" 0 >/dev/null 2>"$tmp/many1.err"
LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/many2.stat BENCH_EXITSTAT_COMM=leaktrace \
	run_traced "many (warm)" "$tmp/many2.json" -v --no-scan -i 1 -- \
	"$OUT/many" "$MANY_ALLOCS" "$MANY_STACKS" 3 >/dev/null 2>"$tmp/many2.err"
# The cold run again as a host without libc6-dbg runs it: an empty /usr/lib/debug in a mount
# namespace of its own. libc's DWARF (its debug sections decompressed by libelf, libdw's units)
# is 10 MiB of the peak where libc's debug file is installed.
rss_nodebug=
if [ -d /usr/lib/debug ] && command -v unshare >/dev/null; then
	rm -f "$tmp/many3.stat"
	# shellcheck disable=SC2016 # $@ is the inner shell's
	LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/many3.stat BENCH_EXITSTAT_COMM=leaktrace \
		$TIMEOUT unshare -m sh -c 'mount -t tmpfs none /usr/lib/debug && exec "$@"' sh \
		"$LEAKTRACE" -q -o "$tmp/many3.json" --no-scan -i 1000 -- \
		"$OUT/many" "$MANY_ALLOCS" "$MANY_STACKS" 0 >/dev/null 2>"$tmp/many3.err" ||
		problem "many (no debug file of libc): leaktrace failed (log: $tmp/many3.err)"
	rss_nodebug=$(exitstat "$tmp/many3.stat" 2)
fi
snap_cold=$(snap_ms "$tmp/many1.err" | head -n1)
# The first full snapshot may still symbolize the last stacks made: the best of the others.
snap_warm=$(snap_ms "$tmp/many2.err" | tail -n +2 | sort -g | head -n1)
[ -n "$snap_warm" ] || snap_warm=$(snap_ms "$tmp/many2.err" | head -n1)
# Distinct stacks as the snapshot shows them (frame lists), against what many.c made.
many_stacks=$({ grep -o '"frames":\[[^]]*\]' "$tmp/many1.json" 2>/dev/null || true; } |
	sort -u | wc -l)
if [ "$many_stacks" -lt "$MANY_STACKS" ]; then
	problem "many: the snapshot shows $many_stacks distinct stacks, many.c made $MANY_STACKS" \
		"(reproduce: $LEAKTRACE -q -o /tmp/x.json -- $OUT/many $MANY_ALLOCS $MANY_STACKS 0)"
fi
rss_cold=$(exitstat "$tmp/many1.stat" 2)
rss_warm=$(exitstat "$tmp/many2.stat" 2)
mib() {	# mib KIB: in MiB, or "-"
	awk -v k="$1" 'BEGIN { if (k + 0 > 0) printf "%.1f MiB", k / 1024; else printf "-" }'
}

# --- 3a. resident pages of a reservation ----------------------------------------------------
# tests/bench/reserve.c maps MIB MiB and touches 100 MiB of it; leaktrace -v says at each report
# how long reading its mappings' resident pages took ("resident pages: ... read in MS ms"). The
# best of the reports that read all 100 MiB; with PAGEMAP_SCAN (6.7+) and without (one pagemap
# entry per page, up to 64 GiB a mapping), against 100 MiB mapped and all touched.
resident_ms() {	# resident_ms LABEL MIB [ENV...]: the best read time, or "-"
	local label=$1 mib=$2 log="$tmp/reserve.$2.err"
	shift 2
	(sleep 4; echo) | env "$@" $TIMEOUT "$LEAKTRACE" -v -q --no-scan -i 1 -o "$tmp/reserve.json" \
		-- "$OUT/reserve" "$mib" 100 >/dev/null 2>"$log" ||
		problem "$label: leaktrace failed (reproduce: (sleep 4; echo) | $* $LEAKTRACE -v" \
			"-i 1 -- $OUT/reserve $mib 100)"
	if ! grep -q 'resident pages: 1 mappings, .* 100.0 MiB resident' "$log"; then
		problem "$label: no report read 100.0 MiB resident (see $log)"
		echo -
		return 0
	fi
	sed -n 's/^leaktrace: resident pages: 1 mappings, .* 100.0 MiB resident, read in \([0-9.]*\) ms$/\1/p' \
		"$log" | sort -g | head -n1
}
say "resident pages of a 1 TiB reservation with 100 MiB touched"
res_tib=$(resident_ms "1 TiB reserved" $((1 << 20)))
res_plain=$(resident_ms "100 MiB mapped" 100)
res_nopms=$(resident_ms "64 GiB reserved, no PAGEMAP_SCAN" $((64 << 10)) LEAKTRACE_NO_PAGEMAP_SCAN=1)

# --- 3b. many live blocks: the cost of recording as a process keeps more alive -----------------
# many.c keeps every block it makes: 1M and 4M malloc(16) over 10k stacks 32 frames deep. Its own
# run time (exitstat.so, from before its main to its exit) untraced, under leaktrace's exact mode
# and under the floor of empty programs at leaktrace's places (the session floor where the kernel
# has uprobe sessions, as leaktrace uses them there); best of RUNS each.
MANY_FLOOR=${FLOOR_MODES[${#FLOOR_MODES[@]}-1]}
MANY_SIZES=(1000000 4000000)
declare -A many_u many_t many_f
for n in "${MANY_SIZES[@]}"; do
	say "many live blocks: $n over $MANY_STACKS stacks, $RUNS runs untraced, traced and floor ($MANY_FLOOR)"
	plain=() traced=() floor=()
	for ((i = 0; i < RUNS; i++)); do
		rm -f "$tmp"/live.*.stat
		export BENCH_EXITSTAT_COMM=many
		LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/live.plain.stat "$OUT/many" "$n" "$MANY_STACKS" 0 \
			>/dev/null
		LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/live.traced.stat \
			run_traced "many $n" "$tmp/live.json" --no-scan --max-allocs $((n + n / 4)) -- \
			"$OUT/many" "$n" "$MANY_STACKS" 0 >/dev/null 2>"$tmp/live.err"
		LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/live.floor.stat \
			run_floor "many $n (floor $MANY_FLOOR)" "$MANY_FLOOR" -- "$OUT/many" "$n" \
			"$MANY_STACKS" 0 >/dev/null 2>"$tmp/live.floor.err"
		unset BENCH_EXITSTAT_COMM
		v=$(exitstat "$tmp/live.plain.stat" 1) && [ -n "$v" ] && plain+=("$v")
		v=$(exitstat "$tmp/live.traced.stat" 1) && [ -n "$v" ] && traced+=("$v")
		v=$(exitstat "$tmp/live.floor.stat" 1) && [ -n "$v" ] && floor+=("$v")
	done
	many_u[$n]=$(secs "$(best "${plain[@]}")")
	many_t[$n]=$(secs "$(best "${traced[@]}")")
	many_f[$n]=$(secs "$(best "${floor[@]}")")
done

# --- 4. redis-server (jemalloc): start to live, throughput, detach --------------------------
# lt_start PID LOG: starts `leaktrace -v -i 3600 -p PID` (no report during the run, as -q; -q
# would print no line to wait for) and returns once it prints "leaktrace: tracing", which it
# does once every probe is attached and the unwind tables are built. Sets lt_pid, lt_fd,
# lt_probes_ms (its "probes live" line: the probes record from then on, the tables being
# built) and lt_live_ms (the "tracing" line); 1 when it never got there. More options in the
# array lt_start_opts.
lt_start_opts=()
lt_start() {
	local pid=$1 log=$2 t0 line
	lt_live_ms= lt_probes_ms=
	: >"$log"
	t0=$(now)
	exec {lt_fd}< <(exec "$LEAKTRACE" -v -i 3600 "${lt_start_opts[@]}" -p "$pid" 2>&1 >/dev/null)
	lt_pid=$!
	echo "$t0 start" >>"$log"
	while IFS= read -r -u "$lt_fd" line; do
		echo "$EPOCHREALTIME $line" >>"$log"
		case $line in
		"leaktrace: pid $pid: probes live"*)
			lt_probes_ms=$(ms_since "$t0")
			;;
		"leaktrace: tracing"*)
			lt_live_ms=$(ms_since "$t0")
			return 0
			;;
		esac
	done
	lt_stop "$log" || true
	problem "leaktrace -p $pid ended before its probes were live (reproduce:" \
		"$LEAKTRACE -v -p $pid; log: $log)"
	return 1
}

# lt_stop LOG: SIGINT to the leaktrace of lt_start, then waits for its exit (the end of its
# stderr); sets lt_detach_ms. A problem when it does not exit with 0 within a minute.
lt_stop() {
	local log=$1 t0 rc=0
	lt_detach_ms=
	t0=$(now)
	kill -INT "$lt_pid" 2>/dev/null || true
	timeout 60 cat <&"$lt_fd" >>"$log" || rc=$?
	lt_detach_ms=$(ms_since "$t0")
	exec {lt_fd}<&-
	if [ "$rc" -ne 0 ]; then
		kill -KILL "$lt_pid" 2>/dev/null || true
		problem "leaktrace -p did not exit within 60 s of SIGINT (log: $log)"
	fi
	rc=0
	wait "$lt_pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		problem "leaktrace -p exited with status $rc after SIGINT (log: $log)"
		return 1
	fi
	return 0
}

# redis_rps FILE TEST: requests per second of TEST (SET, GET) in redis-benchmark -q output.
redis_rps() {
	tr '\r' '\n' <"$1" | sed -n "s/^$2: \([0-9.]*\) requests per second.*/\1/p" | tail -n1
}

redis_bench() {	# redis_bench OUT: the benchmark against our server, output to OUT
	$TIMEOUT redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -t set,get -n "$REDIS_N" -q \
		>"$1" 2>&1 || problem "redis-benchmark failed (output: $1)"
}

live_runs=()
probes_runs=()
detach_runs=()
redis_note=""
redis_set_u="" redis_get_u="" redis_set_t="" redis_get_t="" redis_set_f="" redis_get_f=""
maps_mib=""
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
	redis_note="redis: not measured: no redis-server or redis-benchmark (tools/install-deps bench)"
elif (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then
	redis_note="redis: not measured: port $REDIS_PORT is in use (set BENCH_REDIS_PORT)"
else
	say "redis-server (jemalloc): $RUNS starts and stops of leaktrace -p, then redis-benchmark" \
		"untraced and traced"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --dir "$tmp" --logfile "$tmp/redis.log" &
	redis_pid=$!
	for ((i = 0; i < 50; i++)); do
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	# Let the kernel finish tearing down the snapshot runs (maps of a million entries) first.
	# Starts vary with the host's load: 0.1 to 1.8 s were seen while other tracers and tests
	# ran on this 2-core machine. Hence the worst of the runs beside the best.
	sleep 3
	for ((i = 0; i < RUNS; i++)); do
		if lt_start "$redis_pid" "$tmp/live.$i.err"; then
			live_runs+=("$lt_live_ms")
			probes_runs+=("$lt_probes_ms")
			lt_stop "$tmp/live.$i.err" && detach_runs+=("$lt_detach_ms")
		fi
	done
	redis_bench "$tmp/redis.plain.out"
	redis_set_u=$(redis_rps "$tmp/redis.plain.out" SET)
	redis_get_u=$(redis_rps "$tmp/redis.plain.out" GET)
	if lt_start "$redis_pid" "$tmp/redis.lt.err"; then
		live_runs+=("$lt_live_ms")
		probes_runs+=("$lt_probes_ms")
		redis_bench "$tmp/redis.traced.out"
		redis_set_t=$(redis_rps "$tmp/redis.traced.out" SET)
		redis_get_t=$(redis_rps "$tmp/redis.traced.out" GET)
		lt_stop "$tmp/redis.lt.err" && detach_runs+=("$lt_detach_ms")
	fi
	# The floor: empty programs where leaktrace -p puts its probes in redis-server (jemalloc).
	exec {fl_fd}< <(exec $TIMEOUT "$OUT/floor" -v "$MANY_FLOOR" -p "$redis_pid" 2>&1)
	fl_pid=$!
	while IFS= read -r -u "$fl_fd" line; do
		echo "$line" >>"$tmp/redis.floor.err"
		case $line in
		"floor: attached"*)
			redis_bench "$tmp/redis.floor.out"
			redis_set_f=$(redis_rps "$tmp/redis.floor.out" SET)
			redis_get_f=$(redis_rps "$tmp/redis.floor.out" GET)
			break
			;;
		esac
	done
	kill -INT "$fl_pid" 2>/dev/null || true
	timeout 60 cat <&"$fl_fd" >>"$tmp/redis.floor.err" || true
	exec {fl_fd}<&-
	wait "$fl_pid" || problem "floor -p redis-server failed (log: $tmp/redis.floor.err)"
	if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
		problem "redis-server does not answer after leaktrace detached (log: $tmp/redis.log)"
	fi
	# The kernel memory of leaktrace's maps at default settings, as -v says at the last snapshot
	# (the block slots, one per --max-allocs, most of it); leaktrace maps the slots 256 KiB at a
	# time, so they count in neither RSS row.
	maps_re='s/.*leaktrace: memory: [0-9]* KiB resident, \([0-9]*\) KiB in BPF maps.*/\1/p'
	maps_mib=$(sed -n "$maps_re" "$tmp/redis.lt.err" | tail -n1 |
		awk '{ printf "%.1f MiB", $1 / 1024 }')
	kill -TERM "$redis_pid" 2>/dev/null || true
	wait "$redis_pid" || true
	redis_pid=
fi
live_best=$(best "${live_runs[@]}")
probes_best=$(best "${probes_runs[@]}")
probes_worst=$( ((${#probes_runs[@]})) && printf '%s\n' "${probes_runs[@]}" | sort -g | tail -n1 ||
	echo -)
live_worst=$( ((${#live_runs[@]})) && printf '%s\n' "${live_runs[@]}" | sort -g | tail -n1 || echo -)
detach_best=$(best "${detach_runs[@]}")
detach_worst=$( ((${#detach_runs[@]})) && printf '%s\n' "${detach_runs[@]}" | sort -g | tail -n1 ||
	echo -)

# --- 6. the stack walk: the default (--unwind auto, tables) against --unwind fp --------------
say "--unwind fp: loop and sqlite3, $RUNS runs each, the loop by default too; unwind table build times"
loop_fpw=()
loop_auto=()
in_fpw=()
# The default's loop again, each run beside fp's: the difference is the walk's, not the load's.
for ((i = 0; i < RUNS; i++)); do
	run_traced "loop" "$tmp/loop.auto.json" -- "$OUT/loop" "$LOOP_N_TRACED" \
		>"$tmp/loop.auto.out" 2>"$tmp/loop.auto.err"
	[ -s "$tmp/loop.auto.out" ] && loop_auto+=("$(cat "$tmp/loop.auto.out")")
	run_traced "loop --unwind fp" "$tmp/loop.fpw.json" --unwind fp -- "$OUT/loop" \
		"$LOOP_N_TRACED" >"$tmp/loop.fpw.out" 2>"$tmp/loop.fpw.err"
	[ -s "$tmp/loop.fpw.out" ] && loop_fpw+=("$(cat "$tmp/loop.fpw.out")")
	rm -f "$tmp/sql.fpw.stat"
	BENCH_EXITSTAT_COMM=sqlite3 LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/sql.fpw.stat \
		run_traced "sqlite3 --unwind fp" "$tmp/sql.fpw.json" --unwind fp -- "$SQLITE" \
		:memory: <"$tmp/work.sql" >"$tmp/sql.fpw.out" 2>"$tmp/sql.fpw.err"
	if ! cmp -s "$tmp/sql.plain.out" "$tmp/sql.fpw.out"; then
		problem "sqlite3: its output under leaktrace --unwind fp differs from its output untraced"
	fi
	s=$(exitstat "$tmp/sql.fpw.stat" 1)
	[ -n "$s" ] && in_fpw+=("$s")
done
loop_tfp=$(best "${loop_fpw[@]}")
loop_ta=$(best "${loop_auto[@]}")
in_tfp=$(secs "$(best "${in_fpw[@]}")")
# Each pair of the loop records one allocation and walks its stack once (4 frames to _start).
walk_ns=$(awk -v a="$loop_tfp" -v b="$loop_ta" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%+.0f", b - a; else printf "-" }')
# The same difference in the BPF programs' own time (kernel.bpf_stats_enabled, on only for
# this), which the traps' cost, the same in both, does not blur: the loop held at its end
# (loop.c's hold) under leaktrace -p, its programs' run_time_ns read before and after it.
bpf_run_ns() {	# the run_time_ns of every uprobe program loaded (bpftool calls them kprobe)
	$BPFTOOL prog show 2>/dev/null | awk '$2 == "kprobe" {
		for (i = 1; i < NF; i++) if ($i == "run_time_ns") t += $(i + 1) } END { print t + 0 }'
}
bpf_pair_ns() {	# bpf_pair_ns OPTS...: pair_ns, BPF ns per pair of the loop under leaktrace -p OPTS
	local fifo=$tmp/hold.fifo pid wfd before after i
	pair_ns=
	rm -f "$fifo" "$tmp/hold.out"
	mkfifo "$fifo"
	"$OUT/loop" "$LOOP_N_TRACED" hold <"$fifo" >"$tmp/hold.out" &
	pid=$!
	exec {wfd}>"$fifo"
	lt_start_opts=("$@")
	if lt_start "$pid" "$tmp/hold.err"; then
		before=$(bpf_run_ns)
		echo go >&"$wfd"
		for ((i = 0; i < 1200; i++)); do
			[ -s "$tmp/hold.out" ] && break
			sleep 0.1
		done
		after=$(bpf_run_ns)
		echo end >&"$wfd"
		if [ -s "$tmp/hold.out" ]; then
			pair_ns=$(awk -v a="$before" -v b="$after" -v n="$LOOP_N_TRACED" \
				'BEGIN { if (b > a) printf "%.0f", (b - a) / n }')
		else
			problem "the loop under leaktrace -p $* did not end within 120 s"
		fi
		lt_stop "$tmp/hold.err" || true
	fi
	lt_start_opts=()
	exec {wfd}>&-
	wait "$pid" || true
}
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
bpf_fp=() bpf_auto=()
if sysctl -q -w kernel.bpf_stats_enabled=1 2>/dev/null; then
	for ((i = 0; i < RUNS; i++)); do
		bpf_pair_ns --unwind fp
		[ -n "$pair_ns" ] && bpf_fp+=("$pair_ns")
		bpf_pair_ns
		[ -n "$pair_ns" ] && bpf_auto+=("$pair_ns")
	done
	sysctl -q -w kernel.bpf_stats_enabled="$stats_was" 2>/dev/null || true
fi
bpf_tfp=$(best "${bpf_fp[@]}")
bpf_ta=$(best "${bpf_auto[@]}")
walk_bpf_ns=$(awk -v a="$bpf_tfp" -v b="$bpf_ta" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%+.0f", b - a; else printf "-" }')
# shellcheck disable=SC2086 # the libraries are a list
$CC -O2 $WARNINGS -D_GNU_SOURCE -Isrc -Ibpf -o "$OUT/unwind_build" tests/bench/unwind_build.c \
	"$OUT/libleaktrace.a" $STATIC_LIBS -lpthread
unwind_files=(/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6)
for f in /usr/lib/llvm-14/lib/libLLVM-14.so /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1; do
	[ -e "$f" ] && unwind_files+=("$f")
done
"$OUT/unwind_build" "${unwind_files[@]}" >"$tmp/unwind_build.out" ||
	problem "unwind_build: cannot build the tables of ${unwind_files[*]}"
# file:line and inlined calls of 10,000 addresses spread over libc's code, from its debug file
# (libc6-dbg): cold (DWARF opened, every address new: a big process's first snapshot) and warm.
# shellcheck disable=SC2086 # the flags and libraries are lists
$CC -O2 $WARNINGS -D_GNU_SOURCE -I"$OUT" -Isrc -Ibpf -o "$OUT/lines" tests/bench/lines.c \
	"$OUT/libleaktrace.a" $STATIC_LIBS -lpthread
lines_out=$("$OUT/lines" /lib/x86_64-linux-gnu/libc.so.6 10000) ||
	problem "lines: no DWARF for libc.so.6 (install libc6-dbg)"
# --- 5. reachability scan of a 1 GiB heap -------------------------------------------------
# heap.c allocates 1 GiB in 2 KiB blocks, loses one in eight and exits; run mode scans it at
# its exit stop, and leaktrace -v says what the scan took:
#   leaktrace: scan of pid <pid>: <ms> ms, <n> blocks, <MiB> MiB read, ...
# The lost bytes in the snapshot must be exactly what heap.c says it lost.
HEAP_MIB=${BENCH_HEAP_MIB:-1024}
say "reachability scan of a $HEAP_MIB MiB heap"
rm -f "$tmp/heap.stat"
LD_PRELOAD=$EXITSTAT BENCH_EXITSTAT=$tmp/heap.stat BENCH_EXITSTAT_COMM=leaktrace \
	run_traced "heap scan" "$tmp/heap.json" -v -- "$OUT/heap" "$HEAP_MIB" >"$tmp/heap.out" \
	2>"$tmp/heap.err"
rss_scan=$(exitstat "$tmp/heap.stat" 2)
scan_ms=$(sed -n 's/^leaktrace: scan of pid [0-9]*: \([0-9.]*\) ms, .*/\1/p' "$tmp/heap.err" | tail -n1)
scan_mib=$(sed -n 's/^leaktrace: scan of pid [0-9]*: [0-9.]* ms, [0-9]* blocks, \([0-9.]*\) MiB read.*/\1/p' \
	"$tmp/heap.err" | tail -n1)
heap_lost=$(awk '$1 == "lost" { print $2 }' "$tmp/heap.out")
json_lost=$(grep -o '"lost_bytes":[0-9]*' "$tmp/heap.json" 2>/dev/null | head -n1 | cut -d: -f2)
if [ -z "$scan_ms" ] || [ "${json_lost:-x}" != "${heap_lost:-y}" ]; then
	problem "heap scan: lost_bytes ${json_lost:-none}, heap.c lost ${heap_lost:-?}" \
		"(reproduce: $LEAKTRACE -v -o /tmp/x.json -- $OUT/heap $HEAP_MIB)"
fi

# --- 6. live scans: how long the target is held ---------------------------------------------
# The churn fixture: 4 threads allocating, freeing and moving pointers between its bss and its
# heap at full speed. leaktrace -p --scan scans it running; only when a scan leaves allocated
# blocks unreached (a pointer moved while it read) is it held, to confirm them. -v says per
# scan: "..., held <ms> ms". Not one report may say a byte is lost.
CHURN=.output/fixtures/verdicts-nofp
CHURN_S=${BENCH_CHURN_S:-10}
say "live scans of $CHURN churn for $CHURN_S s"
mkfifo "$tmp/churn.in"
"$CHURN" churn <"$tmp/churn.in" >"$tmp/churn.out" &
churn_pid=$!
exec 8>"$tmp/churn.in"	# its stdin stays open until the end
for _ in $(seq 100); do
	grep -q ready "$tmp/churn.out" && break
	sleep 0.1
done
"$LEAKTRACE" -v -p "$churn_pid" --scan -i 0.1 -d "$CHURN_S" -n 1 >"$tmp/churn.txt" \
	2>"$tmp/churn.err" || problem "live scans: leaktrace failed (see $tmp/churn.err)"
exec 8>&-
wait "$churn_pid" 2>/dev/null || true
churn_pid=
sed -n 's/^leaktrace: scan of pid .*, held \([0-9.]*\) ms.*/\1/p' "$tmp/churn.err" \
	>"$tmp/held.ms"
scans=$(wc -l <"$tmp/held.ms")
holds=$(awk '$1 > 0' "$tmp/held.ms" | wc -l)
held_med=$(awk '$1 > 0' "$tmp/held.ms" | sort -n | awk '{ v[NR] = $1 } END {
	if (NR) printf "%.1f", v[int((NR + 1) / 2)] }')
held_max=$(sort -n "$tmp/held.ms" | tail -n1)
false_lost=$(grep '^pid ' "$tmp/churn.txt" | grep -vc ', 0 B lost (' || true)
[ "$scans" -gt 0 ] || problem "live scans: leaktrace -v printed no scan"
[ "$false_lost" -eq 0 ] || problem "live scans: $false_lost reports call churned blocks lost"

# --- 8. --kernel: pipe(2) churn, every pipe two kernel allocations and two frees ----------
# kmem_run OPTS...: ns per pipe of tests/bench/pipes.c under `leaktrace --kernel OPTS` (started
# first, its "tracing" line waited for, SIGINT after), best of $RUNS; "-" when it failed.
PIPES_N=${BENCH_PIPES_N:-200000}
kmem_run() {
	local runs=() i lt ns
	for i in $(seq "$RUNS"); do
		: >"$tmp/kmem.err"
		$TIMEOUT "$LEAKTRACE" --kernel -i 3600 "$@" >/dev/null 2>"$tmp/kmem.err" &
		lt=$!
		for _ in $(seq 600); do
			grep -q 'leaktrace: tracing' "$tmp/kmem.err" && break
			kill -0 "$lt" 2>/dev/null || break
			sleep 0.1
		done
		if ! grep -q 'leaktrace: tracing' "$tmp/kmem.err"; then
			problem "--kernel $*: leaktrace did not start ($tmp/kmem.err)"
			kill "$lt" 2>/dev/null || true
			wait "$lt" 2>/dev/null || true
			continue
		fi
		ns=$("$OUT/pipes" "$PIPES_N")
		kill -INT "$lt"
		if wait "$lt"; then runs+=("$ns"); else problem "--kernel $*: leaktrace failed ($tmp/kmem.err)"; fi
	done
	best "${runs[@]}"
}
say "--kernel: $PIPES_N pipes opened and closed, $RUNS runs each, untraced and traced"
pipes_plain=()
for _ in $(seq "$RUNS"); do
	pipes_plain+=("$("$OUT/pipes" "$PIPES_N")")
done
pipes_u=$(best "${pipes_plain[@]}")
pipes_k=$(kmem_run)
pipes_ks=$(kmem_run --sample-bytes "$SAMPLE")

# --- 9. leaktrace agent: its cost on a target, on a process not a target, on getppid -----
# agent_start LOG PID [OPTS...]: sets agent_pid to `leaktrace agent -p PID OPTS` (by default
# sampled at 512K), once it says it is tracing; agent_pid empty when it did not start.
AGENT_S=${BENCH_AGENT_S:-60}
GETPPID_N=${BENCH_GETPPID_N:-2000000}
agent_start() {
	local log=$1 pid=$2
	shift 2
	: >"$log"
	$TIMEOUT "$LEAKTRACE" agent --listen 127.0.0.1:0 --state-dir "$tmp/agent-state" -p "$pid" \
		"$@" >/dev/null 2>"$log" &
	agent_pid=$!
	for _ in $(seq 600); do
		grep -q 'leaktrace: tracing' "$log" && return 0
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.1
	done
	problem "leaktrace agent -p $pid did not start ($log)"
	kill "$agent_pid" 2>/dev/null || true
	wait "$agent_pid" 2>/dev/null || true
	agent_pid=
}
agent_stop() {
	kill -TERM "$agent_pid"
	wait "$agent_pid" || problem "leaktrace agent did not exit with 0 on SIGTERM"
}
# cpu_ns PID: the CPU time of PID's threads so far, in ns (/proc/PID/task/*/schedstat's first).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%d", t }'
}
# all_getppid ARRAY [VAR=VALUE...]: appends to ARRAY getppid's ns per call while
# `leaktrace -a --comm bench-nothing` runs (in the environment given), once it is tracing.
all_getppid() {
	local -n into=$1
	local lt rc
	shift
	: >"$tmp/all.gp.err"
	# shellcheck disable=SC2086 # TIMEOUT is a command and its arguments
	env "$@" $TIMEOUT "$LEAKTRACE" -a --comm bench-nothing -i 3600 >/dev/null 2>"$tmp/all.gp.err" &
	lt=$!
	for _ in $(seq 600); do
		grep -q 'leaktrace: tracing' "$tmp/all.gp.err" && break
		kill -0 "$lt" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'leaktrace: tracing' "$tmp/all.gp.err" && into+=("$("$OUT/getppid" "$GETPPID_N")")
	kill -INT "$lt" 2>/dev/null || true
	rc=0
	wait "$lt" || rc=$?
	# 7: held off, a valgrind runs on the host (other work): the row is left out, not a fault.
	if [ "$rc" -eq 7 ]; then
		getppid_all_note="-a held off (exit status 7: a valgrind ran on the host) in some runs"
	elif [ "$rc" -ne 0 ]; then
		problem "leaktrace -a --comm bench-nothing $* exited with $rc ($tmp/all.gp.err)"
	fi
}
say "leaktrace agent: the loop as its target, a loop and getppid in processes not its target," \
	"$RUNS runs; its own CPU over $AGENT_S s"
agent_target=()
agent_exact=()
agent_other=()
agent_plain=()
getppid_plain=()
getppid_all_note=
getppid_agent=()
getppid_all=()
for ((i = 0; i < RUNS; i++)); do
	agent_plain+=("$("$OUT/loop" "$LOOP_N")")
	getppid_plain+=("$("$OUT/getppid" "$GETPPID_N")")
	# The target waits on a fifo for its start, so that the agent attaches first.
	for mode in sampled exact; do
		rm -f "$tmp/go"
		mkfifo "$tmp/go"
		"$OUT/loop" "$LOOP_N_TRACED" wait <"$tmp/go" >"$tmp/agent.loop.out" &
		target=$!
		exec {go}>"$tmp/go"
		if [ "$mode" = sampled ]; then
			agent_start "$tmp/agent.err" "$target"
		else
			agent_start "$tmp/agent.err" "$target" --sample-bytes 0
		fi
		if [ -n "$agent_pid" ] && [ "$mode" = sampled ]; then
			agent_other+=("$("$OUT/loop" "$LOOP_N")")
			getppid_agent+=("$("$OUT/getppid" "$GETPPID_N")")
		fi
		echo go >&"$go"
		exec {go}>&-
		wait "$target" || problem "the agent's target loop failed"
		[ -n "$agent_pid" ] || continue
		agent_stop
		[ -s "$tmp/agent.loop.out" ] || continue
		if [ "$mode" = sampled ]; then
			agent_target+=("$(cat "$tmp/agent.loop.out")")
		else
			agent_exact+=("$(cat "$tmp/agent.loop.out")")
		fi
	done
	# -a's mmap hook: the system-call hook tp_btf/sys_exit (its probes are in every process;
	# the agent's and -p's are uprobes in their targets).
	all_getppid getppid_all
done
agent_u=$(best "${agent_plain[@]}")
agent_t=$(best "${agent_target[@]}")
agent_x=$(best "${agent_exact[@]}")
agent_o=$(best "${agent_other[@]}")
gp_u=$(best "${getppid_plain[@]}")
gp_a=$(best "${getppid_agent[@]}")
gp_all=$(best "${getppid_all[@]}")
# Its own CPU: an idle target (the loop waiting for its start), AGENT_S seconds of its default
# interval (-i 5) after it is up, scaled to an hour. Its BPF programs' time is the target's.
rm -f "$tmp/go"
mkfifo "$tmp/go"
"$OUT/loop" 1 wait <"$tmp/go" >/dev/null &
target=$!
exec {go}>"$tmp/go"
agent_start "$tmp/agent.cpu.err" "$target"
agent_cpu_h=
agent_cpu_pct=
# agent_pid is timeout(1)'s; leaktrace is its child.
lt=$([ -z "$agent_pid" ] || pgrep -n -P "$agent_pid" || true)
if [ -n "$lt" ]; then
	t0=$(cpu_ns "$lt")
	sleep "$AGENT_S"
	t1=$(cpu_ns "$lt")
	agent_cpu_h=$(awk -v d=$((t1 - t0)) -v s="$AGENT_S" 'BEGIN { printf "%.2f", d / 1e9 * 3600 / s }')
	agent_cpu_pct=$(awk -v d=$((t1 - t0)) -v s="$AGENT_S" 'BEGIN { printf "%.3f%%", d / 1e9 / s * 100 }')
fi
[ -z "$agent_pid" ] || agent_stop
echo go >&"$go"
exec {go}>&-
wait "$target" || true

# --- report -------------------------------------------------------------------------------
row() {	# row NAME UNTRACED TRACED RATIO
	printf '%-50s %10s %10s %9s\n' "$@"
}
echo
row "benchmark" "untraced" "traced" "ratio"
row "malloc+free loop (ns/pair)" "$loop_u" "$loop_t" "$(ratio "$loop_u" "$loop_t")"
row "  floor: empty probes at the entries" "" "$loop_fe" "$(ratio "$loop_u" "$loop_fe")"
row "  floor: empty probes at leaktrace's places" "" "$loop_fp" "$(ratio "$loop_u" "$loop_fp")"
row "  leaktrace / floor at its places (goal <= 1.2x)" "" "" "$(ratio2 "$loop_fp" "$loop_t")"
row "  leaktrace / floor at the entries (goal <= 0.35x)" "" "" "$(ratio2 "$loop_fe" "$loop_t")"
row "  floor: empty uprobe sessions at its places" "" "$loop_fs" "$(ratio "$loop_u" "$loop_fs")"
row "  leaktrace / session floor (goal <= 1.2x)" "" "" "$(ratio2 "$loop_fs" "$loop_t")"
row "  --sample-bytes $SAMPLE, uprobe sessions" "" "$loop_s" "$(ratio "$loop_u" "$loop_s")"
row "    / floor at its places" "" "" "$(ratio2 "$loop_fp" "$loop_s")"
row "  --sample-bytes $SAMPLE, no sessions (< 6.13)" "" "$loop_sm" "$(ratio "$loop_u" "$loop_sm")"
row "    / floor at its places" "" "" "$(ratio2 "$loop_fp" "$loop_sm")"
row "-a: the loop in a process not traced" "" "$all_s" "$(ratio "$loop_u" "$all_s")"
row "  the same without uprobe sessions (< 6.13)" "" "$all_m" "$(ratio "$loop_u" "$all_m")"
row "sqlite3 workload, wall (s, $sql_allocs_k allocs)" "$sql_u" "$sql_t" "$(ratio "$sql_u" "$sql_t")"
row "  leaktrace start+exit alone (s)" "" "$fixed" ""
row "  sqlite3's own run time (s)" "$in_u" "$in_t" "$(ratio "$in_u" "$in_t")"
row "  floor: empty probes at the entries" "" "$in_fe" "$(ratio "$in_u" "$in_fe")"
row "  floor: empty probes at leaktrace's places" "" "$in_fp" "$(ratio "$in_u" "$in_fp")"
row "  leaktrace / floor at its places (goal <= 1.2x)" "" "" "$(ratio2 "$in_fp" "$in_t")"
row "  leaktrace / floor at the entries (goal <= 0.35x)" "" "" "$(ratio2 "$in_fe" "$in_t")"
row "  floor: empty uprobe sessions at its places" "" "$in_fs" "$(ratio "$in_u" "$in_fs")"
row "  leaktrace / session floor (goal <= 1.2x)" "" "" "$(ratio2 "$in_fs" "$in_t")"
if [ -z "$redis_note" ]; then
	row "redis-server SET (requests/s)" "${redis_set_u:--}" "${redis_set_t:--}" \
		"$(ratio2 "$redis_set_u" "$redis_set_t")"
	row "redis-server GET (requests/s)" "${redis_get_u:--}" "${redis_get_t:--}" \
		"$(ratio2 "$redis_get_u" "$redis_get_t")"
	row "  floor at its places, SET" "" "${redis_set_f:--}" ""
	row "  floor at its places, GET" "" "${redis_get_f:--}" ""
	row "  leaktrace / floor, SET (goal >= 0.95x)" "" "" "$(ratio2 "$redis_set_f" "$redis_set_t")"
	row "  leaktrace / floor, GET (goal >= 0.95x)" "" "" "$(ratio2 "$redis_get_f" "$redis_get_t")"
	row "start to probes live, -p redis (goal < 60 ms)" "" "$probes_best ms" "best"
	row "" "" "$probes_worst ms" "worst"
	row "  to the tracing line: unwind tables built" "" "$live_best ms" "best"
	row "" "" "$live_worst ms" "worst"
	row "detach, SIGINT to exit (goal < 150 ms)" "" "$detach_best ms" "best"
	row "" "" "$detach_worst ms" "worst"
fi
for n in "${MANY_SIZES[@]}"; do
	row "many live blocks: $((n / 1000000))M over $MANY_STACKS stacks (s)" "${many_u[$n]}" \
		"${many_t[$n]}" "$(ratio "${many_u[$n]}" "${many_t[$n]}")"
	row "  floor: empty probes at its places ($MANY_FLOOR)" "" "${many_f[$n]}" \
		"$(ratio "${many_u[$n]}" "${many_f[$n]}")"
	row "  leaktrace / floor (goal <= 1.3x)" "" "" "$(ratio2 "${many_f[$n]}" "${many_t[$n]}")"
done
row "loop, --unwind fp (ns/pair)" "$loop_u" "$loop_tfp" "$(ratio "$loop_u" "$loop_tfp")"
row "loop, default (auto), beside it (ns/pair)" "$loop_u" "$loop_ta" "$(ratio "$loop_u" "$loop_ta")"
row "  stack walk, default (auto) vs fp (ns/alloc, goal <= +300)" "" "$walk_ns" ""
row "  BPF time per pair, --unwind fp (ns, bpf_stats)" "" "$bpf_tfp" ""
row "  BPF time per pair, default (auto) (ns, bpf_stats)" "" "$bpf_ta" ""
row "  stack walk in BPF time, default vs fp (ns/alloc, goal <= +300)" "" "$walk_bpf_ns" ""
row "sqlite3's own run time, --unwind fp (s)" "$in_u" "$in_tfp" "$(ratio "$in_u" "$in_tfp")"
while read -r path rows kib ms; do
	row "unwind table build: $(basename "$path") ($rows rows, $kib KiB)" "" "$ms ms" ""
done <"$tmp/unwind_build.out"
if [ -n "$lines_out" ]; then
	read -r _ lines_n lines_levels lines_cold lines_warm <<<"$lines_out"
	row "file:line of $lines_n libc addresses ($lines_levels levels, target < 1 s)" "" \
		"$lines_cold ms" "cold"
	row "" "" "$lines_warm ms" "warm"
fi
if [ -n "$snap_warm$snap_cold" ]; then
	row "snapshot, 1M allocs / 10k stacks (target < 50 ms)" "" "${snap_warm:--} ms" "warm"
	row "  first snapshot (symbolizes 10k stacks, file:line)" "" "${snap_cold:--} ms" "cold"
else
	echo "snapshot: not measured (leaktrace prints no timing)"
fi
row "resident pages, 1 TiB reserved, 100 MiB touched" "" "${res_tib:--} ms" \
	"$(ratio "$res_plain" "$res_tib")"
row "  100 MiB mapped and touched, beside it" "" "${res_plain:--} ms" ""
row "  64 GiB reserved, 100 MiB touched, no PAGEMAP_SCAN" "" "${res_nopms:--} ms" ""
row "scan of a $HEAP_MIB MiB heap at exit (target < 2 s)" "" "${scan_ms:--} ms" \
	"${scan_mib:--} MiB"
row "  leaktrace peak RSS, that run (512k blocks)" "" "$(mib "$rss_scan")" ""
row "leaktrace peak RSS, snapshot run (goal < 25 MiB)" "" "$(mib "$rss_cold")" "cold"
row "" "" "$(mib "$rss_warm")" "warm"
row "  the same, no debug file of libc (no libc6-dbg)" "" "$(mib "$rss_nodebug")" "cold"
row "kernel memory of the maps, -p redis, default settings" "" "${maps_mib:--}" ""
row "pipe(2) + 2 close(2) (ns/pipe), --kernel" "$pipes_u" "$pipes_k" "$(ratio2 "$pipes_u" "$pipes_k")"
row "  --kernel --sample-bytes $SAMPLE" "" "$pipes_ks" "$(ratio2 "$pipes_u" "$pipes_ks")"
row "live scans: $scans, held $holds times (goal: a few ms)" "" "${held_med:--} ms" "median"
row "" "" "${held_max:--} ms" "max"
row "agent -p: the loop as its target (ns/pair)" "$agent_u" "$agent_t" "$(ratio "$agent_u" "$agent_t")"
row "  exact (--sample-bytes 0)" "" "$agent_x" "$(ratio "$agent_u" "$agent_x")"
row "  the loop in a process not its target" "" "$agent_o" "$(ratio2 "$agent_u" "$agent_o")"
row "getppid(2) (ns/call), agent -p running" "$gp_u" "$gp_a" "$(ratio2 "$gp_u" "$gp_a")"
row "  -a --comm bench-nothing running (sys_exit hook)" "" "$gp_all" "$(ratio2 "$gp_u" "$gp_all")"
row "agent's own CPU per hour, idle target, -i 5" "" "${agent_cpu_h:--} s" "${agent_cpu_pct:--}"
echo
echo "loop: best of $RUNS, $LOOP_N pairs untraced, $LOOP_N_TRACED traced and under each floor" \
	"(timed inside the program)."
echo "floors: tests/bench/floor.c: empty BPF programs on glibc's ${floor_counts:-functions}:" \
	"an entry probe on each function and a return probe on each but free and munmap, at" \
	"offset 0 or where leaktrace puts them, with a perf link per probe; the session floor" \
	"(kernels 6.13+) at leaktrace's places on the links leaktrace makes there: one" \
	"uprobe_multi link for free and one uprobe session for the others; best of $RUNS each."
if [ -n "$stats_note" ]; then
	echo "$stats_note"
fi
if [ -n "$getppid_all_note" ]; then
	echo "getppid: $getppid_all_note"
fi
if [ -n "$places_note" ]; then
	echo "$places_note"
	sed 's/^/  /' "$tmp/places.diff"
fi
echo "sqlite3: best of $RUNS, \`sqlite3 :memory: < script\` ($SQL_ROWS rows inserted;" \
	"${sql_allocs:-?} malloc/calloc/realloc calls), untraced vs \`leaktrace -q -- sqlite3 ...\`;" \
	"wall: the whole command; own run time: from before its main to its exit (exitstat.so)."
if [ -n "$redis_note" ]; then
	echo "$redis_note"
else
	echo "redis: redis-benchmark -t set,get -n $REDIS_N -q on 127.0.0.1:$REDIS_PORT, once" \
		"untraced, once under \`leaktrace -p PID -i 3600\` and once under \`floor $MANY_FLOOR -p" \
		"PID\` (empty programs where leaktrace -p probes jemalloc); start to live: from starting" \
		"\`leaktrace -v -p PID\` to its \"probes live\" line (${probes_runs[*]:-none}" \
		"ms) and its \"tracing\" line, ${#live_runs[@]} runs: ${live_runs[*]:-none} ms;" \
		"detach: ${detach_runs[*]:-none} ms."
fi
echo "many live blocks: tests/bench/many.c keeps N malloc(16) from $MANY_STACKS call stacks" \
	"(32 frames deep), its own run time (exitstat.so): untraced, under \`leaktrace -q --no-scan" \
	"--max-allocs 1.25N\`, and under the $MANY_FLOOR floor; best of $RUNS each."
echo "snapshot: $MANY_ALLOCS malloc(16) from $MANY_STACKS call stacks, $many_stacks distinct" \
	"stacks in the JSON; warm: a periodic snapshot with every stack symbolized already;" \
	"peak RSS: leaktrace's VmHWM at its exit."
echo "resident pages: tests/bench/reserve.c maps MIB MiB and touches 100 MiB;" \
	"\`(sleep 4; echo) | leaktrace -v -q --no-scan -i 1 -- reserve MIB 100\`, the best of its" \
	"reports' \"resident pages ... read in MS ms\" lines (ratio: against 100 MiB all touched);" \
	"without PAGEMAP_SCAN: LEAKTRACE_NO_PAGEMAP_SCAN=1, one pagemap entry per page."
echo "scan: tests/bench/heap.c, $HEAP_MIB MiB in 2 KiB blocks, one in eight lost; the scan" \
	"leaktrace -v times at the exit stop (read with process_vm_readv, $scan_mib MiB read)."
echo "pipes: tests/bench/pipes.c, $PIPES_N pipes opened and closed (each two kernel" \
	"allocations and frees: alloc_pipe_info's), timed inside the program; traced: under" \
	"\`leaktrace --kernel -i 3600\` system-wide, which also records what the rest of the host" \
	"allocates meanwhile; best of $RUNS each."
echo "agent: \`leaktrace agent -p PID\` with its defaults (--sample-bytes 512K, -i 5); target:" \
	"the loop ($LOOP_N_TRACED pairs, started once the agent traces it); not its target: the" \
	"loop ($LOOP_N pairs) and tests/bench/getppid.c ($GETPPID_N calls) while it runs, against" \
	"untraced runs of both; best of $RUNS each. Its own CPU: the CPU time of the agent's" \
	"threads (schedstat) over $AGENT_S s with an idle target, scaled to an hour (and the share" \
	"of one core); its BPF programs run in the target's time, not in this."
echo "live scans: \`leaktrace -v -p PID --scan -i 0.1 -d $CHURN_S\` of \`verdicts churn\` (4" \
	"threads moving pointers at full speed); held: from the first thread asked to stop to" \
	"the last let go, over the scans that held it (median of those, and the longest);" \
	"$false_lost reports with lost bytes."

if [ ${#problems[@]} -gt 0 ]; then
	echo
	echo "bench: leaktrace misbehaved:" >&2
	printf '  %s\n' "${problems[@]}" | awk '!seen[$0]++' >&2	# once each, in order
	echo "  logs, snapshots and the SQL script: $tmp" >&2
	exit 1
fi
