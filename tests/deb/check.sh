#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package in a fresh Debian 12 root: mmdebstrap makes one (essential packages and the
# package's Depends, nothing else; kept as OUTPUT/deb-root-HASH.tar for the next run), dpkg
# installs the package there, and leaktrace, run in the root, says its version, traces a leaky
# command to its exact bytes, and finds its man page and bash completion.
# Usage: tests/deb/check.sh OUTPUT (after make deb and the leaky-nofp fixture)
set -uo pipefail

out=$(cd "$1" && pwd)
deb=$(ls "$out"/leaktrace_*_*.deb | head -n 1)
[ -f "$deb" ] || { echo "deb: no $out/leaktrace_*.deb: make deb" >&2; exit 1; }
version=$(dpkg-deb -f "$deb" Version)
# libc6 (>= 2.34), libbpf1 (>= 1:0.8.0) | x -> libc6,libbpf1
deps=$(dpkg-deb -f "$deb" Depends | sed -E 's/\([^)]*\)//g; s/\|[^,]*//g; s/ //g')
tarball=$out/deb-root-$(echo "$deps" | md5sum | cut -c1-8).tar
root=$(mktemp -d)
fails=0

cleanup() {
	for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null; done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT

fail() {
	echo "deb: $*" >&2
	fails=$((fails + 1))
}

if [ ! -f "$tarball" ]; then
	sources=/etc/apt/sources.list.d/debian.sources
	[ -f "$sources" ] || sources=/etc/apt/sources.list
	echo "  ROOT     mmdebstrap bookworm with $deps (once, 1 to 2 minutes)"
	timeout 900 mmdebstrap --quiet --variant=essential --include="$deps" --format=tar bookworm \
		"$tarball.tmp" "$sources" || { rm -f "$tarball.tmp"; echo "deb: mmdebstrap failed" >&2; exit 1; }
	mv "$tarball.tmp" "$tarball"
fi
tar -xf "$tarball" -C "$root" || exit 1
cp "$deb" "$root/tmp/leaktrace.deb" && cp "$out/fixtures/leaky-nofp" "$root/tmp/leaky" || exit 1
mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" ||
	exit 1

in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

in_root dpkg -i /tmp/leaktrace.deb >/dev/null || fail "dpkg -i failed"
got=$(in_root leaktrace --version)
[ "$got" = "leaktrace $version" ] || fail "leaktrace --version: '$got', not 'leaktrace $version'"
in_root leaktrace -q -o /tmp/run.json -- /tmp/leaky run malloc >/dev/null 2>"$root/tmp/err" ||
	fail "leaktrace -- /tmp/leaky failed: $(cat "$root/tmp/err")"
folded=$(in_root leaktrace report /tmp/run.json --format folded)
grep -qE '^leaky;.*;leak_malloc 100000$' <<<"$folded" || fail "no 'leak_malloc 100000' in: $folded"
in_root sh -c 'zcat /usr/share/man/man8/leaktrace.8.gz | grep -q "^leaktrace - find"' ||
	fail "no man page leaktrace(8)"
got=$(in_root bash -c 'source /usr/share/bash-completion/completions/leaktrace;
	COMP_WORDS=(leaktrace --for); COMP_CWORD=1; _leaktrace; echo "${COMPREPLY[*]}"')
[ "$got" = --format ] || fail "bash completion of --for: '$got'"
# Nothing but what dpkg installed: the package's files are all its own.
in_root dpkg -r leaktrace >/dev/null || fail "dpkg -r failed"
in_root sh -c '! command -v leaktrace' >/dev/null || fail "leaktrace still there after dpkg -r"
[ "$fails" -eq 0 ] || exit 1
echo "  DEB      $(basename "$deb") in a fresh bookworm root: --version, a traced leak of" \
	"100000 bytes, man page, completion, dpkg -r"
