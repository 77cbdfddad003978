/* The configuration strings of device_config.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device_config.h"

#define MAX_KEYS 16

int device_config_parse(const char *model, const char *config,
			struct device_config_key *keys, unsigned nr_keys,
			char *err, size_t errlen)
{
	bool seen[MAX_KEYS] = { false };
	const char *p = config;

	if (nr_keys > MAX_KEYS) {
		snprintf(err, errlen, "device %s: too many configuration keys", model);
		return -1;
	}
	while (p && *p) {
		size_t item_len = strcspn(p, ",");
		const char *eq = memchr(p, '=', item_len);
		size_t name_len = eq ? (size_t)(eq - p) : item_len;
		unsigned k = 0;

		while (k < nr_keys && (strlen(keys[k].name) != name_len ||
				       strncmp(keys[k].name, p, name_len)))
			k++;
		if (k == nr_keys) {
			if (nr_keys)
				snprintf(err, errlen, "device %s: unknown option '%.*s'",
					 model, (int)name_len, p);
			else
				snprintf(err, errlen, "device %s takes no options (got '%.*s')",
					 model, (int)item_len, p);
			return -1;
		}
		if (seen[k]) {
			snprintf(err, errlen, "device %s: option %s given twice",
				 model, keys[k].name);
			return -1;
		}
		seen[k] = true;

		char value[32];
		size_t value_len = eq ? item_len - name_len - 1 : 0;
		char *end;
		if (!eq || value_len == 0 || value_len >= sizeof(value) ||
		    !memchr("0123456789", eq[1], 10)) {
			snprintf(err, errlen, "device %s: option %s needs a number",
				 model, keys[k].name);
			return -1;
		}
		memcpy(value, eq + 1, value_len);
		value[value_len] = 0;
		errno = 0;
		unsigned long long v = strtoull(value, &end, 0);
		if (*end || errno) {
			snprintf(err, errlen, "device %s: %s=%s is not a number",
				 model, keys[k].name, value);
			return -1;
		}
		if (v < keys[k].min || v > keys[k].max) {
			snprintf(err, errlen, "device %s: %s=%s is outside %#llx-%#llx",
				 model, keys[k].name, value,
				 (unsigned long long)keys[k].min,
				 (unsigned long long)keys[k].max);
			return -1;
		}
		keys[k].value = v;
		p += item_len;
		if (*p == ',')
			p++;
	}
	return 0;
}
