/*
 * unit-message.h - messages for the tests of the RETR/TOP encoder and of
 * message streaming: the encoding as RFC 1939 states it (a naive model,
 * with the client workarounds), table rows with their expected encodings,
 * and large messages.  Header-only and static, like unit.h.
 */
#ifndef POP3_UNIT_MESSAGE_H
#define POP3_UNIT_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "encode.h"
#include "params.h"
#include "unit.h"

/* ---- the reference encoder ---- */

struct reference_stats {
	size_t dots;		/* octets added by dot-stuffing */
	bool final_crlf;	/* a CRLF was added after a last line without LF */
	size_t eoh_added;	/* oe-ns-eoh: the blank line added, with the CRLF before it (0, 2 or 4) */
	bool limit_reached;
};

/* Adds n octets of a line, NULs as 0x80 when nuls (outlook-no-nuls). */
static inline void reference_add(struct unit_buf *enc, const char *data, size_t n, bool nuls)
{
	for (size_t i = 0; i < n; i++)
		unit_buf_add(enc, nuls && data[i] == '\0' ? "\x80" : &data[i], 1);
}

/* The encoding as RFC 1939 states it, one whole line at a time, kept
 * deliberately naive so that it can serve as the model of the streaming
 * encoder: a line starting with "." gets another, a line ending in LF
 * without CR gets CRLF, other bytes pass; TOP keeps the header, the blank
 * line (empty or a lone CR) and body_lines lines after it.  The
 * workarounds (WORKAROUND_* bits): NULs sent as 0x80; a header no blank
 * line ends gets one at the end. */
static inline void reference_encode(const char *in, size_t len, bool limited, uint64_t body_lines,
				    unsigned workarounds, struct unit_buf *enc, struct reference_stats *stats)
{
	bool in_body = false;
	size_t pos = 0;

	memset(stats, 0, sizeof *stats);
	unit_buf_clear(enc);
	while (pos < len && !(limited && in_body && body_lines == 0)) {
		const char *line = in + pos;
		const char *lf = memchr(line, '\n', len - pos);
		size_t text = lf ? (size_t)(lf - line) : len - pos;
		bool cr = text > 0 && line[text - 1] == '\r';

		if (line[0] == '.') {
			unit_buf_add(enc, ".", 1);
			stats->dots++;
		}
		reference_add(enc, line, text, workarounds & WORKAROUND_OUTLOOK_NO_NULS);
		if (lf == NULL) {
			unit_buf_adds(enc, "\r\n");
			stats->final_crlf = true;
			break;
		}
		unit_buf_adds(enc, cr ? "\n" : "\r\n");
		pos += text + 1;
		if (in_body)
			body_lines--;
		else if (text == 0 || (text == 1 && cr))
			in_body = true;
	}
	if ((workarounds & WORKAROUND_OE_NS_EOH) && !in_body) {
		unit_buf_adds(enc, "\r\n");
		stats->eoh_added = stats->final_crlf ? 4 : 2;
	}
	stats->limit_reached = limited && in_body && body_lines == 0;
}

struct encode_case {
	const char *what;
	const char *in;
	size_t in_len;
	bool limited;
	uint64_t body_lines;
	const char *out;
	size_t out_len;
	bool limit_reached;
	unsigned workarounds;	/* WORKAROUND_* bits */
};

#define RETR(what, in, expected) { what, BYTES(in), false, 0, BYTES(expected), false, 0 }
#define TOP(what, in, n, expected, reached) { what, BYTES(in), true, n, BYTES(expected), reached, 0 }
#define RETR_W(w, what, in, expected) { what, BYTES(in), false, 0, BYTES(expected), false, w }
#define TOP_W(w, what, in, n, expected, reached) { what, BYTES(in), true, n, BYTES(expected), reached, w }
#define NULS WORKAROUND_OUTLOOK_NO_NULS
#define EOH WORKAROUND_OE_NS_EOH

static const struct encode_case encode_cases[] = {
	RETR("empty message", "", ""),
	RETR("LF only", "a\nb\n", "a\r\nb\r\n"),
	RETR("CRLF already present is not doubled", "a\r\nb\r\n", "a\r\nb\r\n"),
	RETR("mixed line ends", "a\r\nb\nc\r\n\n", "a\r\nb\r\nc\r\n\r\n"),
	RETR("a lone LF", "\n", "\r\n"),
	RETR("a bare CR is kept as is", "a\rb\n", "a\rb\r\n"),
	RETR("CR CR LF", "a\r\r\n", "a\r\r\n"),
	RETR("a line of just a dot", ".\n", "..\r\n"),
	RETR("a line of just a dot, CRLF", ".\r\n", "..\r\n"),
	RETR("lines starting with dots are stuffed", ".hidden\n..two\n.\n",
	     "..hidden\r\n...two\r\n..\r\n"),
	RETR("a dot in mid-line is not stuffed", "a.b\n a.\nx..\n", "a.b\r\n a.\r\nx..\r\n"),
	RETR("a dot after a bare CR is mid-line", "a\r.b\n", "a\r.b\r\n"),
	RETR("a dot after a blank CRLF line", "\r\n.x\r\n", "\r\n..x\r\n"),
	RETR("no final newline gets a CRLF", "a\nlast", "a\r\nlast\r\n"),
	RETR("a final dot without newline", "a\n.", "a\r\n..\r\n"),
	RETR("a CR at the very end", "a\r", "a\r\r\n"),
	RETR("a lone CR", "\r", "\r\r\n"),
	RETR("NUL octets pass", "a\0b\n\0", "a\0b\r\n\0\r\n"),
	TOP("TOP 0: header and blank line", "H: 1\nH: 2\n\nb1\nb2\nb3\n", 0,
	    "H: 1\r\nH: 2\r\n\r\n", true),
	TOP("TOP 2 body lines", "H: 1\nH: 2\n\nb1\nb2\nb3\n", 2,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", true),
	TOP("TOP exactly the body", "H: 1\n\nb1\nb2\n", 2, "H: 1\r\n\r\nb1\r\nb2\r\n", true),
	TOP("TOP more lines than the body", "H: 1\nH: 2\n\nb1\nb2\nb3\n", 10,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", false),
	TOP("TOP 99999999", "H: 1\n\nb1\n", 99999999, "H: 1\r\n\r\nb1\r\n", false),
	TOP("TOP UINT64_MAX", "H: 1\n\nb1\n", UINT64_MAX, "H: 1\r\n\r\nb1\r\n", false),
	TOP("TOP header without blank line", "H: 1\nH: 2\n", 0, "H: 1\r\nH: 2\r\n", false),
	TOP("TOP a CRLF blank line ends the header", "H: 1\r\n\r\nb1\r\nb2\r\n", 1,
	    "H: 1\r\n\r\nb1\r\n", true),
	TOP("TOP a line of a space is no blank line", "H: 1\n \nb1\n", 0, "H: 1\r\n \r\nb1\r\n",
	    false),
	TOP("TOP a line of CR CR is no blank line", "H: 1\n\r\r\nb1\n", 0,
	    "H: 1\r\n\r\r\nb1\r\n", false),
	TOP("TOP stuffs body lines", "H: 1\n\n.b1\nb2\n", 1, "H: 1\r\n\r\n..b1\r\n", true),
	TOP("TOP a message starting with the blank line", "\nbody\n", 0, "\r\n", true),
	TOP("TOP last body line without newline", "H: 1\n\nb1", 1, "H: 1\r\n\r\nb1\r\n", false),
	RETR_W(NULS, "outlook-no-nuls: every NUL is sent as 0x80", "a\0b\n\0\0\n\0", "a\x80" "b\r\n\x80\x80\r\n\x80\r\n"),
	RETR_W(NULS, "outlook-no-nuls: NULs beside dots, CRs and line ends", "\0.\n.\0\r\n\r\0\n",
	       "\x80.\r\n..\x80\r\n\r\x80\r\n"),
	RETR_W(NULS, "outlook-no-nuls: a message without NUL is unchanged", "H: 1\n\n\x80\xff\n", "H: 1\r\n\r\n\x80\xff\r\n"),
	TOP_W(NULS, "outlook-no-nuls in TOP", "H: \0\n\n\0b\nc\n", 1, "H: \x80\r\n\r\n\x80" "b\r\n", true),
	RETR_W(EOH, "oe-ns-eoh: a header alone gets its blank line", "H: 1\nH: 2\n", "H: 1\r\nH: 2\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a header alone in CRLF", "H: 1\r\nH: 2\r\n", "H: 1\r\nH: 2\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a header alone without final newline: CRLF, then the blank line", "H: 1\nH: 2",
	       "H: 1\r\nH: 2\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: the empty message is a header alone", "", "\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a header with its blank line is left alone", "H: 1\n\nb\n", "H: 1\r\n\r\nb\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a blank line last ends the header", "H: 1\r\n\r\n", "H: 1\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a message starting with the blank line", "\nbody", "\r\nbody\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a body without final newline is not touched", "H: 1\n\nb", "H: 1\r\n\r\nb\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a lone CR last is no blank line", "H: 1\n\r", "H: 1\r\n\r\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a line of a space is no blank line", "H: 1\n \n", "H: 1\r\n \r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: CR CR LF is no blank line", "H: 1\n\r\r\n", "H: 1\r\n\r\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a dot line in the header is stuffed", "H: 1\n.\n", "H: 1\r\n..\r\n\r\n"),
	RETR_W(EOH, "oe-ns-eoh: a final dot without newline", ".", "..\r\n\r\n"),
	RETR_W(NULS | EOH, "both workarounds", "H: \0\nX: \0", "H: \x80\r\nX: \x80\r\n\r\n"),
	TOP_W(EOH, "oe-ns-eoh: TOP 0 of a header alone", "H: 1\nH: 2\n", 0, "H: 1\r\nH: 2\r\n\r\n", false),
	TOP_W(EOH, "oe-ns-eoh: TOP 5 of a header alone without final newline", "H: 1", 5, "H: 1\r\n\r\n", false),
	TOP_W(EOH, "oe-ns-eoh: TOP 0 of a header with its blank line", "H: 1\n\nb\n", 0, "H: 1\r\n\r\n", true),
	TOP_W(EOH, "oe-ns-eoh: TOP 1 of a header with its blank line", "H: 1\n\nb\nc", 1, "H: 1\r\n\r\nb\r\n", true),
	TOP_W(EOH, "oe-ns-eoh: TOP of the empty message", "", 0, "\r\n", false),
};

/* ---- a message larger than every buffer ---- */

static inline uint32_t next_random(uint32_t *state)
{
	/* xorshift32: the same message on every run and every machine. */
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static inline void add_random_text(struct unit_buf *m, uint32_t *state)
{
	static const char alphabet[] = "abcdefghij klmnop.QRSTUVWXYZ\t0123456789";
	size_t len = next_random(state) % 100;

	for (size_t i = 0; i < len; i++)
		unit_buf_add(m, &alphabet[next_random(state) % (sizeof alphabet - 1)], 1);
}

/* One random line of one of the shapes the encoder tells apart. */
static inline void add_random_line(struct unit_buf *m, uint32_t *state)
{
	switch (next_random(state) % 8) {
	case 0:
		unit_buf_adds(m, next_random(state) % 2 ? ".\n" : ".\r\n");
		return;
	case 1:
		unit_buf_adds(m, "..");
		add_random_text(m, state);
		unit_buf_adds(m, "\r\n");
		return;
	case 2:
		add_random_text(m, state);
		unit_buf_adds(m, "\r\n");
		return;
	case 3:
		add_random_text(m, state);
		unit_buf_adds(m, "\n");
		return;
	case 4:
		add_random_text(m, state);
		unit_buf_adds(m, "\r");
		add_random_text(m, state);
		unit_buf_adds(m, "\n");
		return;
	case 5:
		unit_buf_adds(m, next_random(state) % 2 ? "\n" : "\r\n");
		return;
	case 6:
		add_random_text(m, state);
		unit_buf_adds(m, "\r\r\n");
		return;
	default:
		unit_buf_adds(m, "a.b..c .\n");
		return;
	}
}

/* About 300 KB: a header ended by a CRLF blank line, a body of mixed
 * lines with one line longer than OUTPUT_BUFFER_SIZE and
 * MESSAGE_READ_BLOCK, and a last line without newline.  With header_only,
 * 200 KB of header lines (with NULs) and no blank line at all, so that its
 * header's end is looked for across many blocks. */
static inline void make_large_message(struct unit_buf *m, bool header_only)
{
	uint32_t state = 20240601;
	bool long_line_added = false;

	unit_buf_clear(m);
	if (header_only) {
		for (int i = 1; m->len < 200 * 1024; i++) {
			unit_buf_addf(m, "X-Header-%d: value", i);
			if (i % 3 == 0)
				unit_buf_add(m, "\0", 1);
			unit_buf_adds(m, i % 2 ? "\n" : "\r\n");
		}
		unit_buf_adds(m, "X-Last: no newline");
		return;
	}
	for (int i = 1; i <= 20; i++)
		unit_buf_addf(m, "X-Header-%d: value %d\n", i, i * 7);
	unit_buf_adds(m, "\r\n");
	while (m->len < 300 * 1024) {
		if (!long_line_added && m->len > 100 * 1024) {
			for (size_t i = 0; i < OUTPUT_BUFFER_SIZE + 4500; i++)
				unit_buf_add(m, "L", 1);
			unit_buf_adds(m, "\r\n");
			long_line_added = true;
		}
		add_random_line(m, &state);
	}
	unit_buf_adds(m, "the last line has no newline");
}

#endif
