#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What userland the binaries need. ./leaktrace (make): glibc symbol versions up to 2.34 only,
# as the README says, naming any newer one. make static's: no interpreter and no library, and in
# a root holding nothing but it and a static leaky program (no libc at all, so no glibc version
# to need) it says its version and traces the program's leak to the byte.
# Usage: tests/static/check.sh OUTPUT
set -uo pipefail
export LC_ALL=C

out=$1
oldest=2.34
fails=0

fail() {
	echo "static: $*" >&2
	fails=$((fails + 1))
}

# "symbol version" of every dynamic symbol leaktrace needs from glibc.
needs=$(objdump -T "$out/leaktrace" | sed -nE 's/.*\((GLIBC_[0-9.]+)\) +([^ ]+)$/\2 \1/p')
[ -n "$needs" ] || fail "$out/leaktrace needs no glibc symbol: is it dynamic?"
newest=$(awk '{ sub(/GLIBC_/, "", $2); print $2 }' <<<"$needs" | sort -V | tail -n 1)
while read -r sym ver; do
	[ "$(printf '%s\n' "${ver#GLIBC_}" "$oldest" | sort -V | tail -n 1)" = "$oldest" ] ||
		fail "$out/leaktrace needs $sym@$ver, newer than glibc $oldest (README, Requirements)"
done <<<"$needs"
[ "$newest" = "$oldest" ] || fail "the newest glibc version needed is $newest, the README says $oldest"
grep -q "glibc $oldest or newer" README.md || fail "README.md does not say glibc $oldest or newer"
needed=$(readelf -d "$out/leaktrace" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libm.so.6 " ] || fail "$out/leaktrace needs '$needed', not libc and libm only"

bin=$out/static/leaktrace
readelf -lW "$bin" | grep -q 'INTERP' && fail "$bin has a program interpreter"
readelf -dW "$bin" | grep -q '(NEEDED)' && fail "$bin needs shared libraries"
root=$(mktemp -d)
cleanup() {
	for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null; done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
mkdir -p "$root"/{proc,sys,dev,tmp} && cp "$bin" "$root/leaktrace" &&
	cp "$out/fixtures/leaky-static" "$root/leaky" || exit 1
mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" ||
	exit 1
[ -z "$(find "$root" -xdev -name 'lib*.so*')" ] || fail "the root holds a library"
got=$(chroot "$root" /leaktrace --version 2>&1)
[ "$got" = "$("$out/leaktrace" --version)" ] || fail "$bin --version in an empty root: $got"
chroot "$root" /leaktrace -q -o /tmp/run.folded -- /leaky run malloc >/dev/null 2>"$root/tmp/err" ||
	fail "$bin -- leaky-static in an empty root failed: $(cat "$root/tmp/err")"
grep -qE '^leaky;.*;leak_malloc 100000$' "$root/tmp/run.folded" ||
	fail "no 'leak_malloc 100000' in: $(cat "$root/tmp/run.folded" "$root/tmp/err")"
[ "$fails" -eq 0 ] || exit 1
echo "  STATIC   ./leaktrace needs glibc $oldest at most ($(wc -l <<<"$needs") symbols);" \
	"the static one ($(stat -c %s "$bin") bytes) traces a leak in a root without libc"
