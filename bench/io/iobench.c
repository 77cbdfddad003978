/*
 * The guest side of bench/io/io.sh: timed O_DIRECT I/O on a block device
 * (what busybox dd iflag=direct / oflag=direct does, with the clock
 * inside, so no fork or exec of the guest's shell is measured), built
 * -m32 -static for the i386 guest.
 *   iobench seqwrite DEV MIB     1 MiB writes from offset 0, then fsync
 *   iobench seqread DEV MIB      1 MiB reads from offset 0
 *   iobench randread DEV COUNT   4 KiB reads at random 4 KiB-aligned
 *                                offsets over the whole device
 *   iobench tcpsend ADDR:PORT MIB  MIB MiB in 64 KiB writes to a TCP
 *                                listener (busybox nc writes 1 KiB at a
 *                                time, which measures nc's syscalls)
 * Prints "RESULT mode bytes ops seconds".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/fs.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int tcpsend(const char *to, long mib)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char host[64];
	static char buf[65536];
	const char *colon = strchr(to, ':');

	if (!colon || colon - to >= (long)sizeof(host))
		return 2;
	memcpy(host, to, colon - to);
	host[colon - to] = 0;
	a.sin_port = htons((uint16_t)atoi(colon + 1));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror(to);
		return 1;
	}
	double t0 = now();
	uint64_t left = (uint64_t)mib << 20;
	while (left) {
		ssize_t w = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (w <= 0) {
			perror("write");
			return 1;
		}
		left -= (uint64_t)w;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;	/* until the host closes: every byte was taken */
	printf("RESULT tcpsend %llu %ld %.6f\n", (unsigned long long)mib << 20, mib, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: iobench seqwrite|seqread|randread DEV N\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[3]);
	if (!strcmp(mode, "tcpsend"))
		return tcpsend(argv[2], n);
	int wr = !strcmp(mode, "seqwrite"), rnd = !strcmp(mode, "randread");
	int fd = open(argv[2], (wr ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0 || n <= 0) {
		perror(argv[2]);
		return 1;
	}
	uint64_t size = 0;
	ioctl(fd, BLKGETSIZE64, &size);
	size_t bs = rnd ? 4096 : 1 << 20;
	void *buf;
	if (posix_memalign(&buf, 4096, bs))
		return 1;
	memset(buf, 0x5a, bs);
	srand(12345);
	uint64_t blocks = size / 4096, bytes = 0;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		ssize_t r;
		if (rnd) {
			uint64_t b = (((uint64_t)rand() << 31) ^ (uint64_t)rand()) % (blocks ? blocks : 1);
			r = pread(fd, buf, bs, (off_t)(b * 4096));
		} else if (wr) {
			r = pwrite(fd, buf, bs, (off_t)i * bs);
		} else {
			r = pread(fd, buf, bs, (off_t)i * bs);
		}
		if (r != (ssize_t)bs) {
			perror(mode);
			return 1;
		}
		bytes += bs;
	}
	if (wr)
		fsync(fd);
	double t = now() - t0;
	printf("RESULT %s %llu %ld %.6f\n", mode, (unsigned long long)bytes, n, t);
	return 0;
}
