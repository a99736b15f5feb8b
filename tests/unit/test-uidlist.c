/*
 * test-uidlist.c - table-driven tests of uidlist.c: parsing the UID list
 * file (every kind of corruption), the index, adding and dropping entries,
 * the write/read round trip, the high-water mark in the lock file and the
 * lock itself.
 *
 * A parsed list renders as one line, "OK next=10 [1 100 98 0 a][...]" or
 * "CORRUPT next=4 []", so that a row states its whole expectation in one
 * literal.  Valid END lines are computed here, independently of uidlist.c:
 * FNV-1a 64 (util.h) of every octet before the END line, 16 lowercase hex
 * digits.
 *
 * next_uid after a corruption: the list must not name a UID that a rebuilt
 * list could issue again (uidlist.h: "empty, next UID above everything it
 * named").  The rows expect the highest of 1, every number on a header
 * line (whatever its version or shape: the next UID is among them), and
 * every UID + 1 that a line of the text gives in the UID position of an
 * entry (a decimal number at the start of the line, below the UID limit,
 * followed by a space), wherever that line is.
 */
#include "uidlist-file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "util.h"
#include "unit.h"

#define HEADER3 "POP3-HANDLER-UIDLIST 3 10 0 0 0 0 0 0 0 0\n"
#define U70 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
#define HEADER10 "POP3-HANDLER-UIDLIST 1 10\n"
#define HEADER2 "POP3-HANDLER-UIDLIST 2 10 1 2 3 4 18446744073709551615 6 1700000000 999999999\n"
#define ENTRY_A "1 100 98 0 a\n"
#define ENTRY_B "3 200 195 1700000000 b\n"
#define RENDER_AB "[1 100 98 0 a][3 200 195 1700000000 b]"

/* ---- helpers ---- */

/* The length of a file name's base name: up to its first ':'. */
static size_t base_of(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);

	return colon ? (size_t)(colon - name) : len;
}

/* Renders a list: its next UID, its stamps when it has any, and entries;
 * an entry that uidlist_find does not give back for its own base name is
 * flagged. */
static void render_list(struct unit_buf *b, const char *status, const struct uidlist *l)
{
	unit_buf_clear(b);
	unit_buf_addf(b, "%s next=%" PRIu64 " ", status, l->next_uid);
	for (size_t k = 0; k < STAMPS; k++)
		if (l->stamps[k].ino != 0 || l->stamps[k].size != 0 || l->stamps[k].sec != 0 || l->stamps[k].nsec != 0)
			unit_buf_addf(b, "%s=%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 " ", k == STAMP_NEW ? "new" : "cur",
				      l->stamps[k].ino, l->stamps[k].size, l->stamps[k].sec, l->stamps[k].nsec);
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *e = &l->entries[i];

		unit_buf_addf(b, "[%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " ", e->uid,
			      e->exact_size, e->stored_size, e->retrieved);
		if (e->uidl_len > 0) {
			unit_buf_adds(b, "uidl=");
			unit_buf_add(b, uidlist_uidl(l, e), e->uidl_len);
			unit_buf_adds(b, " ");
		}
		unit_buf_add(b, uidlist_name(l, e), e->name_len);
		if (uidlist_find(l, uidlist_name(l, e), base_of(uidlist_name(l, e), e->name_len)) != e)
			unit_buf_adds(b, "<find: not this entry>");
		unit_buf_adds(b, "]");
	}
	if (l->count == 0)
		unit_buf_adds(b, "[]");
}

static const char *status_name(enum uidlist_status st)
{
	switch (st) {
	case UIDLIST_OK: return "OK";
	case UIDLIST_MISSING: return "MISSING";
	case UIDLIST_CORRUPT: return "CORRUPT";
	case UIDLIST_FAILED: return "FAILED";
	}
	return "?";
}

/* Parses a copy of exactly len octets (so that valgrind sees any read past
 * the end) and renders the result. */
static enum uidlist_status parse_and_render(const char *data, size_t len, struct unit_buf *out)
{
	char *copy = malloc(len ? len : 1);
	struct uidlist l;
	enum uidlist_status st;

	if (copy == NULL)
		unit_bail("out of memory");
	memcpy(copy, data, len);
	st = uidlist_parse(copy, len, &l);
	free(copy);
	render_list(out, status_name(st), &l);
	if (st != UIDLIST_OK && (l.count != 0 || uidlist_find(&l, "a", 1) != NULL))
		unit_buf_adds(out, "<not empty>");
	uidlist_free(&l);
	return st;
}

/* The checksum uidlist files end with, computed here. */
static uint64_t checksum(const char *data, size_t len)
{
	return fnv1a64(FNV1A64_INIT, data, len);
}

static void add_end_line(struct unit_buf *b, size_t count)
{
	unit_buf_addf(b, "END %zu %016" PRIx64 "\n", count, checksum(b->data, b->len));
}

/* An empty list with the given next UID, as uidlist_parse makes it from a valid file. */
static void empty_list(struct uidlist *l, uint64_t next)
{
	struct unit_buf b = { 0 };

	unit_buf_addf(&b, "POP3-HANDLER-UIDLIST 1 %" PRIu64 "\n", next);
	add_end_line(&b, 0);
	if (uidlist_parse(b.data, b.len, l) != UIDLIST_OK || l->next_uid != next)
		unit_bail("cannot make an empty list with next UID %" PRIu64, next);
	unit_buf_free(&b);
}

/* Entry lines: the lines of a body that are not a header. */
static size_t count_entries(const char *body, size_t len)
{
	size_t n = 0;
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t l = lf ? (size_t)(lf - p) : (size_t)(end - p);

		if (!(l >= 20 && memcmp(p, "POP3-HANDLER-UIDLIST", 20) == 0))
			n++;
		p += l + 1;
	}
	return n;
}

/* ---- uidlist_parse: table ---- */

enum end_style {
	END_GOOD,		/* "END <entries> <checksum>\n" of the body */
	END_NONE,		/* the body is the whole text */
	END_COUNT_MORE,		/* count one too high */
	END_COUNT_LESS,		/* count one too low */
	END_SUM_WRONG,		/* the checksum's last digit changed */
	END_SUM_UPPER,		/* hex digits in upper case */
	END_SUM_15,		/* first hex digit dropped */
	END_SUM_17,		/* an extra leading 0 */
	END_SUM_NO_HEADER,	/* checksum of the entries only */
	END_NO_LF,		/* the END line lacks its LF */
	END_CRLF,		/* the END line ends in CRLF */
	END_TRAILING_SPACE,	/* "END 2 <sum> \n" */
	END_TWO_SPACES,		/* "END  2 <sum>\n" */
	END_LOWER_CASE,		/* "end 2 <sum>\n" */
};

struct parse_case {
	const char *what;
	const char *body;
	size_t body_len;
	enum end_style end;
	const char *after;	/* octets after the END line */
	size_t after_len;
	const char *expected;
};

static const struct parse_case parse_cases[] = {
	/* valid lists */
	{ "two entries", BYTES(HEADER10 ENTRY_A ENTRY_B), END_GOOD, BYTES(""),
	  "OK next=10 " RENDER_AB },
	{ "empty list: header and END 0", BYTES("POP3-HANDLER-UIDLIST 1 1\n"), END_GOOD, BYTES(""),
	  "OK next=1 []" },
	{ "empty list with a high next UID", BYTES("POP3-HANDLER-UIDLIST 1 1700000000123456\n"), END_GOOD,
	  BYTES(""), "OK next=1700000000123456 []" },
	{ "Maildir++/Dovecot names, 8-bit octets, gaps in UIDs",
	  BYTES(HEADER10 "2 6 5 0 1700000000.M1P2.host,S=5,W=6\n4 7 7 1 caf\xc3\xa9\n9 0 0 0 z\n"), END_GOOD,
	  BYTES(""), "OK next=10 [2 6 5 0 1700000000.M1P2.host,S=5,W=6][4 7 7 1 caf\xc3\xa9][9 0 0 0 z]" },
	/* A next UID up to the clock floor plus ten years is taken: 2e15 is 2033. */
	{ "largest numbers",
	  BYTES("POP3-HANDLER-UIDLIST 1 2000000000000000\n"
		"1999999999999999 18446744073709551615 18446744073709551615 9223372036854775807 big\n"),
	  END_GOOD, BYTES(""),
	  "OK next=2000000000000000 "
	  "[1999999999999999 18446744073709551615 18446744073709551615 9223372036854775807 big]" },
	{ "names with every printable kind of octet",
	  BYTES(HEADER10 "5 1 1 0 !\"#$%&'()*+,-.0123456789;<=>?@AZ[\\]^_`az{|}~\x80\xff\n"), END_GOOD, BYTES(""),
	  "OK next=10 [5 1 1 0 !\"#$%&'()*+,-.0123456789;<=>?@AZ[\\]^_`az{|}~\x80\xff]" },

	/* the header */
	{ "empty file", BYTES(""), END_NONE, BYTES(""), "CORRUPT next=1 []" },
	{ "a lone LF", BYTES("\n"), END_NONE, BYTES(""), "CORRUPT next=1 []" },
	{ "header without LF", BYTES("POP3-HANDLER-UIDLIST 1 10"), END_NONE, BYTES(""), "CORRUPT next=10 []" },
	{ "header only, no END", BYTES(HEADER10), END_NONE, BYTES(""), "CORRUPT next=10 []" },
	{ "missing header (entries named UIDs 1 and 3)", BYTES(ENTRY_A ENTRY_B), END_GOOD, BYTES(""),
	  "CORRUPT next=4 []" },
	{ "missing header, no entries", BYTES(""), END_GOOD, BYTES(""), "CORRUPT next=1 []" },
	{ "wrong magic", BYTES("POP3-HANDLER-UIDLST 1 10\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "lower-case magic", BYTES("pop3-handler-uidlist 1 10\n"), END_GOOD, BYTES(""), "CORRUPT next=1 []" },
	{ "wrong version", BYTES("POP3-HANDLER-UIDLIST 2 10\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "wrong version (entries named UIDs 1 and 3)", BYTES("POP3-HANDLER-UIDLIST 2 10\n" ENTRY_A ENTRY_B),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "wrong version, an entry above its next UID", BYTES("POP3-HANDLER-UIDLIST 2 2\n" ENTRY_A ENTRY_B),
	  END_GOOD, BYTES(""), "CORRUPT next=4 []" },
	{ "no version", BYTES("POP3-HANDLER-UIDLIST 10\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "no next UID", BYTES("POP3-HANDLER-UIDLIST 1 \n"), END_GOOD, BYTES(""), "CORRUPT next=1 []" },
	{ "no next UID nor its space", BYTES("POP3-HANDLER-UIDLIST 1\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "next UID 0", BYTES("POP3-HANDLER-UIDLIST 1 0\n"), END_GOOD, BYTES(""), "CORRUPT next=1 []" },
	{ "next UID not decimal", BYTES("POP3-HANDLER-UIDLIST 1 1a\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "next UID in hex", BYTES("POP3-HANDLER-UIDLIST 1 0x10\n"), END_GOOD, BYTES(""), "CORRUPT next=1 []" },
	{ "next UID signed +", BYTES("POP3-HANDLER-UIDLIST 1 +10\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "next UID signed -", BYTES("POP3-HANDLER-UIDLIST 1 -10\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "next UID above the UID limit", BYTES("POP3-HANDLER-UIDLIST 1 9223372036854775808\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=1 []" },
	/* A UID near the limit would use up the mailbox's UIDs: beyond the clock floor plus ten
	 * years, the list is corrupt and the number raises nothing. */
	{ "next UID just under the UID limit", BYTES("POP3-HANDLER-UIDLIST 1 9223372036854775806\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=1 []" },
	{ "next UID in the year 2400", BYTES("POP3-HANDLER-UIDLIST 1 13569465600000000\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "next UID overflowing 64 bits", BYTES("POP3-HANDLER-UIDLIST 1 18446744073709551616\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=1 []" },
	{ "next UID of 23 digits", BYTES("POP3-HANDLER-UIDLIST 1 99999999999999999999999\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=1 []" },
	{ "two spaces before the next UID", BYTES("POP3-HANDLER-UIDLIST 1  10\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "space after the next UID", BYTES("POP3-HANDLER-UIDLIST 1 10 \n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "header ending in CRLF", BYTES("POP3-HANDLER-UIDLIST 1 10\r\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=1 []" },
	{ "NUL in the header", BYTES("POP3-HANDLER-UIDLIST 1 10\0\n"), END_GOOD, BYTES(""), "CORRUPT next=1 []" },

	/* entries: numbers */
	{ "UID not decimal", BYTES(HEADER10 ENTRY_A "2x 1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID a word", BYTES(HEADER10 ENTRY_A "x 1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID signed +", BYTES(HEADER10 ENTRY_A "+2 1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID signed -", BYTES(HEADER10 ENTRY_A "-2 1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID overflowing 64 bits", BYTES(HEADER10 ENTRY_A "18446744073709551616 1 1 0 c\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "UID at the UID limit (and above next): it raises nothing", BYTES(HEADER10 ENTRY_A "9223372036854775807 1 1 0 c\n"),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID just under the UID limit in a damaged list raises nothing",
	  BYTES(HEADER10 ENTRY_A "9223372036854775806 1 1 0 c\n"), END_SUM_WRONG, BYTES(""), "CORRUPT next=10 []" },
	{ "exact size not decimal", BYTES(HEADER10 ENTRY_A "2 1x 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "exact size signed -", BYTES(HEADER10 ENTRY_A "2 -1 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "exact size signed +", BYTES(HEADER10 ENTRY_A "2 +1 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "exact size overflowing 64 bits", BYTES(HEADER10 ENTRY_A "2 18446744073709551616 1 0 c\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "stored size not decimal", BYTES(HEADER10 ENTRY_A "2 1 1x 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "stored size signed -", BYTES(HEADER10 ENTRY_A "2 1 -1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "stored size overflowing 64 bits", BYTES(HEADER10 ENTRY_A "2 1 18446744073709551616 0 c\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "retrieved not decimal", BYTES(HEADER10 ENTRY_A "2 1 1 x c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "retrieved signed -", BYTES(HEADER10 ENTRY_A "2 1 1 -1 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "retrieved above INT64_MAX", BYTES(HEADER10 ENTRY_A "2 1 1 9223372036854775808 c\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "an empty field", BYTES(HEADER10 ENTRY_A "2  1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "a leading space", BYTES(HEADER10 ENTRY_A " 2 1 1 0 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "a tab between fields", BYTES(HEADER10 ENTRY_A "2\t1 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "a field missing", BYTES(HEADER10 ENTRY_A "2 1 1 c\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "an empty line", BYTES(HEADER10 ENTRY_A "\n" ENTRY_B), END_GOOD, BYTES(""), "CORRUPT next=10 []" },

	/* entries: UIDs */
	{ "UIDs equal", BYTES(HEADER10 "3 1 1 0 a\n3 1 1 0 b\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UIDs decreasing", BYTES(HEADER10 "3 1 1 0 a\n2 1 1 0 b\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "UID equal to the header's next", BYTES(HEADER10 ENTRY_A "10 1 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=11 []" },
	{ "UID above the header's next", BYTES(HEADER10 ENTRY_A "12 1 1 0 c\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=13 []" },
	{ "UID above the header's next, after a bad line", BYTES(HEADER10 ENTRY_A "bad line\n12 1 1 0 c\n"),
	  END_GOOD, BYTES(""), "CORRUPT next=13 []" },

	/* entries: base names */
	{ "duplicate base names", BYTES(HEADER10 "1 1 1 0 a\n2 1 1 0 a\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name missing", BYTES(HEADER10 ENTRY_A "2 1 1 0 \n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "base name and its space missing", BYTES(HEADER10 ENTRY_A "2 1 1 0\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name with '/'", BYTES(HEADER10 ENTRY_A "2 1 1 0 c/d\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name '..' with '/'", BYTES(HEADER10 ENTRY_A "2 1 1 0 ../x\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "file name with flags (base name before ':')", BYTES(HEADER10 ENTRY_A "2 1 1 0 c:2,S\n"), END_GOOD,
	  BYTES(""), "OK next=10 [1 100 98 0 a][2 1 1 0 c:2,S]" },
	{ "file name with an empty base name", BYTES(HEADER10 ENTRY_A "2 1 1 0 :2,S\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "two file names with one base name", BYTES(HEADER10 "1 1 1 0 c:2,\n2 1 1 0 c:2,S\n"), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header with stamps", BYTES(HEADER2 ENTRY_A), END_GOOD, BYTES(""),
	  "OK next=10 new=1,2,3,4 cur=18446744073709551615,6,1700000000,999999999 [1 100 98 0 a]" },
	{ "version 2 header without stamps", BYTES("POP3-HANDLER-UIDLIST 2 10 0 0 0 0 0 0 0 0\n" ENTRY_A), END_GOOD,
	  BYTES(""), "OK next=10 [1 100 98 0 a]" },
	{ "version 2 header, a stamp short", BYTES("POP3-HANDLER-UIDLIST 2 10 1 2 3 4 5 6 7\n" ENTRY_A), END_GOOD,
	  BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header, a number more", BYTES("POP3-HANDLER-UIDLIST 2 10 1 2 3 4 5 6 7 8 9\n" ENTRY_A),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header, trailing space", BYTES("POP3-HANDLER-UIDLIST 2 10 1 2 3 4 5 6 7 8 \n" ENTRY_A),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header, two spaces", BYTES("POP3-HANDLER-UIDLIST 2 10 1 2 3 4  5 6 7 8\n" ENTRY_A),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header, a stamp too large", BYTES("POP3-HANDLER-UIDLIST 2 10 1 2 3 4 5 6 7 18446744073709551616\n"
	  ENTRY_A), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 2 header without them", BYTES("POP3-HANDLER-UIDLIST 2 10\n" ENTRY_A), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "version 3 header with a version 2 entry", BYTES("POP3-HANDLER-UIDLIST 3 10 1 2 3 4 5 6 7 8\n" ENTRY_A),
	  END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 3: no UIDL, and a UIDL taken over", BYTES(HEADER3 "1 100 98 0 - a\n2 1 1 0 =000000016b10542c c:2,S\n"),
	  END_GOOD, BYTES(""), "OK next=10 [1 100 98 0 a][2 1 1 0 uidl=000000016b10542c c:2,S]" },
	{ "version 3: a UIDL of 70 octets", BYTES(HEADER3 "1 1 1 0 =" U70 " a\n"), END_GOOD, BYTES(""),
	  "OK next=10 [1 1 1 0 uidl=" U70 " a]" },
	{ "version 3: a UIDL of 71 octets", BYTES(HEADER3 "1 1 1 0 =" U70 "x a\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "version 3: an empty UIDL", BYTES(HEADER3 "1 1 1 0 = a\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 3: a UIDL with DEL", BYTES(HEADER3 "1 1 1 0 =x\x7f a\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "version 3: a UIDL without '='", BYTES(HEADER3 "1 1 1 0 x a\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 3: '-' with more", BYTES(HEADER3 "1 1 1 0 -x a\n"), END_GOOD, BYTES(""), "CORRUPT next=10 []" },
	{ "version 3: the UIDL field missing", BYTES(HEADER3 "1 1 1 0 -\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "version 3: a name that starts with '='", BYTES(HEADER3 "1 1 1 0 - =a\n"), END_GOOD, BYTES(""),
	  "OK next=10 [1 1 1 0 =a]" },
	{ "version 4 header", BYTES("POP3-HANDLER-UIDLIST 4 10 0 0 0 0 0 0 0 0\n1 1 1 0 - a\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name with a space (the last field may hold them)", BYTES(HEADER10 ENTRY_A "2 1 1 0 c d\n"),
	  END_GOOD, BYTES(""), "OK next=10 [1 100 98 0 a][2 1 1 0 c d]" },
	{ "base name with a trailing space", BYTES(HEADER10 ENTRY_A "2 1 1 0 c \n"), END_GOOD, BYTES(""),
	  "OK next=10 [1 100 98 0 a][2 1 1 0 c ]" },
	{ "base name with a tab", BYTES(HEADER10 ENTRY_A "2 1 1 0 c\td\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name with a control octet", BYTES(HEADER10 ENTRY_A "2 1 1 0 c\x01\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name with DEL", BYTES(HEADER10 ENTRY_A "2 1 1 0 c\x7f\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "base name with NUL", BYTES(HEADER10 ENTRY_A "2 1 1 0 c\0d\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "entry ending in CRLF", BYTES(HEADER10 ENTRY_A "2 1 1 0 c\r\n"), END_GOOD, BYTES(""),
	  "CORRUPT next=10 []" },

	/* the END line and what follows it */
	{ "missing END", BYTES(HEADER10 ENTRY_A ENTRY_B), END_NONE, BYTES(""), "CORRUPT next=10 []" },
	{ "count one too high", BYTES(HEADER10 ENTRY_A ENTRY_B), END_COUNT_MORE, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "count one too low", BYTES(HEADER10 ENTRY_A ENTRY_B), END_COUNT_LESS, BYTES(""), "CORRUPT next=10 []" },
	{ "count 1 on an empty list", BYTES(HEADER10), END_COUNT_MORE, BYTES(""), "CORRUPT next=10 []" },
	{ "wrong checksum", BYTES(HEADER10 ENTRY_A ENTRY_B), END_SUM_WRONG, BYTES(""), "CORRUPT next=10 []" },
	{ "wrong checksum on an empty list", BYTES(HEADER10), END_SUM_WRONG, BYTES(""), "CORRUPT next=10 []" },
	{ "checksum in upper case", BYTES(HEADER10 ENTRY_A ENTRY_B), END_SUM_UPPER, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "checksum of 15 digits", BYTES(HEADER10 ENTRY_A ENTRY_B), END_SUM_15, BYTES(""), "CORRUPT next=10 []" },
	{ "checksum of 17 digits", BYTES(HEADER10 ENTRY_A ENTRY_B), END_SUM_17, BYTES(""), "CORRUPT next=10 []" },
	{ "checksum not covering the header", BYTES(HEADER10 ENTRY_A ENTRY_B), END_SUM_NO_HEADER, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "last line (END) without LF", BYTES(HEADER10 ENTRY_A ENTRY_B), END_NO_LF, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "END line ending in CRLF", BYTES(HEADER10 ENTRY_A ENTRY_B), END_CRLF, BYTES(""), "CORRUPT next=10 []" },
	{ "END line with a trailing space", BYTES(HEADER10 ENTRY_A ENTRY_B), END_TRAILING_SPACE, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "END line with two spaces", BYTES(HEADER10 ENTRY_A ENTRY_B), END_TWO_SPACES, BYTES(""),
	  "CORRUPT next=10 []" },
	{ "END in lower case", BYTES(HEADER10 ENTRY_A ENTRY_B), END_LOWER_CASE, BYTES(""), "CORRUPT next=10 []" },
	{ "a LF after END", BYTES(HEADER10 ENTRY_A ENTRY_B), END_GOOD, BYTES("\n"), "CORRUPT next=10 []" },
	{ "an octet after END", BYTES(HEADER10 ENTRY_A ENTRY_B), END_GOOD, BYTES("x"), "CORRUPT next=10 []" },
	{ "a NUL after END", BYTES(HEADER10 ENTRY_A ENTRY_B), END_GOOD, BYTES("\0"), "CORRUPT next=10 []" },
	{ "an entry after END", BYTES(HEADER10 ENTRY_A ENTRY_B), END_GOOD, BYTES("5 1 1 0 c\n"),
	  "CORRUPT next=10 []" },
	{ "a second END", BYTES(HEADER10), END_GOOD, BYTES("END 0 0000000000000000\n"), "CORRUPT next=10 []" },
};

/* Builds the text of a row: its body, then its END line, then what follows. */
static void build_case_text(const struct parse_case *c, struct unit_buf *text)
{
	size_t count = count_entries(c->body, c->body_len);
	uint64_t sum;
	char hex[32];

	unit_buf_clear(text);
	unit_buf_add(text, c->body, c->body_len);
	sum = checksum(text->data, text->len);
	snprintf(hex, sizeof hex, "%016" PRIx64, sum);
	switch (c->end) {
	case END_GOOD:
		add_end_line(text, count);
		break;
	case END_NONE:
		break;
	case END_COUNT_MORE:
		unit_buf_addf(text, "END %zu %s\n", count + 1, hex);
		break;
	case END_COUNT_LESS:
		unit_buf_addf(text, "END %zu %s\n", count - 1, hex);
		break;
	case END_SUM_WRONG:
		hex[15] = hex[15] == '0' ? '1' : '0';
		unit_buf_addf(text, "END %zu %s\n", count, hex);
		break;
	case END_SUM_UPPER:
		/* A checksum without a letter cannot be told from its upper case. */
		if (strpbrk(hex, "abcdef") == NULL)
			hex[0] = hex[0] == '0' ? '1' : '0';
		unit_buf_addf(text, "END %zu %016" PRIX64 "\n", count, sum);
		break;
	case END_SUM_15:
		unit_buf_addf(text, "END %zu %s\n", count, hex + 1);
		break;
	case END_SUM_17:
		unit_buf_addf(text, "END %zu 0%s\n", count, hex);
		break;
	case END_SUM_NO_HEADER: {
		const char *lf = memchr(c->body, '\n', c->body_len);
		size_t skip = lf ? (size_t)(lf - c->body) + 1 : 0;

		unit_buf_addf(text, "END %zu %016" PRIx64 "\n", count, checksum(c->body + skip, c->body_len - skip));
		break;
	}
	case END_NO_LF:
		unit_buf_addf(text, "END %zu %s", count, hex);
		break;
	case END_CRLF:
		unit_buf_addf(text, "END %zu %s\r\n", count, hex);
		break;
	case END_TRAILING_SPACE:
		unit_buf_addf(text, "END %zu %s \n", count, hex);
		break;
	case END_TWO_SPACES:
		unit_buf_addf(text, "END  %zu %s\n", count, hex);
		break;
	case END_LOWER_CASE:
		unit_buf_addf(text, "end %zu %s\n", count, hex);
		break;
	}
	unit_buf_add(text, c->after, c->after_len);
}

static void test_parse_table(void)
{
	struct unit_buf text = { 0 }, got = { 0 };

	for (size_t i = 0; i < sizeof parse_cases / sizeof *parse_cases; i++) {
		const struct parse_case *c = &parse_cases[i];

		build_case_text(c, &text);
		parse_and_render(text.data, text.len, &got);
		if (!unit_expect_str(got.data, c->expected, "uidlist_parse: %s", c->what))
			unit_show("input", text.data, text.len, 0);
	}
	unit_buf_free(&text);
	unit_buf_free(&got);
}

/* ---- uidlist_parse: generated rows ---- */

/* Base names of 255 octets are the longest a file system gives; 256 is corrupt. */
static void test_parse_name_length(void)
{
	struct unit_buf text = { 0 }, got = { 0 }, expected = { 0 };
	char name[300];

	for (size_t len = 254; len <= 257; len++) {
		memset(name, 'n', len);
		name[len] = '\0';
		unit_buf_clear(&text);
		unit_buf_addf(&text, HEADER10 "1 2 3 4 %s\n", name);
		add_end_line(&text, 1);
		parse_and_render(text.data, text.len, &got);
		unit_buf_clear(&expected);
		if (len <= 255)
			unit_buf_addf(&expected, "OK next=10 [1 2 3 4 %s]", name);
		else
			unit_buf_adds(&expected, "CORRUPT next=10 []");
		unit_expect_str(got.data, expected.data, "uidlist_parse: base name of %zu octets", len);
	}
	unit_buf_free(&text);
	unit_buf_free(&got);
	unit_buf_free(&expected);
}

/* The next UID a corrupt header fragment leaves: the number its last field
 * holds so far, or 1 (the rule: above every number the text may name). */
static uint64_t header_prefix_next(const char *text, size_t len)
{
	const char *last = memrchr(text, ' ', len);
	uint64_t n = 0;

	for (const char *p = last ? last + 1 : text + len; last && p < text + len; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	return n > 1 ? n : 1;
}

/* A truncated file: every proper prefix of a valid list is corrupt; its
 * next UID is the header's once the header line is whole, else what the
 * header fragment names. */
static void test_parse_prefixes(void)
{
	static const char body[] = "POP3-HANDLER-UIDLIST 1 1700000000000100\n"
				   "1700000000000001 120 118 0 1700000000.1.host,S=118\n"
				   "1700000000000002 7 7 1700000050 b\n"
				   "1700000000000042 1 1 0 c\n";
	const size_t header_len = strlen("POP3-HANDLER-UIDLIST 1 1700000000000100\n");
	struct unit_buf text = { 0 }, got = { 0 };
	size_t bad_prefixes = 0;

	unit_buf_adds(&text, body);
	add_end_line(&text, 3);
	for (size_t len = 0; len <= text.len; len++) {
		char fragment[64];
		const char *expected = len == text.len ? "OK next=1700000000000100 "
							 "[1700000000000001 120 118 0 1700000000.1.host,S=118]"
							 "[1700000000000002 7 7 1700000050 b]"
							 "[1700000000000042 1 1 0 c]"
				       : len >= header_len ? "CORRUPT next=1700000000000100 []"
							   : fragment;

		snprintf(fragment, sizeof fragment, "CORRUPT next=%" PRIu64 " []", header_prefix_next(text.data, len));

		parse_and_render(text.data, len, &got);
		/* One result per prefix would bury the table: only failures
		 * get their own line, then one line sums them up. */
		if (strcmp(got.data, expected) != 0) {
			bad_prefixes++;
			unit_expect_str(got.data, expected, "uidlist_parse: prefix of %zu of %zu octets", len,
					text.len);
		}
	}
	unit_ok(bad_prefixes == 0, "uidlist_parse: each of the %zu proper prefixes is corrupt, the whole file OK",
		text.len);
	unit_buf_free(&text);
	unit_buf_free(&got);
}

/* Flipping any one bit of a valid list, wherever it falls (a digit that
 * stays a digit, a name octet that stays valid), never parses OK: the
 * checksum or the END line catches it. */
static void test_parse_bit_flips(void)
{
	struct unit_buf text = { 0 };
	size_t accepted = 0, first_bad = SIZE_MAX;

	unit_buf_adds(&text, HEADER10 ENTRY_A ENTRY_B "5 1 1 0 1700000000.M1.host,S=1\n");
	add_end_line(&text, 3);
	for (size_t i = 0; i < text.len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			char *copy = malloc(text.len);
			struct uidlist l;

			if (copy == NULL)
				unit_bail("out of memory");
			memcpy(copy, text.data, text.len);
			copy[i] ^= (char)(1u << bit);
			if (uidlist_parse(copy, text.len, &l) == UIDLIST_OK) {
				accepted++;
				if (first_bad == SIZE_MAX)
					first_bad = i;
			}
			uidlist_free(&l);
			free(copy);
		}
	}
	if (!unit_ok(accepted == 0, "uidlist_parse: no single-bit change of a %zu-octet list parses OK", text.len))
		unit_diag("%zu changes accepted, the first at offset %zu", accepted, first_bad);
	unit_buf_free(&text);
}

/* ---- index, add, drop (in memory) ---- */

static void test_add_names(void)
{
	static const struct {
		const char *name;
		size_t len;
		bool accepted;
	} rows[] = {
		{ BYTES("1700000000.M1P2.host,S=12,W=13"), true },
		{ BYTES("caf\xc3\xa9"), true },
		{ BYTES("~!@#$%^&*()_+={}[]|\\\"';<>?,."), true },
		{ BYTES(""), false },
		{ BYTES("a/b"), false },
		{ BYTES("/"), false },
		{ BYTES("b:2,S"), true },
		{ BYTES("b:2,"), false },	/* the base name is there already */
		{ BYTES(":"), false },
		{ BYTES(":2,S"), false },
		{ BYTES("a b"), true },
		{ BYTES(" a"), true },
		{ BYTES("a\tb"), false },
		{ BYTES("a\nb"), false },
		{ BYTES("a\r"), false },
		{ BYTES("a\x01"), false },
		{ BYTES("a\x1f"), false },
		{ BYTES("a\x7f"), false },
		{ BYTES("a\0b"), false },
	};
	struct uidlist l;
	char shown[128];

	empty_list(&l, 500);
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		uint64_t before = l.next_uid;
		size_t count = l.count;
		struct uid_entry *e = uidlist_add(&l, rows[i].name, rows[i].len);

		unit_escape(shown, sizeof shown, rows[i].name, rows[i].len);
		if (rows[i].accepted)
			unit_ok(e != NULL && e->uid == before && l.next_uid == before + 1 && l.count == count + 1 &&
					uidlist_find(&l, rows[i].name, base_of(rows[i].name, rows[i].len)) == e,
				"uidlist_add \"%s\": added with UID %" PRIu64 ", next UID %" PRIu64, shown, before,
				before + 1);
		else
			unit_ok(e == NULL && l.next_uid == before && l.count == count &&
					uidlist_find(&l, rows[i].name, rows[i].len) == NULL,
				"uidlist_add \"%s\": refused, no UID used", shown);
	}
	uidlist_free(&l);
}

/* An entry takes its message's new file name when only the flags changed. */
static void test_rename(void)
{
	static const struct {
		const char *name;
		bool accepted;
		const char *after;	/* the list rendered after the attempt */
	} rows[] = {
		{ "m1:2,S", true, "OK next=12 [10 0 0 0 m1:2,S][11 0 0 0 m2:2,]" },
		{ "m1:2,RS", true, "OK next=12 [10 0 0 0 m1:2,RS][11 0 0 0 m2:2,]" },
		{ "m1", true, "OK next=12 [10 0 0 0 m1][11 0 0 0 m2:2,]" },
		{ "m2:2,S", false, "OK next=12 [10 0 0 0 m1][11 0 0 0 m2:2,]" },	/* another base name */
		{ "m1x", false, "OK next=12 [10 0 0 0 m1][11 0 0 0 m2:2,]" },
		{ "m1:2,\n", false, "OK next=12 [10 0 0 0 m1][11 0 0 0 m2:2,]" },
		{ "m1:a/b", false, "OK next=12 [10 0 0 0 m1][11 0 0 0 m2:2,]" },
	};
	struct uidlist l;
	struct unit_buf got = { 0 };
	struct uid_entry *e;

	empty_list(&l, 10);
	if (uidlist_add(&l, "m1:2,", 5) == NULL || uidlist_add(&l, "m2:2,", 5) == NULL)
		unit_bail("uidlist_add failed");
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		bool done;

		e = uidlist_find(&l, "m1", 2);
		done = e != NULL && uidlist_rename(&l, e, rows[i].name, strlen(rows[i].name));
		render_list(&got, "OK", &l);
		unit_ok(done == rows[i].accepted && strcmp(got.data, rows[i].after) == 0,
			"uidlist_rename m1 -> %s: %s, list %s", rows[i].name, rows[i].accepted ? "renamed" : "refused",
			got.data);
	}
	unit_buf_free(&got);
	uidlist_free(&l);
}

/* A sink collecting what uidlist_parse_entries gives it. */
struct collected {
	struct unit_buf text;
	size_t calls, refuse_at;	/* refuse_at: the call that fails (0: none) */
};

static bool collect(void *ctx, const struct uid_entry *e, char *pool)
{
	struct collected *c = ctx;

	if (++c->calls == c->refuse_at)
		return false;
	unit_buf_addf(&c->text, "[%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " ", e->uid, e->exact_size,
		      e->stored_size, e->retrieved);
	unit_buf_add(&c->text, pool + e->name, e->name_len);
	unit_buf_addf(&c->text, " base=%u]", (unsigned)e->base_len);
	/* The sink may end the name in place; the parse must not mind. */
	pool[e->name + e->name_len] = '\0';
	return true;
}

static void test_add_name_length(void)
{
	struct uidlist l;
	char name[300];

	empty_list(&l, 1);
	memset(name, 'x', sizeof name);
	unit_ok(uidlist_add(&l, name, 255) != NULL, "uidlist_add: base name of 255 octets accepted");
	unit_ok(uidlist_add(&l, name, 256) == NULL && l.count == 1 && l.next_uid == 2,
		"uidlist_add: base name of 256 octets refused");
	uidlist_free(&l);
}

/* UIDs run out at the UID limit (UINT64_MAX / 2): the last one is issued,
 * then adds are refused without wrapping. */
static void test_add_uid_limit(void)
{
	struct uidlist l;
	struct uid_entry *e;

	/* Made in memory: no list file may lead this far (test_parse_rows). */
	uidlist_init(&l);
	l.next_uid = UINT64_MAX / 2 - 1;
	e = uidlist_add(&l, "last", 4);
	unit_ok(e != NULL && e->uid == UINT64_MAX / 2 - 1, "uidlist_add: the UID below the limit is issued");
	unit_ok(uidlist_add(&l, "over", 4) == NULL && l.next_uid == UINT64_MAX / 2 && l.count == 1,
		"uidlist_add: no UID at the limit; next UID unchanged");
	uidlist_free(&l);
}

/* find on an empty list (never indexed) and on a freed one. */
static void test_find_empty(void)
{
	struct uidlist l;

	empty_list(&l, 1);
	unit_ok(l.count == 0 && uidlist_find(&l, "a", 1) == NULL, "uidlist_find on an empty list: NULL");
	uidlist_free(&l);
	unit_ok(uidlist_find(&l, "a", 1) == NULL && l.count == 0, "uidlist_find on a freed list: NULL");
}

/* Many entries: each one found by name with its own UID; prefixes, longer
 * names and names never added are not found. */
static void test_index_many(void)
{
	enum { MANY = 100000 };
	struct uidlist l;
	size_t missing = 0, wrong = 0, phantom = 0;
	char name[64];
	uint64_t first = 1700000000000000;

	empty_list(&l, first);
	for (size_t i = 0; i < MANY; i++) {
		int n = snprintf(name, sizeof name, "%zu.M%zuP1.host", 1700000000 + i / 7, i);

		if (uidlist_add(&l, name, (size_t)n) == NULL)
			unit_bail("uidlist_add failed at %zu", i);
	}
	for (size_t i = 0; i < MANY; i++) {
		int n = snprintf(name, sizeof name, "%zu.M%zuP1.host", 1700000000 + i / 7, i);
		const struct uid_entry *e = uidlist_find(&l, name, (size_t)n);

		if (e == NULL)
			missing++;
		else if (e->uid != first + i || e->name_len != (unsigned)n)
			wrong++;
		if (uidlist_find(&l, name, (size_t)n - 1) != NULL)
			phantom++;
		n = snprintf(name, sizeof name, "%zu.M%zuP2.host", 1700000000 + i / 7, i);
		if (uidlist_find(&l, name, (size_t)n) != NULL)
			phantom++;
	}
	unit_ok(l.count == MANY && l.next_uid == first + MANY, "index: %d adds, UIDs %" PRIu64 " up", MANY, first);
	if (!unit_ok(missing == 0 && wrong == 0, "index: all %d entries found with their UIDs", MANY))
		unit_diag("%zu not found, %zu with a wrong UID", missing, wrong);
	unit_expect_uint(phantom, 0, "index: names never added are not found");
	unit_ok(l.slot_count >= 2 * l.count && (l.slot_count & (l.slot_count - 1)) == 0,
		"index: %zu slots, a power of two at least twice the count", l.slot_count);
	uidlist_free(&l);
}

/* Dropping keeps the entries not flagged (in order, with their UIDs) and
 * the next UID; find works for them and not for the dropped ones; later
 * adds get new UIDs. */
static void test_drop(void)
{
	enum { ENTRIES = 20 };
	struct uidlist l;
	struct unit_buf got = { 0 }, before = { 0 };
	bool drop[ENTRIES], *flags;
	char name[32];
	size_t wrong = 0, set = 0;

	empty_list(&l, 100);
	for (int i = 0; i < ENTRIES; i++) {
		int n = snprintf(name, sizeof name, "m%02d", i);
		struct uid_entry *e = uidlist_add(&l, name, (size_t)n);

		if (e == NULL)
			unit_bail("uidlist_add failed");
		e->exact_size = (uint64_t)i * 10;
		drop[i] = i % 3 != 0;
	}

	flags = uidlist_flags(&l);
	for (size_t i = 0; flags != NULL && i < l.count; i++)
		set += flags[i];
	unit_ok(flags != NULL && set == 0, "uidlist_flags: one flag per entry, none set");
	render_list(&before, "kept", &l);
	uidlist_drop(&l, flags);
	render_list(&got, "kept", &l);
	unit_expect_str(got.data, before.data, "uidlist_drop with no flag set: every entry kept, in order");
	free(flags);

	uidlist_drop(&l, drop);
	render_list(&got, "dropped", &l);
	unit_expect_str(got.data,
			"dropped next=120 [100 0 0 0 m00][103 30 0 0 m03][106 60 0 0 m06][109 90 0 0 m09]"
			"[112 120 0 0 m12][115 150 0 0 m15][118 180 0 0 m18]",
			"uidlist_drop: the entries not flagged remain, next UID kept");
	for (int i = 0; i < ENTRIES; i++) {
		int n = snprintf(name, sizeof name, "m%02d", i);
		const struct uid_entry *e = uidlist_find(&l, name, (size_t)n);

		if (i % 3 == 0 ? e == NULL || e->uid != 100 + (uint64_t)i : e != NULL)
			wrong++;
	}
	unit_expect_uint(wrong, 0, "uidlist_drop: find gives the kept entries, not the dropped ones");
	{
		struct uid_entry *e = uidlist_add(&l, "m01", 3);

		unit_ok(e != NULL && e->uid == 120 && uidlist_find(&l, "m01", 3) == e &&
				uidlist_find(&l, "m03", 3) != NULL && uidlist_find(&l, "m03", 3)->uid == 103,
			"uidlist_add after a drop: a dropped name comes back with a new UID (120)");
	}
	flags = uidlist_flags(&l);
	if (flags == NULL)
		unit_bail("uidlist_flags failed");
	for (size_t i = 0; i < l.count; i++)
		flags[i] = true;
	uidlist_drop(&l, flags);
	free(flags);
	unit_ok(l.count == 0 && l.next_uid == 121 && uidlist_find(&l, "m00", 3) == NULL,
		"uidlist_drop with every entry flagged: empty, next UID kept");
	unit_ok(uidlist_add(&l, "m00", 3) != NULL && uidlist_find(&l, "m00", 3) != NULL &&
			uidlist_find(&l, "m00", 3)->uid == 121,
		"uidlist_add into a list dropped empty");
	uidlist_free(&l);
	unit_buf_free(&got);
	unit_buf_free(&before);
}

/* ---- files: write, read, the mark, the lock ---- */

static char tmp_dir[64];

static int make_tmp_dir(void)
{
	int fd;

	snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test-uidlist.XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	fd = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		unit_bail("open %s: %s", tmp_dir, strerror(errno));
	return fd;
}

static void remove_tmp_dir(int dirfd)
{
	static const char *const names[] = { UIDLIST_FILE, UIDLIST_TEMP, UIDLIST_LOCK };

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		unlinkat(dirfd, names[i], 0);
	unlinkat(dirfd, UIDLIST_FILE, AT_REMOVEDIR);
	close(dirfd);
	if (rmdir(tmp_dir) != 0)
		unit_diag("cannot remove %s: %s", tmp_dir, strerror(errno));
}

/* Reads a whole small file below dirfd into b; false when it cannot. */
static bool slurp(int dirfd, const char *name, struct unit_buf *b)
{
	char block[4096];
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	unit_buf_clear(b);
	if (fd < 0)
		return false;
	while ((n = read(fd, block, sizeof block)) > 0)
		unit_buf_add(b, block, (size_t)n);
	close(fd);
	return n == 0;
}

static bool spit(int dirfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write_all(fd, data, len);

	if (fd >= 0 && close(fd) != 0)
		ok = false;
	return ok;
}

static bool write_locked(int dirfd, const struct uidlist *l)
{
	int lock = uidlist_lock(dirfd, UIDLIST_LOCK_WAIT_MS);
	bool ok;

	if (lock < 0)
		return false;
	ok = uidlist_write(dirfd, lock, l);
	uidlist_unlock(lock);
	return ok;
}

/* The file a list must be written as, rendered here from the format. */
static void expected_file(const struct uidlist *l, struct unit_buf *b)
{
	unit_buf_clear(b);
	unit_buf_addf(b, "POP3-HANDLER-UIDLIST 3 %" PRIu64, l->next_uid);
	for (size_t k = 0; k < STAMPS; k++)
		unit_buf_addf(b, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, l->stamps[k].ino, l->stamps[k].size,
			      l->stamps[k].sec, l->stamps[k].nsec);
	unit_buf_adds(b, "\n");
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *e = &l->entries[i];

		unit_buf_addf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " ", e->uid, e->exact_size,
			      e->stored_size, e->retrieved);
		if (e->uidl_len > 0) {
			unit_buf_adds(b, "=");
			unit_buf_add(b, uidlist_uidl(l, e), e->uidl_len);
			unit_buf_adds(b, " ");
		} else {
			unit_buf_adds(b, "- ");
		}
		unit_buf_add(b, uidlist_name(l, e), e->name_len);
		unit_buf_adds(b, "\n");
	}
	add_end_line(b, l->count);
}

/* The number in the lock file (the high-water mark), or 0. */
/* The high-water mark of the lock file's record ("<20 digits> <16 hex digits>\n"), or 0 when the
 * record is not in that form. */
static uint64_t lock_file_mark(int dirfd)
{
	struct unit_buf b = { 0 };
	uint64_t mark = 0;

	if (slurp(dirfd, UIDLIST_LOCK, &b) && b.len == 38 && b.data[20] == ' ' && b.data[37] == '\n' &&
	    strspn(b.data + 21, "0123456789abcdef") == 16) {
		for (size_t i = 0; i < 20; i++) {
			if (b.data[i] < '0' || b.data[i] > '9' || mark > (UINT64_MAX - 9) / 10) {
				mark = 0;
				break;
			}
			mark = mark * 10 + (uint64_t)(b.data[i] - '0');
		}
	}
	unit_buf_free(&b);
	return mark;
}

/* Tells whether the checksum in the lock file's record is the one the list file's END line
 * carries: the record names the list last written. */
static bool lock_file_names_list(int dirfd)
{
	struct unit_buf lock = { 0 }, list = { 0 };
	bool same = slurp(dirfd, UIDLIST_LOCK, &lock) && slurp(dirfd, UIDLIST_FILE, &list) && lock.len == 38 &&
		    list.len > 17 && memcmp(lock.data + 21, list.data + list.len - 17, 16) == 0;

	unit_buf_free(&lock);
	unit_buf_free(&list);
	return same;
}

static void test_round_trip(void)
{
	static const struct {
		const char *name;
		uint64_t exact, stored;
		int64_t retrieved;
	} rows[] = {
		{ "1700000000.M1P2.host,S=1234,W=1260", 1260, 1234, 0 },
		{ "1700000001.M2P2.host", 0, 0, 1700000500 },
		{ "caf\xc3\xa9", 18446744073709551615ULL, 18446744073709551615ULL, INT64_MAX },
		{ "1700000002.x", 7, 5, 1 },
		{ "gap-before-me", 1, 1, 0 },
	};
	int dirfd = make_tmp_dir();
	struct uidlist l, back;
	struct unit_buf want = { 0 }, got = { 0 }, file = { 0 };
	bool dropped[sizeof rows / sizeof *rows];
	enum uidlist_status st;
	uint64_t floor, high, next;

	floor = uidlist_clock_floor();
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_MISSING && back.count == 0 && back.next_uid >= floor,
		"uidlist_read of a new Maildir: MISSING, next UID %" PRIu64 " from the clock floor %" PRIu64,
		back.next_uid, floor);
	uidlist_free(&back);

	/* Far above the clock floor: only the lock file's mark can bring a
	 * later list up to it. */
	high = uidlist_clock_floor() + 1000000000000ULL;
	empty_list(&l, high);
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		struct uid_entry *e = uidlist_add(&l, rows[i].name, strlen(rows[i].name));

		if (e == NULL)
			unit_bail("uidlist_add %s failed", rows[i].name);
		e->exact_size = rows[i].exact;
		e->stored_size = rows[i].stored;
		e->retrieved = rows[i].retrieved;
		if (i == 3)
			l.next_uid += 5;	/* UIDs need not be contiguous */
	}
	next = l.next_uid;
	unit_ok(l.entries[0].uid == high && l.entries[3].uid == high + 3 && l.entries[4].uid == high + 9 &&
			next == high + 10,
		"uidlist_add: UIDs increase by one from next_uid");
	/* Two messages keep the UIDLs a previous server showed. */
	unit_ok(uidlist_set_uidl(&l, &l.entries[1], BYTES("000000026b10542c")) &&
			uidlist_set_uidl(&l, &l.entries[3], BYTES("UID7-1796232500")),
		"uidlist_set_uidl: two entries get UIDLs taken over");
	unit_ok(!uidlist_set_uidl(&l, &l.entries[0], "", 0), "uidlist_set_uidl: an empty UIDL is refused");
	unit_ok(write_locked(dirfd, &l), "uidlist_write under uidlist_lock");

	expected_file(&l, &want);
	unit_ok(slurp(dirfd, UIDLIST_FILE, &file), "the list file is there");
	unit_expect_bytes(file.data, file.len, want.data, want.len, "the list file is in the documented format");
	unit_ok(faccessat(dirfd, UIDLIST_TEMP, F_OK, 0) != 0 && errno == ENOENT, "no temporary file is left");
	unit_expect_uint(lock_file_mark(dirfd), next, "the lock file holds the next UID (high-water mark)");
	unit_ok(lock_file_names_list(dirfd), "the lock file's record holds the checksum of the list written");

	st = uidlist_read(dirfd, &back);
	render_list(&want, "OK", &l);
	render_list(&got, status_name(st), &back);
	unit_expect_str(got.data, want.data, "uidlist_read gives back what was written");
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct uid_entry *e = uidlist_find(&back, rows[i].name, strlen(rows[i].name));

		unit_ok(e != NULL && e->uid == l.entries[i].uid && e->exact_size == rows[i].exact &&
				e->stored_size == rows[i].stored && e->retrieved == rows[i].retrieved,
			"read back: %s found with its UID and sizes", rows[i].name);
	}

	/* A list restored from a backup (an older next UID) is raised to the mark. */
	{
		struct unit_buf old = { 0 };
		struct uid_entry *e;

		slurp(dirfd, UIDLIST_FILE, &old);
		e = uidlist_add(&back, "later", 5);
		unit_ok(e != NULL && e->uid == next && write_locked(dirfd, &back), "a later list adds UID %" PRIu64,
			next);
		uidlist_free(&back);
		spit(dirfd, UIDLIST_FILE, old.data, old.len);
		st = uidlist_read(dirfd, &back);
		unit_ok(st == UIDLIST_OK && back.count == sizeof rows / sizeof *rows && back.next_uid >= next + 1,
			"an older list put back: OK, its entries, next UID %" PRIu64 " raised to the mark %" PRIu64,
			back.next_uid, next + 1);
		uidlist_free(&back);
		unit_buf_free(&old);
		next++;
	}

	/* A corrupt list: no entries, next UID at least the mark. */
	spit(dirfd, UIDLIST_FILE, file.data, file.len / 2);
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_CORRUPT && back.count == 0 && back.next_uid >= next,
		"a truncated list file: CORRUPT, empty, next UID %" PRIu64 " >= %" PRIu64, back.next_uid, next);
	uidlist_free(&back);

	/* The list is lost: the lock file's mark keeps every issued UID out. */
	unlinkat(dirfd, UIDLIST_FILE, 0);
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_MISSING && back.count == 0 && back.next_uid >= next,
		"list file deleted: MISSING, next UID %" PRIu64 " >= the old next UID %" PRIu64, back.next_uid, next);
	uidlist_free(&back);

	/* Lock file lost too: the clock floor. */
	unlinkat(dirfd, UIDLIST_LOCK, 0);
	floor = uidlist_clock_floor();
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_MISSING && back.count == 0 && back.next_uid >= floor,
		"list and lock file deleted: MISSING, next UID %" PRIu64 " >= the clock floor %" PRIu64,
		back.next_uid, floor);
	unit_ok(uidlist_clock_floor() >= floor, "the clock floor does not go back");
	uidlist_free(&back);

	/* Dropped from, written, read: only the entries kept. */
	for (size_t i = 0; i < l.count; i++)
		dropped[i] = i % 2 == 0;
	uidlist_drop(&l, dropped);
	unit_ok(write_locked(dirfd, &l), "a list dropped from is written");
	st = uidlist_read(dirfd, &back);
	render_list(&want, "OK", &l);
	render_list(&got, status_name(st), &back);
	unit_expect_str(got.data, want.data, "a list dropped from reads back with its kept entries only");
	unit_ok(uidlist_find(&back, rows[0].name, strlen(rows[0].name)) == NULL &&
			uidlist_find(&back, rows[1].name, strlen(rows[1].name)) != NULL,
		"the list dropped from: find gives the kept entries only");
	uidlist_free(&back);

	/* The list file is a directory: FAILED, not rebuilt over it. */
	unlinkat(dirfd, UIDLIST_FILE, 0);
	mkdirat(dirfd, UIDLIST_FILE, 0700);
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_FAILED, "the list file is a directory: FAILED (%s)", status_name(st));
	uidlist_free(&back);
	unlinkat(dirfd, UIDLIST_FILE, AT_REMOVEDIR);

	/* The list file is a symbolic link (to a valid list): not followed. */
	unit_ok(spit(dirfd, "elsewhere", file.data, file.len) && symlinkat("elsewhere", dirfd, UIDLIST_FILE) == 0,
		"a symbolic link as the list file");
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_FAILED, "the list file is a symbolic link: FAILED (%s)", status_name(st));
	uidlist_free(&back);
	unlinkat(dirfd, UIDLIST_FILE, 0);
	unlinkat(dirfd, "elsewhere", 0);

	uidlist_free(&l);
	unit_buf_free(&want);
	unit_buf_free(&got);
	unit_buf_free(&file);
	remove_tmp_dir(dirfd);
}

/* 100000 entries through the file: all back, all found. */
static void test_round_trip_many(void)
{
	enum { MANY = 100000 };
	int dirfd = make_tmp_dir();
	struct uidlist l, back;
	char name[64];
	size_t bad = 0;
	enum uidlist_status st;

	empty_list(&l, uidlist_clock_floor());
	for (size_t i = 0; i < MANY; i++) {
		int n = snprintf(name, sizeof name, "%zu.M%zuP9.host,S=%zu", 1700000000 + i, i, i * 3);
		struct uid_entry *e = uidlist_add(&l, name, (size_t)n);

		if (e == NULL)
			unit_bail("uidlist_add failed");
		e->exact_size = i * 3 + i % 5;
		e->stored_size = i * 3;
		e->retrieved = (int64_t)(i % 2 ? 1700000000 + i : 0);
	}
	unit_ok(write_locked(dirfd, &l), "uidlist_write of %d entries", MANY);
	st = uidlist_read(dirfd, &back);
	unit_ok(st == UIDLIST_OK && back.count == MANY && back.next_uid == l.next_uid,
		"uidlist_read of %d entries: OK, next UID kept", MANY);
	for (size_t i = 0; i < MANY; i++) {
		int n = snprintf(name, sizeof name, "%zu.M%zuP9.host,S=%zu", 1700000000 + i, i, i * 3);
		const struct uid_entry *e = uidlist_find(&back, name, (size_t)n);

		if (e == NULL || e->uid != l.entries[i].uid || e->exact_size != i * 3 + i % 5 ||
		    e->stored_size != i * 3 || e->retrieved != l.entries[i].retrieved)
			bad++;
	}
	unit_expect_uint(bad, 0, "all %d entries read back and found with their UIDs and sizes", MANY);
	uidlist_free(&back);
	uidlist_free(&l);
	remove_tmp_dir(dirfd);
}

/* Whether another process holds a lock on the lock file, as fcntl F_GETLK
 * shows it (for classic and open-file-description locks alike). */
static bool lock_held(int dirfd)
{
	struct flock fl;
	int fd = openat(dirfd, UIDLIST_LOCK, O_RDWR | O_CLOEXEC);
	bool held = false;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0)
		held = fl.l_type != F_UNLCK;
	if (fd >= 0)
		close(fd);
	return held;
}

/* Starts a child that takes the lock (and, with read_after, then reads the
 * list as update_list and record_retrievals do under it) and waits to be
 * killed; returns once the child has done so. */
static pid_t start_lock_holder(int dirfd, bool read_after)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) != 0)
		unit_bail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		unit_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(ready[0]);
		if (uidlist_lock(dirfd, UIDLIST_LOCK_WAIT_MS) < 0)
			_exit(3);
		if (read_after) {
			struct uidlist l;

			uidlist_read(dirfd, &l);
			uidlist_free(&l);
		}
		if (write(ready[1], "L", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		unit_bail("the lock holder did not start");
	close(ready[0]);
	return pid;
}

static void stop_lock_holder(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The lock excludes other processes, and stays held while its holder
 * reads the list: uidlist_read must not drop it. */
static void test_lock_held(void)
{
	int dirfd = make_tmp_dir();
	pid_t holder = start_lock_holder(dirfd, false);

	unit_ok(lock_held(dirfd), "uidlist_lock: another process sees the lock held");
	stop_lock_holder(holder);
	unit_ok(!lock_held(dirfd), "uidlist_lock: the lock is free once its holder is killed");

	holder = start_lock_holder(dirfd, true);
	if (!unit_ok(lock_held(dirfd), "uidlist_lock, then uidlist_read: the lock is still held"))
		unit_diag("uidlist_read opened and closed %s (to read the high-water mark): closing any "
			  "descriptor of a file drops the process's fcntl locks on it", UIDLIST_LOCK);
	stop_lock_holder(holder);
	remove_tmp_dir(dirfd);
}

/* A holder killed with SIGKILL frees the lock at once: a uidlist_lock
 * waiting for it gets it within a few seconds. */
static void test_lock_holder_killed(void)
{
	int dirfd = make_tmp_dir();
	pid_t holder = start_lock_holder(dirfd, false), killer;
	struct timespec t0, t1;
	double waited;
	int lock;

	killer = fork();
	if (killer < 0)
		unit_bail("fork: %s", strerror(errno));
	if (killer == 0) {
		struct timespec pause_time = { 0, 300 * 1000000L };

		nanosleep(&pause_time, NULL);
		kill(holder, SIGKILL);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lock = uidlist_lock(dirfd, UIDLIST_LOCK_WAIT_MS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	unit_ok(lock >= 0 && waited >= 0.2 && waited < 3.0,
		"uidlist_lock waits for a holder and gets the lock once it is killed (%.2f s)", waited);
	if (lock >= 0)
		uidlist_unlock(lock);
	waitpid(killer, NULL, 0);
	waitpid(holder, NULL, 0);
	remove_tmp_dir(dirfd);
}

/* With a sink, uidlist_load and uidlist_parse_entries give the entries to
 * it in file order and the list keeps none. */
static void test_sink(void)
{
	static const struct {
		const char *what, *text;
		size_t refuse_at;
		enum uidlist_status status;
		const char *collected;
	} rows[] = {
		{ "two entries", HEADER2 ENTRY_A "4 5 6 7 b:2,S\n", 0, UIDLIST_OK,
		  "[1 100 98 0 a base=1][4 5 6 7 b:2,S base=1]" },
		{ "no entry", HEADER2, 0, UIDLIST_OK, "" },
		{ "a corrupt second entry", HEADER2 ENTRY_A "4 5 6 7\n", 0, UIDLIST_CORRUPT, "[1 100 98 0 a base=1]" },
		{ "the sink refuses the second", HEADER2 ENTRY_A "4 5 6 7 b:2,S\n", 2, UIDLIST_FAILED,
		  "[1 100 98 0 a base=1]" },
	};
	int dirfd = make_tmp_dir();

	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		struct collected c = { .refuse_at = rows[i].refuse_at };
		struct uidlist_sink sink = { collect, &c };
		struct unit_buf text = { 0 };
		struct uidlist l;
		enum uidlist_status loaded, parsed;
		int fd = openat(dirfd, UIDLIST_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		unit_buf_adds(&text, rows[i].text);
		add_end_line(&text, count_entries(text.data, text.len));
		if (fd < 0 || !write_all(fd, text.data, text.len) || close(fd) != 0)
			unit_bail("cannot write %s: %s", UIDLIST_FILE, strerror(errno));
		loaded = uidlist_load(dirfd, &l);
		parsed = loaded == UIDLIST_OK ? uidlist_parse_entries(&l, &sink) : loaded;
		unit_buf_add(&c.text, "", 0);
		unit_ok(loaded == UIDLIST_OK && parsed == rows[i].status && l.count == 0 &&
				strcmp(c.text.data, rows[i].collected) == 0,
			"uidlist_parse_entries with a sink, %s: status %d, collected %s", rows[i].what, (int)parsed,
			c.text.data);
		uidlist_free(&l);
		unit_buf_free(&text);
		unit_buf_free(&c.text);
	}
	remove_tmp_dir(dirfd);
}

int main(void)
{
	log_to_stderr();
	test_parse_table();
	test_parse_name_length();
	test_parse_prefixes();
	test_parse_bit_flips();
	test_add_names();
	test_rename();
	test_add_name_length();
	test_add_uid_limit();
	test_find_empty();
	test_index_many();
	test_drop();
	test_round_trip();
	test_round_trip_many();
	test_lock_held();
	test_lock_holder_killed();
	test_sink();
	return unit_done();
}
