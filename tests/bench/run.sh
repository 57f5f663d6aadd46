#!/usr/bin/env bash
# leaktrace benchmarks, run by `make bench` from the repository root, as root.
# Every traced figure is printed next to an untraced one measured in the same run, with the
# ratio. No figure fails the run: only a broken leaktrace does (a crash, a wrong exit status,
# lost allocations or stacks, a changed output of the traced program).
#
# Tunables (environment): BENCH_LOOP_N (pairs, untraced, default 2000000), BENCH_LOOP_N_TRACED
# (pairs, traced, default 200000: ns/pair is an average, the traced loop needs fewer),
# BENCH_SQL_ROWS (default 12000, about 520k allocations), BENCH_RUNS (default 3, best counts).
set -euo pipefail

LEAKTRACE=./leaktrace
OUT=.output/bench
CC=${CC:-gcc}
LOOP_N=${BENCH_LOOP_N:-2000000}
LOOP_N_TRACED=${BENCH_LOOP_N_TRACED:-200000}
SQL_ROWS=${BENCH_SQL_ROWS:-12000}
RUNS=${BENCH_RUNS:-3}
MANY_ALLOCS=1000000
MANY_STACKS=10000
SQLITE=/usr/bin/sqlite3
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
trap '[ ${#problems[@]} -gt 0 ] || rm -rf "$tmp"' EXIT

# --- build the benchmark programs ---------------------------------------------------------
say "building the benchmark programs in $OUT"
mkdir -p "$OUT"
$CC -O2 -Wall -Wextra -o "$OUT/loop" tests/bench/loop.c
$CC -O2 -Wall -Wextra -fPIC -shared -o "$OUT/count_malloc.so" tests/bench/count_malloc.c -ldl
# many.c needs a real frame at every level of its call chains, with %rbp set up first thing.
$CC -g -O1 -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -fno-shrink-wrap \
	-Wall -Wextra -o "$OUT/many" tests/bench/many.c

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
say "malloc+free loop, $RUNS runs untraced and traced"
loop_plain=()
loop_traced=()
for ((i = 0; i < RUNS; i++)); do
	loop_plain+=("$("$OUT/loop" "$LOOP_N")")
	run_traced "loop" "$tmp/loop.json" -- "$OUT/loop" "$LOOP_N_TRACED" \
		>"$tmp/loop.out" 2>"$tmp/loop.err"
	[ -s "$tmp/loop.out" ] && loop_traced+=("$(cat "$tmp/loop.out")")
done
loop_u=$(min "${loop_plain[@]}")
loop_t=$( ((${#loop_traced[@]})) && min "${loop_traced[@]}" || echo -)

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
say "sqlite3 workload, $RUNS runs untraced and traced"
gen_sql "$SQL_ROWS" >"$tmp/work.sql"

# How many allocations the workload makes, counted once by an LD_PRELOAD library.
LD_PRELOAD="$PWD/$OUT/count_malloc.so" "$SQLITE" :memory: <"$tmp/work.sql" \
	>/dev/null 2>"$tmp/count.err"
sql_allocs=$(sed -n 's/^count_malloc:.* allocations \([0-9]*\)$/\1/p' "$tmp/count.err")
sql_allocs_k=$(awk -v n="${sql_allocs:-0}" 'BEGIN { printf "%dk", (n + 500) / 1000 }')

# Wall time of the whole command, traced or not: that is what a CI run pays.
sql_plain=()
sql_traced=()
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	"$SQLITE" :memory: <"$tmp/work.sql" >"$tmp/sql.plain.out"
	t1=$(now)
	sql_plain+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")

	t0=$(now)
	run_traced "sqlite3 (stdin: $tmp/work.sql)" "$tmp/sql.json" -- "$SQLITE" :memory: \
		<"$tmp/work.sql" >"$tmp/sql.traced.out" 2>"$tmp/sql.err"
	t1=$(now)
	sql_traced+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	if ! cmp -s "$tmp/sql.plain.out" "$tmp/sql.traced.out"; then
		problem "sqlite3: its output under leaktrace differs from its output untraced"
	fi
done
sql_u=$(min "${sql_plain[@]}")
sql_t=$(min "${sql_traced[@]}")

# leaktrace's own fixed cost (load, attach, detach, exit) on a command that does nothing;
# it is part of the sqlite3 traced time above. It varies from run to run (detaching waits
# for the kernel's RCU grace periods): the best of RUNS as well.
fixed_runs=()
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	run_traced "true" "$tmp/true.json" -- /bin/true 2>/dev/null
	t1=$(now)
	fixed_runs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done
fixed=$(min "${fixed_runs[@]}")
sql_net=$(awk -v t="$sql_t" -v f="$fixed" 'BEGIN { printf "%.3f", (t > f ? t - f : 0) }')

# --- 3. snapshot of 1M outstanding allocations over 10k stacks -----------------------------
# leaktrace -v prints after each snapshot:
#   leaktrace: snapshot: <ms> ms, <n> stacks, <m> allocations
# First: the only snapshot is the final one, so it symbolizes all 10k stacks (cold).
# Then: a snapshot every second while many.c sleeps with all its blocks; stacks are cached
# (warm): the cost of each periodic report.
snap_ms() {	# snap_ms FILE: times of the snapshots that saw all of many.c's allocations
	sed -n 's/^leaktrace: snapshot: \([0-9.]*\) ms, [0-9]* stacks, \([0-9]*\) allocations$/\1 \2/p' \
		"$1" | awk -v m="$MANY_ALLOCS" '$2 >= m { print $1 }'
}
say "snapshot of $MANY_ALLOCS allocations over $MANY_STACKS stacks"
run_traced "many (cold)" "$tmp/many1.json" -v -i 1000 -- \
	"$OUT/many" "$MANY_ALLOCS" "$MANY_STACKS" 0 >/dev/null 2>"$tmp/many1.err"
run_traced "many (warm)" "$tmp/many2.json" -v -i 1 -- \
	"$OUT/many" "$MANY_ALLOCS" "$MANY_STACKS" 3 >/dev/null 2>"$tmp/many2.err"
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

# --- report -------------------------------------------------------------------------------
row() {	# row NAME UNTRACED TRACED RATIO
	printf '%-40s %10s %10s %9s\n' "$@"
}
echo
row "benchmark" "untraced" "traced" "ratio"
row "malloc+free loop (ns/pair)" "$loop_u" "$loop_t" "$(ratio "$loop_u" "$loop_t")"
row "sqlite3 workload (s, $sql_allocs_k allocs)" "$sql_u" "$sql_t" "$(ratio "$sql_u" "$sql_t")"
row "  leaktrace start+exit alone (s)" "" "$fixed" ""
row "  sqlite3 traced minus start+exit (s)" "$sql_u" "$sql_net" "$(ratio "$sql_u" "$sql_net")"
if [ -n "$snap_warm$snap_cold" ]; then
	row "snapshot, 1M allocs / 10k stacks" "" "${snap_warm:--} ms" "warm"
	row "  first snapshot (symbolizes 10k stacks)" "" "${snap_cold:--} ms" "cold"
else
	echo "snapshot: not measured (leaktrace prints no timing)"
fi
echo
echo "loop: best of $RUNS, $LOOP_N pairs untraced, $LOOP_N_TRACED traced (timed inside the program)."
echo "sqlite3: best of $RUNS, wall time of \`sqlite3 :memory: < script\` ($SQL_ROWS rows inserted;" \
	"${sql_allocs:-?} malloc/calloc/realloc calls), untraced vs \`leaktrace -q -- sqlite3 ...\`."
echo "snapshot: $MANY_ALLOCS malloc(16) from $MANY_STACKS call stacks, $many_stacks distinct" \
	"stacks in the JSON; warm: a periodic snapshot with every stack symbolized already."

if [ ${#problems[@]} -gt 0 ]; then
	echo
	echo "bench: leaktrace misbehaved:" >&2
	printf '  %s\n' "${problems[@]}" | awk '!seen[$0]++' >&2	# once each, in order
	echo "  logs, snapshots and the SQL script: $tmp" >&2
	exit 1
fi
