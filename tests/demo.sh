#!/usr/bin/env bash
# make demo: start the leaky demo service, attach leaktrace to it live, show two reports.
set -euo pipefail
demo=${1:?usage: tests/demo.sh DEMO_BINARY}
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo: leaktrace loads BPF programs: run it as root (sudo make demo)" >&2
	exit 1
fi
"$demo" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 0.5
echo "+ ./leaktrace -p $pid -i 2 -d 8 -n 3"
./leaktrace -p "$pid" -i 2 -d 8 -n 3
