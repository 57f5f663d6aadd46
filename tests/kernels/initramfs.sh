#!/usr/bin/env bash
# Builds the initramfs the test kernels boot: busybox, jq, leaktrace, the fixtures, the shared
# libraries they load, and an /init that runs tests/kernels/scenarios.sh and powers off.
# Usage: initramfs.sh OUT.cpio LEAKTRACE FIXTURES_DIR
set -euo pipefail
out=${1:?usage: initramfs.sh OUT.cpio LEAKTRACE FIXTURES_DIR}
lt=${2:?}
fx=${3:?}
here=$(dirname "$0")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,fixtures}
cp /bin/busybox "$root/bin/"
cp "$(command -v jq)" "$root/bin/"
# Without their debug sections (the symbol tables stay): a third of the size to unpack.
strip -g -o "$root/leaktrace" "$lt"
strip -g -o "$root/fixtures/leaky-fp" "$fx/leaky-fp"
strip -g -o "$root/fixtures/leaky-nofp" "$fx/leaky-nofp"
strip -g -o "$root/fixtures/leaky_cxx-nofp" "$fx/leaky_cxx-nofp"
strip -g -o "$root/fixtures/kpipes-nofp" "$fx/kpipes-nofp"
cp "$here/scenarios.sh" "$root/"
# Each library at the path ldd resolves it to, the dynamic loader included (leaktrace finds
# the allocator through /proc/PID/maps, so the paths must be real files).
for bin in "$root/bin/jq" "$root/leaktrace" "$root"/fixtures/*; do
	ldd "$bin" | grep -o '/[^ ]*'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Runs the scenarios named by "scenarios=a,b" on the kernel command line, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
scenarios=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^scenarios=//p' | tr ',' ' ')
sh /scenarios.sh /leaktrace /fixtures $scenarios
echo "EXIT $?"
poweroff -f
EOF
chmod +x "$root/init"
# The kernel unpacks an uncompressed archive fastest, and this one is small.
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$out.tmp"
mv "$out.tmp" "$out"
