#!/usr/bin/env bash
# The Debian packages: dpkg-buildpackage -b -us -uc in a copy of the tree
# (the tree itself is left alone) builds hyvm and hyvm-dkms with the
# expected files and DKMS maintainer scripts; lintian reports no error
# (its warnings are printed). With HYVM_TEST_DEB_INSTALL=1, as root, on a
# machine where neither package is installed: dpkg -i both (hyvm-dkms's
# postinst runs dkms for the kernels with headers), then as a throwaway
# user in group kvm (useradd) /usr/bin/hyvm runs the demo guest on bt, and
# on kvm, svm and vmx where their device is here and rw for group kvm
# (else SKIP); then the
# user and the packages are removed (dpkg --purge).
# SKIP without dpkg-buildpackage, debhelper or dh_dkms. ~2 min to build.
#   tests/pkg/deb.sh   (from the top of the tree)
set -u
passed=0 failed=0 skipped=0

. "$(dirname "$0")/../lib/verdict.sh"
skip() { echo "SKIP $1"; skipped=$((skipped + 1)); }

for tool in dpkg-buildpackage dh dh_dkms; do
	command -v $tool >/dev/null ||
		{ echo "SKIP deb: $tool not installed (apt-get install dpkg-dev debhelper dh-dkms)"; exit 0; }
done
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
t=$(mktemp -d)
user= made_group= installed=
cleanup() {
	[[ -n $user ]] && userdel "$user" 2>/dev/null
	[[ -n $installed ]] && dpkg --purge hyvm hyvm-dkms >/dev/null 2>&1
	[[ -n $made_group ]] && groupdel kvm 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# The tree without build products or .git, as a clean checkout has it.
mkdir "$t/hyvm-$version"
tar -C . --exclude=./build --exclude=./build-san --exclude=./.git -cf - . | tar -C "$t/hyvm-$version" -xf -
start=$(date +%s)
(cd "$t/hyvm-$version" && dpkg-buildpackage -b -us -uc -j2) >"$t/build.log" 2>&1
rc=$?
verdict "dpkg-buildpackage -b -us -uc ($(($(date +%s) - start)) s)" "$([[ $rc == 0 ]] && echo 1)" \
	"status $rc: $(tail -15 "$t/build.log")"
deb=$t/hyvm_${version}_amd64.deb dkms=$t/hyvm-dkms_${version}_all.deb
[[ $rc == 0 && -f $deb && -f $dkms ]] || { echo "deb: $passed passed, $failed failed"; exit 1; }

files=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\.||')
missing=
for f in /usr/bin/hyvm /lib/udev/rules.d/60-hyvm.rules /usr/share/bash-completion/completions/hyvm \
	/usr/lib/hyvm/nano.elf $(for p in docs/man/*.scd; do p=${p##*/}; echo "/usr/share/man/man1/${p%.scd}.gz"; done); do
	grep -qxF "$f" <<<"$files" || missing="$missing $f"
done
verdict "hyvm_${version}_amd64.deb: program, man pages, completion, udev rule" \
	"$([[ -z $missing ]] && echo 1)" "missing:$missing"
files=$(dpkg-deb -c "$dkms" | awk '{ print $6 }' | sed 's|^\.||')
ctl=$(dpkg-deb -I "$dkms")
verdict "hyvm-dkms: /usr/src/hyvm-$version with dkms.conf and Kbuild, depends on dkms, DKMS postinst" \
	"$(grep -qxF "/usr/src/hyvm-$version/dkms.conf" <<<"$files" &&
		grep -qxF "/usr/src/hyvm-$version/kmod/Kbuild" <<<"$files" &&
		grep -q 'Depends:.*dkms' <<<"$ctl" && dpkg-deb -I "$dkms" postinst | grep -q 'dkms' && echo 1)" \
	"$ctl"

if command -v lintian >/dev/null; then
	(cd "$t" && lintian --no-tag-display-limit "hyvm_${version}_amd64.changes") >"$t/lintian.log" 2>&1
	errors=$(grep -c '^E:' "$t/lintian.log")
	grep -E '^[EW]:' "$t/lintian.log" | sed 's/^/    /'
	verdict "lintian: no errors ($(grep -c '^W:' "$t/lintian.log") warnings)" "$([[ $errors == 0 ]] && echo 1)" \
		"$errors errors"
else
	skip "lintian: not installed (apt-get install lintian)"
fi

if [[ ${HYVM_TEST_DEB_INSTALL:-0} != 1 ]]; then
	skip "dpkg -i and hyvm as a user in group kvm: not asked (HYVM_TEST_DEB_INSTALL=1, as root)"
elif [[ $(id -u) != 0 ]]; then
	skip "dpkg -i and hyvm as a user in group kvm: needs root"
elif dpkg -s hyvm >/dev/null 2>&1 || dpkg -s hyvm-dkms >/dev/null 2>&1; then
	skip "dpkg -i: hyvm or hyvm-dkms is installed on this machine already; left alone"
else
	getent group kvm >/dev/null || made_group=1
	installed=1
	start=$(date +%s)
	dpkg -i "$deb" "$dkms" >"$t/dpkg.log" 2>&1
	rc=$?
	verdict "dpkg -i hyvm hyvm-dkms ($(($(date +%s) - start)) s)" "$([[ $rc == 0 ]] && echo 1)" \
		"status $rc: $(tail -10 "$t/dpkg.log")"
	grep -iE 'dkms|hyvm.ko|Building|Error' "$t/dpkg.log" | sed 's/^/    /' | head -10
	verdict "group kvm exists" "$(getent group kvm >/dev/null && echo 1)" "no group kvm"
	verdict "man hyvm-run finds the installed page" \
		"$(man -w hyvm-run 2>/dev/null | grep -q '^/usr/share/man/man1/hyvm-run.1' && echo 1)" \
		"$(man -w hyvm-run 2>&1)"
	user=hyvmtest$$
	useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --groups kvm "$user"
	verdict "useradd $user in group kvm" "$(id -nG "$user" 2>/dev/null | grep -qw kvm && echo 1)" \
		"$(id "$user" 2>&1)"
	asuser() { su -s /bin/sh "$user" -c "cd /tmp && $*" </dev/null; }
	out=$(asuser "timeout 60 /usr/bin/hyvm run --engine bt" 2>&1)
	rc=$?
	verdict "$user: /usr/bin/hyvm run --engine bt (the demo guest)" "$([[ $rc == 0 ]] && echo 1)" \
		"status $rc: $out"
	out=$(asuser "timeout 60 /usr/bin/hyvm run" 2>&1)
	rc=$?
	verdict "$user: /usr/bin/hyvm run (the demo guest, --engine auto)" "$([[ $rc == 0 ]] && echo 1)" \
		"status $rc: $out"
	for e in kvm svm vmx; do
		line=$(/usr/bin/hyvm engines | awk -v e=$e '$1 == e')
		if [[ $line != "$e present"* ]]; then
			skip "$user: hyvm run --engine $e: ${line:-$e not listed}"
			continue
		fi
		# the group's access is the host's udev (Debian: /dev/kvm 0660
		# root:kvm) and, for /dev/hyvm, this package's rule; a host that
		# keeps the node root's alone is not the package's doing
		dev=/dev/kvm; [[ $e == kvm ]] || dev=/dev/hyvm
		if [[ $(stat -c %G "$dev") != kvm || $(( 0$(stat -c %a "$dev") & 060 )) != $((060)) ]]; then
			skip "$user: hyvm run --engine $e: $dev is $(stat -c '%A %U:%G' "$dev") on this host, not rw for group kvm"
			continue
		fi
		out=$(asuser "timeout 60 /usr/bin/hyvm run --engine $e" 2>&1)
		rc=$?
		verdict "$user: /usr/bin/hyvm run --engine $e (the demo guest)" "$([[ $rc == 0 ]] && echo 1)" \
			"status $rc: $out"
	done
	userdel "$user" && user=
	dpkg --purge hyvm hyvm-dkms >"$t/dpkg.log" 2>&1
	rc=$?
	verdict "dpkg --purge hyvm hyvm-dkms" "$([[ $rc == 0 && ! -e /usr/bin/hyvm && ! -e /usr/src/hyvm-$version ]] && echo 1)" \
		"status $rc: $(tail -5 "$t/dpkg.log")"
	installed=
fi
echo "deb: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
