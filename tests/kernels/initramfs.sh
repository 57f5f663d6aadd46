#!/usr/bin/env bash
# Builds the initramfs the test kernels boot: busybox, jq, leaktrace, the fixtures, the shared
# libraries they load, and an /init that runs tests/kernels/scenarios.sh and powers off.
# Usage: initramfs.sh OUT.cpio LEAKTRACE FIXTURES_DIR [arm64]
# With arm64 (on another host): the cross-built leaktrace and fixtures, busybox and jq from
# Debian's arm64 packages (downloaded into OUT's directory, never installed) and the libraries
# from the arm64 multiarch directories.
set -euo pipefail
out=${1:?usage: initramfs.sh OUT.cpio LEAKTRACE FIXTURES_DIR [arm64]}
lt=${2:?}
fx=${3:?}
foreign=${4:-}
here=$(dirname "$0")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,fixtures}
strip=strip
if [ -n "$foreign" ]; then
	triplet=aarch64-linux-gnu
	strip=$triplet-strip
	debs=$(dirname "$out")/debs-$foreign
	mkdir -p "$debs"
	for pkg in busybox-static jq; do
		ls "$debs/$pkg"_*.deb >/dev/null 2>&1 ||
			(cd "$debs" && apt-get download -q "$pkg:$foreign" >/dev/null 2>&1) || {
			echo "initramfs: cannot download $pkg:$foreign" >&2
			exit 1
		}
		dpkg-deb --fsys-tarfile "$debs/$pkg"_*.deb | tar -x -C "$debs" ./bin ./usr/bin 2>/dev/null || true
	done
	cp "$debs/bin/busybox" "$root/bin/"
	cp "$debs/usr/bin/jq" "$root/bin/"
else
	cp /bin/busybox "$root/bin/"
	cp "$(command -v jq)" "$root/bin/"
fi
# Without their debug sections (the symbol tables stay): a third of the size to unpack.
$strip -g -o "$root/leaktrace" "$lt"
$strip -g -o "$root/fixtures/leaky-fp" "$fx/leaky-fp"
$strip -g -o "$root/fixtures/leaky-nofp" "$fx/leaky-nofp"
$strip -g -o "$root/fixtures/leaky_cxx-nofp" "$fx/leaky_cxx-nofp"
$strip -g -o "$root/fixtures/kpipes-nofp" "$fx/kpipes-nofp"
cp "$here/scenarios.sh" "$root/"

# A foreign binary's libraries, as its dynamic loader would find them: the interpreter and,
# recursively, each NEEDED library in the target's multiarch directories.
foreign_libs() {
	local todo=("$@") seen=" " f name dir
	for f in "${todo[@]}"; do
		readelf -l "$f" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)]$/\1/p'
	done | sort -u
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for name in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case "$seen" in *" $name "*) continue ;; esac
			seen="$seen$name "
			for dir in /lib/$triplet /usr/lib/$triplet; do
				if [ -e "$dir/$name" ]; then
					echo "/lib/$triplet/$name"
					todo+=("$dir/$name")
					break
				fi
			done
		done
	done
}

# Each library at the path ldd resolves it to, the dynamic loader included (leaktrace finds
# the allocator through /proc/PID/maps, so the paths must be real files).
for bin in "$root/bin/jq" "$root/leaktrace" "$root"/fixtures/*; do
	if [ -n "$foreign" ]; then
		foreign_libs "$bin"
	else
		ldd "$bin" | grep -o '/[^ ]*'
	fi
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Runs the scenarios named by "scenarios=a,b" on the kernel command line (attach_busy's wait
# by "busy_seconds=N"), then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
scenarios=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^scenarios=//p' | tr ',' ' ')
BUSY_SECONDS=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^busy_seconds=//p')
export BUSY_SECONDS
sh /scenarios.sh /leaktrace /fixtures $scenarios
echo "EXIT $?"
poweroff -f
EOF
chmod +x "$root/init"
# The kernel unpacks an uncompressed archive fastest, and this one is small.
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$out.tmp"
mv "$out.tmp" "$out"
