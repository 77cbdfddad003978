# Sourced by tests/linux/disk.sh, net.sh and crash.sh: which Linux guest
# they boot, and its initramfs. By default Debian's i386 (-686) kernel, its
# modules and the static i386 busybox that tests/linux/fetch-kernels.sh
# fetches into build/linux; the options below pick another kernel (e.g. the
# amd64 one: tests/kmod/run-svm.sh --linux-io runs these tests inside the
# emulated AMD host on --engine svm with Debian's amd64 kernel).
#   --kernel FILE        the guest's vmlinuz
#   --modules-root DIR   a dpkg-deb -x of the kernel's linux-image (lib/modules/VER)
#   --busybox FILE       a static busybox for the guest's initramfs
#   --initrd FILE        an initramfs built before (--make-initrd): no
#                        fetch, no mkinitramfs.sh (the emulated host has neither)
#   --make-initrd FILE   only build the test's initramfs into FILE and exit
#   --mem MIB            the guest's RAM (default 128)
#   --limit SECS         how long one boot may take (default 180; more
#                        inside an emulated host)
#   guest_opt OPT VALUE  -> 0 if OPT is one of these (VALUE taken)
#   guest_args SCRIPT ARG... -> --engine E (sets engine, default bt) and the
#                           options above; anything else: one line, exit 2
#   guest_prepare NAME INIT "MODULES" -> sets kernel, initrd (in $work);
#                           exits on SKIP/FAIL, or after --make-initrd
# Needs here (tests/linux), out (build/linux) and work (a scratch directory).
kernel= modroot= busybox= initrd= make_initrd= mem=128 limit=180
guest_opt() {
	case $1 in
	--kernel) kernel=$2 ;;
	--modules-root) modroot=$2 ;;
	--busybox) busybox=$2 ;;
	--initrd) initrd=$2 ;;
	--make-initrd) make_initrd=$2 ;;
	--mem) mem=$2 ;;
	--limit) limit=$2 ;;
	*) return 1 ;;
	esac
}
guest_args() {
	local script=$1
	shift
	engine=bt
	while (($#)); do
		case $1 in
		--engine) engine=${2:?--engine needs a name} ;;
		*) guest_opt "$1" "${2:?$1 needs a value}" ||
			{ echo "$script: unknown argument $1" >&2; exit 2; } ;;
		esac
		shift 2
	done
}

guest_prepare() {
	local name=$1 init=$2 modules=$3
	if [[ -z $initrd && ( -z $kernel || -z $modroot || -z $busybox ) ]]; then
		"$here/fetch-kernels.sh" "$out" >/dev/null 2>"$out.fetch.err"
		case $? in
		0) ;;
		77) echo "SKIP $name: $(tail -1 "$out.fetch.err")"; exit 0 ;;
		*) echo "FAIL $name: fetch-kernels.sh failed:"; sed 's/^/    /' "$out.fetch.err"; exit 1 ;;
		esac
		[[ -n $kernel ]] || kernel=$out/vmlinuz-686
		[[ -n $modroot ]] || modroot=$(ls -d "$out"/root-linux-image-*-686 | head -n 1)
		[[ -n $busybox ]] || busybox=$out/root-busybox-static/bin/busybox
	fi
	[[ -n $make_initrd || -f $kernel ]] || { echo "FAIL $name: no kernel $kernel"; exit 1; }
	if [[ -n $initrd ]]; then
		[[ -f $initrd ]] || { echo "FAIL $name: no initramfs $initrd"; exit 1; }
		return 0
	fi
	local dest=${make_initrd:-$work/initrd.gz}
	"$here/mkinitramfs.sh" --root "$modroot" --busybox "$busybox" --init "$here/$init" \
		--out "$dest" --modules "$modules" 2>"$dest.err" ||
		{ echo "FAIL $name: mkinitramfs.sh: $(tail -1 "$dest.err")"; exit 1; }
	rm -f "$dest.err"
	[[ -z $make_initrd ]] || exit 0
	initrd=$dest
}
