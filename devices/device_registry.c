/*
 * The list of device models. Each device file adds itself from a
 * constructor (DEVICE_REGISTER); constructors run in link order, so the
 * list is kept sorted by init level, then by name, which makes the creation
 * order the same whatever order the linker chose.
 */
#include <string.h>
#include "devices/device.h"

static struct device_model *models;

static bool goes_before(const struct device_model *a,
			const struct device_model *b)
{
	if (a->level != b->level)
		return a->level < b->level;
	return strcmp(a->name, b->name) < 0;
}

void device_model_register(struct device_model *m)
{
	if (!m || !m->name || !m->create)
		return;
	for (struct device_model *p = models; p; p = p->next)
		if (p == m)
			return;	/* registered twice: keep the list a list */

	struct device_model **link = &models;
	while (*link && !goes_before(m, *link))
		link = &(*link)->next;
	m->next = *link;
	*link = m;
}

struct device_model *device_models(void)
{
	return models;
}

struct device_model *device_model_find(const char *name)
{
	for (struct device_model *m = models; m; m = m->next)
		if (name && !strcmp(m->name, name))
			return m;
	return NULL;
}
