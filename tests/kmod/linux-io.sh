#!/bin/bash
# Runs inside an emulated host (tests/kmod/run-svm.sh --linux-io,
# run-vmx.sh --linux-io): the virtio tests of tests/linux with Debian's
# amd64 kernel, the emulated host's own, on one hyvm engine. Their
# initramfs images and the host-side tools they need were put in by
# linux_io_stage (tests/kmod/linux-guest.sh).
#   disk   virtio-blk with an ext4 image: plain, snapshot + hyvm disk
#          commit, read-only (3 boots)
#   net    virtio-net on slirp: DHCP, HTTP from the emulated host's busybox
#          httpd on 127.0.0.1, hostfwd into the guest's httpd (1 boot)
#   crash  SIGKILL of hyvm during the guest's flushed writes, CRASH_RUNS x
#          (plain, snapshot) (2 boots a run)
#   disk-net  disk's three cases and net's HTTP fetch in one boot (three
#          disks and the card in one guest; no hostfwd)
#   linux-io.sh ENGINE LIMIT_SECS [TESTS [CRASH_RUNS]]
# TESTS defaults to "disk net crash", CRASH_RUNS to 2. Each test's PASS/FAIL
# lines come out naming the kernel and engine, then "TIME linux-T (amd64,
# ENGINE): N s" (the harness shows TIME lines: each stage's cost).
set -u
engine=$1 limit=$2 tests=${3:-disk net crash} runs=${4:-2}
# userspace/engines/hyvm/engine_svm.c's line for HYVM_FAIL_HOST_STATE
host_state_lost="the VMCB held the host's own state"
ip link set lo up	# slirp reaches the emulated host's httpd on 127.0.0.1
for t in $tests; do
	echo "== virtio $t: Debian's amd64 kernel on --engine $engine"
	s=$(date +%s)
	extra=()
	[[ $t != crash ]] || extra=(--runs "$runs")
	for try in 1 2; do
		bash "/hyvm/linux/$t.sh" /hyvm/hyvm --engine "$engine" --kernel /linux/vmlinuz \
			--initrd "/linuxio/$t.gz" --mem 256 --limit "$limit" "${extra[@]}" 2>&1 |
			sed -E "s/^(PASS|FAIL|SKIP) linux-([a-z-]+)/\\1 linux-\\2 (amd64, $engine)/; s/^([0-9]+) passed, ([0-9]+) failed/linux-$t on $engine: \\1 passing, \\2 failing checks/" >/tmp/linux-io.out
		# Every failure being hyvm.ko's refusal of a VMCB that the SVM
		# below it filled with its own host state (HYVM_FAIL_HOST_STATE,
		# kmod/svm/svm_exit.c: QEMU 7.2's TCG SVM did it) is the emulated
		# host's, not the test's: the test runs once more, its failures
		# shown as RETRY lines.
		if [[ $try == 1 ]] && grep -q "^FAIL .*$host_state_lost" /tmp/linux-io.out &&
			! grep '^FAIL ' /tmp/linux-io.out | grep -vq "$host_state_lost"; then
			sed -n 's/^FAIL /RETRY /p' /tmp/linux-io.out
			echo "linux-io: linux-$t runs once more: the emulated host's SVM lost the guest's state"
			continue
		fi
		cat /tmp/linux-io.out
		break
	done
	echo "TIME linux-$t (amd64, $engine): $(($(date +%s) - s)) s"
done
