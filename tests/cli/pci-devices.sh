#!/usr/bin/env bash
# The PCI bus with a function on it: the pci_scan guest with
# --device pci_testdev on each engine finds the bridges and sizes the test
# function's two BARs; QEMU's pc with -device pci-testdev (same IDs and BAR
# sizes) must print the same "fw: pci" lines (SKIP without QEMU). Two test
# functions take slots 2 and 3.
#   tests/cli/pci-devices.sh HYVM GUEST-DIR ENGINE...
set -u
hyvm=$1 guests=$2
shift 2
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
elf=$guests/pci_scan.elf

want=(
	"fw: pci 00:00.0 8086:1237 class 060000"
	"fw: pci 00:01.0 8086:7000 class 060100"
	"fw: pci 00:02.0 1b36:0005 class 00ff00"
	"fw: pci 00:02.0 BAR 0 mem 0x1000 bytes"
	"fw: pci 00:02.0 BAR 1 io 0x100 bytes"
	"fw: pci 3 functions, 2 BARs sized"
)

verdict() { # name status wanted-status file lines...
	local name=$1 status=$2 wanted=$3 file=$4 missing=""
	shift 4
	sed -i 's/\r$//' "$file"		# the guests' serial lines end in CR LF
	for line in "$@"; do
		grep -qxF -- "$line" "$file" || missing="$missing [$line]"
	done
	if ((status == 77)); then
		echo "SKIP $name: $(head -c 200 "$work/err")"
		skipped=$((skipped + 1))
	elif ((status == wanted)) && [[ -z $missing ]] && ! grep -q '^FAIL' "$file"; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: status $status (want $wanted), missing:${missing:- none}"
		grep '^FAIL' "$file" | head -3 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

for e in "$@"; do
	timeout 120 "$hyvm" run --engine "$e" --device pci_testdev "$elf" >"$work/$e" \
		2>"$work/err" </dev/null
	verdict "pci-devices pci_scan+pci_testdev ($e)" $? 1 "$work/$e" "${want[@]}"
	timeout 120 "$hyvm" run --engine "$e" --device pci_testdev --device pci_testdev,slot=3 \
		"$elf" >"$work/$e.two" 2>"$work/err" </dev/null
	verdict "pci-devices two pci_testdev ($e)" $? 1 "$work/$e.two" \
		"fw: pci 00:03.0 1b36:0005 class 00ff00" "fw: pci 4 functions, 4 BARs sized"
done

if command -v qemu-system-x86_64 >/dev/null; then
	timeout 300 qemu-system-x86_64 -accel tcg -M pc -display none -vga none -net none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot \
		-device pci-testdev -kernel "$elf" >"$work/qemu" 2>"$work/err" </dev/null
	verdict "pci-devices pci_scan+pci-testdev (qemu)" $? 1 "$work/qemu" "${want[@]}"
	for e in "$@"; do
		[[ -s $work/$e ]] || continue
		if diff <(grep '^fw: pci' "$work/qemu") <(grep '^fw: pci' "$work/$e") >"$work/diff"; then
			echo "PASS pci-devices same bus as QEMU ($e)"
			passed=$((passed + 1))
		else
			echo "FAIL pci-devices same bus as QEMU ($e):"
			sed 's/^/    /' "$work/diff" | head -10
			failed=$((failed + 1))
		fi
	done
else
	echo "SKIP pci-devices (qemu): qemu-system-x86_64 is not installed"
	skipped=$((skipped + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
