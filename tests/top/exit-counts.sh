#!/usr/bin/env bash
# A guest that makes a known number of exits (tests/top/exit-counts.asm:
# 1000 OUT, 300 IN, 200 MMIO writes, then one HLT) on every engine here:
# hyvm top --batch --json must report exactly those counts while it runs,
# the exit sites named by the guest's symbols, and hyvm run --stats-out the
# same counts when it ends.
#   tests/top/exit-counts.sh HYVM DIR-WITH-TOP-GUESTS
set -u
hyvm=$1 dir=$2
. "$(dirname "$0")/lib.sh"
guest=$dir/exit-counts.elf

sample() { "$hyvm" top --batch --json -n 1 -d 0.1 "$1" 2>"$work/top.err"; }

# check NAME JSON JQ-EXPR: the expression must be true of the JSON.
check() {
	if jq -e "$3" <<<"$2" >/dev/null; then
		pass "$1"
	else
		fail "$1: not true: $3"
		jq -c '.vcpus[0] | {categories: [.categories[] | {name, total}],
			reasons: [.reasons[] | {name, total}], top_addresses}' <<<"$2" | head -c 1500
		echo
	fi
}

counts_exact() { # the jq test of exact counts by category
	cat <<JQ
.vcpus[0] as \$v
| (\$v.categories | map({(.name): .total}) | add) as \$c
| \$c.io == 1300 and \$c.mmio == 200 and \$c.hlt == 1
  and (\$c | keys - ["io", "mmio", "hlt", "kicked"] | length) == 0
JQ
}

for e in $(present_engines); do
	start_vm "$e" "$guest" --stats-out "$work/profile.json"
	json= deadline=$((SECONDS + 90))
	# Wait for the guest's one HLT: after it, nothing but kicks can come.
	while ((SECONDS < deadline)) && kill -0 "$vm_pid" 2>/dev/null; do
		json=$(sample "$vm_pid") &&
			jq -e '.vcpus[0].categories | map(select(.name == "hlt")) | length == 1' \
				<<<"$json" >/dev/null && break
		json=
		sleep 0.2
	done
	if ! kill -0 "$vm_pid" 2>/dev/null; then
		wait "$vm_pid"
		st=$?
		if ((st == 77)); then
			skip "exit-counts ($e): $(cat "$work/vm.err")"
		else
			fail "exit-counts ($e): the VM ended with status $st: $(head -3 "$work/vm.err")"
		fi
		continue
	fi
	if [[ -z $json ]]; then
		fail "exit-counts ($e): no HLT exit seen in 90 s: $(cat "$work/top.err")"
		kill -KILL "$vm_pid"
		continue
	fi
	json=$(sample "$vm_pid")	# one more interval: still exactly the same
	check "live counts by category ($e)" "$json" "$(counts_exact)"
	check "engine and mode ($e)" "$json" ".vcpus[0].engine == \"$e\" and .vcpus[0].mode == \"protected\""
	check "no VMM time before the guest's exits is lost ($e)" "$json" \
		'.vcpus[0].categories | map(select(.name == "io"))[0] | .total_ns > 0 and .max_ns > 0'
	if [[ $e == kvm ]]; then
		check "live counts by KVM exit reason (kvm)" "$json" '
			(.vcpus[0].reasons | map({(.name): .total}) | add) as $r
			| $r.KVM_EXIT_IO == 1300 and $r.KVM_EXIT_MMIO == 200 and $r.KVM_EXIT_HLT == 1'
	fi
	if jq -e '.vcpus[0].addr_samples > 0' <<<"$json" >/dev/null; then
		check "exit sites named by guest symbols ($e)" "$json" '
			def sites($fn; $cat): map(select((.symbol | startswith($fn)) and .category == $cat))
				| map(.count) | add;
			.vcpus[0].top_addresses
			| sites("do_outs"; "io") == 1000 and sites("do_ins"; "io") == 300
			  and sites("do_mmio"; "mmio") == 200 and sites("wait_forever"; "hlt") == 1'
	else
		skip "exit sites ($e): the engine reports no exit addresses"
	fi
	text=$("$hyvm" top --batch -n 1 -d 0.1 "$vm_pid")
	if grep -qE '^ io +1300 ' <<<"$text" && grep -qE '^ mmio +200 ' <<<"$text"; then
		pass "text batch output ($e)"
	else
		fail "text batch output ($e):"; echo "$text" | head -12
	fi

	kill -TERM "$vm_pid"
	wait "$vm_pid"
	st=$?
	if ((st == 143)); then pass "SIGTERM ends the VM with 143 ($e)"
	else fail "SIGTERM ends the VM ($e): status $st"; fi
	if [[ -s $work/profile.json ]]; then
		prof=$(cat "$work/profile.json")
		check "--stats-out final profile ($e)" "$prof" \
			"$(counts_exact) and .state == \"ended\" and .exit_status == 143"
	else
		fail "--stats-out wrote no profile ($e)"
	fi
	if [[ ! -e $work/hyvm-$vm_pid.stats ]]; then pass "stats file removed at the end ($e)"
	else fail "stats file left behind ($e)"; fi
done
summary
