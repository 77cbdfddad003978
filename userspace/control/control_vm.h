/*
 * The control socket of a running VM: QMP's commands (qmp.h) acting on
 * struct vm through the pause machinery (vmm/vm_pause.h), the ACPI power
 * button and the checkpoint writer (checkpoint/checkpoint.h).
 */
#ifndef HYVM_CONTROL_VM_H
#define HYVM_CONTROL_VM_H

#include <stdbool.h>
#include "control/control_socket.h"

struct vm;

enum control_migration { MIG_NONE, MIG_ACTIVE, MIG_COMPLETED, MIG_FAILED };

struct top_view;
struct symtab;

struct control_vm {
	struct vm *vm;
	struct control_server srv;
	bool open;
	int argc;		/* hyvm run's arguments, for the checkpoint */
	char **argv;
	bool postmigrate;	/* paused after a migrate, until cont */
	enum control_migration mig;
	char mig_error[512];		/* as long as checkpoint_save's error buffer */
	struct top_view *top;	/* hyvm-stats' "top": the interval since the last call */
	struct symtab *syms;	/* the guest's symbols for it, loaded once */
	bool syms_tried;
	struct {		/* the one save in progress */
		bool busy;
		char file[4096];
		bool quit, stay_paused;
		qmp_done done;
		void *cookie;
	} save;
};

extern const struct qmp_target_ops control_vm_ops;

/* Opens the socket at path (NULL: the default path) for vm: 0, or -1
 * with one line. */
int control_vm_open(struct control_vm *c, struct vm *vm, const char *path, int argc,
		    char **argv, char *err, size_t errlen);
/* The VM ended: a SHUTDOWN event, then the socket is closed and removed. */
void control_vm_close(struct control_vm *c, bool guest_initiated);

#endif
