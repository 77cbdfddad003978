/* hyvm bench: run the guest once (under `hyvm run` or QEMU) in a child,
 * with a deadline, and read its NANO lines. A child is forked rather than
 * the VM run in this process so that an engine that crashes or hangs
 * costs one column, not the whole table. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "nanobench/bench.h"

bool bench_parse_line(const char *line, struct bench_column *col)
{
	char name[32];
	unsigned long long ops, cycles;

	if (sscanf(line, "NANO %31s %llu %llu", name, &ops, &cycles) != 3 || ops == 0)
		return false;
	int id = nano_find(name);
	if (id < 0)
		return false;
	col->cell[id].state = CELL_OK;
	col->cell[id].cycles = (double)cycles / (double)ops;
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keeps the last line that is not a figure: the likeliest error message. */
static void take_line(char *line, struct bench_column *col, char *last, size_t lastlen)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = '\0';
	if (!n || bench_parse_line(line, col) || !strncmp(line, "NANOSKIP ", 9) || !strncmp(line, "PASS ", 5))
		return;
	snprintf(last, lastlen, "%s", line);
}

int bench_run_guest(char *const argv[], unsigned timeout_s, const bool selected[NANO_COUNT],
		    struct bench_column *col)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(col->note, sizeof(col->note), "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(col->note, sizeof(col->note), "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		/* The guest's UART reads stdin: give it nothing to read. */
		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);

	char buf[4096], line[512] = "", last[200] = "";
	size_t used = 0;
	bool timed_out = false;
	double deadline = now_s() + timeout_s;
	for (;;) {
		int left_ms = (int)((deadline - now_s()) * 1000);
		if (left_ms <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		if (poll(&p, 1, left_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		ssize_t got = read(fds[0], buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (used < sizeof(line) - 1)
				line[used++] = buf[i];
			if (buf[i] == '\n') {
				line[used] = '\0';
				take_line(line, col, last, sizeof(last));
				used = 0;
			}
		}
	}
	if (used) {
		line[used] = '\0';
		take_line(line, col, last, sizeof(last));
	}
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	for (int i = 0; i < NANO_COUNT; i++)
		if (selected[i] && col->cell[i].state != CELL_OK)
			col->cell[i].state = CELL_FAIL;
	if (timed_out) {
		snprintf(col->note, sizeof(col->note), "timed out after %u s", timeout_s);
		return -1;
	}
	/* A passing guest writes 0 to isa-debug-exit: status (0 << 1) | 1. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		return 0;
	if (WIFEXITED(status))
		snprintf(col->note, sizeof(col->note), "exit status %d%s%s", WEXITSTATUS(status),
			 last[0] ? ": " : "", last);
	else
		snprintf(col->note, sizeof(col->note), "killed by signal %d", WTERMSIG(status));
	return -1;
}
