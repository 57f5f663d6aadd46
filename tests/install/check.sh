#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make install into a temporary DESTDIR: exactly the files listed here (and deploy/'s), the
# binary stripped and runnable, its debug file found by build ID, the man pages readable; then
# make uninstall leaves no file. Usage: tests/install/check.sh (from the top, after make).
set -uo pipefail
export LC_ALL=C

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fails=0

fail() {
	echo "install: $*" >&2
	fails=$((fails + 1))
}

make --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null || fail "make install failed"
bid=$(readelf -n "$dest/usr/bin/leaktrace" | sed -n 's/.*Build ID: //p')
want=$(
	{
		printf '%s\n' /usr/bin/leak-sweep /usr/bin/leaktrace \
			"/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug" \
			/usr/share/bash-completion/completions/leak-sweep \
			/usr/share/bash-completion/completions/leaktrace \
			/usr/share/doc/leaktrace/LICENSE \
			/usr/share/doc/leaktrace/LICENSES/BSD-2-Clause.txt \
			/usr/share/doc/leaktrace/LICENSES/GPL-2.0.txt \
			/usr/share/doc/leaktrace/README.md \
			/usr/share/doc/leaktrace/doc/leaktrace-snapshot.schema.json \
			/usr/share/man/man8/leak-sweep.8.gz /usr/share/man/man8/leaktrace-report.8.gz \
			/usr/share/man/man8/leaktrace.8.gz /usr/share/zsh/site-functions/_leaktrace
		for f in doc/man/*.8.scd; do
			[[ $f == */leak-sweep.8.scd || $f == */leaktrace.8.scd || $f == */leaktrace-report.8.scd ]] ||
				echo "/usr/share/man/man8/$(basename "$f" .scd).gz"
		done
		find deploy -type f 2>/dev/null | sed 's|^|/usr/share/leaktrace/|'
		find deploy -type f \( -name '*.service' -o -name '*.socket' -o -name '*.timer' \) \
			2>/dev/null | sed 's|.*/|/usr/lib/systemd/system/|'
	} | sort
)
got=$(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort)
if [ "$got" != "$want" ]; then
	fail "installed files differ from the list (- wanted, + installed):"
	diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sed 's/^</-/; s/^>/+/' >&2
fi

bin=$dest/usr/bin/leaktrace
[ "$("$bin" --version)" = "leaktrace $(sed -n 's/#define LT_VERSION "\(.*\)"/\1/p' src/cli.c)" ] ||
	fail "$bin --version: $("$bin" --version 2>&1)"
sections=$(readelf -SW "$bin")
grep -qE ' \.(symtab|debug_info) ' <<<"$sections" && fail "$bin is not stripped"
grep -q ' \.gnu_debuglink ' <<<"$sections" || fail "$bin has no .gnu_debuglink"
dbg=$dest/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
[ "$(readelf -n "$dbg" 2>/dev/null | sed -n 's/.*Build ID: //p')" = "$bid" ] ||
	fail "$dbg: not build $bid"
grep -q ' \.debug_info ' <<<"$(readelf -SW "$dbg" 2>/dev/null)" || fail "$dbg has no .debug_info"
grep -qE ' FUNC .* cli__parse$' <<<"$(readelf -sW "$dbg" 2>/dev/null)" ||
	fail "$dbg has no symbol cli__parse"
for m in "$dest"/usr/share/man/man8/*.8.gz; do
	grep -q '^NAME' <<<"$(man -l "$m" 2>/dev/null)" || fail "$m does not render"
done
[ -L "$dest/usr/share/bash-completion/completions/leak-sweep" ] || fail "no leak-sweep completion link"
echo "  INSTALL  $(wc -l <<<"$got") files; stripped $(stat -c %s "$bin") bytes," \
	"debug file $(stat -c %s "$dbg") bytes (built $(stat -c %s .output/leaktrace))"

# The default PREFIX.
rm -rf "$dest"/usr
make --no-print-directory install DESTDIR="$dest" >/dev/null || fail "make install (default PREFIX) failed"
[ -x "$dest/usr/local/bin/leaktrace" ] || fail "the default PREFIX is not /usr/local"
make --no-print-directory uninstall DESTDIR="$dest" >/dev/null || fail "make uninstall failed"
left=$(cd "$dest" && find . ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
[ "$fails" -eq 0 ] || exit 1
echo "  INSTALL  PREFIX=/usr and /usr/local, uninstall leaves no file"
