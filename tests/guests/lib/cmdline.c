/* The Multiboot command line as "key=value" words (bench guests take
 * their sizes and selections this way). */
#include "guest.h"

const char *cmdline_value(const char *cmd, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = cmd; *p; p++)
		if ((p == cmd || p[-1] == ' ') && !memcmp(p, key, k) && p[k] == '=')
			return p + k + 1;
	return NULL;
}
