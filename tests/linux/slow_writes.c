/*
 * LD_PRELOAD for hyvm in tests/linux/ckpt-disk-busy.sh: every disk write
 * (pwritev) and flush (fdatasync) of hyvm's block workers takes 30 ms
 * longer, so a checkpoint taken while the guest writes finds requests in
 * flight, which a fast host disk makes a matter of luck (issue 14).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void nap(void)
{
	struct timespec t = { 0, 30 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);

	if (!real)
		real = (ssize_t (*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev");
	nap();
	return real(fd, iov, n, off);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	nap();
	return real(fd);
}
