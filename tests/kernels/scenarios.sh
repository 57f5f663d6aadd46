#!/bin/sh
# The kernel matrix's scenarios: leaktrace on the fixtures, checked against their own ground
# truth. Runs on the host and inside the test kernels' initramfs (busybox sh, jq), so plain sh.
# Usage: scenarios.sh LEAKTRACE FIXTURES_DIR [SCENARIO...]   (default: all of them)
# Prints "FEATURES <leaktrace -v's kernel line>" once, then per scenario one line
# "SCENARIO <name> PASS|FAIL <detail>"; exits 1 when one failed. KEEP=1 keeps its files.

lt=$1
fx=$2
if [ ! -x "$lt" ] || [ ! -d "$fx" ]; then
	echo "usage: scenarios.sh LEAKTRACE FIXTURES_DIR [SCENARIO...]" >&2
	exit 2
fi
shift 2
all="run_mode placement sampled cxx unwind_fp unwind_dwarf exec_exit attach attach_busy all_fork scan children"
all="$all kernel"
# A slow emulated CPU takes seconds to load the programs: generous limits, met in well under.
limit=${SCENARIO_TIMEOUT:-120}
tmp=$(mktemp -d) || exit 1
[ -n "$KEEP" ] || trap 'rm -rf "$tmp"' EXIT
failed=0
features=
# The fixtures under names of their own: other tests on the host may trace "leaky-*" with
# --comm meanwhile, and this script's -a must not see theirs.
nofp=$tmp/matrix-nofp
fp=$tmp/matrix-fp
cxx=$tmp/matrix-cxx
kpipes=$tmp/matrix-kpipes
cp "$fx/leaky-nofp" "$nofp" && cp "$fx/leaky-fp" "$fp" && cp "$fx/leaky_cxx-nofp" "$cxx" &&
	cp "$fx/kpipes-nofp" "$kpipes" || exit 1

# Wait until file $1 contains $2, for up to $limit seconds.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $((limit * 10)) ] || return 1
		sleep 0.1
	done
}

# The bytes and allocations of process $2's stacks whose frame 0 is $3, in snapshot $1.
sum() {
	jq -r --argjson pid "$2" --arg f "$3" '[.processes[] | select(.pid == $pid) | .stacks[]
		| select(.frames[0].symbol == $f)]
		| "\(map(.bytes) | add // 0) \(map(.allocs) | add // 0)"' "$1"
}

# Every "truth FUNC BYTES ALLOCS" line of the fixture's output $3 against process $2 in snapshot
# $1; prints what differs, nothing when all match (and there is at least one).
check_truths() {
	grep -q '^truth ' "$3" || echo "the fixture printed no truth line;"
	grep '^truth ' "$3" | while read -r _ func bytes allocs; do
		got=$(sum "$1" "$2" "$func")
		[ "$got" = "$bytes $allocs" ] || echo "$func: $got, expected $bytes $allocs;"
	done
}

# Counter $2 of the snapshot's "lost" object.
lost() {
	jq -r ".lost.$2" "$1"
}

# The kernel line of leaktrace -v, once, from the stderr of the first scenario that has it.
note_features() {
	[ -n "$features" ] && return
	features=$(grep -m1 '^leaktrace: kernel ' "$1" | sed 's/^leaktrace: kernel //')
	[ -n "$features" ] && echo "FEATURES $features"
}

# The probes in objects matching $2 of leaktrace -v's stderr $1 that are not at their
# function's entry, e.g. "free+3": where the running kernel emulates an instruction (arch_x86.c);
# "none" when all are at the entry.
moved() {
	m=$(grep "probed .* at .*$2" "$1" |
		sed -n 's/.*probed \([A-Za-z0-9_]*\) at .*(entry +\([1-9][0-9]*\))$/\1+\2/p' |
		tr '\n' ' ' | sed 's/ $//')
	echo "${m:-none}"
}

# Whether leaktrace run $1 (status $2, files in $3) exited 0 and wrote its snapshot; else a FAIL.
ran() {
	note_features "$3/err"
	if [ "$2" -ne 0 ]; then
		result "$1" "leaktrace exited $2: $(tail -n1 "$3/err")"
		return 1
	fi
	[ -s "$3/s.json" ] || { result "$1" "no snapshot written: $(tail -n1 "$3/err")"; return 1; }
}

result() {
	if [ -z "$2" ]; then
		echo "SCENARIO $1 PASS $3"
	else
		echo "SCENARIO $1 FAIL $(echo "$2" | sed 's/^ *//')"
		failed=1
	fi
}

# Run mode: exact bytes of realloc's cases, the command's stdout and exit status pass through.
run_mode() {
	d=$tmp/run_mode
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$nofp" run realloc >"$d/out" 2>"$d/err"
	ran run_mode $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	[ -n "$bad" ] || [ "$(grep -c '^truth leak_realloc 253777 61$' "$d/out")" = 1 ] ||
		bad="the fixture's output did not pass through"
	timeout "$limit" "$lt" -q -- "$nofp" exit 7 >/dev/null 2>&1
	status=$?
	[ -n "$bad" ] || [ $status -eq 7 ] || bad="exit status $status, expected the command's 7"
	result run_mode "$bad" "leak_realloc 253777 B/61, exit status 7"
}

# Every allocator function, each probed where the running kernel allows (-v shows the places):
# exact bytes, and every free matched.
placement() {
	d=$tmp/placement
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$nofp" run malloc big calloc \
		realloc reallocarray posix_memalign aligned_alloc memalign valloc pvalloc mmap \
		threads >"$d/out" 2>"$d/err"
	ran placement $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	for k in frees_unmatched munmaps_partial_lost allocs_untracked; do
		[ "$(lost "$d/s.json" $k)" = 0 ] || bad="$bad $k $(lost "$d/s.json" $k);"
	done
	[ "$(grep -c '^truth ' "$d/out")" = 12 ] || bad="$bad $(grep -c '^truth ' "$d/out") truths of 12;"
	result placement "$bad" "12 functions exact; moved: $(moved "$d/err" libc)"
}

# --sample-bytes: mappings stay exact; 10 MiB of blocks is estimated within 3.5 standard
# errors (2.31 MB at a mean of 512 KiB between samples, as tests/integration/test_sampling.c).
sampled() {
	d=$tmp/sampled
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q --sample-bytes 512K --sample-seed 1 -o "$d/s.json" -- \
		"$nofp" run mmap tenmib >"$d/out" 2>"$d/err"
	ran sampled $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	grep -v '^truth leak_tenmib ' "$d/out" >"$d/exact"
	bad=$(check_truths "$d/s.json" "$pid" "$d/exact")
	grep -q '^truth leak_tenmib 10485760 5200$' "$d/out" || bad="$bad leak_tenmib did not run;"
	[ "$(jq -r '.sampling.mode' "$d/s.json")" = bytes ] ||
		bad="$bad sampling mode $(jq -c .sampling "$d/s.json");"
	estimate=$(sum "$d/s.json" "$pid" leak_tenmib | cut -d' ' -f1)
	off=$((estimate - 10485760))
	[ ${off#-} -le 8085000 ] || bad="$bad leak_tenmib estimated $estimate, 10485760 +- 8085000;"
	result sampled "$bad" "leak_mmap exact, leak_tenmib estimated $estimate B of 10485760"
}

# C++: operator new and delete are probed in libstdc++ itself; each block counts once, from
# the function that called new (demangled: the fixture's leak_array is "leak_array()").
cxx() {
	d=$tmp/cxx
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$cxx" run >"$d/out" 2>"$d/err"
	ran cxx $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	sed 's/^\(truth [a-z_]*\)/\1()/' "$d/out" >"$d/truths"
	bad=$(check_truths "$d/s.json" "$pid" "$d/truths")
	[ "$(grep -c '^truth ' "$d/out")" = 2 ] || bad="$bad $(grep -c '^truth ' "$d/out") truths of 2;"
	grep -q 'probed _Znwm at .*libstdc++' "$d/err" ||
		bad="$bad operator new was not probed in libstdc++;"
	moved=$(moved "$d/err" libstdc++)
	result cxx "$bad" "leak_array() 10000 B/100, leak_nodes() 3200 B/50; moved in libstdc++: $moved"
}

# Frame pointers: the leak's stack walks up through run_scenarios to main.
unwind_fp() {
	d=$tmp/unwind_fp
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$fp" run malloc >"$d/out" 2>"$d/err"
	ran unwind_fp $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	frames=$(jq -r '[.processes[0].stacks[] | select(.frames[0].symbol == "leak_malloc")
		| .frames[0:3][].symbol] | join(" ")' "$d/s.json")
	[ "$frames" = "leak_malloc run_scenarios main" ] ||
		bad="$bad frames '$frames', expected 'leak_malloc run_scenarios main'"
	result unwind_fp "$bad" "leak_malloc <- run_scenarios <- main"
}

# Unwind tables, no frame pointers: each thread's stack whole, up to its start in libc
# (start_thread, clone3: named where libc's debug file is, as on the host).
unwind_dwarf() {
	d=$tmp/unwind_dwarf
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q --unwind dwarf -o "$d/s.json" -- "$nofp" run threads \
		>"$d/out" 2>"$d/err"
	ran unwind_dwarf $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	frames=$(jq -r '[.processes[0].stacks[] | select(.frames[0].symbol == "thread_main")
		| select(.truncated | not) | .frames[0].symbol,
		(.frames[1:][].module | sub(".*/"; ""))] | join(" ")' "$d/s.json")
	[ "$frames" = "thread_main libc.so.6 libc.so.6" ] ||
		bad="$bad frames '$frames', expected 'thread_main libc.so.6 libc.so.6', whole"
	result unwind_dwarf "$bad" "thread_main <- libc (start_thread) <- libc (clone3), whole"
}

# exec starts a process afresh: what the image before it leaked is not reported.
exec_exit() {
	d=$tmp/exec
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$nofp" exec malloc >"$d/out" 2>"$d/err"
	ran exec_exit $? "$d" || return
	pid=$(jq '.processes[0].pid' "$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	[ "$(sum "$d/s.json" "$pid" leak_before_exec)" = "0 0" ] ||
		bad="$bad the image before exec was reported: $(sum "$d/s.json" "$pid" leak_before_exec);"
	[ "$(jq '[.processes[].alive] | tostring' "$d/s.json")" = '"[false]"' ] ||
		bad="$bad not reported as exited: $(jq -c '[.processes[].alive]' "$d/s.json");"
	result exec_exit "$bad" "leak_malloc 100000 B/1000 after exec, none from before"
}

# Attach to a running process: exact bytes after the attach, its older blocks' frees counted
# apart, and the process runs on after leaktrace is gone.
attach() {
	d=$tmp/attach
	mkdir -p "$d"
	if ! start_fixture "$d/fx" "$nofp" malloc; then
		result attach "the fixture did not start"
		exec 3>&-
		return
	fi
	"$lt" -v -p $target -i 3600 -o "$d/s.json" >"$d/report" 2>"$d/err" &
	tracer=$!
	if ! wait_for "$d/err" 'leaktrace: tracing'; then
		result attach "leaktrace did not start: $(tail -n1 "$d/err")"
		kill $tracer $target
		exec 3>&-
		return
	fi
	note_features "$d/err"
	echo go >&3
	wait_for "$d/fx.out" '^done'
	kill -INT $tracer
	wait $tracer
	status=$?
	bad=
	[ $status -eq 0 ] || bad="leaktrace exited $status: $(tail -n1 "$d/err");"
	kill -0 $target 2>/dev/null || bad="$bad the target died;"
	kill $target
	exec 3>&-
	[ -n "$bad" ] || bad=$(check_truths "$d/s.json" $target "$d/fx.out")
	[ -n "$bad" ] || [ "$(lost "$d/s.json" frees_before_attach)" -ge 100 ] ||
		bad="frees_before_attach $(lost "$d/s.json" frees_before_attach), expected >= 100"
	[ -n "$bad" ] || [ "$(lost "$d/s.json" frees_unmatched)" = 0 ] ||
		bad="frees_unmatched $(lost "$d/s.json" frees_unmatched)"
	result attach "$bad" "leak_malloc 100000 B/1000 after the attach"
}

# Start "$2 attach $3" in the background, its output in $1.out, its pid in $target, its stdin
# on fd 3 (a line there runs the scenarios). Fails when it does not start.
start_fixture() {
	mkfifo "$1.in"
	"$2" attach $3 <"$1.in" >"$1.out" &
	target=$!
	exec 3>"$1.in"
	wait_for "$1.out" '^ready'
}

# -a: a process started later is traced (from its first allocation once leaktrace has probed
# its libc); a child's frees of the blocks it inherited do not touch its parent's; the child
# that exited is reported as exited, the parent as alive.
all_fork() {
	d=$tmp/all
	mkdir -p "$d"
	"$lt" -v -a --comm matrix-fp -i 3600 -o "$d/s.json" >"$d/report" 2>"$d/err" &
	tracer=$!
	bad=
	wait_for "$d/err" 'leaktrace: tracing' || bad="leaktrace did not start: $(tail -n1 "$d/err")"
	[ -n "$bad" ] || start_fixture "$d/fx" "$fp" "calloc fork" || bad="the fixture did not start"
	[ -n "$bad" ] || wait_for "$d/err" 'all processes: probed free' ||
		bad="libc was not probed for pid $target: $(tail -n1 "$d/err")"
	if [ -z "$bad" ]; then
		note_features "$d/err"
		echo go >&3
		wait_for "$d/fx.out" '^done'
	fi
	kill -INT $tracer
	wait $tracer
	status=$?
	kill $target
	exec 3>&-
	[ -n "$bad" ] || [ $status -eq 0 ] || bad="leaktrace exited $status: $(tail -n1 "$d/err")"
	if [ -n "$bad" ]; then
		result all_fork "$bad"
		return
	fi
	grep -v '(child)' "$d/fx.out" >"$d/parent.out"
	bad=$(check_truths "$d/s.json" $target "$d/parent.out")
	alive=$(jq -r --argjson p $target '[.processes[] | "\(if .pid == $p then "parent" else
		"child" end):\(.alive)"] | join(" ")' "$d/s.json")
	[ "$alive" = "parent:true child:false" ] || [ "$alive" = "child:false parent:true" ] ||
		bad="$bad processes (alive): $alive, expected the parent alive and its child exited;"
	[ "$(lost "$d/s.json" frees_unmatched)" = 0 ] ||
		bad="$bad frees_unmatched $(lost "$d/s.json" frees_unmatched);"
	# The child exits long before leaktrace reads new processes' mappings: its frames are
	# named from those captured at fork.
	child=$(jq -r --argjson p $target '[.processes[] | select(.pid != $p) | .pid][0] // 0' \
		"$d/s.json")
	got=$(sum "$d/s.json" "$child" leak_fork)
	[ "$got" = "1500 5" ] || bad="$bad the exited child's leak_fork: $got, expected 1500 5;"
	result all_fork "$bad" "calloc 246000 B/200, fork: parent 20000 B/100, exited child 1500 B/5"
}

# Attach to four threads churning the allocator (leaky busy): the probes go live while calls
# are under way; the mid-run snapshot comes BUSY_SECONDS (2) after, longer on a slower emulated
# CPU (arm64 under TCG): a longer wait only lets more blocks be replaced, a blind thread's
# quarter stays missing however long it is.
#
# are under way, which must blind no thread (blocks recorded mid-run) and leave no record
# whose free went unseen (nothing left once the threads have freed everything). The fixture
# churns until told to stop (a line on its stdin, a FIFO held open here): however long the
# tracers take to start on a loaded host, it is there when they attach.
attach_busy() {
	d=$tmp/attach_busy
	mkdir -p "$d"
	mkfifo "$d/in"
	"$nofp" busy <"$d/in" >"$d/out" 2>&1 &
	target=$!
	exec 3>"$d/in"
	wait_for "$d/out" "^ready $target" || { result attach_busy "the fixture did not start"; return; }
	"$lt" --no-scan -p $target -i 3600 -d "${BUSY_SECONDS:-2}" -o "$d/mid.json" >/dev/null \
		2>"$d/err" &
	mid=$!
	"$lt" --no-scan -p $target -i 3600 -o "$d/s.json" >/dev/null 2>"$d/err2" &
	tracer=$!
	wait_for "$d/err2" "^leaktrace: tracing" || echo "attach_busy: the second leaktrace did not start"
	wait $mid
	status=$?
	echo stop >&3
	wait_for "$d/out" "^done" || echo "attach_busy: the fixture did not free its blocks"
	kill -TERM $tracer
	wait $tracer
	status2=$?
	exec 3>&-
	{ kill $target; wait $target; } 2>/dev/null
	ran attach_busy $status "$d" || return
	bad=
	[ $status2 -eq 0 ] || bad="leaktrace exited $status2: $(tail -n1 "$d/err2");"
	n=$(jq --argjson p $target '[.processes[] | select(.pid == $p) | .outstanding_allocs] | add // 0' \
		"$d/mid.json")
	# 10,000 blocks are held, each replaced within moments: a blind thread loses 2,500.
	[ "$n" -gt 7500 ] || bad="$bad $n blocks recorded mid-run, fewer than 7,500;"
	left=$(jq --argjson p $target '[.processes[] | select(.pid == $p) | .outstanding_bytes] | add // 0' \
		"$d/s.json")
	[ "$left" = 0 ] || bad="$bad $left bytes left after the threads freed everything;"
	[ "$(lost "$d/s.json" frees_unmatched)" = 0 ] ||
		bad="$bad frees_unmatched $(lost "$d/s.json" frees_unmatched)"
	result attach_busy "$bad" "$n blocks of 4 busy threads mid-run, 0 bytes left at their end"
}

# The scan at exit (process_vm_readv, ptrace's exit stop, pagemap): lost, indirectly lost and
# reachable bytes exact, as valgrind says them (tests/integration/test_scan.c), and the gate.
scan() {
	d=$tmp/scan
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- "$nofp" run lost >"$d/out" 2>"$d/err"
	ran scan $? "$d" || return
	got=$(jq -r '[.processes[0].stacks[]] | "\(map(.lost_bytes) | add) \(map(.indirect_bytes)
		| add) \([.[] | select(.frames[0].symbol == "keep_cache") | .reachable_bytes]
		| add)"' "$d/s.json")
	bad=
	[ "$got" = "7834 144 50000" ] ||
		bad="lost, indirect, keep_cache reachable: $got, expected 7834 144 50000"
	timeout "$limit" "$lt" -q --fail-on-leak 7978 -- "$nofp" run lost >/dev/null 2>&1
	status=$?
	[ -n "$bad" ] || [ $status -eq 3 ] || bad="--fail-on-leak 7978: exit $status, expected 3"
	result scan "$bad" "lost 7834 B, indirectly 144 B, keep_cache reachable; the gate fails"
}

# Run mode follows the command's children (ptrace's fork and exec events, the fork tracepoint):
# a pipeline's leaky process reported on its own, exact and scanned at its own exit; the gate
# counts a child's leak.
children() {
	d=$tmp/children
	mkdir -p "$d"
	timeout "$limit" "$lt" -v -q -o "$d/s.json" -- sh -c "$nofp run lost | cat" >"$d/out" \
		2>"$d/err"
	ran children $? "$d" || return
	pid=$(jq --arg a "$nofp" '[.processes[] | select(.argv[0] == $a) | .pid][0] // 0' \
		"$d/s.json")
	bad=$(check_truths "$d/s.json" "$pid" "$d/out")
	got=$(jq -r --argjson p "$pid" '.processes[] | select(.pid == $p)
		| "\(.lost_bytes) \(.indirect_bytes)"' "$d/s.json")
	[ "$got" = "7834 144" ] || bad="$bad lost, indirect: '$got', expected 7834 144;"
	n=$(jq '.processes | length' "$d/s.json")
	[ "$n" -ge 2 ] || bad="$bad $n processes, expected sh and its children;"
	timeout "$limit" "$lt" -q --fail-on-leak 1 -- sh -c "$nofp run lost; exit 0" \
		>/dev/null 2>&1
	status=$?
	[ $status -eq 3 ] || bad="$bad --fail-on-leak 1 on a child's leak: exit $status, expected 3"
	[ -z "$bad" ] || bad="$bad processes: $(jq -c '[.processes[] | [.pid, .argv[0],
		.outstanding_bytes, .lost_bytes]]' "$d/s.json" | tr -d '\n')"
	result children "$bad" "sh -c 'leaky run lost | cat': $n processes, leaky's 7834 B lost"
}

# The stacks of the kernel's (process 0's) snapshot $1 that pid $2 allocated at
# alloc_pipe_info: "STACKS ALLOCS".
pipe_sum() {
	jq -r --argjson pid "$2" '[.processes[] | select(.pid == 0) | .stacks[]
		| select(.kind == "kernel" and .task.pid == $pid
			and .frames[0].symbol == "alloc_pipe_info") | .allocs]
		| "\(length) \(add // 0)"' "$1"
}

# --kernel: 64 pipes held by the fixture are 64 allocations at each of alloc_pipe_info's two
# sites (the pipe, its buffers) under its pid, whichever tracepoints' arguments the kernel
# has; none once it closed them (a second leaktrace, started before both).
kernel() {
	d=$tmp/kernel
	mkdir -p "$d"
	bad=
	start_fixture "$d/fx" "$kpipes" 64 || bad="the fixture did not start"
	# Small maps: the blocks map is preallocated, and a test kernel has 1 GiB.
	"$lt" -v --kernel --max-allocs 65536 --max-stacks 4096 -i 3600 -o "$d/held.json" \
		>/dev/null 2>"$d/err" &
	held=$!
	"$lt" --kernel --max-allocs 65536 --max-stacks 4096 -i 3600 -o "$d/closed.json" \
		>/dev/null 2>"$d/err2" &
	closed=$!
	[ -n "$bad" ] || wait_for "$d/err" 'leaktrace: tracing' ||
		bad="leaktrace did not start: $(tail -n1 "$d/err")"
	[ -n "$bad" ] || wait_for "$d/err2" 'leaktrace: tracing' ||
		bad="leaktrace did not start: $(tail -n1 "$d/err2")"
	note_features "$d/err"
	[ -n "$bad" ] || { echo go >&3; wait_for "$d/fx.out" '^done'; } || bad="no pipes opened"
	kill -INT $held
	wait $held || bad="$bad leaktrace exited $?: $(tail -n1 "$d/err");"
	[ -n "$bad" ] || echo go >&3
	# Its second "done": the pipes closed.
	i=0
	while [ -z "$bad" ] && [ "$(grep -c '^done' "$d/fx.out")" -lt 2 ]; do
		i=$((i + 1))
		[ $i -le $((limit * 10)) ] || bad="the pipes were not closed"
		sleep 0.1
	done
	kill -INT $closed
	wait $closed || bad="$bad leaktrace exited $?: $(tail -n1 "$d/err2");"
	kill $target
	exec 3>&-
	[ -n "$bad" ] || [ "$(pipe_sum "$d/held.json" $target)" = "2 128" ] ||
		bad="held: stacks, allocations '$(pipe_sum "$d/held.json" $target)', expected '2 128'"
	[ -n "$bad" ] || [ "$(pipe_sum "$d/closed.json" $target)" = "0 0" ] ||
		bad="closed: '$(pipe_sum "$d/closed.json" $target)', expected '0 0'"
	result kernel "$bad" "alloc_pipe_info 2 x 64 held, 0 after close"
}

for s in ${*:-$all}; do
	case " $all " in
	*" $s "*) $s ;;
	*) echo "scenarios.sh: no scenario '$s' (have: $all)" >&2; exit 2 ;;
	esac
done
exit $failed
