/* Reading a VM's checkpoint; see checkpoint.h. */
#include <stdlib.h>
#include <string.h>
#include "checkpoint/checkpoint.h"
#include "checkpoint/ckpt_disk.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_overlay.h"
#include "checkpoint/ckpt_ram.h"
#include "cpu/cpu_model.h"
#include "devices/device_state.h"
#include "vmm/vm.h"

#define MAX_ARGS 4096

static char *get_str(struct ds_reader *r)
{
	uint32_t n = ds_get_u32(r);
	char *s;

	if (n > r->len - r->pos) {
		ds_fail(r, "a string runs past the end");
		n = 0;
	}
	if (!(s = malloc(n + 1)))
		return NULL;
	ds_get_bytes(r, s, n);
	s[n] = '\0';
	return s;
}

void checkpoint_meta_free(struct ckpt_meta *m)
{
	for (int i = 0; i < m->argc; i++)
		free(m->argv[i]);
	free(m->argv);
	m->argv = NULL;
	m->argc = 0;
}

/* META's fields; r is left at the memory map. */
static int parse_meta(struct ds_reader *r, struct ckpt_meta *m)
{
	uint32_t n = ds_get_u32(r);

	memset(m, 0, sizeof(*m));
	if (n == 0 || n > MAX_ARGS || !(m->argv = calloc(n + 1, sizeof(char *)))) {
		ds_fail(r, "bad command line");
		return -1;
	}
	for (uint32_t i = 0; i < n && !r->failed; i++) {
		m->argv[i] = get_str(r);
		m->argc = (int)i + 1;
	}
	char *e = get_str(r), *c = get_str(r);
	snprintf(m->engine, sizeof(m->engine), "%s", e ? e : "");
	snprintf(m->cpu, sizeof(m->cpu), "%s", c ? c : "");
	free(e);
	free(c);
	m->in_hlt = ds_get_bool(r);
	return r->failed ? -1 : 0;
}

/* The first section, META, read whole. */
static int open_meta(struct ckpt_reader *cr, const char *path, uint8_t **data,
		     struct ckpt_section_info *s, char *err, size_t errlen)
{
	int k;

	if (ckpt_reader_open(cr, path, err, errlen) < 0)
		return -1;
	if ((k = ckpt_reader_next(cr, s)) <= 0 || s->type != CKPT_SEC_META ||
	    ckpt_reader_payload(cr, s, data) < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 k < 0 || cr->err[0] ? cr->err : "the checkpoint has no META section first");
		ckpt_reader_close(cr);
		return -1;
	}
	return 0;
}

int checkpoint_read_meta(const char *path, struct ckpt_meta *m, char *err, size_t errlen)
{
	struct ckpt_reader cr;
	struct ckpt_section_info s;
	uint8_t *data;

	memset(m, 0, sizeof(*m));
	if (ckpt_verify(path, err, errlen) < 0 || open_meta(&cr, path, &data, &s, err, errlen) < 0)
		return -1;
	struct ds_reader r = { .data = data, .len = s.length };
	int ret = parse_meta(&r, m);
	if (ret < 0) {
		snprintf(err, errlen, "%s: the checkpoint's META section is corrupted: %s", path,
			 r.err);
		checkpoint_meta_free(m);
	}
	free(data);
	ckpt_reader_close(&cr);
	return ret;
}

static int check_map(struct vm *vm, struct ds_reader *r, char *err, size_t errlen)
{
	uint64_t size = ds_get_u64(r);
	uint32_t nr = ds_get_u32(r);
	bool same = size == vm->map.memfd_size && nr == vm->map.nr;

	for (uint32_t i = 0; i < nr && !r->failed; i++) {
		uint64_t gpa = ds_get_u64(r), sz = ds_get_u64(r);
		uint32_t kind = ds_get_u32(r);
		uint64_t off = ds_get_u64(r);
		if (same && (gpa != vm->map.r[i].gpa || sz != vm->map.r[i].size ||
			     kind != vm->map.r[i].kind || off != vm->map.r[i].memfd_offset))
			same = false;
	}
	if (!ds_done(r)) {
		snprintf(err, errlen, "the checkpoint's META section is corrupted: %s", r->err);
		return -1;
	}
	if (!same) {
		snprintf(err, errlen, "the checkpoint's memory map (%llu MiB of RAM and ROM) is not "
			 "this VM's: was --mem changed?", (unsigned long long)(size >> 20));
		return -1;
	}
	return 0;
}

static int load_device(struct vm *vm, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	uint32_t index;

	if (len < 4) {
		snprintf(err, errlen, "the checkpoint is corrupted: a short device section");
		return -1;
	}
	memcpy(&index, p, 4);
	if (index >= vm->nr_devices) {
		snprintf(err, errlen, "the checkpoint has device %u, this VM has %u devices: "
			 "was --device or --disk changed?", index, vm->nr_devices);
		return -1;
	}
	const struct device_instance *d = &vm->devices[index];
	char why[200];
	if (device_state_load(d->model, d->state, p + 4, len - 4, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "device %u (%s): %s", index, d->model->name, why);
		return -1;
	}
	return 0;
}

static int check_cpuid(struct vm *vm, const struct engine_ops *engine, const uint8_t *p,
		       size_t len, char *err, size_t errlen)
{
	struct cpu_model model;

	if (len != sizeof(model.cpuid)) {
		snprintf(err, errlen, "the checkpoint's CPUID table has another size");
		return -1;
	}
	if (vm_cpu_model(vm, engine, &model, err, errlen) < 0)
		return -1;
	const struct hyvm_cpuid_table *t = (const void *)p;
	if (memcmp(&model.cpuid, t, sizeof(*t))) {
		unsigned i = 0;
		while (i < t->nent && i < model.cpuid.nent && i < HYVM_CPUID_MAX_ENTRIES &&
		       !memcmp(&t->entries[i], &model.cpuid.entries[i], sizeof(t->entries[i])))
			i++;
		snprintf(err, errlen, "engine %s cannot honour the checkpoint's CPU model "
			 "(CPUID leaf 0x%x differs from what it offers)", engine->name,
			 i < t->nent && i < HYVM_CPUID_MAX_ENTRIES ? t->entries[i].function : 0);
		return -1;
	}
	return 0;
}

int checkpoint_load(struct vm *vm, const char *path, const struct engine_ops *engine,
		    struct hyvm_cpu_state *st, char *err, size_t errlen)
{
	struct ckpt_reader cr;
	struct ckpt_section_info s;
	struct ckpt_meta m;
	uint8_t *data = NULL;
	bool seen_cpu = false, seen_ram = false, *seen_dev;
	int k, ret = -1;
	char why[300] = "";

	if (ckpt_verify(path, err, errlen) < 0 || open_meta(&cr, path, &data, &s, err, errlen) < 0)
		return -1;
	if (!(seen_dev = calloc(vm->nr_devices + 1, sizeof(bool))))
		goto out;
	struct ds_reader r = { .data = data, .len = s.length };
	if (parse_meta(&r, &m) < 0) {
		snprintf(why, sizeof(why), "the checkpoint's META section is corrupted: %s", r.err);
		checkpoint_meta_free(&m);
		goto out;
	}
	checkpoint_meta_free(&m);
	vm->pause.resume_in_hlt = m.in_hlt;
	if (check_map(vm, &r, why, sizeof(why)) < 0)
		goto out;
	free(data);
	data = NULL;
	while ((k = ckpt_reader_next(&cr, &s)) > 0) {
		if (s.type == CKPT_SEC_RAM) {
			if (ckpt_ram_load(&cr, &s, vm->backing, vm->map.memfd_size, why,
					  sizeof(why)) < 0)
				goto out;
			seen_ram = true;
			continue;
		}
		if (s.type == CKPT_SEC_OVERLAY) {
			if (ckpt_overlay_load(&cr, &s, why, sizeof(why)) < 0)
				goto out;
			continue;
		}
		if (ckpt_reader_payload(&cr, &s, &data) < 0) {
			snprintf(why, sizeof(why), "%s", cr.err);
			goto out;
		}
		switch (s.type) {
		case CKPT_SEC_CPUID:
			if (check_cpuid(vm, engine, data, s.length, why, sizeof(why)) < 0)
				goto out;
			break;
		case CKPT_SEC_CPU: {
			uint32_t hdr[2];
			if (s.length != sizeof(hdr) + sizeof(*st)) {
				snprintf(why, sizeof(why), "the checkpoint's vCPU state has another "
					 "size (another hyvm_cpu_state layout)");
				goto out;
			}
			memcpy(hdr, data, sizeof(hdr));
			if (hdr[0] != 0 || hdr[1] != sizeof(*st)) {
				snprintf(why, sizeof(why), "the checkpoint has vCPU %u; this VM has "
					 "one vCPU", hdr[0]);
				goto out;
			}
			memcpy(st, data + sizeof(hdr), sizeof(*st));
			seen_cpu = true;
			break;
		}
		case CKPT_SEC_DEVICE:
			if (load_device(vm, data, s.length, why, sizeof(why)) < 0)
				goto out;
			seen_dev[*(const uint32_t *)data] = true;
			break;
		case CKPT_SEC_DISK:
			if (ckpt_disk_check(vm, data, s.length, why, sizeof(why)) < 0)
				goto out;
			break;
		default:
			snprintf(why, sizeof(why), "the checkpoint has a section of unknown type %u",
				 s.type);
			goto out;
		}
		free(data);
		data = NULL;
	}
	if (k < 0) {
		snprintf(why, sizeof(why), "%s", cr.err);
		goto out;
	}
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (!seen_dev[i]) {
			snprintf(why, sizeof(why), "the checkpoint has no state for device %u (%s): "
				 "was --device changed?", i, vm->devices[i].model->name);
			goto out;
		}
	if (!seen_cpu || !seen_ram) {
		snprintf(why, sizeof(why), "the checkpoint has no %s section",
			 seen_cpu ? "RAM" : "vCPU");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		snprintf(err, errlen, "%s: %s", path, why[0] ? why : "out of memory");
	free(seen_dev);
	free(data);
	ckpt_reader_close(&cr);
	return ret;
}
