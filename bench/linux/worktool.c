/* The helper of bench/linux/init-work.sh inside Debian's i386 guest, built
 * -m32 -static (bench/linux/linux.mk) so it needs nothing from the
 * initramfs but itself:
 *   worktool now        the guest's CLOCK_MONOTONIC in seconds, 6 decimals
 *   worktool touch MIB  maps MIB MiB of anonymous memory, writes one word
 *                       in each 4 KiB page (one page fault each: the
 *                       kernel fills anonymous pages on first touch), reads
 *                       them back, unmaps; prints "touched PAGES sum SUM"
 * Bad arguments: one line on stderr and exit 2. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096u

static int usage(void)
{
	fprintf(stderr, "usage: worktool now | worktool touch MIB (1..2048)\n");
	return 2;
}

static int cmd_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		fprintf(stderr, "worktool: clock_gettime: %s\n", strerror(errno));
		return 2;
	}
	printf("%lld.%06ld\n", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	return 0;
}

static int cmd_touch(const char *arg)
{
	char *end;
	unsigned long mib = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || mib < 1 || mib > 2048)
		return usage();
	size_t len = (size_t)mib << 20;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "worktool: mmap %lu MiB: %s\n", mib, strerror(errno));
		return 2;
	}
	size_t pages = len / PAGE;
	for (size_t i = 0; i < pages; i++)
		*(volatile uint32_t *)(p + i * PAGE) = (uint32_t)i;
	uint32_t sum = 0;
	for (size_t i = 0; i < pages; i++)
		sum += *(volatile uint32_t *)(p + i * PAGE);
	munmap(p, len);
	printf("touched %zu sum %u\n", pages, sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "now"))
		return cmd_now();
	if (argc == 3 && !strcmp(argv[1], "touch"))
		return cmd_touch(argv[2]);
	return usage();
}
