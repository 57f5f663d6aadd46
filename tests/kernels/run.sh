#!/usr/bin/env bash
# make test-kernels: tests/kernels/scenarios.sh on this machine's kernel and, under qemu with
# software emulation, on Debian 12's own kernels, all at once; prints the matrix (kernel,
# features, scenarios passed) and exits 1 when a scenario failed or a kernel did not report.
# With ARM64_LEAKTRACE and ARM64_FIXTURES_DIR (cross-built), Debian 12's arm64 kernels boot
# too, under qemu-system-aarch64, at the same time.
# KERNELS_HOST=0 leaves this machine's kernel out (make test runs the qemu kernels beside its
# integration suite, which covers this kernel, and whose processes the host's -a scenario must
# not meet).
# Usage: run.sh LEAKTRACE FIXTURES_DIR CACHE_DIR [ARM64_LEAKTRACE ARM64_FIXTURES_DIR]
set -euo pipefail
lt=$(realpath "${1:?usage: run.sh LEAKTRACE FIXTURES_DIR CACHE_DIR [ARM64_LEAKTRACE ARM64_FIXTURES_DIR]}")
fx=$(realpath "${2:?}")
cache=${3:?}
lt_arm64=${4:+$(realpath "$4")}
fx_arm64=${5:+$(realpath "$5")}
here=$(dirname "$0")
# Debian 12's kernel packages, by metapackage: 6.1 (no uprobe_multi, no uretprobe syscall)
# and 6.12 (both, no uprobe sessions). Each is downloaded once and unpacked, never installed.
metas=(linux-image-cloud-amd64 linux-image-6.12-cloud-amd64)
# The same two of arm64 (arm64 has no uretprobe syscall).
metas_arm64=(linux-image-cloud-arm64:arm64 linux-image-6.12-cloud-arm64:arm64)
[ -n "$lt_arm64" ] || metas_arm64=()
# A boot takes ~4 s and the scenarios ~25 s here under TCG (an arm64 one about 4 minutes: every
# instruction translated from another instruction set); the limit is for a hung kernel.
vm_limit=${KERNELS_TIMEOUT:-900}
mkdir -p "$cache"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The versioned kernel package a metapackage stands for.
kernel_package() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' |
		head -n1
}

# Prints the path of the kernel image of metapackage $1, fetching it on first use.
fetch_kernel() {
	local pkg dir
	pkg=$(kernel_package "$1")
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kernel_package "$1")
	fi
	if [ -z "$pkg" ]; then
		echo "test-kernels: apt knows no package $1 (is this Debian 12?)" >&2
		return 1
	fi
	dir=$cache/$pkg
	if [ ! -e "$dir/vmlinuz" ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		# apt-get download as root warns that it cannot drop privileges: not an error here.
		(cd "$dir.tmp" && apt-get download -q "$pkg" >download.log 2>&1) || {
			echo "test-kernels: cannot download $pkg: $(tail -n1 "$dir.tmp/download.log")" >&2
			return 1
		}
		# Only /boot: the image boots with no modules (the initramfs needs none).
		mkdir "$dir.tmp/root"
		dpkg-deb --fsys-tarfile "$dir.tmp"/*.deb | tar -x -C "$dir.tmp/root" ./boot
		ln -s root/boot/"$(basename "$dir.tmp"/root/boot/vmlinuz-*)" "$dir.tmp/vmlinuz"
		rm -f "$dir.tmp"/*.deb
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/vmlinuz"
}

# Boots kernel $1 with the initramfs; the serial console (the scenarios' output) goes to $2.
boot() {
	timeout "$vm_limit" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1024 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$2" -kernel "$1" -initrd "$cache/initramfs.cpio" \
		-append "console=ttyS0 quiet panic=-1" >"$2.qemu" 2>&1 || true
}

# The same for an arm64 kernel, on qemu's virt board (PL011 console). pauth-impdef: pointer
# authentication by QEMU's own cheap algorithm instead of the architected QARMA (same behaviour,
# several times faster under TCG).
boot_arm64() {
	timeout "$vm_limit" qemu-system-aarch64 -accel tcg -M virt -cpu max,pauth-impdef=on -smp 1 \
		-m 1024 -nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$2" -kernel "$1" -initrd "$cache/initramfs-arm64.cpio" \
		-append "console=ttyAMA0 quiet panic=-1 busy_seconds=10" >"$2.qemu" 2>&1 || true
}

kernels=()
for m in "${metas[@]}" "${metas_arm64[@]}"; do
	kernels+=("$(fetch_kernel "$m")")
done
"$here/initramfs.sh" "$cache/initramfs.cpio" "$lt" "$fx"
[ -z "$lt_arm64" ] || "$here/initramfs.sh" "$cache/initramfs-arm64.cpio" "$lt_arm64" "$fx_arm64" arm64

start=$(date +%s)
# Each log starts with the kernel it is of, in case that kernel never gets to say so itself.
# The arm64 ones first: they take longest.
for i in "${!kernels[@]}"; do
	name=$(basename "$(dirname "${kernels[$i]}")" | sed -e 's/^linux-image-//' -e 's/:.*//')
	case "${kernels[$i]}" in
	*:arm64/*)
		echo "KERNEL $name qemu aarch64" >"$logs/qemu$i.txt"
		boot_arm64 "${kernels[$i]}" "$logs/qemu$i" &
		;;
	*)
		echo "KERNEL $name qemu x86_64" >"$logs/qemu$i.txt"
		boot "${kernels[$i]}" "$logs/qemu$i" &
		;;
	esac
done
host=()
if [ "${KERNELS_HOST:-1}" != 0 ]; then
	host=("$logs/host")
	echo "KERNEL $(uname -r) host $(uname -m)" >"$logs/host.txt"
	# The host's own run meanwhile: its CPU time is small next to the emulated ones.
	{ sh "$here/scenarios.sh" "$lt" "$fx" && echo "EXIT 0" || echo "EXIT $?"; } >"$logs/host" 2>&1
fi
wait
elapsed=$(($(date +%s) - start))

# "qemu*" logs are serial consoles: \r line ends, kernel messages in between.
status=0
for log in ${host[@]+"${host[@]}"} "$logs"/qemu?; do
	[ ! -e "$log" ] || tr -d '\r' <"$log" >>"$log.txt"
	grep -q '^EXIT 0$' "$log.txt" || status=1
done
# One row per kernel: its features as leaktrace -v reports them, and the scenarios passed;
# then one row per scenario, a column per kernel, and each scenario's details (per kernel
# where they differ: a failure's reason, where the probes went).
awk '
	function or_unknown(v) { return v == "" ? "?" : v }
	/^KERNEL / { k++; name[k] = $2 " (" $4 ")"; where[k] = $3; machine[k] = $4 }
	/^FEATURES / {
		name[k] = $2 " (" machine[k] ")"; sub(/: \(/, " (", name[k])
		for (i = 3; i < NF; i++) {
			v = $(i + 1); sub(/,$/, "", v)
			if ($i == "BTF") btf[k] = v
			if ($i == "ringbuf") ringbuf[k] = v
			if ($i == "uprobe_multi") multi[k] = v
			if ($i == "syscall") uretsys[k] = v
			if ($i == "session") session[k] = v
		}
	}
	/^SCENARIO / {
		s = $2
		if (!(s in seen)) { seen[s] = 1; order[++ns] = s }
		res[s, k] = $3
		d = $0; sub(/^SCENARIO [^ ]* [^ ]* ?/, "", d); detail[s, k] = d
		total[k]++; if ($3 == "PASS") passed[k]++
	}
	/^EXIT / { exited[k] = 1 }
	END {
		printf "%-38s %-5s %-4s %-8s %-13s %-18s %-8s %s\n", "kernel", "where", "BTF",
			"ringbuf", "uprobe_multi", "uretprobe_syscall", "session", "scenarios"
		for (i = 1; i <= k; i++)
			printf "%-38s %-5s %-4s %-8s %-13s %-18s %-8s %d/%d%s\n", name[i], where[i],
				or_unknown(btf[i]), or_unknown(ringbuf[i]), or_unknown(multi[i]),
				or_unknown(uretsys[i]), or_unknown(session[i]), passed[i], total[i],
				exited[i] ? "" : " (did not finish)"
		printf "\n%-16s", "scenario"
		for (i = 1; i <= k; i++)
			printf " %-38s", name[i]
		printf "\n"
		for (j = 1; j <= ns; j++) {
			s = order[j]
			printf "%-16s", s
			for (i = 1; i <= k; i++)
				printf " %-38s", (s, i) in res ? res[s, i] : "-"
			printf "\n"
		}
		printf "\n"
		for (j = 1; j <= ns; j++) {
			s = order[j]
			same = 1
			for (i = 2; i <= k; i++)
				if (detail[s, i] != detail[s, 1] || res[s, i] != res[s, 1])
					same = 0
			if (same) {
				printf "%s: %s%s\n", s, res[s, 1] == "PASS" ? "" : "FAIL ", detail[s, 1]
				continue
			}
			for (i = 1; i <= k; i++)
				if ((s, i) in res)
					printf "%s on %s: %s %s\n", s, name[i], res[s, i], detail[s, i]
		}
	}' ${host[@]+"${host[0]}.txt"} "$logs"/qemu?.txt
for log in ${host[@]+"${host[@]}"} "$logs"/qemu?; do
	grep -q '^EXIT ' "$log.txt" && continue
	echo "$(sed -n '1s/^KERNEL \([^ ]*\).*/\1/p' "$log.txt") did not finish; the end of its" \
		"console, then qemu's messages:"
	tail -n 20 "$log.txt" | sed 's/^/    /'
	[ ! -s "$log.qemu" ] || sed 's/^/    qemu: /' "$log.qemu"
done
echo
echo "test-kernels: ${#kernels[@]} kernels under qemu${host[@]+ and this one} in ${elapsed} s:" \
	"$([ $status -eq 0 ] && echo "every scenario passed" || echo FAILED)"
exit $status
