/*
 * What this host's KVM can run: the device node, its API version, and the
 * limits of kvm_pvm (a software KVM whose emulator fails on code the
 * runners then skip, with the reason the engine gives here).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "engines/kvm/kvm_probe.h"

#define KVM_DEVICE "/dev/kvm"

/* HYVM_KVM_DEVICE points the engine at another node: how the tests show
 * what a machine without /dev/kvm gets. */
const char *kvm_device(void)
{
	const char *dev = getenv("HYVM_KVM_DEVICE");
	return dev && *dev ? dev : KVM_DEVICE;
}

bool kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

bool kvm_host_has_cpu_flag(const char *flag)
{
	char line[4096], pat[32];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	snprintf(pat, sizeof(pat), " %s", flag);
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			char *p = strstr(line, pat);
			found = p && (p[strlen(pat)] == ' ' || p[strlen(pat)] == '\n');
		}
	fclose(f);
	return found;
}

void kvm_probe(struct engine_caps *caps)
{
	int fd = open(kvm_device(), O_RDWR | O_CLOEXEC);

	memset(caps, 0, sizeof(*caps));
	if (fd < 0) {
		snprintf(caps->absent_why, sizeof(caps->absent_why), "%s: %s%s",
			 kvm_device(), strerror(errno), errno == EACCES ? " (join group kvm)" : "");
		return;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (api != KVM_API_VERSION) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "%s speaks KVM API %d, not %d", kvm_device(), api, KVM_API_VERSION);
		return;
	}
	caps->present = true;
	caps->msr_exits = true;		/* the MSR filter (kvm_msr.c) */
	host_fp_faults_limit(caps);
	/* engine.h set_a20: KVM has no A20 gate (it would be every odd
	 * megabyte remapped in the memory slots) */
	caps->cannot[NEED_A20] = "KVM has no A20 gate (addresses above 1 MiB never wrap)";
	/* KVM keeps IA32_TSC_ADJUST, but struct hyvm_cpu_state has no field
	 * for it: a hybrid switch or a checkpoint would lose it */
	caps->cannot[NEED_TSC_ADJUST] = "the kvm engine does not carry IA32_TSC_ADJUST in the CPU state";
	if (kvm_is_pvm()) {
		/* Measured limits of kvm_pvm: see docs/ARCHITECTURE.md. */
		snprintf(caps->description, sizeof(caps->description),
			 "KVM (kvm_pvm: software, 32-bit code emulated)");
		caps->cannot[NEED_PAGING32] = "kvm_pvm refuses 32-bit paging (only long mode pages)";
		caps->cannot[NEED_PAE] = "kvm_pvm refuses PAE paging outside long mode";
		caps->cannot[NEED_SOFT_INT_CPL0] = "kvm_pvm's emulator fails on INT n/INT3 at CPL0";
		/* SYSENTER/SYSEXIT round trips do work (tests/guests/sysenter). */
		caps->cannot[NEED_USER_MODE] = "kvm_pvm's emulator fails on IRET to ring 3 and INT 0x80 from it";
		caps->cannot[NEED_SSE] = "kvm_pvm's emulator fails on SSE moves at CPL0";
		/* tests/guests/v86: KVM_EXIT_INTERNAL_ERROR at the IRETD that sets VM */
		caps->cannot[NEED_VM86] = "kvm_pvm's emulator fails on IRETD into virtual-8086 mode";
		caps->cannot[NEED_CPL0_COMPUTE] = "kvm_pvm runs CPL0 code in KVM's instruction emulator "
						  "(~0.65 us an instruction): minutes for this guest";
		/* tests/guests/sti_shadow: sti; nop; cli took no interrupt */
		caps->cannot[NEED_STI_WINDOW] = "kvm_pvm opens no interrupt window after STI "
						"until the guest's next exit";
		/* tests/guests/legacy32: KVM_EXIT_INTERNAL_ERROR (emulation failed) at DAA */
		caps->cannot[NEED_BCD_CPL0] = "kvm_pvm's emulator fails on DAA/AAA/AAM/SALC at CPL0";
		return;
	}
	caps->hardware_assist = kvm_host_has_cpu_flag("vmx") || kvm_host_has_cpu_flag("svm");
	snprintf(caps->description, sizeof(caps->description), "KVM (%s)",
		 caps->hardware_assist ? "hardware assist" : "no VT-x/AMD-V flag in /proc/cpuinfo");
}
