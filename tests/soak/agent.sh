#!/usr/bin/env bash
# make soak-agent: `leaktrace agent` for SOAK_SECONDS (default 3600) on ~50 processes that
# start, leak slowly and exit; its memory and what it serves must stay bounded.
#
#   tests/soak/agent.sh LEAKTRACE FIXTURE
#
# The targets are a copy of the fixture under a name of this run's own (--comm), so no
# other process on the host is probed. Every SOAK_SAMPLE seconds (default 10) it samples
# the agent's VmRSS, the kernel memory of its BPF maps (memlock in /proc/PID/fdinfo of its
# map fds, each map once), the bytes of /history.ndjson and /metrics and of --state-dir.
# At the end it prints the samples' table and fails if any of them grew: the first quarter
# of the run is the warm-up (the history ring fills in half of it), the second quarter the
# reference, and the last quarter's maximum may exceed the reference's maximum by at most
# a few percent plus a small absolute slack (the bounds in the verdict below). The
# processes whose state the agent holds (leaktrace_self_processes) never exceed the ones
# running by more than the few that ended since its last reap: memory grows with those
# left behind slowly, by a few KiB per process, and an hour hides it. It also
# checks that every counter of the snapshot's "lost" object is on /metrics
# (leaktrace_lost_events_total) with the same value, and the agent's own mappings_lost.
set -euo pipefail

# All in a function, so that bash has read the whole script before it runs: editing it
# during an hour-long run changes nothing.
main()
{
leaktrace=$1
fixture=$2
seconds=${SOAK_SECONDS:-3600}
every=${SOAK_SAMPLE:-10}
procs=${SOAK_PROCS:-50}
interval=5
[ "$seconds" -ge 120 ] || { echo "soak-agent: SOAK_SECONDS must be at least 120"; exit 1; }
# The ring holds half the warm-up's snapshots: from then on its size can only move with
# the lines' contents.
history=$((seconds / 4 / interval / 2))
[ "$history" -ge 5 ] || history=5

dir=$(mktemp -d /tmp/soak-agent.XXXXXX)
name=ltsoak$$
name=${name:0:15}
# Copies, so that a rebuild during the run changes nothing.
cp "$leaktrace" "$dir/leaktrace"
cp "$fixture" "$dir/$name"
mkdir "$dir/state"
: >"$dir/exits"
sock=$dir/agent.sock
agent=

cleanup()
{
	local rc=$?

	touch "$dir/stop"
	for f in "$dir"/slot.*.loop; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	for f in "$dir"/slot.*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ -e "$dir/agent.log" ]; then
		echo "soak-agent: the agent's log (last 20 lines):"
		tail -n 20 "$dir/agent.log"
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "soak-agent: failed at line $LINENO"' ERR
trap 'exit 130' INT TERM

get()
{
	curl -sf --max-time 30 --unix-socket "$sock" "http://agent$1"
}

# --comm is -a narrowed to the name: it refuses while valgrind runs (another user's test
# on a shared machine); wait for that, at most 20 minutes.
for _ in $(seq 240); do
	"$dir/leaktrace" agent --listen "unix:$sock" --comm "$name" -i "$interval" \
		--history "$history" --state-dir "$dir/state" --scan -q 2>"$dir/agent.log" \
		>/dev/null &
	agent=$!
	for _ in $(seq 600); do
		get /metrics >/dev/null 2>&1 && break 2
		kill -0 "$agent" 2>/dev/null || break
		sleep 0.1
	done
	wait "$agent" 2>/dev/null || true
	grep -q valgrind "$dir/agent.log" || { echo "soak-agent: the agent ended"; exit 1; }
	sleep 5
done
get /metrics >/dev/null || { echo "soak-agent: the agent does not answer"; exit 1; }

# One slot: a process that leaks a 4 KiB block every 2 s (leaky drip, one line per
# block) for 20 to 120 s, is killed, and is replaced.
slot()
{
	local i=$1 life pid

	while [ ! -e "$dir/stop" ]; do
		life=$((20 + RANDOM % 100))
		"$dir/$name" drip < <(while echo; do sleep 2; done) >/dev/null &
		pid=$!
		echo "$pid" >"$dir/slot.$i.pid"
		sleep "$life"
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo 1 >>"$dir/exits"
	done
}
for i in $(seq "$procs"); do
	slot "$i" &
	echo $! >"$dir/slot.$i.loop"
done

# The kernel memory of the agent's maps: each map (map_id) once, though fds may repeat it.
map_bytes()
{
	# (cat, not awk: the agent opens and closes other files meanwhile)
	{ cat /proc/"$agent"/fdinfo/* 2>/dev/null || true; } |
		awk '/^memlock:/ { m = $2 } /^map_id:/ { if (!($2 in seen)) { seen[$2]; s += m } }
		     END { print s + 0 }'
}

echo "soak-agent: ${seconds}s, $procs processes named $name, agent -i $interval" \
	"--history $history, a sample every ${every}s"
start=$(date +%s)
printf 't\trss_kib\tmap_kib\thistory_b\tmetrics_b\tstate_b\texits\theld\n' >"$dir/samples"
while :; do
	now=$(date +%s)
	t=$((now - start))
	[ "$t" -le "$seconds" ] || break
	kill -0 "$agent" 2>/dev/null || { echo "soak-agent: the agent ended at ${t}s"; exit 1; }
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$agent"/status)
	maps=$(($(map_bytes) / 1024))
	# A request that fails leaves its column empty (the verdict counts it as 0), as does
	# du when a state file goes while it reads: the table shows it.
	hist=$(get /history.ndjson | wc -c) || hist=
	body=$(get /metrics) || body=
	metrics=$(printf '%s\n' "$body" | wc -c)
	[ -n "$body" ] || metrics=
	# The processes whose state the agent holds: the ones running, and ended ones until
	# their last report.
	held=$(printf '%s\n' "$body" | sed -n 's/^leaktrace_self_processes //p')
	state=$(du -sb "$dir/state" 2>/dev/null | cut -f1) || state=
	exits=$(wc -l <"$dir/exits")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rss" "$maps" "$hist" "$metrics" \
		"$state" "$exits" "$held" >>"$dir/samples"
	sleep "$((every - ($(date +%s) - now)))" 2>/dev/null || true
done

# Every lost counter of the snapshot is exported, with the snapshot's value (read again
# if a snapshot fell between the two requests).
lost_ok=0
for _ in 1 2 3; do
	get /snapshot.json | python3 -c 'import json, sys
for k, v in json.load(sys.stdin)["lost"].items():
    print(k, v)' | sort >"$dir/lost.json"
	get /metrics | tee "$dir/metrics.last" |
		sed -n 's/^leaktrace_lost_events_total{counter="\([a-z_]*\)"} \([0-9]*\)$/\1 \2/p' |
		sort >"$dir/lost.metrics"
	[ -s "$dir/lost.json" ] || break
	if join -a1 -e MISSING -o 1.1,1.2,2.2 "$dir/lost.json" "$dir/lost.metrics" |
		awk '$2 != $3 { bad = 1 } END { exit bad }'; then
		lost_ok=1
		break
	fi
done
echo "soak-agent: lost counters (snapshot.json, /metrics):"
join -a1 -e MISSING -o 1.1,1.2,2.2 "$dir/lost.json" "$dir/lost.metrics" | sed 's/^/  /'

column -t "$dir/samples"
# The verdict per column: NAME COLUMN SLACK (in the column's unit).
awk -v T="$seconds" -v P="$procs" -F'\t' '
BEGIN {
	split("rss_kib map_kib history_b metrics_b state_b", name, " ")
	split("10 2048 2 256 10 16384 10 16384 10 65536", b, " ")
	for (c = 1; c <= 5; c++) {
		pct[c] = b[2 * c - 1]
		slack[c] = b[2 * c]
	}
}
NR == 1 { next }
{
	q = $1 < T / 4 ? 0 : $1 < T / 2 ? 1 : $1 >= 3 * T / 4 ? 3 : 2
	for (c = 1; c <= 5; c++)
		if ($(c + 1) > max[q, c])
			max[q, c] = $(c + 1)
	if ($8 > held)
		held = $8
	n[q]++
}
END {
	if (!n[1] || !n[3]) {
		print "soak-agent: FAIL: too few samples"
		exit 1
	}
	printf "%-10s %14s %14s %14s  %s\n", "", "warm-up max", "reference max", "last max", \
		"bound (ref + pct + slack)"
	for (c = 1; c <= 5; c++) {
		bound = int(max[1, c] * (100 + pct[c]) / 100) + slack[c]
		ok = max[3, c] <= bound
		bad += !ok
		printf "%-10s %14d %14d %14d  %d %s\n", name[c], max[0, c], max[1, c], max[3, c], \
			bound, ok ? "ok" : "GREW"
	}
	# The slots run P processes; a few more ended since the last reap (one every 0.7 s).
	ok = held <= P + 20
	bad += !ok
	printf "%-10s %14s %14s %14d  %d %s\n", "held", "", "", held, P + 20, ok ? "ok" : "GREW"
	exit bad > 0
}' "$dir/samples" || { echo "soak-agent: FAIL: the agent grew"; exit 1; }
grep -q 'counter="mappings_lost"' "$dir/metrics.last" || lost_ok=0
[ "$lost_ok" = 1 ] || { echo "soak-agent: FAIL: a lost counter is not on /metrics"; exit 1; }
echo "soak-agent: bounded ($(wc -l <"$dir/exits") processes exited)"
}

main "$@"; exit
