/*
 * A device instance's configuration string: "key=value,key=value", values
 * decimal or 0x-hex integers. NULL or "" leaves every key at its default.
 * Private to devices/.
 */
#ifndef HYVM_DEVICE_CONFIG_H
#define HYVM_DEVICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device_config_key {
	const char *name;
	uint64_t min, max;
	uint64_t value;		/* the default in, the configured value out */
};

/* Fills keys from config; an unknown key, a repeated key, a value that is
 * no number or out of [min, max] is one line in err and -1. A model that
 * takes no configuration passes nr_keys 0. */
int device_config_parse(const char *model, const char *config,
			struct device_config_key *keys, unsigned nr_keys,
			char *err, size_t errlen);

#endif
