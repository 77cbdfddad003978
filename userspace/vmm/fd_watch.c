/* The VMM's watched file descriptors; see fd_watch.h. */
#include <errno.h>
#include <string.h>
#include "vmm/fd_watch.h"

#define EXTRA_MAX 4

int fd_watch_add(struct fd_watch_set *s, int fd, void (*ready)(void *opaque), void *opaque)
{
	if (fd < 0 || !ready || s->nr >= FD_WATCH_MAX)
		return -1;
	for (unsigned i = 0; i < s->nr; i++)
		if (s->w[i].fd == fd)
			return -1;
	s->w[s->nr].fd = fd;
	s->w[s->nr].ready = ready;
	s->w[s->nr].opaque = opaque;
	s->nr++;
	return 0;
}

void fd_watch_remove(struct fd_watch_set *s, int fd)
{
	for (unsigned i = 0; i < s->nr; i++) {
		if (s->w[i].fd != fd)
			continue;
		memmove(&s->w[i], &s->w[i + 1], (s->nr - i - 1) * sizeof(s->w[0]));
		s->nr--;
		return;
	}
}

int fd_watch_poll(struct fd_watch_set *s, struct pollfd *extra, unsigned nextra, int timeout_ms)
{
	struct pollfd pfd[FD_WATCH_MAX + EXTRA_MAX];
	unsigned n = 0, watched = s->nr;

	if (nextra > EXTRA_MAX)
		nextra = EXTRA_MAX;
	if (!watched && !nextra && timeout_ms == 0)
		return 0;
	for (unsigned i = 0; i < nextra; i++)
		pfd[n++] = extra[i];
	for (unsigned i = 0; i < watched; i++)
		pfd[n++] = (struct pollfd){ .fd = s->w[i].fd, .events = POLLIN };
	int r = poll(pfd, n, timeout_ms);
	if (r <= 0)
		return r;
	for (unsigned i = 0; i < nextra; i++)
		extra[i].revents = pfd[i].revents;
	/* a callback may remove watches: call from a copy of the set */
	struct fd_watch_set snap = *s;
	for (unsigned i = 0; i < watched; i++)
		if (pfd[nextra + i].revents & (POLLIN | POLLERR | POLLHUP))
			snap.w[i].ready(snap.w[i].opaque);
	return r;
}
