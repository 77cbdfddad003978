/* Engines register themselves at start-up; --engine auto walks them by
 * preference and takes the first present one that can run the guest. */
#include <stdio.h>
#include <string.h>
#include "engines/engine.h"

#define MAX_ENGINES 8

static const struct engine_ops *engines[MAX_ENGINES + 1];
static int preferences[MAX_ENGINES];
static int nr_engines;

void engine_register(const struct engine_ops *ops, int preference)
{
	int i;

	if (nr_engines == MAX_ENGINES)
		return;
	/* insertion sort, highest preference first */
	for (i = nr_engines; i > 0 && preferences[i - 1] < preference; i--) {
		engines[i] = engines[i - 1];
		preferences[i] = preferences[i - 1];
	}
	engines[i] = ops;
	preferences[i] = preference;
	nr_engines++;
}

const struct engine_ops *const *engine_list(void)
{
	return engines;
}

const struct engine_ops *engine_find(const char *name)
{
	for (int i = 0; i < nr_engines; i++)
		if (!strcmp(engines[i]->name, name))
			return engines[i];
	return NULL;
}

static const char *const need_names[NEED_COUNT] = {
	[NEED_REAL_MODE] = "real-mode",
	[NEED_A20] = "a20",
	[NEED_CPL0_COMPUTE] = "cpl0-compute",
	[NEED_STI_WINDOW] = "sti-window",
	[NEED_PAGING32] = "paging32",
	[NEED_PAE] = "pae",
	[NEED_LONG_MODE] = "long-mode",
	[NEED_SOFT_INT_CPL0] = "soft-int-cpl0",
	[NEED_USER_MODE] = "user-mode",
	[NEED_SYSENTER] = "sysenter",
	[NEED_SSE] = "sse",
	[NEED_VM86] = "vm86",
	[NEED_HIGH_RAM] = "high-ram",
	[NEED_TSC_DEADLINE] = "tsc-deadline",
	[NEED_BCD_CPL0] = "bcd-cpl0",
	[NEED_FP_EXCEPTIONS] = "fp-exceptions",
	[NEED_TSC_ADJUST] = "tsc-adjust",
};

const char *guest_need_name(enum guest_need n)
{
	return n < NEED_COUNT ? need_names[n] : "?";
}

int guest_need_parse(const char *token)
{
	for (int i = 0; i < NEED_COUNT; i++)
		if (!strcmp(token, need_names[i]))
			return i;
	return -1;
}

const struct engine_ops *engine_pick_auto(const bool needs[NEED_COUNT],
					  char *why, size_t whylen)
{
	size_t used = 0;

	why[0] = 0;
	for (int i = 0; i < nr_engines; i++) {
		struct engine_caps caps = { 0 };
		const char *reason = NULL;

		engines[i]->probe(&caps);
		if (!caps.present)
			reason = caps.absent_why;
		for (int n = 0; !reason && n < NEED_COUNT; n++)
			if (needs && needs[n] && caps.cannot[n])
				reason = caps.cannot[n];
		if (!reason)
			return engines[i];
		if (used < whylen)
			used += snprintf(why + used, whylen - used, "%s%s: %s",
					 used ? "; " : "", engines[i]->name, reason);
	}
	if (!nr_engines)
		snprintf(why, whylen, "no engine is built in");
	return NULL;
}
