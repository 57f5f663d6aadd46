#!/usr/bin/env bash
# make soak: leaktrace on a churning workload for SECONDS (default 600); its own RSS
# and the kernel memory of its maps must stay flat. Prints the samples and a verdict.
set -euo pipefail
seconds=${1:-600}
fixture=.output/fixtures/leaky-nofp
log=$(mktemp)
trap 'rm -f "$log"; kill $pid 2>/dev/null || true' EXIT

"$fixture" soak "$seconds" &
pid=$!
./leaktrace -p "$pid" -v -q -i 10 -d "$((seconds - 5))" 2>"$log" >/dev/null || true
grep 'leaktrace: memory:' "$log" | awk '{print $3, $6}' > "$log.mem"
n=$(wc -l < "$log.mem")
[ "$n" -ge 3 ] || { echo "soak: only $n samples"; exit 1; }
# Compare the last sample with the second (the first snapshot warms the caches).
read -r rss0 maps0 < <(sed -n 2p "$log.mem")
read -r rss1 maps1 < <(tail -n 1 "$log.mem")
echo "soak: ${seconds}s, $n samples: RSS ${rss0} -> ${rss1} KiB, maps ${maps0} -> ${maps1} KiB"
rm -f "$log.mem"
if [ "$rss1" -gt $((rss0 + rss0 / 10 + 1024)) ] || [ "$maps1" -gt $((maps0 + maps0 / 10 + 1024)) ]; then
	echo "soak: FAIL: leaktrace's memory grew"
	exit 1
fi
echo "soak: flat"
