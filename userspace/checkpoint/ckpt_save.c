/* Writing a VM's checkpoint; see checkpoint.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "checkpoint/checkpoint.h"
#include "checkpoint/ckpt_devices.h"
#include "checkpoint/ckpt_disk.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_ram.h"
#include "cpu/cpu_model.h"
#include "devices/device_state.h"
#include "vmm/vm.h"

static void put_str(struct ds_writer *w, const char *s)
{
	size_t n = strlen(s);

	ds_put_u32(w, (uint32_t)n);
	ds_put_bytes(w, s, n);
}

/* Left out of the recorded command line: a restore chooses them anew. */
static int skip_arg(char **argv, int i)
{
	static const char *const names[] = { "--engine", "--control", "--incoming", "-e" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t n = strlen(names[k]);
		if (!strcmp(argv[i], names[k]))
			return 2;
		if (!strncmp(argv[i], names[k], n) && (argv[i][n] == '=' || names[k][1] != '-'))
			return 1;	/* --engine=bt, -ebt */
	}
	return 0;
}

static void put_meta(struct ckpt_writer *cw, struct vm *vm, int argc, char **argv)
{
	struct ds_writer w = { 0 };
	uint32_t n = 0;

	for (int i = 0; i < argc; ) {
		int s = skip_arg(argv, i);
		n += !s;
		i += s ? s : 1;
	}
	ds_put_u32(&w, n);
	for (int i = 0; i < argc; ) {
		int s = skip_arg(argv, i);
		if (!s)
			put_str(&w, argv[i]);
		i += s ? s : 1;
	}
	put_str(&w, vm->engine->name);
	put_str(&w, vm->cpu_model ? vm->cpu_model : "");
	ds_put_bool(&w, vm->pause.resume_in_hlt);
	ds_put_u64(&w, vm->map.memfd_size);
	ds_put_u32(&w, vm->map.nr);
	for (unsigned i = 0; i < vm->map.nr; i++) {
		ds_put_u64(&w, vm->map.r[i].gpa);
		ds_put_u64(&w, vm->map.r[i].size);
		ds_put_u32(&w, vm->map.r[i].kind);
		ds_put_u64(&w, vm->map.r[i].memfd_offset);
	}
	if (w.failed)
		cw->failed = true;
	ckpt_section(cw, CKPT_SEC_META, w.data, w.len);
	free(w.data);
}

int checkpoint_save(struct vm *vm, int argc, char **argv, const char *path, bool compress,
		    char *err, size_t errlen)
{
	struct ckpt_writer cw;
	struct hyvm_cpu_state st;
	struct cpu_model model;

	if (vm_cpu_model(vm, vm->engine, &model, err, errlen) < 0)
		return -1;
	if (vm->engine->get_state(vm->vcpu, &st) < 0) {
		snprintf(err, errlen, "engine %s cannot give the vCPU's state", vm->engine->name);
		return -1;
	}
	/* every device first: one that cannot be saved refuses the whole
	 * checkpoint before a file exists (virtio-blk drains its requests,
	 * before any device is saved: ckpt_devices.c) */
	uint8_t *blob[VM_MAX_DEVICES] = { 0 };
	size_t blob_len[VM_MAX_DEVICES];
	int ret = -1;
	if (ckpt_devices_save(vm->devices, vm->nr_devices, blob, blob_len, err, errlen) < 0)
		goto out;
	if (ckpt_writer_open(&cw, path, err, errlen) < 0)
		goto out;
	put_meta(&cw, vm, argc, argv);
	ckpt_section(&cw, CKPT_SEC_CPUID, &model.cpuid, sizeof(model.cpuid));
	ckpt_section_begin(&cw, CKPT_SEC_CPU);
	uint32_t hdr[2] = { 0, sizeof(st) };	/* vCPU index, struct size */
	ckpt_section_data(&cw, hdr, sizeof(hdr));
	ckpt_section_data(&cw, &st, sizeof(st));
	ckpt_section_end(&cw);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		uint32_t index = i;
		ckpt_section_begin(&cw, CKPT_SEC_DEVICE);
		ckpt_section_data(&cw, &index, sizeof(index));
		ckpt_section_data(&cw, blob[i], blob_len[i]);
		ckpt_section_end(&cw);
	}
	if (ckpt_disks_save(&cw, vm, err, errlen) < 0 ||
	    ckpt_ram_save(&cw, vm->memfd, vm->backing, vm->map.memfd_size, compress,
			  err, errlen) < 0) {
		ckpt_writer_abort(&cw);
		goto out;
	}
	ret = ckpt_writer_close(&cw, err, errlen);
out:
	for (unsigned i = 0; i < vm->nr_devices; i++)
		free(blob[i]);
	return ret;
}
