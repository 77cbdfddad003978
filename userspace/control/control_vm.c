/* QMP's commands on a running VM; see control_vm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint/checkpoint.h"
#include "control/control_vm.h"
#include "devices/device.h"
#include "vmm/vm.h"
#include "stats/stats.h"
#include "top/symbols.h"
#include "top/top_json.h"

static const char *vm_status(void *t)
{
	struct control_vm *c = t;

	if (c->postmigrate)
		return "postmigrate";
	return vm_pause_wanted(c->vm) ? "paused" : "running";
}

static void vm_stop(void *t)
{
	struct control_vm *c = t;

	vm_pause_request(c->vm, VM_PAUSE_USER);
}

static void vm_cont(void *t)
{
	struct control_vm *c = t;

	c->postmigrate = false;
	vm_pause_release(c->vm, VM_PAUSE_USER);
}

/* The power button is an input of the ACPI PM block (PM1_STS.PWRBTN_STS,
 * ACPI 6.4 4.8.3.1.1), like a key is the i8042's. */
static int vm_powerdown(void *t, char *err, size_t errlen)
{
	struct control_vm *c = t;

	for (unsigned i = 0; i < c->vm->nr_devices; i++)
		if (c->vm->devices[i].model->power_button) {
			c->vm->devices[i].model->power_button(c->vm->devices[i].state);
			return 0;
		}
	snprintf(err, errlen, "this machine has no ACPI power button");
	return -1;
}

static void vm_reset_req(void *t)
{
	struct control_vm *c = t;

	c->vm->env.request_stop(c->vm->env.stop_ctx, STOP_RESET, 0);
}

static void vm_quit(void *t)
{
	struct control_vm *c = t;
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "guest", json_object_new_boolean(false));
	json_object_object_add(d, "reason", json_object_new_string("host-qmp-quit"));
	control_event(&c->srv, "SHUTDOWN", d);
	json_object_put(d);
	c->vm->env.request_stop(c->vm->env.stop_ctx, VM_STOP_CONTROL_QUIT, 0);
}

/* hyvm top --batch --json's document from the VM's own statistics (the
 * writer is this thread, so the copy is whole): the first call's interval
 * is the run so far, each later one's the time since the call before.
 * NULL without statistics (hyvm run --no-stats) or memory. */
static struct json_object *top_of(struct control_vm *c)
{
	struct stats_file *f = c->vm->stats ? stats_writer_file(c->vm->stats) : NULL;
	uint64_t now = stats_now_ns();

	if (!f)
		return NULL;
	if (!c->top) {
		if (!(c->top = calloc(1, sizeof(*c->top))))
			return NULL;
		top_view_init(c->top, f, now);
		memset(&c->top->prev, 0, sizeof(c->top->prev));
		c->top->prev_ns = f->start_ns;
	} else {
		top_view_sample(c->top, f, now);
	}
	if (!c->syms_tried) {
		char err[256];
		c->syms = symtab_load(f->guest, err, sizeof(err));
		c->syms_tried = true;
	}
	return top_json(c->top, c->syms);
}

static struct json_object *vm_stats(void *t)
{
	struct control_vm *c = t;
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(o, "engine", json_object_new_string(c->vm->engine->name));
	for (int k = 0; k < EXIT_KIND_COUNT; k++)
		json_object_object_add(e, exit_kind_name(k), json_object_new_int64((int64_t)c->vm->exits[k]));
	json_object_object_add(o, "exits", e);
	json_object_object_add(o, "irqs-injected",
			       json_object_new_int64((int64_t)c->vm->irqs_injected));
	json_object_object_add(o, "rom-writes-dropped",
			       json_object_new_int64((int64_t)c->vm->rom_writes_dropped));
	struct json_object *top = top_of(c);
	if (top)
		json_object_object_add(o, "top", top);
	return o;
}

/* At the clean point: write, then resume, stay paused or quit. */
static void save_action(struct vm *vm, void *ctx)
{
	struct control_vm *c = ctx;
	char err[512];
	int r = checkpoint_save(vm, c->argc, c->argv, c->save.file,
				getenv("HYVM_CKPT_RAW") == NULL, err, sizeof(err));

	c->save.busy = false;
	c->mig = r < 0 ? MIG_FAILED : MIG_COMPLETED;
	snprintf(c->mig_error, sizeof(c->mig_error), "%s", r < 0 ? err : "");
	if (r == 0 && c->save.quit)
		vm->env.request_stop(vm->env.stop_ctx, VM_STOP_CONTROL_QUIT, 0);
	else if (r == 0 && c->save.stay_paused) {
		c->postmigrate = true;		/* QEMU's state after a migration */
		vm_pause_request(vm, VM_PAUSE_USER);
	}
	if (c->save.done)
		c->save.done(c->save.cookie, r < 0 ? err : NULL);
}

static int vm_save(void *t, const char *file, bool quit, bool stay_paused, qmp_done done,
		   void *cookie, char *err, size_t errlen)
{
	struct control_vm *c = t;

	if (c->save.busy) {
		snprintf(err, errlen, "a checkpoint is being written already");
		return -1;
	}
	if (strlen(file) >= sizeof(c->save.file)) {
		snprintf(err, errlen, "the file name is too long");
		return -1;
	}
	snprintf(c->save.file, sizeof(c->save.file), "%s", file);
	c->save.quit = quit;
	c->save.stay_paused = stay_paused;
	c->save.done = done;
	c->save.cookie = cookie;
	if (vm_pause_run_action(c->vm, save_action, c) < 0) {
		snprintf(err, errlen, "too many actions are waiting for the VM to pause");
		return -1;
	}
	c->save.busy = true;
	c->mig = MIG_ACTIVE;
	return 0;
}

static struct json_object *vm_migrate_status(void *t)
{
	struct control_vm *c = t;
	static const char *const names[] = { NULL, "active", "completed", "failed" };
	struct json_object *o = json_object_new_object();

	if (c->mig == MIG_NONE)
		return o;	/* QEMU: {} before any migration */
	json_object_object_add(o, "status", json_object_new_string(names[c->mig]));
	if (c->mig == MIG_FAILED)
		json_object_object_add(o, "error-desc", json_object_new_string(c->mig_error));
	return o;
}

const struct qmp_target_ops control_vm_ops = {
	.status = vm_status, .stop = vm_stop, .cont = vm_cont, .powerdown = vm_powerdown,
	.reset = vm_reset_req, .quit = vm_quit, .stats = vm_stats, .save = vm_save,
	.migrate_status = vm_migrate_status,
};

static void pause_changed(void *ctx, bool held)
{
	struct control_vm *c = ctx;

	control_event(&c->srv, held ? "STOP" : "RESUME", NULL);
}

int control_vm_open(struct control_vm *c, struct vm *vm, const char *path, int argc,
		    char **argv, char *err, size_t errlen)
{
	char def[108];

	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->argc = argc;
	c->argv = argv;
	if (!path) {
		if (control_default_path(getpid(), def, sizeof(def)) < 0 ||
		    control_make_dir(def, err, errlen) < 0) {
			if (!err[0])
				snprintf(err, errlen, "no directory for the control socket");
			return -1;
		}
		path = def;
	}
	if (control_open(&c->srv, path, &vm->fd_watch, &control_vm_ops, c, err, errlen) < 0)
		return -1;
	vm->pause.changed = pause_changed;
	vm->pause.changed_ctx = c;
	c->open = true;
	return 0;
}

void control_vm_close(struct control_vm *c, bool guest_initiated)
{
	if (!c->open)
		return;
	if (guest_initiated) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "guest", json_object_new_boolean(true));
		json_object_object_add(d, "reason", json_object_new_string("guest-shutdown"));
		control_event(&c->srv, "SHUTDOWN", d);
		json_object_put(d);
	}
	c->vm->pause.changed = NULL;
	control_close(&c->srv);
	free(c->top);
	c->top = NULL;
	symtab_free(c->syms);
	c->syms = NULL;
	c->open = false;
}
