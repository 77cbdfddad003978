/* The QMP command layer (userspace/control/qmp.c) without a socket: a
 * fake target records what the commands did, replies are collected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "control/qmp.h"

static char out[16][4096];
static int nout;
static struct fake { bool paused, quit, reset, power; int saves; qmp_done done; void *cookie; } tgt;

static void collect(void *ctx, const char *json)
{
	if (nout < 16)
		snprintf(out[nout++], sizeof(out[0]), "%s", json);
}

static const char *f_status(void *t) { return tgt.paused ? "paused" : "running"; }
static void f_stop(void *t) { tgt.paused = true; }
static void f_cont(void *t) { tgt.paused = false; }
static int f_power(void *t, char *e, size_t n) { tgt.power = true; return 0; }
static void f_reset(void *t) { tgt.reset = true; }
static void f_quit(void *t) { tgt.quit = true; }
static struct json_object *f_stats(void *t) { return json_object_new_object(); }
static int f_save(void *t, const char *file, bool quit, bool stay, qmp_done done, void *cookie,
		  char *err, size_t n)
{
	if (!strcmp(file, "/refused")) {
		snprintf(err, n, "cannot");
		return -1;
	}
	tgt.saves++;
	tgt.done = done;
	tgt.cookie = cookie;
	return 0;
}
static struct json_object *f_mig(void *t) { return json_object_new_object(); }

static const struct qmp_target_ops fake_ops = {
	f_status, f_stop, f_cont, f_power, f_reset, f_quit, f_stats, f_save, f_mig,
};

static struct qmp_session *start(bool negotiate)
{
	memset(&tgt, 0, sizeof(tgt));
	nout = 0;
	struct qmp_session *s = qmp_session_new(&fake_ops, NULL, collect, NULL);
	qmp_session_greet(s);
	if (negotiate)
		qmp_session_feed(s, "{\"execute\":\"qmp_capabilities\"}", 30);
	return s;
}

static void feed(struct qmp_session *s, const char *text)
{
	CU_ASSERT_EQUAL(qmp_session_feed(s, text, strlen(text)), 0);
}

static void test_greeting_and_negotiation(void)
{
	struct qmp_session *s = start(false);

	CU_ASSERT(strstr(out[0], "\"QMP\"") && strstr(out[0], "\"capabilities\":[]") &&
		  strstr(out[0], "\"version\""));
	feed(s, "{\"execute\":\"query-status\",\"id\":7}");
	CU_ASSERT(strstr(out[1], "CommandNotFound") && strstr(out[1], "qmp_capabilities") &&
		  strstr(out[1], "\"id\":7"));
	feed(s, "{\"execute\":\"qmp_capabilities\"}");
	CU_ASSERT_STRING_EQUAL(out[2], "{\"return\":{}}");
	feed(s, "{\"execute\":\"qmp_capabilities\"}");
	CU_ASSERT(strstr(out[3], "CommandNotFound") && strstr(out[3], "already complete"));
	qmp_session_close(s);
}

static void test_stop_cont_status(void)
{
	struct qmp_session *s = start(true);

	feed(s, "{\"execute\":\"query-status\"}");
	CU_ASSERT(strstr(out[2], "\"running\":true") && strstr(out[2], "\"status\":\"running\""));
	feed(s, "{\"execute\":\"stop\"}\n{\"execute\":\"query-status\",\"id\":\"x\"}");
	CU_ASSERT(tgt.paused);
	CU_ASSERT(strstr(out[4], "\"status\":\"paused\"") && strstr(out[4], "\"id\":\"x\""));
	feed(s, "{\"execute\":\"cont\"}");
	CU_ASSERT(!tgt.paused);
	feed(s, "{\"execute\":\"system_powerdown\"}{\"execute\":\"system_reset\"}"
		"{\"execute\":\"quit\"}");
	CU_ASSERT(tgt.power && tgt.reset && tgt.quit);
	CU_ASSERT_EQUAL(nout, 9);
	qmp_session_close(s);
}

static void test_split_and_pipelined_input(void)
{
	struct qmp_session *s = start(true);

	feed(s, "{\"exec");
	CU_ASSERT_EQUAL(nout, 2);	/* nothing yet */
	feed(s, "ute\":\"stop\"}  {\"execute\":");
	CU_ASSERT(tgt.paused);
	feed(s, "\"cont\"}\r\n");
	CU_ASSERT(!tgt.paused);
	qmp_session_close(s);
}

static void test_errors(void)
{
	struct qmp_session *s = start(true);

	feed(s, "{\"execute\":\"no-such\"}");
	CU_ASSERT(strstr(out[2], "CommandNotFound") && strstr(out[2], "no-such"));
	feed(s, "{\"execute\": 5}");
	CU_ASSERT(strstr(out[3], "lacks member 'execute'") != NULL);
	feed(s, "[1,2]");
	CU_ASSERT(strstr(out[4], "must be a JSON object") != NULL);
	feed(s, "{\"execute\":\"stop\",\"arguments\":3}");
	CU_ASSERT(strstr(out[5], "'arguments' must be an object") && !tgt.paused);
	feed(s, "{\"execute\"::}\n{\"execute\":\"stop\"}");
	CU_ASSERT(strstr(out[6], "GenericError") && strstr(out[6], "JSON parse error"));
	CU_ASSERT(tgt.paused);	/* the next line is read again */
	feed(s, "{\"execute\":\"hyvm-save\"}");
	CU_ASSERT(strstr(out[8], "Parameter 'file' is missing") != NULL);
	feed(s, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:1.2.3.4:5\"}}");
	CU_ASSERT(strstr(out[9], "file:") != NULL);
	feed(s, "{\"execute\":\"hyvm-save\",\"arguments\":{\"file\":\"/refused\"}}");
	CU_ASSERT(strstr(out[10], "\"desc\":\"cannot\"") != NULL);
	qmp_session_close(s);
}

static void test_huge_message_closes(void)
{
	struct qmp_session *s = start(true);
	size_t n = 65536;
	char *chunk = malloc(n);
	int r = 0;

	for (size_t i = 0; i < n; i += 2)	/* "1,1,1,..." inside one array */
		chunk[i] = '1', chunk[i + 1] = ',';
	feed(s, "[");
	for (int k = 0; k < 40 && r == 0; k++)
		r = qmp_session_feed(s, chunk, n);
	CU_ASSERT_EQUAL(r, -1);
	if (r != -1)
		fprintf(stderr, "huge: %d replies, last %.200s\n", nout, out[nout - 1]);
	free(chunk);
	qmp_session_close(s);
}

static void test_deferred_save_reply(void)
{
	struct qmp_session *s = start(true);

	feed(s, "{\"execute\":\"hyvm-save\",\"arguments\":{\"file\":\"/x\",\"quit\":true},\"id\":3}");
	CU_ASSERT_EQUAL(tgt.saves, 1);
	CU_ASSERT_EQUAL(nout, 2);	/* the reply waits for the save */
	tgt.done(tgt.cookie, NULL);
	CU_ASSERT_STRING_EQUAL(out[2], "{\"return\":{},\"id\":3}");
	/* a client gone before its save ended: the session lives until then */
	feed(s, "{\"execute\":\"hyvm-save\",\"arguments\":{\"file\":\"/y\"}}");
	qmp_session_close(s);
	tgt.done(tgt.cookie, "disk full");
	CU_ASSERT_EQUAL(nout, 3);
}

static void test_query_commands_and_events(void)
{
	struct qmp_session *s = start(false);

	qmp_session_event(s, "STOP", NULL);
	CU_ASSERT_EQUAL(nout, 1);	/* not before negotiation */
	feed(s, "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-commands\"}");
	CU_ASSERT(strstr(out[2], "\"name\":\"migrate\"") && strstr(out[2], "\"name\":\"hyvm-save\""));
	qmp_session_event(s, "STOP", NULL);
	CU_ASSERT(strstr(out[3], "\"event\":\"STOP\"") && strstr(out[3], "\"timestamp\""));
	qmp_session_close(s);
}

UNIT_SUITE(qmp, NULL, NULL,
	   UNIT_TEST(test_greeting_and_negotiation),
	   UNIT_TEST(test_stop_cont_status),
	   UNIT_TEST(test_split_and_pipelined_input),
	   UNIT_TEST(test_errors),
	   UNIT_TEST(test_huge_message_closes),
	   UNIT_TEST(test_deferred_save_reply),
	   UNIT_TEST(test_query_commands_and_events));
