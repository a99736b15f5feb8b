/*
 * test-parse.c - table-driven tests of parse.c: line framing, command
 * splitting, strict number parsing, the SASL PLAIN split, the user and
 * domain name rules, and trimming.
 *
 * Results are rendered as short text ("[USER bob]<too long>", "ok 7",
 * "rejected") so that each table row states its whole expectation in one
 * literal and a failure shows the difference at a glance.
 */
#include "parse.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* Feeding patterns: whole, byte by byte, and odd sizes; 4093 is just under
 * INPUT_BUFFER_SIZE, so feeds straddle the reader's buffer end. */
static const size_t chunk_sizes[] = { UNIT_WHOLE, 1, 2, 7, 4093, INPUT_BUFFER_SIZE + 5 };

/* ---- line_reader: line_feed + line_take ---- */

/* Takes every line now complete, noting each as "[text]" or "<too long>";
 * returns whether anything was taken.  A reader that keeps answering
 * without consuming would loop forever, so the takes are bounded. */
static bool take_buffered_lines(struct line_reader *r, struct unit_buf *seen)
{
	struct line line;
	enum line_status st;
	bool took = false;

	for (unsigned guard = 0; (st = line_take(r, &line)) != LINE_NEED_MORE; guard++) {
		if (guard > INPUT_BUFFER_SIZE) {
			unit_buf_adds(seen, "<no progress>");
			break;
		}
		took = true;
		if (st == LINE_TOO_LONG) {
			unit_buf_adds(seen, "<too long>");
			continue;
		}
		unit_buf_adds(seen, "[");
		unit_buf_add(seen, line.text, line.len);
		unit_buf_adds(seen, "]");
		if (line.text[line.len] != '\0')
			unit_buf_adds(seen, "<not NUL-terminated>");
	}
	return took;
}

/* Feeds input as a server's reads would deliver it, at most chunk octets
 * at a time, taking lines after each feed; feeds bigger than the free
 * buffer space are completed after the taking made room. */
static void read_lines(size_t max_line, const char *input, size_t len, size_t chunk,
		       struct unit_buf *seen)
{
	static struct line_reader reader;
	size_t off = 0;

	line_reader_init(&reader, max_line);
	unit_buf_clear(seen);
	while (off < len) {
		size_t piece = len - off < chunk ? len - off : chunk;
		size_t fed = line_feed(&reader, input + off, piece);

		off += fed;
		if (!take_buffered_lines(&reader, seen) && fed == 0) {
			unit_buf_adds(seen, "<buffer stuck full>");
			return;
		}
	}
}

/* Runs one input through every feeding pattern against one expectation. */
static void check_reader(const char *what, size_t max_line, const char *input, size_t len,
			 const char *expected)
{
	struct unit_buf seen = { 0 };
	char label[64];

	for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++) {
		if (!unit_chunk_worth_running(chunk_sizes[i], len))
			continue;
		read_lines(max_line, input, len, chunk_sizes[i], &seen);
		unit_expect_str(seen.data, expected, "line_take: %s (max_line %zu, %s)", what,
				max_line, unit_chunk_label(label, sizeof label, chunk_sizes[i]));
	}
	unit_buf_free(&seen);
}

struct reader_case {
	const char *what;
	size_t max_line;
	const char *input;
	const char *expected;	/* "" when no line may come out yet */
};

/* max_line 10 keeps the length-limit rows literal: 8 octets of text plus
 * CRLF is the longest line. */
static const struct reader_case reader_cases[] = {
	{ "CRLF lines", 512, "USER bob\r\nPASS secret\r\n", "[USER bob][PASS secret]" },
	{ "bare LF lines", 512, "USER bob\nQUIT\n", "[USER bob][QUIT]" },
	{ "a CR not before LF stays in the line", 512, "AB\rC\r\n", "[AB\rC]" },
	{ "CR CR LF keeps the first CR", 512, "NOOP\r\r\n", "[NOOP\r]" },
	{ "empty lines, CRLF and LF", 512, "\r\n\n", "[][]" },
	{ "pipelined lines with mixed endings", 512, "STAT\r\nLIST\nRETR 1\r\nQUIT\r\n",
	  "[STAT][LIST][RETR 1][QUIT]" },
	{ "no LF yet: need more", 512, "USER bob", "" },
	{ "CR without its LF yet: need more", 512, "NOOP\r", "" },
	{ "a line, then one still unfinished", 512, "NOOP\r\nUSER b", "[NOOP]" },
	{ "limit: 10 octets with CRLF accepted", 10, "12345678\r\nNEXT\r\n", "[12345678][NEXT]" },
	{ "limit: 11 octets with CRLF too long", 10, "123456789\r\nNEXT\r\n", "<too long>[NEXT]" },
	{ "limit: 9 octets with bare LF accepted", 10, "12345678\nNEXT\n", "[12345678][NEXT]" },
	{ "limit: 10 octets with bare LF too long", 10, "123456789\nNEXT\n", "<too long>[NEXT]" },
	{ "limit: CR CR LF counts the kept CR", 10, "12345678\r\r\nNEXT\n", "<too long>[NEXT]" },
	{ "two over-long lines, each reported once", 10,
	  "1234567890123\nabcdefghijkl\r\nOK\r\n", "<too long><too long>[OK]" },
	{ "over-long line without its LF yet", 10, "123456789012345", "<too long>" },
	/* max_line octets without LF can only end longer: no need to wait. */
	{ "max_line octets without LF: too long at once", 10, "1234567890", "<too long>" },
	{ "max_line - 1 octets ending in CR: still waits", 10, "12345678\r", "" },
	{ "over-long line then an empty line", 10, "123456789012345\r\n\r\n", "<too long>[]" },
};

/* Length-limit rows too long to write out: content octets of 'x', then the
 * ending, then "NEXT\r\n", which must always come through. */
struct limit_case {
	size_t max_line;
	size_t content;
	const char *ending;
	bool accepted;
};

static const struct limit_case limit_cases[] = {
	{ COMMAND_LENGTH_MIN, COMMAND_LENGTH_MIN - 2, "\r\n", true },
	{ COMMAND_LENGTH_MIN, COMMAND_LENGTH_MIN - 1, "\r\n", false },
	{ COMMAND_LENGTH_MIN, COMMAND_LENGTH_MIN - 2, "\n", true },
	{ COMMAND_LENGTH_MIN, COMMAND_LENGTH_MIN - 1, "\n", false },
	{ COMMAND_LENGTH_MIN, 100000, "\n", false },
	{ COMMAND_LENGTH_DEFAULT, 0, "\r\n", true },
	{ COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_DEFAULT - 2, "\r\n", true },
	{ COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_DEFAULT - 1, "\r\n", false },
	{ COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_DEFAULT - 2, "\n", true },
	{ COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_DEFAULT - 1, "\n", false },
	{ COMMAND_LENGTH_DEFAULT, COMMAND_LENGTH_DEFAULT, "\n", false },
	{ COMMAND_LENGTH_DEFAULT, 3 * INPUT_BUFFER_SIZE + 100, "\r\n", false },
	{ COMMAND_LENGTH_MAX, COMMAND_LENGTH_MAX - 2, "\r\n", true },
	{ COMMAND_LENGTH_MAX, COMMAND_LENGTH_MAX - 1, "\r\n", false },
	{ COMMAND_LENGTH_MAX, COMMAND_LENGTH_MAX - 2, "\n", true },
	{ COMMAND_LENGTH_MAX, COMMAND_LENGTH_MAX - 1, "\n", false },
	{ COMMAND_LENGTH_MAX, 3 * INPUT_BUFFER_SIZE + 100, "\r\n", false },
};

static void check_limit_case(const struct limit_case *c)
{
	struct unit_buf input = { 0 }, expected = { 0 };
	char what[96];

	for (size_t i = 0; i < c->content; i++)
		unit_buf_add(&input, "x", 1);
	unit_buf_adds(&expected, c->accepted ? "[" : "<too long>");
	if (c->accepted)
		unit_buf_add(&expected, input.data, input.len);
	unit_buf_adds(&expected, c->accepted ? "][NEXT]" : "[NEXT]");
	unit_buf_adds(&input, c->ending);
	unit_buf_adds(&input, "NEXT\r\n");
	snprintf(what, sizeof what, "%zu octets + %s, %zu in all", c->content,
		 strcmp(c->ending, "\n") == 0 ? "LF" : "CRLF", c->content + strlen(c->ending));
	check_reader(what, c->max_line, input.data, input.len, expected.data);
	unit_buf_free(&input);
	unit_buf_free(&expected);
}

static void test_line_reader(void)
{
	for (size_t i = 0; i < sizeof reader_cases / sizeof *reader_cases; i++) {
		const struct reader_case *c = &reader_cases[i];

		check_reader(c->what, c->max_line, c->input, strlen(c->input), c->expected);
	}
	for (size_t i = 0; i < sizeof limit_cases / sizeof *limit_cases; i++)
		check_limit_case(&limit_cases[i]);
}

/* ---- line_reader_wipe ---- */

/* Input fed in pieces, each piece's complete lines taken before the next: the wipe must zero
 * the octets input ever filled, used of them, and leave the rest of the buffer as it was. */
struct wipe_case {
	const char *what;
	const char *pieces[3];	/* NULL-terminated */
	size_t used;
};

static const struct wipe_case wipe_cases[] = {
	{ "two lines fed at once: both lines' octets", { "USER a\r\nPASS secret\r\n", NULL }, 21 },
	{ "a password in two reads: the whole line", { "PASS sec", "ret\r\n", NULL }, 13 },
	{ "a short line taken, then a longer one at the buffer's start: the longer", { "NOOP\r\n", "PASS secret\r\n", NULL },
	  13 },
	{ "a line left unfinished: its octets too", { "STAT\r\nPASS secr", NULL }, 15 },
	{ "nothing read: nothing written", { NULL }, 0 },
};

#define WIPE_SENTINEL 0xa5

/* How many octets of buf from off on differ from value. */
static size_t count_other(const char *buf, size_t off, size_t size, unsigned char value)
{
	size_t n = 0;

	for (size_t i = off; i < size; i++)
		n += (unsigned char)buf[i] != value;
	return n;
}

static void check_wipe(const struct wipe_case *c)
{
	static struct line_reader r;
	struct line line;

	line_reader_init(&r, COMMAND_LENGTH_DEFAULT);
	memset(r.buf, WIPE_SENTINEL, sizeof r.buf);
	for (size_t i = 0; c->pieces[i] != NULL; i++) {
		line_feed(&r, c->pieces[i], strlen(c->pieces[i]));
		while (line_take(&r, &line) == LINE_OK)
			;
	}
	line_reader_wipe(&r);
	unit_ok(count_other(r.buf, 0, c->used, 0) == 0, "line_reader_wipe, %s: %zu octets zeroed", c->what, c->used);
	unit_ok(count_other(r.buf, c->used, sizeof r.buf, WIPE_SENTINEL) == 0,
		"line_reader_wipe, %s: the %zu octets never written left alone", c->what, sizeof r.buf - c->used);
	unit_ok(line_pending(&r, &(const char *){ NULL }) == 0, "line_reader_wipe, %s: the reader is empty", c->what);
}

static void test_line_reader_wipe(void)
{
	for (size_t i = 0; i < sizeof wipe_cases / sizeof *wipe_cases; i++)
		check_wipe(&wipe_cases[i]);
}

/* ---- command_parse ---- */

static bool points_into(const char *line, size_t len, const char *p, size_t n)
{
	return p >= line && p <= line + len && n <= (size_t)(line + len - p);
}

/* Renders a word of the parsed command, or flags a pointer that escaped
 * the line (the command must refer to the line, not to a copy). */
static void render_word(struct unit_buf *b, const char *line, size_t len, const char *p, size_t n)
{
	if (p == NULL || !points_into(line, len, p, n)) {
		unit_buf_adds(b, "<outside the line>");
		return;
	}
	unit_buf_adds(b, "[");
	unit_buf_add(b, p, n);
	unit_buf_adds(b, "]");
}

/* "key=USER argc=1 args=[bob] rest=[bob]", or just the failure status. */
static void render_command(struct unit_buf *b, enum parse_status st, const struct command *c,
			   const char *line, size_t len)
{
	unit_buf_clear(b);
	if (st != PARSE_OK) {
		unit_buf_adds(b, st == PARSE_EMPTY ? "EMPTY" : st == PARSE_BAD_BYTE ? "BAD_BYTE" : "?");
		return;
	}
	unit_buf_addf(b, "key=%s argc=%u args=", c->keyword, c->argc);
	for (unsigned i = 0; i < c->argc && i < COMMAND_ARGS_MAX; i++)
		render_word(b, line, len, c->argv[i].text, c->argv[i].len);
	unit_buf_adds(b, " rest=");
	render_word(b, line, len, c->rest, c->rest_len);
}

struct command_case {
	const char *line;
	size_t len;
	const char *expected;
};

static const struct command_case command_cases[] = {
	{ BYTES("USER bob"), "key=USER argc=1 args=[bob] rest=[bob]" },
	{ BYTES("user bob"), "key=USER argc=1 args=[bob] rest=[bob]" },
	{ BYTES("uSeR Bob"), "key=USER argc=1 args=[Bob] rest=[Bob]" },
	{ BYTES("STAT"), "key=STAT argc=0 args= rest=[]" },
	{ BYTES("q"), "key=Q argc=0 args= rest=[]" },
	{ BYTES("LIST  1"), "key=LIST argc=1 args=[1] rest=[1]" },
	{ BYTES("LIST\t1"), "key=LIST argc=1 args=[1] rest=[1]" },
	{ BYTES("LIST \t \t1"), "key=LIST argc=1 args=[1] rest=[1]" },
	{ BYTES("  NOOP"), "key=NOOP argc=0 args= rest=[]" },
	{ BYTES("\tNOOP"), "key=NOOP argc=0 args= rest=[]" },
	{ BYTES("NOOP  "), "key=NOOP argc=0 args= rest=[]" },
	{ BYTES("NOOP\t"), "key=NOOP argc=0 args= rest=[]" },
	{ BYTES(" TOP\t1  10 "), "key=TOP argc=2 args=[1][10] rest=[1  10 ]" },
	{ BYTES("TOP 1 10 x"), "key=TOP argc=3 args=[1][10] rest=[1 10 x]" },
	{ BYTES("TOP 1 10 x y z"), "key=TOP argc=3 args=[1][10] rest=[1 10 x y z]" },
	{ BYTES("USERS bob"), "key= argc=1 args=[bob] rest=[bob]" },
	{ BYTES("US3R bob"), "key= argc=1 args=[bob] rest=[bob]" },
	{ BYTES("US-R"), "key= argc=0 args= rest=[]" },
	{ BYTES("@ x"), "key= argc=1 args=[x] rest=[x]" },
	{ BYTES("[{`~"), "key= argc=0 args= rest=[]" },
	{ BYTES("\xc3\x9cSER bob"), "key= argc=1 args=[bob] rest=[bob]" },
	{ BYTES("PASS my secret  pw  "), "key=PASS argc=3 args=[my][secret] rest=[my secret  pw  ]" },
	{ BYTES("PASS \t spaced out"), "key=PASS argc=2 args=[spaced][out] rest=[spaced out]" },
	{ BYTES("PASS x "), "key=PASS argc=1 args=[x] rest=[x ]" },
	{ "USER bob tail", 8, "key=USER argc=1 args=[bob] rest=[bob]" },
	{ BYTES(""), "EMPTY" },
	{ BYTES("   "), "EMPTY" },
	{ BYTES("\t \t"), "EMPTY" },
	{ BYTES("US\0ER bob"), "BAD_BYTE" },
	{ BYTES("USER bob\0"), "BAD_BYTE" },
	{ BYTES("\0"), "BAD_BYTE" },
	{ BYTES("USER\rbob"), "BAD_BYTE" },
	{ BYTES("NOOP\r"), "BAD_BYTE" },
	{ BYTES(" \r "), "BAD_BYTE" },
};

static void test_command_parse(void)
{
	struct unit_buf got = { 0 };
	char shown[128];

	for (size_t i = 0; i < sizeof command_cases / sizeof *command_cases; i++) {
		const struct command_case *c = &command_cases[i];
		struct command cmd;
		enum parse_status st = command_parse(c->line, c->len, &cmd);

		render_command(&got, st, &cmd, c->line, c->len);
		unit_escape(shown, sizeof shown, c->line, c->len);
		unit_expect_str(got.data, c->expected, "command_parse \"%s\"", shown);
	}
	unit_buf_free(&got);
}

/* ---- number parsing ---- */

/* Numbers render as "ok VALUE" or "rejected": a wrong value and a wrong
 * verdict both show in one comparison. */
static void render_number(char *buf, size_t size, bool ok, uint64_t value)
{
	if (ok)
		snprintf(buf, size, "ok %" PRIu64, value);
	else
		snprintf(buf, size, "rejected");
}

struct message_number_case {
	const char *text;
	size_t len;
	size_t max;
	const char *expected;
};

static const struct message_number_case message_number_cases[] = {
	{ BYTES("1"), 10, "ok 1" },
	{ BYTES("10"), 10, "ok 10" },
	{ BYTES("11"), 10, "rejected" },
	{ BYTES("007"), 10, "ok 7" },
	{ BYTES("0"), 10, "rejected" },
	{ BYTES("00"), 10, "rejected" },
	{ BYTES("+1"), 10, "rejected" },
	{ BYTES("-1"), 10, "rejected" },
	{ BYTES(" 1"), 10, "rejected" },
	{ BYTES("1 "), 10, "rejected" },
	{ BYTES("0x10"), 100, "rejected" },
	{ BYTES("1a"), 100, "rejected" },
	{ BYTES("1\0"), 100, "rejected" },
	{ BYTES(""), 10, "rejected" },
	{ BYTES("123456789012345678901234567890"), SIZE_MAX, "rejected" },
	{ BYTES("4000000"), MESSAGES_MAX, "ok 4000000" },
	{ BYTES("4000001"), MESSAGES_MAX, "rejected" },
	{ BYTES("18446744073709551615"), SIZE_MAX, "ok 18446744073709551615" },
	{ BYTES("18446744073709551616"), SIZE_MAX, "rejected" },
	{ BYTES("99999999999999999999"), SIZE_MAX, "rejected" },
	{ BYTES("0000000000000000000000000007"), 10, "ok 7" },
	{ BYTES("0000000000000000000000000011"), 10, "rejected" },
	{ "12", 1, 10, "ok 1" },
	/* Maildrops of fewer than 9 messages: max + 1 and beyond. */
	{ BYTES("1"), 0, "rejected" },
	{ BYTES("1"), 1, "ok 1" },
	{ BYTES("2"), 1, "rejected" },
	{ BYTES("5"), 5, "ok 5" },
	{ BYTES("6"), 5, "rejected" },
	{ BYTES("9"), 8, "rejected" },
	{ BYTES("17"), 5, "rejected" },
};

static void test_message_number(void)
{
	char got[64], shown[128];

	for (size_t i = 0; i < sizeof message_number_cases / sizeof *message_number_cases; i++) {
		const struct message_number_case *c = &message_number_cases[i];
		size_t value = 0;
		bool ok = parse_message_number(c->text, c->len, c->max, &value);

		render_number(got, sizeof got, ok, value);
		unit_escape(shown, sizeof shown, c->text, c->len);
		unit_expect_str(got, c->expected, "parse_message_number \"%s\" (max %zu)", shown, c->max);
	}
}

struct line_count_case {
	const char *text;
	size_t len;
	const char *expected;
};

static const struct line_count_case line_count_cases[] = {
	{ BYTES("0"), "ok 0" },
	{ BYTES("10"), "ok 10" },
	{ BYTES("99999999"), "ok 99999999" },
	{ BYTES("000000000000000000000000000005"), "ok 5" },
	{ BYTES("18446744073709551615"), "ok 18446744073709551615" },
	{ BYTES("18446744073709551616"), "ok 18446744073709551615" },
	{ BYTES("999999999999999999999999999999"), "ok 18446744073709551615" },
	{ BYTES("-1"), "rejected" },
	{ BYTES("+1"), "rejected" },
	{ BYTES("1x"), "rejected" },
	{ BYTES(" 1"), "rejected" },
	{ BYTES(""), "rejected" },
	{ BYTES("99999999999999999999x"), "rejected" },
};

static void test_line_count(void)
{
	char got[64];

	for (size_t i = 0; i < sizeof line_count_cases / sizeof *line_count_cases; i++) {
		const struct line_count_case *c = &line_count_cases[i];
		uint64_t value = 0;
		bool ok = parse_line_count(c->text, c->len, &value);

		render_number(got, sizeof got, ok, value);
		unit_expect_str(got, c->expected, "parse_line_count \"%s\"", c->text);
	}
}

struct setting_case {
	const char *text;
	unsigned min, max;
	const char *expected;
};

static const struct setting_case setting_cases[] = {
	{ "60", 1, TIMEOUT_MAX, "ok 60" },
	{ "86400", 1, TIMEOUT_MAX, "ok 86400" },
	{ "86401", 1, TIMEOUT_MAX, "rejected" },
	{ "0", 1, TIMEOUT_MAX, "rejected" },
	{ "0", 0, AUTH_FAIL_DELAY_MAX, "ok 0" },
	{ "000", 0, AUTH_FAIL_DELAY_MAX, "ok 0" },
	{ "39", COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX, "rejected" },
	{ "40", COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX, "ok 40" },
	{ "1024", COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX, "ok 1024" },
	{ "1025", COMMAND_LENGTH_MIN, COMMAND_LENGTH_MAX, "rejected" },
	{ "4294967294", 0, UINT32_MAX - 1, "ok 4294967294" },
	{ "4294967295", 0, UINT32_MAX - 1, "rejected" },
	{ "4294967295", 0, UINT_MAX, "ok 4294967295" },
	{ "4294967296", 0, UINT_MAX, "rejected" },
	{ "99999999999999999999999", 0, UINT_MAX, "rejected" },
	{ "", 0, 100, "rejected" },
	{ "1a", 0, 100, "rejected" },
	{ " 5", 0, 100, "rejected" },
	{ "5 ", 0, 100, "rejected" },
	{ "-5", 0, 100, "rejected" },
	{ "+5", 0, 100, "rejected" },
	{ "0x5", 0, 100, "rejected" },
	{ "6", 0, 5, "rejected" },
};

static void test_uint_setting(void)
{
	char got[64];

	for (size_t i = 0; i < sizeof setting_cases / sizeof *setting_cases; i++) {
		const struct setting_case *c = &setting_cases[i];
		unsigned value = 0;
		bool ok = parse_uint_setting(c->text, c->min, c->max, &value);

		render_number(got, sizeof got, ok, value);
		unit_expect_str(got, c->expected, "parse_uint_setting \"%s\" in [%u, %u]", c->text,
				c->min, c->max);
	}
}

/* ---- sasl_plain_parse ---- */

struct plain_case {
	const char *what;
	const char *in;		/* the decoded message */
	size_t len;
	const char *expected;
};

#define N64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define N65 N64 "a"

static const struct plain_case plain_cases[] = {
	{ "empty authzid", BYTES("\0alice\0secret"),
	  "ok authzid=\"\" authcid=\"alice\" (5) password=\"secret\"" },
	{ "authzid equal to authcid", BYTES("alice\0alice\0secret"),
	  "ok authzid=\"alice\" authcid=\"alice\" (5) password=\"secret\"" },
	{ "authzid different", BYTES("bob\0alice\0secret"), "bad authzid" },
	{ "authzid a prefix of authcid", BYTES("ali\0alice\0secret"), "bad authzid" },
	{ "authzid longer than authcid", BYTES("alice2\0alice\0secret"), "bad authzid" },
	{ "authzid differs only in case", BYTES("Alice\0alice\0secret"), "bad authzid" },
	{ "password with spaces", BYTES("\0alice\0two words "),
	  "ok authzid=\"\" authcid=\"alice\" (5) password=\"two words \"" },
	{ "empty password (the parser accepts it)", BYTES("\0alice\0"),
	  "ok authzid=\"\" authcid=\"alice\" (5) password=\"\"" },
	{ "8-bit password", BYTES("\0alice\0p\xc3\xa4ss"),
	  "ok authzid=\"\" authcid=\"alice\" (5) password=\"p\\xc3\\xa4ss\"" },
	{ "no NUL", BYTES("alicesecret"), "malformed" },
	{ "one NUL", BYTES("alice\0secret"), "malformed" },
	{ "one NUL first", BYTES("\0alicesecret"), "malformed" },
	{ "one NUL last", BYTES("alicesecret\0"), "malformed" },
	{ "three NULs (NUL in the password)", BYTES("\0alice\0sec\0ret"), "malformed" },
	{ "three NULs, the last at the end", BYTES("\0alice\0secret\0"), "malformed" },
	{ "three NULs only", BYTES("\0\0\0"), "malformed" },
	{ "empty message", BYTES(""), "malformed" },
	{ "empty authcid", BYTES("\0\0secret"), "bad authcid" },
	{ "empty authcid and authzid given", BYTES("alice\0\0secret"), "bad authcid" },
	{ "two NULs only", BYTES("\0\0"), "bad authcid" },
	{ "64-octet authcid", BYTES("\0" N64 "\0pw"),
	  "ok authzid=\"\" authcid=\"" N64 "\" (64) password=\"pw\"" },
	{ "65-octet authcid", BYTES("\0" N65 "\0pw"), "bad authcid" },
	{ "65-octet authcid with an equal authzid", BYTES(N65 "\0" N65 "\0pw"), "bad authcid" },
	{ "64-octet authcid with an equal authzid", BYTES(N64 "\0" N64 "\0pw"),
	  "ok authzid=\"" N64 "\" authcid=\"" N64 "\" (64) password=\"pw\"" },
};

static void render_plain(struct unit_buf *b, enum sasl_plain_status st, const struct sasl_plain *p)
{
	char z[256], c[256], w[256];

	unit_buf_clear(b);
	switch (st) {
	case PLAIN_OK:
		unit_escape(z, sizeof z, p->authzid, strlen(p->authzid));
		unit_escape(c, sizeof c, p->authcid, strlen(p->authcid));
		unit_escape(w, sizeof w, p->password, strlen(p->password));
		unit_buf_addf(b, "ok authzid=\"%s\" authcid=\"%s\" (%zu) password=\"%s\"", z, c,
			      p->authcid_len, w);
		/* authcid_len must agree with the NUL-terminated authcid */
		if (strlen(p->authcid) != p->authcid_len)
			unit_buf_adds(b, " <authcid_len differs from strlen>");
		break;
	case PLAIN_MALFORMED:
		unit_buf_adds(b, "malformed");
		break;
	case PLAIN_BAD_AUTHCID:
		unit_buf_adds(b, "bad authcid");
		break;
	case PLAIN_BAD_AUTHZID:
		unit_buf_adds(b, "bad authzid");
		break;
	default:
		unit_buf_addf(b, "<status %d>", (int)st);
	}
}

static void test_sasl_plain_parse(void)
{
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < sizeof plain_cases / sizeof *plain_cases; i++) {
		const struct plain_case *c = &plain_cases[i];
		/* As the server hands it over: a buffer with one writable octet
		 * past the message, here not a NUL, so a parser relying on one
		 * being there already would show. */
		char buf[256];
		struct sasl_plain p;
		enum sasl_plain_status st;

		memset(buf, 'X', sizeof buf);
		memcpy(buf, c->in, c->len);
		st = sasl_plain_parse(buf, c->len, &p);
		render_plain(&got, st, &p);
		unit_expect_str(got.data, c->expected, "sasl_plain_parse: %s", c->what);
	}
	unit_buf_free(&got);
}

/* ---- user_name_ok and domain_name_ok ---- */

static const struct {
	const char *name;
	size_t len;
	bool ok;
} user_name_cases[] = {
	{ BYTES("alice"), true },
	{ BYTES("a"), true },
	{ BYTES("alice@example.com"), true },
	{ BYTES("j.doe-2_x+tag"), true },
	{ BYTES("caf\xc3\xa9"), true },		/* 8-bit names pass (UTF-8) */
	{ BYTES(N64), true },
	{ BYTES(N65), false },
	{ BYTES(""), false },
	{ BYTES(".alice"), false },			/* a leading dot: no hidden names */
	{ BYTES("al.ice"), true },
	{ BYTES("al/ice"), false },
	{ BYTES("../x"), false },
	{ BYTES("al:ice"), false },			/* the passwd file's separator */
	{ BYTES("al ice"), false },
	{ BYTES("al\tice"), false },
	{ BYTES("al\x01ice"), false },
	{ BYTES("al\x7fice"), false },
	{ BYTES("al\0ice"), false },
	{ BYTES("-alice"), false },			/* an option to the tools PAM may run */
	{ BYTES("al-ice"), true },
	{ BYTES("DOMAIN\\alice"), false },		/* Windows' down-level name */
	{ BYTES("alice@AD.EXAMPLE.COM"), true },	/* sssd's fully qualified name */
};

static const struct {
	const char *name;
	bool ok;
} domain_name_cases[] = {
	{ "EXAMPLE", true },
	{ "example.com", true },
	{ "EXAMPLE.COM", true },
	{ "my-domain_1", true },
	{ "", false },
	{ "ex ample", false },
	{ "ex/ample", false },
	{ "ex@ample", false },
	{ "caf\xc3\xa9", false },
};

static void test_names(void)
{
	char long_domain[DOMAIN_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof user_name_cases / sizeof *user_name_cases; i++) {
		char shown[256];

		unit_escape(shown, sizeof shown, user_name_cases[i].name, user_name_cases[i].len);
		unit_ok(user_name_ok(user_name_cases[i].name, user_name_cases[i].len) == user_name_cases[i].ok,
			"user_name_ok \"%s\": %s", shown, user_name_cases[i].ok ? "accepted" : "refused");
	}
	for (size_t i = 0; i < sizeof domain_name_cases / sizeof *domain_name_cases; i++)
		unit_ok(domain_name_ok(domain_name_cases[i].name) == domain_name_cases[i].ok, "domain_name_ok \"%s\": %s",
			domain_name_cases[i].name, domain_name_cases[i].ok ? "accepted" : "refused");
	memset(long_domain, 'a', sizeof long_domain - 1);
	long_domain[DOMAIN_NAME_MAX] = '\0';
	unit_ok(domain_name_ok(long_domain), "domain_name_ok: %d octets accepted", DOMAIN_NAME_MAX);
	long_domain[DOMAIN_NAME_MAX] = 'a';
	long_domain[DOMAIN_NAME_MAX + 1] = '\0';
	unit_ok(!domain_name_ok(long_domain), "domain_name_ok: %d octets refused", DOMAIN_NAME_MAX + 1);
}

/* ---- trim_blanks ---- */

struct trim_case {
	const char *input;
	const char *expected;
};

static const struct trim_case trim_cases[] = {
	{ "key", "key" },
	{ "  key = value  ", "key = value" },
	{ "\t key\t", "key" },
	{ "a \t b", "a \t b" },
	{ "", "" },
	{ " \t \t", "" },
	{ "value\n", "value\n" },
};

static void test_trim_blanks(void)
{
	for (size_t i = 0; i < sizeof trim_cases / sizeof *trim_cases; i++) {
		const struct trim_case *c = &trim_cases[i];
		char buf[64], shown[128];
		char *start;

		snprintf(buf, sizeof buf, "%s", c->input);
		start = trim_blanks(buf);
		unit_escape(shown, sizeof shown, c->input, strlen(c->input));
		/* In place: the result must lie inside the caller's buffer. */
		unit_expect_str(start >= buf && start < buf + sizeof buf ? start : "<outside the buffer>",
				c->expected, "trim_blanks \"%s\"", shown);
	}
}

int main(void)
{
	test_line_reader();
	test_line_reader_wipe();
	test_command_parse();
	test_message_number();
	test_line_count();
	test_uint_setting();
	test_sasl_plain_parse();
	test_names();
	test_trim_blanks();
	return unit_done();
}
