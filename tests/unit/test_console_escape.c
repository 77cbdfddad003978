/*
 * The console's escape prefix (console/console_escape.c) on byte strings:
 * what reaches the guest and which commands fire, including a prefix
 * split across two reads, the doubled escape and unknown command keys.
 */
#include <string.h>
#include "console/console_escape.h"
#include "unit.h"

/* Feeds in; collects guest bytes in out and the commands in cmds. */
static void run(struct console_escape *e, const char *in, size_t n, char *out, char *cmds)
{
	size_t o = 0, c = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b;
		switch (console_escape_feed(e, (uint8_t)in[i], &b)) {
		case CONSOLE_GUEST:
			out[o++] = (char)b;
			break;
		case CONSOLE_QUIT:
			cmds[c++] = 'Q';
			break;
		case CONSOLE_HELP:
			cmds[c++] = 'H';
			break;
		case CONSOLE_SWALLOW:
			break;
		}
	}
	out[o] = cmds[c] = 0;
}

static void check(int key, const char *in, size_t n, const char *want_out, const char *want_cmds)
{
	struct console_escape e;
	char out[64], cmds[64];

	console_escape_init(&e, key);
	run(&e, in, n, out, cmds);
	CU_ASSERT_STRING_EQUAL(out, want_out);
	CU_ASSERT_STRING_EQUAL(cmds, want_cmds);
}

static void test_plain_bytes_pass(void)
{
	check(CONSOLE_ESCAPE_DEFAULT, "hello\r", 6, "hello\r", "");
	/* Ctrl-C and other control bytes are the guest's */
	check(CONSOLE_ESCAPE_DEFAULT, "\x03\x04\x1b[A", 5, "\x03\x04\x1b[A", "");
}

static void test_quit_and_help(void)
{
	check(CONSOLE_ESCAPE_DEFAULT, "ab\x01x", 4, "ab", "Q");
	check(CONSOLE_ESCAPE_DEFAULT, "\x01X", 2, "", "Q");
	check(CONSOLE_ESCAPE_DEFAULT, "\x01h\x01?z", 5, "z", "HH");
}

static void test_double_escape_sends_one(void)
{
	check(CONSOLE_ESCAPE_DEFAULT, "\x01\x01", 2, "\x01", "");
	/* the second escape does not start a new prefix */
	check(CONSOLE_ESCAPE_DEFAULT, "\x01\x01x", 3, "\x01x", "");
	check(CONSOLE_ESCAPE_DEFAULT, "\x01\x01\x01x", 4, "\x01", "Q");
}

static void test_unknown_key_swallowed(void)
{
	check(CONSOLE_ESCAPE_DEFAULT, "a\x01" "cb", 4, "ab", "");
	check(CONSOLE_ESCAPE_DEFAULT, "\x01\r", 2, "", "");
}

/* The prefix survives between two reads of the terminal. */
static void test_split_across_reads(void)
{
	struct console_escape e;
	char out[8], cmds[8];

	console_escape_init(&e, CONSOLE_ESCAPE_DEFAULT);
	run(&e, "q\x01", 2, out, cmds);
	CU_ASSERT_STRING_EQUAL(out, "q");
	CU_ASSERT(e.pending);
	run(&e, "x", 1, out, cmds);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_STRING_EQUAL(cmds, "Q");
	CU_ASSERT(!e.pending);
}

static void test_other_key_and_none(void)
{
	check(0x14, "\x01x\x14x", 4, "\x01x", "Q");	/* ^T */
	check(CONSOLE_ESCAPE_NONE, "\x01x\x01h", 4, "\x01x\x01h", "");
}

static void test_parse_and_name(void)
{
	int k;
	char name[8];

	CU_ASSERT(console_escape_parse("^a", &k) == 0 && k == 1);
	CU_ASSERT(console_escape_parse("^T", &k) == 0 && k == 0x14);
	CU_ASSERT(console_escape_parse("C-b", &k) == 0 && k == 2);
	CU_ASSERT(console_escape_parse("20", &k) == 0 && k == 20);
	CU_ASSERT(console_escape_parse("0x1d", &k) == 0 && k == 0x1d);
	CU_ASSERT(console_escape_parse("none", &k) == 0 && k == CONSOLE_ESCAPE_NONE);
	CU_ASSERT(console_escape_parse("^@", &k) < 0);
	CU_ASSERT(console_escape_parse("^1", &k) < 0);
	CU_ASSERT(console_escape_parse("32", &k) < 0);
	CU_ASSERT(console_escape_parse("0", &k) < 0);
	CU_ASSERT(console_escape_parse("a", &k) < 0);
	CU_ASSERT(console_escape_parse("", &k) < 0);
	console_escape_name(1, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "^A");
	console_escape_name(0x1d, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "^]");
}

static void test_help_names_the_key(void)
{
	char help[512];

	console_escape_help(0x14, help, sizeof(help));
	CU_ASSERT(strstr(help, "^T x") != NULL);
	CU_ASSERT(strstr(help, "^T h") != NULL);
	CU_ASSERT(strstr(help, "\r\n") != NULL);
}

UNIT_SUITE(console_escape, NULL, NULL,
	   UNIT_TEST(test_plain_bytes_pass),
	   UNIT_TEST(test_quit_and_help),
	   UNIT_TEST(test_double_escape_sends_one),
	   UNIT_TEST(test_unknown_key_swallowed),
	   UNIT_TEST(test_split_across_reads),
	   UNIT_TEST(test_other_key_and_none),
	   UNIT_TEST(test_parse_and_name),
	   UNIT_TEST(test_help_names_the_key));
