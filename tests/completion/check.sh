#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Drives the bash completion (completion/leaktrace.bash) as bash does: COMP_WORDS and COMP_CWORD
# set, the function called, COMPREPLY compared with the exact words wanted; and the zsh one's
# option specs. Usage: tests/completion/check.sh LEAKTRACE LEAK_SWEEP (absolute paths)
set -uo pipefail
export LC_ALL=C

leaktrace=$1 leak_sweep=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
fails=0 cases=0
work=$(mktemp -d)
trap 'kill $sleeper 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/dir" && touch "$work/leak.json" "$work/leak.svg"

# complete FUNCTION WANT WORD...: COMPREPLY, sorted, for the last WORD, must be WANT.
complete_is() {
	local fn=$1 want=$2 got
	shift 2
	got=$(cd "$work" && bash --norc --noprofile -c \
		'source "$0"; fn=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); $fn;
		 printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		"$top/completion/leaktrace.bash" "$fn" "$@")
	cases=$((cases + 1))
	if [ "${got% }" != "$want" ]; then
		echo "completion: '${*:2}' completes to '${got% }', not '$want'" >&2
		fails=$((fails + 1))
	fi
}

lt=("$leaktrace")
complete_is _leaktrace "--format" "${lt[@]}" --for
complete_is _leaktrace "folded json pprof svg text" "${lt[@]}" -o x --format ""
complete_is _leaktrace "svg" "${lt[@]}" -o - --format s
complete_is _leaktrace "--no-children --no-debuginfod --no-default-suppressions --no-demangle --no-scan" \
	"${lt[@]}" --no-
complete_is _leaktrace "auto dwarf fp" "${lt[@]}" --unwind ""
complete_is _leaktrace "indirect" "${lt[@]}" --leak-kinds i
complete_is _leaktrace "report" "${lt[@]}" rep
complete_is _leaktrace "--symbolize" "${lt[@]}" report --sym
complete_is _leaktrace "dir leak.json leak.svg" "${lt[@]}" report --diff leak.json ""
complete_is _leaktrace "leak.json leak.svg" "${lt[@]}" -q -o lea
complete_is _leaktrace "dir" "${lt[@]}" --debug-dir d
complete_is _leaktrace "" "${lt[@]}" --fail-on-leak ""
complete_is _leaktrace "true truncate" "${lt[@]}" -q -- tru
complete_is _leaktrace "leak.json leak.svg" "${lt[@]}" -- cat lea
complete_is _leak_sweep "--help -P -S -b -d -f -h -j -n -o -t" "$leak_sweep" -
complete_is _leak_sweep "--format" "$leak_sweep" -d 5 -- --for
complete_is _leak_sweep "leak.json leak.svg" "$leak_sweep" -f lea
# A command that --help names "(leaktrace NAME --help)" (as agent) completes, with its options
# and trace mode's; a stand-in adds one.
cat >"$work/fake" <<FAKE
#!/bin/sh
case "\$*" in
--help) "$leaktrace" --help; echo "Demo: (leaktrace demo --help)." ;;
"demo --help") printf '      --demo-dir DIR   where\n' ;;
*) exec "$leaktrace" "\$@" ;;
esac
FAKE
chmod +x "$work/fake"
complete_is _leaktrace "demo" "$work/fake" de
complete_is _leaktrace "--demo-dir" "$work/fake" demo --dem
complete_is _leaktrace "--format" "$work/fake" demo --for
complete_is _leaktrace "dir" "$work/fake" demo --demo-dir ""

# PIDs: a process of ours is among them, and every word is a running process's.
sleep 600 &
sleeper=$!
pids=$(cd "$work" && bash --norc -c 'source "$0"; COMP_WORDS=("$1" -p "$2"); COMP_CWORD=2;
	_leaktrace; printf "%s\n" "${COMPREPLY[@]}"' "$top/completion/leaktrace.bash" "$leaktrace" \
	"${sleeper:0:2}")
cases=$((cases + 1))
grep -qx "$sleeper" <<<"$pids" || { echo "completion: -p ${sleeper:0:2} lacks pid $sleeper" >&2; fails=$((fails + 1)); }
for p in $pids; do
	[[ $p == "${sleeper:0:2}"* && ( -d /proc/$p || $p -ne $sleeper ) ]] ||
		{ echo "completion: -p offers $p" >&2; fails=$((fails + 1)); break; }
done
# --comm: the names of running processes.
complete_is _leaktrace "sleep" "${lt[@]}" -a --comm slee

# Every option the man page documents is offered, and nothing else.
want=$(grep -E '^\*-' "$top/doc/man/leaktrace.8.scd" | grep -oE '\*(--[a-z][a-z0-9-]*|-[A-Za-z])\*' |
	tr -d '*' | sort | tr '\n' ' ')
complete_is _leaktrace "${want% }" "${lt[@]}" -

# zsh: the file parses, and its specs say which options take which value.
if command -v zsh >/dev/null; then
	cases=$((cases + 1))
	specs=$(zsh -fc 'source <(sed "\$d" "$0") && _leaktrace_specs "$("$1" --help)"' \
		"$top/completion/_leaktrace" "$leaktrace")
	for s in '--format:FMT:{_leaktrace_value --format FMT}' '-p:PID:{_leaktrace_value -p PID}' \
		'--quiet' '--scan-freeze:SEC:{_leaktrace_value --scan-freeze SEC}'; do
		grep -qxF -- "$s" <<<"$specs" ||
			{ echo "completion: zsh specs lack $s" >&2; fails=$((fails + 1)); }
	done
	[ "$(wc -l <<<"$specs")" -eq "$(wc -w <<<"$want")" ] ||
		{ echo "completion: zsh has $(wc -l <<<"$specs") specs for $(wc -w <<<"$want") options" >&2; fails=$((fails + 1)); }
	# An interactive zsh completes: unique words inserted (the space after them goes as @ is
	# typed), ambiguous ones listed.
	mkdir "$work/bin" && ln -s "$leaktrace" "$work/bin/leaktrace" &&
		ln -s "$leak_sweep" "$work/bin/leak-sweep"
	out=$(cd "$work" && timeout 120 zsh -f "$top/tests/completion/zsh.zsh" "$top" "$work/bin" \
		'leaktrace --for' 'leaktrace --format ' 'leaktrace rep' 'leaktrace report --sym' \
		'leaktrace --unwind ' 'leak-sweep -d 5 -- --for' 'leaktrace -q -- tru' \
		'leaktrace report l')
	for want in '^@leaktrace --format@$' '^folded +json +pprof +svg +text' \
		'^@leaktrace report@$' '^@leaktrace report --symbolize@$' '^auto +dwarf +fp' \
		'^@leak-sweep -d 5 -- --format@$' '^true +truncate' '^@leaktrace report leak\.@$'; do
		cases=$((cases + 1))
		grep -qE -- "$want" <<<"$out" ||
			{ echo "completion: zsh: no line matches $want in:" >&2; echo "$out" >&2; fails=$((fails + 1)); }
	done
else
	echo "completion: no zsh (tools/install-deps test installs it)" >&2
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || exit 1
echo "  COMPLETE $cases cases of bash and zsh completion"
