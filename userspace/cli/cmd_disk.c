/*
 * hyvm disk: the undoable disks' overlays (userspace/block/overlay_format.h).
 *   hyvm disk commit OVERLAY    merge the guest's writes into the base, delete OVERLAY
 *   hyvm disk discard OVERLAY   drop them: delete OVERLAY
 *   hyvm disk info OVERLAY      base, size, clusters written
 * Refusals (not an overlay, a changed base, in use) are one line and
 * status 2; a commit that failed halfway is status 1 and may be rerun.
 */
#include <stdio.h>
#include <string.h>
#include "block/overlay.h"
#include "cli/commands.h"

static int usage(void)
{
	fprintf(stderr, "hyvm disk: usage: hyvm disk commit|discard|info OVERLAY\n");
	return EXIT_USAGE;
}

int cmd_disk(int argc, char **argv)
{
	char err[1024], msg[1024];

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: hyvm disk commit|discard|info OVERLAY\n"
		       "  commit   merge the guest's writes into the base, delete OVERLAY\n"
		       "  discard  drop them: delete OVERLAY\n"
		       "  info     base, size, clusters written\n"
		       "Exit status: 0; 1 a commit failed halfway (rerun it); 2 refused, nothing changed\n");
		return 0;
	}
	if (argc != 3 || argv[2][0] == '\0')
		return usage();
	const char *op = argv[1], *path = argv[2];
	int r;
	if (!strcmp(op, "commit")) {
		r = overlay_commit(path, msg, sizeof(msg), err, sizeof(err));
		if (r == 0)
			printf("%s\n", msg);
	} else if (!strcmp(op, "discard")) {
		r = overlay_discard(path, err, sizeof(err));
		if (r == 0)
			printf("discarded %s\n", path);
	} else if (!strcmp(op, "info")) {
		r = overlay_info(path, stdout, err, sizeof(err));
	} else {
		fprintf(stderr, "hyvm disk: unknown operation '%s' (commit, discard or info)\n", op);
		return EXIT_USAGE;
	}
	if (r == 0)
		return 0;
	fprintf(stderr, "hyvm disk: %s\n", err);
	return r == -2 ? 1 : EXIT_USAGE;
}
