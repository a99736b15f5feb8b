/*
 * test-uidl-formats.c - table-driven tests of uidl-formats.c: Dovecot's
 * dovecot-uidlist (versions 1, 2 and 3, the P field, pop3_uidl_format),
 * Courier's courierpop3dsizelist, the X-UIDL header, and the formats the
 * configuration accepts.
 *
 * What a parser gives renders as "[base=uidl]..." so that a row states
 * its whole expectation in one literal.  The Dovecot and Courier rows
 * whose files a real server wrote are copied from Dovecot 2.3.19 and
 * Courier 1.0 on Debian 12 (their UIDL replies are in the comments); the
 * others are the damaged and hostile variants of those.
 */
#include "uidl-formats.h"

#include <stdio.h>
#include <string.h>

#include "params.h"
#include "unit.h"

/* A uidl_sink: renders each UIDL given, stopping after `stop_after` when that is not 0. */
struct render {
	struct unit_buf out;
	size_t given, stop_after;
};

static bool render_put(void *ctx, const char *base, size_t base_len, const char *uidl, size_t uidl_len)
{
	struct render *r = ctx;

	unit_buf_adds(&r->out, "[");
	for (size_t i = 0; i < base_len; i++)
		unit_buf_adds(&r->out, base[i] == '\0' ? "\\0" : (char[]){ base[i], '\0' });
	unit_buf_adds(&r->out, "=");
	unit_buf_add(&r->out, uidl, uidl_len);
	unit_buf_adds(&r->out, "]");
	return ++r->given != r->stop_after;
}

/* What parse gives for input: the rendering, or "STOPPED ..." when it reported the sink's stop. */
enum parser { DOVECOT, COURIER };

static const char *parse(enum parser which, const char *input, size_t len, const char *format, struct render *r)
{
	struct uidl_sink sink = { render_put, r };
	bool ok;

	unit_buf_clear(&r->out);
	unit_buf_adds(&r->out, "");
	r->given = 0;
	ok = which == DOVECOT ? dovecot_uidlist_parse(input, len, format, &sink)
			      : courier_sizelist_parse(input, len, &sink);
	if (!ok)
		unit_buf_adds(&r->out, " STOPPED");
	return r->out.data;
}

/* 1796232893 is 0x6b1056bd. */
#define P70 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
#define V3 "3 V1796232893 N9 G44828f36bd56106ba46d000083ecc375\n"

struct row {
	enum parser parser;
	const char *format;	/* Dovecot's pop3_uidl_format */
	const char *input;
	const char *expected;
	const char *desc;
};

static const struct row rows[] = {
	/* What Dovecot 2.3.19 wrote after DELE 2 and DELE 5; its UIDL
	 * reply was "1 000000016b1056bd", "2 000000036b1056bd", ... */
	{ DOVECOT, "%08Xu%08Xv",
	  V3 "1 W23 :1700000001.M1P1.host\n3 W23 :1700000003.M3P1.host\n7 W21 :1700000017.M7P1.host:2,S\n",
	  "[1700000001.M1P1.host=000000016b1056bd][1700000003.M3P1.host=000000036b1056bd]"
	  "[1700000017.M7P1.host=000000076b1056bd]",
	  "Dovecot 2.3's list, the default format: eight hex digits of the UID, eight of the UIDVALIDITY" },
	{ DOVECOT, "%08Xu%08Xv", "1 1796232893 13\n1 1700000001.M1P1.host\n12 1700000002.M2P1.host:2,S\n",
	  "[1700000001.M1P1.host=000000016b1056bd][1700000002.M2P1.host=0000000c6b1056bd]",
	  "version 1: \"1 uidvalidity nextuid\", then \"uid name\"" },
	{ DOVECOT, "%u.%v", "2 V10 N5\n4 :a\n", "[a=4.10]", "version 2 reads as 3" },
	{ DOVECOT, "%08Xu%08Xv", "3 V10 N5\n1 P+OK-was-here W20 :a\n2 W20 P :b\n3 Pabc :c:2,S\n",
	  "[a=+OK-was-here][b=000000020000000a][c=abc]",
	  "a line's P field (Dovecot's own migrations) wins over the format; an empty one does not" },
	{ DOVECOT, "%f", V3 "5 :1700000001.M1P1.host:2,RS\n", "[1700000001.M1P1.host=1700000001.M1P1.host]",
	  "%f: the base name, without the info" },
	{ DOVECOT, "%Xu-%Xv", "3 V4294967295 N5\n254 :a\n", "[a=fe-ffffffff]", "%X: lower-case hex, unpadded" },
	{ DOVECOT, "100%%%u%%", "3 V1 N5\n7 :a\n", "[a=100%7%]", "%% is a percent" },
	/* Dovecot 2.3.19 showed these for UID 1 of UIDVALIDITY 1796232893,
	 * 1700000001.M1P1.host: a width with a leading 0 pads, one without
	 * keeps the first octets. */
	{ DOVECOT, "u%3uv%08Xv", V3 "1 :1700000001.M1P1.host\n", "[1700000001.M1P1.host=u1v6b1056bd]",
	  "Dovecot's u%3uv%08Xv" },
	{ DOVECOT, "%2Xu|%5v", V3 "1 :1700000001.M1P1.host\n", "[1700000001.M1P1.host=1|17962]",
	  "Dovecot's %2Xu|%5v: a width without 0 cuts" },
	{ DOVECOT, "%012v|%012Xv", V3 "1 :1700000001.M1P1.host\n",
	  "[1700000001.M1P1.host=001796232893|00006b1056bd]", "Dovecot's %012v|%012Xv: a width with 0 pads" },
	{ DOVECOT, "%025f", V3 "1 :1700000001.M1P1.host\n",
	  "[1700000001.M1P1.host=000001700000001.M1P1.host]", "Dovecot's %025f" },
	{ DOVECOT, "%3f%0f", V3 "1 :1700000001.M1P1.host\n",
	  "[1700000001.M1P1.host=1701700000001.M1P1.host]", "Dovecot's %3f and %0f" },
	{ DOVECOT, "%1u%1Xv", V3 "1 :1700000001.M1P1.host\n", "[1700000001.M1P1.host=16]", "Dovecot's %1u%1Xv" },
	{ DOVECOT, "%08Xu%08Xv", "3 V1 N5\n1 :a\n2 :b", "[a=0000000100000001]",
	  "a last line without LF (a file cut short) is not taken" },
	{ DOVECOT, "%08Xu%08Xv", "4 V1 N5\n1 :a\n", "", "an unknown version gives nothing" },
	{ DOVECOT, "%08Xu%08Xv", "3 N5 G1\n1 :a\n", "", "a version 3 header without V gives nothing" },
	{ DOVECOT, "%08Xu%08Xv", "3 V4294967296 N5\n1 :a\n", "", "a UIDVALIDITY above 32 bits gives nothing" },
	{ DOVECOT, "%08Xu%08Xv", "3 Vx N5\n1 :a\n", "", "a UIDVALIDITY that is not a number gives nothing" },
	{ DOVECOT, "%08Xu%08Xv", "", "", "an empty file gives nothing" },
	{ DOVECOT, "%08Xu%08Xv", "3 V1 N5", "", "a header without LF gives nothing" },
	{ DOVECOT, "%u",
	  "3 V1 N5\n0 :zero\n4294967296 :big\nx :word\n-1 :minus\n 2 :space\n3 W1\n4 :\n5 ::2,S\n6 :ok\n",
	  "[space=2][ok=6]",
	  "lines with UID 0, a UID above 32 bits or not a number, no name or an empty base name are skipped" },
	{ DOVECOT, "%u", "3 V1 N5\n1 :a b\n", "[a b=1]", "a name runs to the end of the line" },
	{ DOVECOT, "%u", "1 1 5\n1 a b\n", "[a b=1]", "version 1: the name runs to the end of the line" },
	{ DOVECOT, "%u", "3 V1 N5\n1 :a\n1 :b\n2 :a\n", "[a=1][b=1][a=2]",
	  "names and UIDs twice are given as they are (the importer refuses them)" },
	{ DOVECOT, "%u", "3 V1 N5\n1 P" P70 "q :a\n",
	  "[a=" P70 "q]",
	  "a 71-octet P field is given as it is (the importer refuses it)" },
	{ DOVECOT, "%f%f%f%f", "3 V1 N5\n1 :"
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
	  "2 :g\n",
	  "[g=gggg]", "a UIDL longer than UIDL_EXPANDED_MAX is not given" },

	/* What Courier's pop3d 1.0 wrote; its UIDL reply was "1 UID1-1796232500". */
	{ COURIER, NULL,
	  "/3 4 1796232500\n1700000001.M1P1.host:2, 23 1:1796232500:0\n1700000003.M3P1.host:2,S 21 3:1796232500\n",
	  "[1700000001.M1P1.host=UID1-1796232500][1700000003.M3P1.host=UID3-1796232500]",
	  "Courier's size list: UID<uid>-<uidvalidity>" },
	{ COURIER, NULL, "/3 4 100\na 1 007:0100\n", "[a=UID7-100]", "numbers are written as Courier prints them" },
	{ COURIER, NULL, "/2 4\na 1 1:1\n", "", "a size list of another version gives nothing" },
	{ COURIER, NULL, "a 1 1:1\n", "", "a size list without header gives nothing" },
	{ COURIER, NULL,
	  "/3 4 1\nnosize\nx 1\ny z 1:1\nz 1 11\nw 1 4294967296:1\nv 1 1:4294967296\nu 1 1:\nt 1 :1\n:2,S 1 1:1\nok 1 2:3\n"
	  "cut 1 3:3",
	  "[ok=UID2-3]", "lines without size, with a size or UID that is not a number, or cut short are skipped" },
};

static void test_rows(void)
{
	struct render r = { 0 };

	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct row *row = &rows[i];

		unit_expect_str(parse(row->parser, row->input, strlen(row->input), row->format, &r), row->expected,
				"%s", row->desc);
	}
	unit_buf_free(&r.out);
}

/* The parsers read only the octets they are given, NUL octets included (binary noise is the fuzz
 * target's, tests/fuzz/fuzz-uidl-import.c). */
static void test_binary(void)
{
	static const char with_nul[] = "3 V1 N5\n1 :a\0b\n2 :c\n";
	static const char courier_nul[] = "/3 4 1\na\0 1 1:1\nb 1 2:1\n";
	struct render r = { 0 };

	unit_expect_str(parse(DOVECOT, with_nul, sizeof with_nul - 1, "%u", &r), "[a\\0b=1][c=2]",
			"a NUL octet in a Dovecot name is an octet like another (no file has that name)");
	unit_expect_str(parse(COURIER, courier_nul, sizeof courier_nul - 1, NULL, &r), "[a\\0=UID1-1][b=UID2-1]",
			"a NUL octet in a Courier name is an octet like another (no file has that name)");
	unit_expect_str(parse(DOVECOT, "3 V1 N5\n1 :a\n2 :b\n", 13, "%u", &r), "[a=1]",
			"only len octets are read");
	unit_buf_free(&r.out);
}

/* A sink that fails (memory ran out) stops the parse, which says so. */
static void test_stop(void)
{
	struct render r = { .stop_after = 1 };

	unit_expect_str(parse(DOVECOT, "3 V1 N5\n1 :a\n2 :b\n", 19, "%u", &r), "[a=1] STOPPED",
			"Dovecot: the sink's stop ends the parse and is reported");
	unit_expect_str(parse(COURIER, "/3 4 1\na 1 1:1\nb 1 2:1\n", 23, NULL, &r), "[a=UID1-1] STOPPED",
			"Courier: the sink's stop ends the parse and is reported");
	unit_buf_free(&r.out);
}

struct header_row {
	const char *header;
	const char *expected;	/* NULL: none found */
	const char *desc;
};

static const struct header_row headers[] = {
	{ "Subject: x\r\nX-UIDL: abc  \r\n\r\nbody\r\n", "abc", "X-UIDL's value without its blanks, CRLF lines" },
	{ "x-uidl:\tq\n\n", "q", "the field name is case-insensitive; a tab is a blank" },
	{ "X-UIDL: first\nX-UIDL: second\n\n", "first", "the first X-UIDL counts" },
	{ "Subject: a\n\nX-UIDL: no\n", NULL, "an X-UIDL in the body is not one" },
	{ "X-UIDL:   \n\n", NULL, "an empty value is none" },
	{ "X-UIDLX: a\nX-UID: b\n\n", NULL, "other fields are not X-UIDL" },
	{ "Subject: a\nX-UIDL: cut", NULL, "a line cut short by the read is not taken" },
	{ "X-UIDL: a b\n\n", "a b", "a value with a space is given as it is (the importer refuses it)" },
};

static void test_xuidl(void)
{
	for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
		const struct header_row *h = &headers[i];
		const char *value = NULL;
		size_t len = 0;
		bool found = xuidl_find(h->header, strlen(h->header), &value, &len);
		char got[128];

		snprintf(got, sizeof got, "%.*s", found ? (int)len : 0, found ? value : "");
		if (h->expected == NULL)
			unit_expect_bool(found, false, "%s", h->desc);
		else
			unit_expect_str(found ? got : "(none)", h->expected, "%s", h->desc);
	}
}

static void test_formats(void)
{
	static const char *const good[] = { UIDL_MIGRATE_FORMAT_DEFAULT, "%u", "%f", "%Xu", "%08u-%v", "a%%b%u",
					     "%v%f", "%999u", NULL };
	static const char *const bad[] = { "", "%", "%v", "abc", "%g", "%m", "%08X", "%Xf", "%u%", "%0999u",
					    "%u%q", "%.3f", "%3%u", NULL };

	for (size_t i = 0; good[i] != NULL; i++)
		unit_expect_bool(dovecot_format_ok(good[i]), true, "format \"%s\" is taken", good[i]);
	for (size_t i = 0; bad[i] != NULL; i++)
		unit_expect_bool(dovecot_format_ok(bad[i]), false, "format \"%s\" is refused", bad[i]);
}

int main(void)
{
	test_rows();
	test_binary();
	test_stop();
	test_xuidl();
	test_formats();
	return unit_done();
}
