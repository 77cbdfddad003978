/* hyvm engines: which engines this machine has, and what each cannot run.
 * One line per engine (NAME present|absent DETAIL), for people and for the
 * guest runner; -v adds the guest needs an engine cannot meet. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "engines/engine.h"

int cmd_engines(int argc, char **argv)
{
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: hyvm engines [-v]   (one line per engine: NAME present|absent DETAIL;\n"
		       "  -v adds what each present engine cannot run)\n");
		return 0;
	}

	if (argc > 2 || (argc == 2 && !verbose)) {
		fprintf(stderr, "hyvm engines: usage: hyvm engines [-v]\n");
		return EXIT_USAGE;
	}
	for (const struct engine_ops *const *e = engine_list(); *e; e++) {
		struct engine_caps caps;

		(*e)->probe(&caps);
		if (!caps.present) {
			printf("%s absent %s\n", (*e)->name, caps.absent_why);
			continue;
		}
		printf("%s present %s\n", (*e)->name, caps.description);
		for (int n = 0; verbose && n < NEED_COUNT; n++)
			if (caps.cannot[n])
				printf("    cannot %s: %s\n", guest_need_name(n), caps.cannot[n]);
	}
	return 0;
}
