/*
 * The VMs hyvm top watches: one named by its pid, or (no PID) every VM in
 * the stats directory, picked up as they start and kept, marked, when they
 * end or die, so neither the console nor a batch run has to care how many
 * there are or when they come and go.
 */
#ifndef HYVM_TOP_VMS_H
#define HYVM_TOP_VMS_H

#include <stdbool.h>
#include <sys/types.h>
#include "stats/stats.h"
#include "top/top_model.h"

#define TOP_MAX_VMS 32

enum top_vm_state { TOP_VM_RUNNING, TOP_VM_ENDED, TOP_VM_GONE };

struct top_vm {
	pid_t pid;
	struct stats_map map;	/* stays mapped after the VMM unlinks its file */
	struct top_view *view;	/* large: on the heap */
	struct symtab *syms;	/* NULL: no guest symbols */
	enum top_vm_state state;
	bool reported;		/* batch: the last sample after it ended is printed */
};

struct top_vms {
	bool follow;		/* no PID: add VMs that start while top runs */
	int n;
	struct top_vm vm[TOP_MAX_VMS];
	struct stats_file *snap;	/* scratch for sampling */
};

/* One VM, by pid: 0, or -1 with one line in err (stats_open's message). */
int top_vms_open_pid(struct top_vms *s, pid_t pid, char *err, size_t errlen);
/* Every VM: follows the stats directory. 0, or -1 (out of memory). */
int top_vms_open_all(struct top_vms *s);
/* follow: adds VMs whose files appeared since; returns how many. */
int top_vms_scan(struct top_vms *s);
/* Takes a new sample of every VM still running; a VM that ended becomes
 * TOP_VM_ENDED (its last sample kept), one whose VMM died TOP_VM_GONE. */
void top_vms_sample(struct top_vms *s, uint64_t now_ns);
/* How many VMs are still running. */
int top_vms_running(const struct top_vms *s);
const char *top_vm_state_name(const struct top_vm *vm);
void top_vms_close(struct top_vms *s);

#endif
