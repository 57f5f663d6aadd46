#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The man pages against man's own checks and against the --help they document: every page of
# doc/man/*.8.scd, rendered in MANDIR, must render without a warning (man --warnings), give
# lexgrog its NAME line, and list exactly the options its "; help: COMMAND" prints, no more
# and no fewer. Usage: tests/man/check.sh MANDIR LEAKTRACE LEAK_SWEEP
set -uo pipefail

mandir=$1 leaktrace=$2 leak_sweep=$3
fails=0 pages=0

fail() {
	echo "man: $*" >&2
	fails=$((fails + 1))
}

# The options an option table names: the words before the description of each line that
# starts with a dash after at most 6 spaces, and the --words of the Usage: lines.
help_options() {
	awk '
		/^Usage:/ { usage = 1 }
		/^$/ { usage = 0 }
		usage { s = $0; while (match(s, /--[a-z][a-z0-9-]*/)) {
			print substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH) } }
		match($0, /^ +-/) && RLENGTH <= 7 { s = $0; sub(/^ +/, "", s); sub(/  .*/, "", s);
			while (match(s, /(^|[ ,\[])(--[a-z][a-z0-9-]*|-[A-Za-z0-9])/)) {
				w = substr(s, RSTART, RLENGTH); sub(/^[ ,\[]/, "", w); print w;
				s = substr(s, RSTART + RLENGTH) } }
	' | sort -u
}

# The options a page defines: the *-x* and *--word* of its lines that start with one.
page_options() {
	grep -E '^\*-' "$1" | grep -oE '\*(--[a-z][a-z0-9-]*|-[A-Za-z0-9])\*' | tr -d '*' | sort -u
}

for src in doc/man/*.8.scd; do
	name=$(basename "$src" .scd)
	page=$mandir/$name
	pages=$((pages + 1))
	if [ ! -s "$page" ]; then
		fail "$page: missing (make man)"
		continue
	fi
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] || fail "$name: man --warnings: $warnings"
	whatis=$(lexgrog "$page" 2>&1)
	[[ $whatis == *": \"${name%.8} - "* ]] || fail "$name: lexgrog finds no NAME line: $whatis"

	cmd=$(sed -n 's/^; help: //p' "$src")
	case "$cmd" in
	"leaktrace "*) help=$("$leaktrace" ${cmd#leaktrace }) ;;
	"leak-sweep "*) help=$("$leak_sweep" ${cmd#leak-sweep }) ;;
	*) fail "$src: no '; help: leaktrace ...' or '; help: leak-sweep ...' line"; continue ;;
	esac || fail "$name: '$cmd' failed"
	want=$(help_options <<<"$help")
	have=$(page_options "$src")
	[ -n "$want" ] || fail "$name: '$cmd' lists no options"
	for o in $(comm -23 <(echo "$want") <(echo "$have")); do
		fail "$name lacks $o, which '$cmd' lists: document it in $src"
	done
	for o in $(comm -13 <(echo "$want") <(echo "$have")); do
		fail "$name documents $o, which '$cmd' does not list: add it to the help or drop it"
	done
done
# Every command leaktrace --help names as "(leaktrace NAME --help)" has its page.
for c in $("$leaktrace" --help | sed -nE 's/.*\(leaktrace ([a-z]+) --help\).*/\1/p'); do
	[ -f "doc/man/leaktrace-$c.8.scd" ] ||
		fail "no page for 'leaktrace $c': write doc/man/leaktrace-$c.8.scd (with '; help: leaktrace $c --help')"
done
[ "$fails" -eq 0 ] || exit 1
echo "  MAN      $pages pages: no warnings, whatis lines, options as their --help"
