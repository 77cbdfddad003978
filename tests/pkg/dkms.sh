#!/usr/bin/env bash
# DKMS builds hyvm.ko from what make install puts in src/hyvm-VERSION:
# `dkms add` and `dkms build` for every kernel whose headers are installed
# (/lib/modules/K/build), hyvm.ko checked (vermagic K), then `dkms remove`.
# The DKMS tree and source tree are temporary (--dkmstree, --sourcetree):
# /var/lib/dkms and /usr/src are left alone (dkms itself may create its
# module-signing key in /var/lib/dkms on its first build). With
# HYVM_TEST_DKMS_INSTALL=1 (root only: it writes /lib/modules/K/updates
# and runs depmod), also `dkms install` and `dkms uninstall`.
# SKIP (with the reason) without dkms, without headers, or not as root.
# ~60 s per kernel on 2 cores.
#   tests/pkg/dkms.sh [MAKE-ARGS...]   (from the top of the tree)
set -u
passed=0 failed=0

. "$(dirname "$0")/../lib/verdict.sh"

command -v dkms >/dev/null || { echo "SKIP dkms: dkms not installed (apt-get install dkms)"; exit 0; }
[[ $(id -u) == 0 ]] || { echo "SKIP dkms: dkms add/build need root"; exit 0; }
command -v "${SCDOC:-scdoc}" >/dev/null ||
	{ echo "SKIP dkms: scdoc not installed, make install cannot run (scripts/install-deps)"; exit 0; }
kernels=
for b in /lib/modules/*/build; do
	[[ -f $b/Makefile ]] && kernels="$kernels $(basename "$(dirname "$b")")"
done
[[ -n $kernels ]] ||
	{ echo "SKIP dkms: no kernel headers in /lib/modules/*/build (apt-get install linux-headers-amd64)"; exit 0; }

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
version=$(sed -n 's/^#define HYVM_VERSION "\(.*\)"/\1/p' userspace/cli/commands.h)
if ! ${MAKE:-make} --no-print-directory -s "$@" install PREFIX=/usr DESTDIR="$t/root" >"$t/log" 2>&1; then
	verdict "make install" 0 "$(tail -5 "$t/log")"
	exit 1
fi
mkdir -p "$t/src" "$t/tree"
mv "$t/root/usr/src/hyvm-$version" "$t/src/"
trees=(-m hyvm -v "$version" --sourcetree "$t/src" --dkmstree "$t/tree")

dkms add "${trees[@]}" >"$t/log" 2>&1
verdict "dkms add hyvm/$version" "$([[ $? == 0 ]] && echo 1)" "$(tail -5 "$t/log")"
for k in $kernels; do
	start=$(date +%s)
	dkms build "${trees[@]}" -k "$k" >"$t/log" 2>&1
	rc=$?
	ko=$(find "$t/tree/hyvm/$version/$k" -name 'hyvm.ko*' 2>/dev/null | head -1)
	magic=$([[ -n $ko ]] && modinfo -F vermagic "$ko" 2>/dev/null | awk '{ print $1 }')
	verdict "dkms build for $k: hyvm.ko, vermagic $k ($(($(date +%s) - start)) s)" \
		"$([[ $rc == 0 && $magic == "$k" ]] && echo 1)" \
		"status $rc, module '${ko:-none}' vermagic '$magic': $(grep -iE 'error|warning' "$t/log" | head -5; tail -3 "$t/log")"
	[[ -f $t/tree/hyvm/$version/build/make.log ]] && grep -E ' (error|warning):' "$t/tree/hyvm/$version/build/make.log" | head -5
	if [[ ${HYVM_TEST_DKMS_INSTALL:-0} == 1 && $rc == 0 ]]; then
		dkms install "${trees[@]}" -k "$k" >"$t/log" 2>&1
		rc=$?
		f=$(ls /lib/modules/"$k"/updates/dkms/hyvm.ko* 2>/dev/null | head -1)
		verdict "dkms install for $k: ${f:-no module}" "$([[ $rc == 0 && -n $f ]] && echo 1)" "$(tail -5 "$t/log")"
		dkms uninstall "${trees[@]}" -k "$k" >"$t/log" 2>&1
		f=$(ls /lib/modules/"$k"/updates/dkms/hyvm.ko* 2>/dev/null | head -1)
		verdict "dkms uninstall for $k" "$([[ -z $f ]] && echo 1)" "$f is still there"
	fi
done
dkms remove "${trees[@]}" --all >"$t/log" 2>&1
verdict "dkms remove hyvm/$version" "$([[ $? == 0 && ! -e $t/tree/hyvm/$version ]] && echo 1)" "$(tail -5 "$t/log")"
echo "dkms: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
