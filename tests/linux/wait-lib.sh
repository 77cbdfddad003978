# Sourced by the checkpoint scripts of tests/linux (ckpt.sh, ckpt-disk.sh,
# ckpt-disk-busy.sh, ckpt-net.sh): waiting for a guest's console line.
# wait_for FILE REGEX SECS: until a line of FILE matches REGEX, or the VM
# ($vm, when set) ends, or SECS of wall time pass (wall time: each poll
# is slow in an emulated host); the status says whether the line came.
wait_for() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		[[ -z $vm ]] || kill -0 "$vm" 2>/dev/null || break
		sleep 0.05
	done
	grep -q -- "$2" "$1" 2>/dev/null
}
