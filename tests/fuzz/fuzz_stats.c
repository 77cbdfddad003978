/* The statistics file reader (userspace/stats/stats_reader.c) and what
 * hyvm top makes of a snapshot (the model, the JSON and text reports) on
 * any file contents; a file with the right magic and layout is forged
 * from the input half the time so the reader gets past its checks. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "stats/stats.h"
#include "top/top_report.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stats_file forged, snap;
	static struct top_view view;
	char path[32], err[400];
	struct stats_map m;

	if (size && (data[0] & 1)) {
		/* a file of this layout, the rest of it the input's */
		memset(&forged, 0, sizeof(forged));
		memcpy(&forged, data + 1, size - 1 < sizeof(forged) ? size - 1 : sizeof(forged));
		forged.magic = STATS_MAGIC;
		forged.version = STATS_VERSION;
		forged.size = sizeof(forged);
		forged.pid = getpid();
		forged.pid_start = stats_pid_start(getpid());
		size_t len = sizeof(forged);
		if (data[0] & 2)	/* cut short */
			len = (size * 997) % sizeof(forged);
		if (fuzz_file((const uint8_t *)&forged, len, path) < 0)
			abort();
	} else if (fuzz_file(data, size, path) < 0) {
		abort();
	}
	enum stats_problem p = stats_inspect(path, &m, err, sizeof(err));
	if (p == STATS_OK || p == STATS_STALE) {
		stats_snapshot(&m, &snap);
		stats_close(&m);
		top_view_init(&view, &snap, stats_now_ns());
		top_view_sample(&view, &snap, stats_now_ns() + 1000000);
		FILE *out = fopen("/dev/null", "w");
		if (!out)
			abort();
		top_report_json(out, &view, NULL);
		top_report_text(out, &view, NULL);
		fclose(out);
	}
	return 0;
}
