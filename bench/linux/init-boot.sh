#!/bin/busybox sh
# /init of bench/linux/boot-time.sh's default initramfs: the shell's first
# line, the line that ends the session, and the guest's own power-off at
# once, so the run's end times the kernel's shutdown and nothing else.
echo "hyvm-linux-init: hello from /init, kernel $(/bin/busybox uname -r)"
echo "hyvm-session: done"
/bin/busybox poweroff -f
