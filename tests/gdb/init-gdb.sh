#!/bin/busybox sh
# /init of tests/gdb/linux.sh's initramfs: names the address of the
# kernel's uname system call from /proc/kallsyms (Debian's System.map is
# a placeholder, and the i386 kernel may be relocated), then calls uname
# once a second, so a debugger's breakpoint there is hit, for a minute.
/bin/busybox --install -s /bin
mkdir -p /proc
mount -t proc proc /proc
echo 0 >/proc/sys/kernel/kptr_restrict
line=$(grep -m1 -E ' [Tt] (__ia32_sys_newuname|__do_sys_newuname|sys_newuname)$' /proc/kallsyms)
echo "hyvm-gdb: symbol $line"
i=0
while [ $i -lt 60 ]; do
	uname -r >/dev/null
	sleep 1
	i=$((i + 1))
done
echo "hyvm-gdb: no debugger stopped us"
poweroff -f
