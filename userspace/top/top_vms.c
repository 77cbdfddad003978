/*
 * The set of VMs hyvm top watches. A VM's stats file is mapped once and
 * kept mapped: when the VMM ends it unlinks the file, but the mapping still
 * holds the final counters, which is what an ended VM's line shows.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "top/symbols.h"
#include "top/top.h"
#include "top/top_vms.h"

static int alloc_snap(struct top_vms *s)
{
	if (!s->snap)
		s->snap = malloc(sizeof(*s->snap));
	return s->snap ? 0 : -1;
}

static void free_vm(struct top_vm *vm)
{
	stats_close(&vm->map);
	symtab_free(vm->syms);
	free(vm->view);
	memset(vm, 0, sizeof(*vm));
}

/* Room for one more: a VM that is over makes way for one that runs. */
static struct top_vm *free_slot(struct top_vms *s)
{
	if (s->n < TOP_MAX_VMS)
		return &s->vm[s->n++];
	for (int i = 0; i < s->n; i++)
		if (s->vm[i].state != TOP_VM_RUNNING) {
			free_vm(&s->vm[i]);
			memmove(&s->vm[i], &s->vm[i + 1], (s->n - i - 1) * sizeof(s->vm[0]));
			return &s->vm[s->n - 1];
		}
	return NULL;
}

static int add_mapped(struct top_vms *s, const struct stats_map *m)
{
	struct top_view *view = calloc(1, sizeof(*view));
	struct top_vm *vm;

	if (!view || alloc_snap(s) < 0 || !(vm = free_slot(s))) {
		free(view);
		return -1;
	}
	memset(vm, 0, sizeof(*vm));
	vm->pid = m->pid;
	vm->map = *m;
	vm->view = view;
	view->sort = SORT_RATE;
	stats_snapshot(&vm->map, s->snap);
	top_view_init(view, s->snap, stats_now_ns());
	vm->syms = top_load_symbols(s->snap);
	vm->state = s->snap->state == STATS_ENDED ? TOP_VM_ENDED : TOP_VM_RUNNING;
	return 0;
}

int top_vms_open_pid(struct top_vms *s, pid_t pid, char *err, size_t errlen)
{
	struct stats_map m;

	memset(s, 0, sizeof(*s));
	if (stats_open(pid, &m, err, errlen) < 0)
		return -1;
	if (add_mapped(s, &m) < 0) {
		stats_close(&m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int top_vms_open_all(struct top_vms *s)
{
	memset(s, 0, sizeof(*s));
	s->follow = true;
	if (alloc_snap(s) < 0)
		return -1;
	top_vms_scan(s);
	return 0;
}

static bool watched(const struct top_vms *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->vm[i].pid == pid)
			return true;
	return false;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int top_vms_scan(struct top_vms *s)
{
	DIR *d;
	pid_t found[TOP_MAX_VMS];
	int nfound = 0, added = 0;

	if (!s->follow || !(d = opendir(stats_dir())))
		return 0;
	for (struct dirent *e; (e = readdir(d)) && nfound < TOP_MAX_VMS;) {
		int p;
		char tail[16];
		if (sscanf(e->d_name, "hyvm-%d.%15s", &p, tail) == 2 && !strcmp(tail, "stats") &&
		    p > 0 && !watched(s, p))
			found[nfound++] = p;
	}
	closedir(d);
	/* New VMs in pid order, so one scan's order does not depend on readdir. */
	qsort(found, nfound, sizeof(found[0]), cmp_pid);
	for (int i = 0; i < nfound; i++) {
		char path[512], err[400];
		struct stats_map m;
		snprintf(path, sizeof(path), "%s/hyvm-%d.stats", stats_dir(), (int)found[i]);
		/* Stale files and other versions are hyvm ps's to list, not ours. */
		if (stats_open_path(path, &m, err, sizeof(err)) < 0)
			continue;
		if (add_mapped(s, &m) < 0) {
			stats_close(&m);
			break;
		}
		added++;
	}
	return added;
}

void top_vms_sample(struct top_vms *s, uint64_t now_ns)
{
	for (int i = 0; i < s->n; i++) {
		struct top_vm *vm = &s->vm[i];
		if (vm->state != TOP_VM_RUNNING)
			continue;
		stats_snapshot(&vm->map, s->snap);
		top_view_sample(vm->view, s->snap, now_ns);
		if (s->snap->state == STATS_ENDED)
			vm->state = TOP_VM_ENDED;
		else if (!stats_writer_alive(s->snap))
			vm->state = TOP_VM_GONE;
	}
}

int top_vms_running(const struct top_vms *s)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += s->vm[i].state == TOP_VM_RUNNING;
	return n;
}

const char *top_vm_state_name(const struct top_vm *vm)
{
	return vm->state == TOP_VM_GONE ? "gone" : vm->state == TOP_VM_ENDED ? "ended" : "running";
}

void top_vms_close(struct top_vms *s)
{
	for (int i = 0; i < s->n; i++)
		free_vm(&s->vm[i]);
	free(s->snap);
	memset(s, 0, sizeof(*s));
}
