#!/usr/bin/env bash
# make install into a temporary DESTDIR puts exactly the expected files
# there (the program, seven man pages, bash completion, the udev rule,
# hyvm bench's guest, hyvm.ko's source for DKMS: dkms.conf with the
# version filled in, Kbuild and a source for every object Kbuild names);
# the installed hyvm runs the demo guest (bt) and finds bench's guest;
# make uninstall leaves no file behind.
#   tests/pkg/install.sh [MAKE-ARGS...]   (from the top of the tree)
set -u
passed=0 failed=0
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make=${MAKE:-make}

. "$(dirname "$0")/../lib/verdict.sh"

if ! command -v "${SCDOC:-scdoc}" >/dev/null; then
	echo "SKIP install: scdoc not installed, make install cannot build the man pages (scripts/install-deps)"
	exit 0
fi
version=$(sed -n 's/^#define HYVM_VERSION "\(.*\)"/\1/p' userspace/cli/commands.h)
if ! $make --no-print-directory -s "$@" install PREFIX=/usr DESTDIR="$dest" >"$dest.log" 2>&1; then
	verdict "make install" 0 "$(tail -5 "$dest.log")"
	rm -f "$dest.log"
	exit 1
fi
rm -f "$dest.log"
got=$(cd "$dest" && find . -type f -o -type l | sed 's|^\./|/|' | sort)

src=/usr/src/hyvm-$version
expect=$(
	printf '%s\n' /usr/bin/hyvm /usr/lib/hyvm/nano.elf /usr/lib/udev/rules.d/60-hyvm.rules \
		/usr/share/bash-completion/completions/hyvm $src/dkms.conf $src/kmod/Kbuild
	for p in docs/man/*.scd; do p=${p##*/}; echo "/usr/share/man/man1/${p%.scd}"; done
)
missing=$(comm -23 <(echo "$expect" | sort) <(echo "$got") | xargs)
verdict "make install: the program, man pages, completion, udev rule, DKMS source" \
	"$([[ -z $missing ]] && echo 1)" "missing: $missing"
# Every object Kbuild names has its source under src/hyvm-VERSION/kmod.
objs=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' kmod/Kbuild | sed -n 's/^hyvm-y *:= *//p')
nosrc=
for o in $objs; do
	b=${o%.o}
	[[ -f $dest$src/kmod/$b.c || -f $dest$src/kmod/$b.S ]] || nosrc="$nosrc $o"
done
verdict "DKMS source: a .c or .S for each of Kbuild's $(echo $objs | wc -w) objects" \
	"$([[ -n $objs && -z $nosrc ]] && echo 1)" "no source for:${nosrc:- (Kbuild names none)}"
hdrs=$(grep -rhoE '#include <hyvm/[a-z_]+\.h>' kmod | sed 's/.*<\(.*\)>/\1/' | sort -u)
nohdr=
for h in $hdrs; do [[ -f $dest$src/include/$h ]] || nohdr="$nohdr $h"; done
verdict "DKMS source: the shared headers kmod includes ($(echo $hdrs))" "$([[ -z $nohdr ]] && echo 1)" \
	"missing:$nohdr"
stray=$(echo "$got" | grep -vxF "$expect" | grep -vE "^$src/(kmod|include/hyvm)/[a-z0-9_/]+\.[chS]$")
verdict "make install: nothing else" "$([[ -z $stray ]] && echo 1)" "unexpected: $(echo $stray)"
conf=$dest$src/dkms.conf
verdict "dkms.conf: PACKAGE_VERSION=$version, hyvm, /updates/dkms, AUTOINSTALL" \
	"$(grep -qx "PACKAGE_VERSION=\"$version\"" "$conf" && grep -qx 'BUILT_MODULE_NAME\[0\]="hyvm"' "$conf" &&
		grep -qx 'DEST_MODULE_LOCATION\[0\]="/updates/dkms"' "$conf" &&
		grep -qx 'AUTOINSTALL="yes"' "$conf" && echo 1)" "$(grep -v '^#' "$conf" | xargs)"
rule=$(grep -v '^#' "$dest/usr/lib/udev/rules.d/60-hyvm.rules")
verdict "udev rule: $rule" \
	"$([[ $rule == 'KERNEL=="hyvm", GROUP="kvm", MODE="0660"' ]] && echo 1)" "$rule"
perm=$(stat -c %a "$dest/usr/bin/hyvm")
verdict "bin/hyvm mode 755" "$([[ $perm == 755 ]] && echo 1)" "mode $perm"

out=$(timeout 60 "$dest/usr/bin/hyvm" run --engine bt </dev/null 2>&1)
rc=$?
verdict "installed hyvm runs the demo guest on bt" "$([[ $rc == 0 ]] && echo 1)" "status $rc: $out"
out=$(timeout 120 "$dest/usr/bin/hyvm" bench --engines bt --no-qemu --iterations 2 2>&1)
rc=$?
verdict "installed hyvm bench finds its guest in lib/hyvm" "$([[ $rc == 0 ]] && echo 1)" \
	"status $rc: $(tail -3 <<<"$out")"

$make --no-print-directory -s "$@" uninstall PREFIX=/usr DESTDIR="$dest" >/dev/null 2>&1
left=$(cd "$dest" && find . -type f -o -type l)
verdict "make uninstall leaves no file" "$([[ -z $left ]] && echo 1)" "left: $(echo $left)"
echo "install: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
