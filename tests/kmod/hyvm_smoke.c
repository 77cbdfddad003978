/*
 * First check inside the emulated host: /dev/hyvm exists, speaks our API
 * version and reports what the emulated CPU offers. Prints PASS/FAIL lines
 * that tests/kmod/run-svm.sh counts.
 *   hyvm_smoke [--expect svm|vmx]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <hyvm/ioctl.h>

static int failures;

static void check(int ok, const char *name, const char *detail)
{
	if (ok)
		printf("PASS %s\n", name);
	else {
		printf("FAIL %s: %s\n", name, detail);
		failures++;
	}
}

int main(int argc, char **argv)
{
	const char *expect = argc > 2 && !strcmp(argv[1], "--expect") ? argv[2] : "svm";
	struct hyvm_capabilities caps;
	char detail[256];
	int fd, ver;

	fd = open("/dev/hyvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(detail, sizeof(detail), "/dev/hyvm: %s", strerror(errno));
		check(0, "smoke-open", detail);
		return 1;
	}
	check(1, "smoke-open", NULL);

	ver = ioctl(fd, HYVM_GET_API_VERSION, 0);
	snprintf(detail, sizeof(detail), "version %d, expected %d", ver, HYVM_API_VERSION);
	check(ver == HYVM_API_VERSION, "smoke-api-version", detail);

	memset(&caps, 0xa5, sizeof(caps));
	if (ioctl(fd, HYVM_GET_CAPABILITIES, &caps)) {
		snprintf(detail, sizeof(detail), "HYVM_GET_CAPABILITIES: %s", strerror(errno));
		check(0, "smoke-caps", detail);
		return 1;
	}
	caps.missing[sizeof(caps.missing) - 1] = 0;
	printf("caps: flags %#x asids %u modes %#x missing '%s'\n",
	       caps.flags, caps.nr_asids, caps.guest_modes, caps.missing);
	snprintf(detail, sizeof(detail), "flags %#x", caps.flags);
	if (!strcmp(expect, "svm")) {
		check((caps.flags & (HYVM_CAP_VENDOR_AMD | HYVM_CAP_SVM)) ==
		      (HYVM_CAP_VENDOR_AMD | HYVM_CAP_SVM), "smoke-caps-svm", detail);
		check(caps.flags & HYVM_CAP_NESTED_PAGING, "smoke-caps-npt", detail);
		check(caps.nr_asids > 1, "smoke-caps-asids", detail);
	} else {
		check((caps.flags & (HYVM_CAP_VENDOR_INTEL | HYVM_CAP_VMX)) ==
		      (HYVM_CAP_VENDOR_INTEL | HYVM_CAP_VMX), "smoke-caps-vmx", detail);
		check(caps.flags & HYVM_CAP_NESTED_PAGING, "smoke-caps-ept", detail);
	}
	check(caps.api_version == HYVM_API_VERSION, "smoke-caps-version", detail);
	check(ioctl(fd, _IO(HYVM_IOCTL_TYPE, 0x7f), 0) < 0 && errno == ENOTTY,
	      "smoke-unknown-ioctl", "unknown ioctl did not fail with ENOTTY");
	close(fd);
	return failures ? 1 : 0;
}
