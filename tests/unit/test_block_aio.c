/*
 * The disk request pool (block/block_aio.h) and the VMM's fd watch
 * (vmm/fd_watch.h) that delivers its completions: requests run on the
 * workers, completions only on the thread that collects them, FLUSH as a
 * barrier, drain, errors.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "block/block_aio.h"
#include "vmm/fd_watch.h"

/* A disk whose requests take a while and log when they ran. */
struct slow_disk {
	struct block_dev bd;
	pthread_mutex_t lock;
	int clock;			/* events so far */
	int start[64], end[64];		/* per request tag (the offset) */
	int running, max_running;
	pthread_t thread_seen;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static int slow_op(struct block_dev *bd, unsigned tag, int ms)
{
	struct slow_disk *d = (struct slow_disk *)bd;

	pthread_mutex_lock(&d->lock);
	d->start[tag] = ++d->clock;
	if (++d->running > d->max_running)
		d->max_running = d->running;
	d->thread_seen = pthread_self();
	pthread_mutex_unlock(&d->lock);
	sleep_ms(ms);
	pthread_mutex_lock(&d->lock);
	d->end[tag] = ++d->clock;
	d->running--;
	pthread_mutex_unlock(&d->lock);
	return tag == 63 ? -EIO : 0;
}

static int slow_rw(struct block_dev *bd, const struct iovec *iov, int n, uint64_t off)
{
	return slow_op(bd, (unsigned)off, 5 + (int)(off % 3) * 5);
}

static int slow_flush(struct block_dev *bd)
{
	return slow_op(bd, 0, 5);	/* tag 0 is the flush's */
}

static int slow_range(struct block_dev *bd, uint64_t off, uint64_t len)
{
	return slow_op(bd, (unsigned)off, 1);
}

static const struct block_ops slow_ops = {
	.preadv = slow_rw, .pwritev = slow_rw, .flush = slow_flush,
	.discard = slow_range, .write_zeroes = slow_range,
};

static int completed;
static pthread_t done_thread;

static void count_done(struct block_aio_req *req)
{
	completed++;
	done_thread = pthread_self();
}

/* Collects completions the way the VMM does: poll the fd, then complete. */
static void collect_until(struct block_aio *aio, int want)
{
	struct pollfd p = { .fd = block_aio_fd(aio), .events = POLLIN };

	for (int guard = 0; completed < want && guard < 1000; guard++)
		if (poll(&p, 1, 100) > 0)
			block_aio_complete(aio);
}

static void test_requests_run_on_workers(void)
{
	struct slow_disk d = { .bd = { .ops = &slow_ops, .size = 1 << 20 } };
	struct block_aio_req r[20];
	char err[128];
	struct block_aio *aio = block_aio_new(4, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(aio);
	pthread_mutex_init(&d.lock, NULL);
	completed = 0;
	for (int i = 0; i < 20; i++) {
		r[i] = (struct block_aio_req){ .op = i % 2 ? BLOCK_READ : BLOCK_WRITE, .bd = &d.bd,
					       .off = 1 + (uint64_t)i, .done = count_done };
		block_aio_submit(aio, &r[i]);
	}
	CU_ASSERT_EQUAL(completed, 0);	/* nothing completes behind our back */
	collect_until(aio, 20);
	CU_ASSERT_EQUAL(completed, 20);
	CU_ASSERT_EQUAL(block_aio_pending(aio), 0);
	CU_ASSERT(pthread_equal(done_thread, pthread_self()));
	CU_ASSERT_FALSE(pthread_equal(d.thread_seen, pthread_self()));
	CU_ASSERT(d.max_running > 1);		/* they ran side by side */
	CU_ASSERT(d.max_running <= 4);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(r[i].result, 0);
	block_aio_free(aio);
	pthread_mutex_destroy(&d.lock);
}

static void test_flush_is_a_barrier(void)
{
	struct slow_disk d = { .bd = { .ops = &slow_ops, .size = 1 << 20 } };
	struct block_aio_req r[12];
	char err[128];
	struct block_aio *aio = block_aio_new(4, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(aio);
	pthread_mutex_init(&d.lock, NULL);
	completed = 0;
	for (int i = 0; i < 12; i++) {
		r[i] = (struct block_aio_req){ .op = BLOCK_WRITE, .bd = &d.bd,
					       .off = 1 + (uint64_t)i, .done = count_done };
		if (i == 6)
			r[i].op = BLOCK_FLUSH;
		block_aio_submit(aio, &r[i]);
	}
	collect_until(aio, 12);
	CU_ASSERT_EQUAL(completed, 12);
	for (int i = 0; i < 12; i++) {
		if (i == 6)
			continue;
		unsigned tag = 1 + (unsigned)i;
		/* everything before ended before the flush began, nothing
		 * after began before it ended */
		CU_ASSERT(i < 6 ? d.end[tag] < d.start[0] : d.start[tag] > d.end[0]);
	}
	block_aio_free(aio);
	pthread_mutex_destroy(&d.lock);
}

static void test_drain_and_errors(void)
{
	struct slow_disk d = { .bd = { .ops = &slow_ops, .size = 1 << 20 } };
	struct block_aio_req r[3];
	char err[128];
	struct block_aio *aio = block_aio_new(2, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(aio);
	pthread_mutex_init(&d.lock, NULL);
	completed = 0;
	r[0] = (struct block_aio_req){ .op = BLOCK_DISCARD, .bd = &d.bd, .off = 10, .len = 1,
				       .done = count_done };
	r[1] = (struct block_aio_req){ .op = BLOCK_WRITE_ZEROES, .bd = &d.bd, .off = 11, .len = 1,
				       .done = count_done };
	r[2] = (struct block_aio_req){ .op = BLOCK_READ, .bd = &d.bd, .off = 63,
				       .done = count_done };
	for (int i = 0; i < 3; i++)
		block_aio_submit(aio, &r[i]);
	block_aio_drain(aio);		/* returns with everything completed */
	CU_ASSERT_EQUAL(completed, 3);
	CU_ASSERT_EQUAL(block_aio_pending(aio), 0);
	CU_ASSERT_EQUAL(r[0].result, 0);
	CU_ASSERT_EQUAL(r[2].result, -EIO);
	CU_ASSERT_EQUAL(block_aio_complete(aio), 0);
	block_aio_free(aio);
	pthread_mutex_destroy(&d.lock);

	CU_ASSERT_PTR_NULL(block_aio_new(0, err, sizeof(err)));
	CU_ASSERT(strstr(err, "out of range") != NULL);
	CU_ASSERT_PTR_NULL(block_aio_new(99, err, sizeof(err)));
}

/* A real file through the pool: bytes land, reads see them. */
static void test_raw_file_through_pool(void)
{
	char path[] = "/tmp/hyvm-aio-XXXXXX", err[256];
	int fd = mkstemp(path);
	uint8_t out[4][4096], in[4][4096];
	struct iovec wi[4], ri[4];
	struct block_aio_req r[9];

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, 1 << 20) == 0);
	close(fd);
	struct block_dev *bd = block_raw_open(path, false, err, sizeof(err));
	struct block_aio *aio = block_aio_new(3, err, sizeof(err));
	CU_ASSERT_FATAL(bd && aio);
	completed = 0;
	for (int i = 0; i < 4; i++) {
		memset(out[i], 0x10 + i, 4096);
		wi[i] = (struct iovec){ out[i], 4096 };
		ri[i] = (struct iovec){ in[i], 4096 };
		r[i] = (struct block_aio_req){ .op = BLOCK_WRITE, .bd = bd, .iov = &wi[i],
					       .iovcnt = 1, .off = (uint64_t)i * 65536,
					       .done = count_done };
		r[5 + i] = (struct block_aio_req){ .op = BLOCK_READ, .bd = bd, .iov = &ri[i],
						   .iovcnt = 1, .off = (uint64_t)i * 65536,
						   .done = count_done };
	}
	r[4] = (struct block_aio_req){ .op = BLOCK_FLUSH, .bd = bd, .done = count_done };
	for (int i = 0; i < 9; i++)	/* writes, flush (barrier), reads */
		block_aio_submit(aio, &r[i]);
	collect_until(aio, 9);
	CU_ASSERT_EQUAL(completed, 9);
	for (int i = 0; i < 9; i++)
		CU_ASSERT_EQUAL(r[i].result, 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(memcmp(in[i], out[i], 4096), 0);
	block_aio_free(aio);
	block_close(bd);
	unlink(path);
}

static int ready_calls;

static void on_ready(void *opaque)
{
	char b;

	ready_calls++;
	if (read(*(int *)opaque, &b, 1) != 1)
		ready_calls += 100;
}

static void test_fd_watch(void)
{
	struct fd_watch_set s = { 0 };
	int p[2], q[2];

	CU_ASSERT_FATAL(pipe(p) == 0 && pipe(q) == 0);
	ready_calls = 0;
	CU_ASSERT_EQUAL(fd_watch_poll(&s, NULL, 0, 0), 0);	/* nothing: no syscall */
	CU_ASSERT_EQUAL(fd_watch_add(&s, p[0], on_ready, &p[0]), 0);
	CU_ASSERT_EQUAL(fd_watch_add(&s, p[0], on_ready, &p[0]), -1);	/* twice */
	CU_ASSERT_EQUAL(fd_watch_add(&s, -1, on_ready, NULL), -1);
	CU_ASSERT_EQUAL(fd_watch_poll(&s, NULL, 0, 0), 0);
	CU_ASSERT_EQUAL(ready_calls, 0);
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	CU_ASSERT_EQUAL(fd_watch_poll(&s, NULL, 0, 0), 1);
	CU_ASSERT_EQUAL(ready_calls, 1);
	/* the halted guest's sleep: an extra fd readable, reported back */
	struct pollfd extra[2] = { { .fd = q[0], .events = POLLIN }, { .fd = -1 } };
	CU_ASSERT_EQUAL(write(q[1], "y", 1), 1);
	CU_ASSERT_EQUAL(fd_watch_poll(&s, extra, 2, 100), 1);
	CU_ASSERT(extra[0].revents & POLLIN);
	CU_ASSERT_EQUAL(ready_calls, 1);
	/* and a watched fd wakes it */
	extra[0].revents = 0;
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	CU_ASSERT_EQUAL(fd_watch_poll(&s, extra, 1, 1000), 2);	/* q still readable */
	CU_ASSERT_EQUAL(ready_calls, 2);
	fd_watch_remove(&s, p[0]);
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	CU_ASSERT_EQUAL(fd_watch_poll(&s, NULL, 0, 0), 0);
	CU_ASSERT_EQUAL(ready_calls, 2);
	for (int i = 0; i < FD_WATCH_MAX; i++)
		CU_ASSERT_EQUAL(fd_watch_add(&s, 100 + i, on_ready, NULL), 0);
	CU_ASSERT_EQUAL(fd_watch_add(&s, 200, on_ready, NULL), -1);	/* full */
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* The line of /proc/self/task/TID/status starting with key ("" if none). */
static void task_line(const char *tid, const char *key, char *line, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	line[0] = '\0';
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, (int)len, f) && strncmp(line, key, strlen(key)))
		line[0] = '\0';
	fclose(f);
}

/* The workers block the VMM's signals, so the process-directed 1 ms
 * tick (SIGALRM) and SIGINT/SIGTERM reach the vCPU thread. A thread's
 * mask means something once it sleeps (in its condition wait). */
static void test_workers_leave_signals(void)
{
	char err[256], self[16], line[128];
	struct block_aio *a = block_aio_new(3, err, sizeof(err));
	unsigned workers = 0;
	struct dirent *d;
	DIR *dir;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	dir = opendir("/proc/self/task");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || !strcmp(d->d_name, self))
			continue;
		workers++;
		for (int i = 0; i < 200; i++) {
			task_line(d->d_name, "State:", line, sizeof(line));
			if (strstr(line, "S (sleeping)"))
				break;
			usleep(10000);
		}
		task_line(d->d_name, "SigBlk:", line, sizeof(line));
		unsigned long long blk = line[0] ? strtoull(line + 7, NULL, 16) : 0;
		CU_ASSERT_TRUE((blk >> (SIGALRM - 1)) & 1);
		CU_ASSERT_TRUE((blk >> (SIGINT - 1)) & 1);
		CU_ASSERT_TRUE((blk >> (SIGTERM - 1)) & 1);
	}
	closedir(dir);
	CU_ASSERT(workers >= 3);
	/* and the caller's mask is as it was */
	task_line(self, "SigBlk:", line, sizeof(line));
	CU_ASSERT_FALSE((strtoull(line + 7, NULL, 16) >> (SIGALRM - 1)) & 1);
	block_aio_free(a);
}

UNIT_SUITE(block_aio, NULL, NULL,
	   UNIT_TEST(test_workers_leave_signals),
	   UNIT_TEST(test_requests_run_on_workers),
	   UNIT_TEST(test_flush_is_a_barrier),
	   UNIT_TEST(test_drain_and_errors),
	   UNIT_TEST(test_raw_file_through_pool),
	   UNIT_TEST(test_fd_watch))
