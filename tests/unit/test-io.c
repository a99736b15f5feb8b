/*
 * test-io.c - table-driven tests of io.c: the RETR/TOP encoder, the CRLF
 * size counter and response lines, each checked on the octets that reach
 * the file descriptor, since those are what a client gets.
 *
 * Every message is encoded whole, byte by byte and in odd chunk sizes:
 * the encoder keeps state across blocks (a CR ending one block, a "." or
 * a blank line starting the next), and only misaligned feeds prove it.
 */
#include "io.h"
#include "parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

static const size_t chunk_sizes[] = {
	UNIT_WHOLE, 1, 2, 7, 4093, MESSAGE_READ_BLOCK, MESSAGE_READ_BLOCK + 1,
};

/* ---- the output sink: a memory file read back after each run ---- */

static struct output out;	/* 64 KiB of buffer: kept off the stack */
static int sink_fd = -1;

/* Starts a run with an empty sink and a fresh output on it. */
static void sink_reset(void)
{
	if (sink_fd < 0) {
		sink_fd = memfd_create("test-io", MFD_CLOEXEC);
		if (sink_fd < 0)
			unit_bail("memfd_create: %s", strerror(errno));
	}
	if (ftruncate(sink_fd, 0) != 0 || lseek(sink_fd, 0, SEEK_SET) != 0)
		unit_bail("cannot empty the memory file: %s", strerror(errno));
	output_init(&out, sink_fd);
}

/* Flushes the output and reads back every octet written since sink_reset(). */
static void sink_collect(struct unit_buf *got)
{
	char block[8192];
	off_t off = 0;
	ssize_t n;

	if (!output_flush(&out))
		unit_bail("output_flush to a memory file failed (state %d)", (int)out.state);
	unit_buf_clear(got);
	while ((n = pread(sink_fd, block, sizeof block, off)) > 0) {
		unit_buf_add(got, block, (size_t)n);
		off += n;
	}
	if (n < 0)
		unit_bail("reading the memory file back: %s", strerror(errno));
}

/* ---- the reference encoder ---- */

struct reference_stats {
	size_t dots;		/* octets added by dot-stuffing */
	bool final_crlf;	/* a CRLF was added after a last line without LF */
	bool limit_reached;
};

/* The encoding as RFC 1939 states it, one whole line at a time, kept
 * deliberately naive so that it can serve as the model of the streaming
 * encoder: a line starting with "." gets another, a line ending in LF
 * without CR gets CRLF, other bytes pass; TOP keeps the header, the blank
 * line (empty or a lone CR) and body_lines lines after it. */
static void reference_encode(const char *in, size_t len, bool limited, uint64_t body_lines,
			     struct unit_buf *enc, struct reference_stats *stats)
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
		unit_buf_add(enc, line, text);
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
	stats->limit_reached = limited && in_body && body_lines == 0;
}

/* ---- the encoder under test ---- */

/* What a caller that keeps offering data after the limit must not see. */
#define LATE_DATA "late line\n.late\n"

static const char *const STOPPED = "stopped at the TOP limit";
static const char *const NOT_STOPPED = "never stopped";
static const char *const RESUMED = "took more after stopping";

/* Encodes in at most chunk octets per dot_encode() call, as the message
 * streamer does, and tells how the encoder's stop signal behaved. */
static const char *encode_in_chunks(const char *in, size_t len, size_t chunk, bool limited,
				    uint64_t body_lines, struct unit_buf *got)
{
	struct dot_encoder e;
	const char *verdict = NOT_STOPPED;
	bool more = true;

	sink_reset();
	dot_encoder_init(&e, limited, body_lines);
	for (size_t off = 0; off < len && more; ) {
		size_t piece = len - off < chunk ? len - off : chunk;

		more = dot_encode(&e, in + off, piece, &out);
		off += piece;
	}
	if (!more)
		verdict = dot_encode(&e, LATE_DATA, strlen(LATE_DATA), &out) ? RESUMED : STOPPED;
	dot_finish(&e, &out);
	sink_collect(got);
	return verdict;
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
};

#define RETR(what, in, expected) { what, BYTES(in), false, 0, BYTES(expected), false }
#define TOP(what, in, n, expected, reached) { what, BYTES(in), true, n, BYTES(expected), reached }

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
};

static void check_encoding(const struct encode_case *c)
{
	struct unit_buf got = { 0 };
	char label[64];

	for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++) {
		size_t chunk = chunk_sizes[i];
		const char *verdict;

		if (!unit_chunk_worth_running(chunk, c->in_len))
			continue;
		unit_chunk_label(label, sizeof label, chunk);
		verdict = encode_in_chunks(c->in, c->in_len, chunk, c->limited, c->body_lines, &got);
		unit_expect_bytes(got.data, got.len, c->out, c->out_len, "%s: %s, output (%s)",
				  c->limited ? "TOP" : "RETR", c->what, label);
		unit_expect_str(verdict, c->limit_reached ? STOPPED : NOT_STOPPED,
				"%s: %s, dot_encode result (%s)", c->limited ? "TOP" : "RETR", c->what,
				label);
	}
	unit_buf_free(&got);
}

/* The tables' expectations, checked once against the reference, so that
 * the reference earns the trust the large message puts in it. */
static void check_reference_agrees(const struct encode_case *c)
{
	struct unit_buf enc = { 0 };
	struct reference_stats stats;

	reference_encode(c->in, c->in_len, c->limited, c->body_lines, &enc, &stats);
	unit_expect_bytes(enc.data, enc.len, c->out, c->out_len,
			  "reference encoder agrees with the table: %s", c->what);
	unit_buf_free(&enc);
}

/* ---- a message larger than every buffer ---- */

static uint32_t next_random(uint32_t *state)
{
	/* xorshift32: the same message on every run and every machine. */
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static void add_random_text(struct unit_buf *m, uint32_t *state)
{
	static const char alphabet[] = "abcdefghij klmnop.QRSTUVWXYZ\t0123456789";
	size_t len = next_random(state) % 100;

	for (size_t i = 0; i < len; i++)
		unit_buf_add(m, &alphabet[next_random(state) % (sizeof alphabet - 1)], 1);
}

/* One random line of one of the shapes the encoder tells apart. */
static void add_random_line(struct unit_buf *m, uint32_t *state)
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
 * MESSAGE_READ_BLOCK, and a last line without newline. */
static void make_large_message(struct unit_buf *m)
{
	uint32_t state = 20240601;
	bool long_line_added = false;

	unit_buf_clear(m);
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

/* The large message as RETR and as TOP with several limits, each row's
 * expectation taken from the reference encoder. */
static void test_large_message(void)
{
	static const struct {
		const char *what;
		bool limited;
		uint64_t body_lines;
	} runs[] = {
		{ "large message", false, 0 },
		{ "large message, TOP 0", true, 0 },
		{ "large message, TOP 1", true, 1 },
		{ "large message, TOP 3000", true, 3000 },
		{ "large message, TOP UINT64_MAX", true, UINT64_MAX },
	};
	struct unit_buf message = { 0 }, expected = { 0 };
	struct reference_stats stats;

	make_large_message(&message);
	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
		struct encode_case c = {
			runs[i].what, message.data, message.len, runs[i].limited, runs[i].body_lines,
			NULL, 0, false,
		};

		reference_encode(message.data, message.len, c.limited, c.body_lines, &expected, &stats);
		c.out = expected.data;
		c.out_len = expected.len;
		c.limit_reached = stats.limit_reached;
		check_encoding(&c);
	}
	unit_buf_free(&message);
	unit_buf_free(&expected);
}

/* ---- crlf_count ---- */

/* The definition: every octet, plus one CR for each LF that lacks one. */
static uint64_t crlf_size_by_definition(const char *in, size_t len)
{
	uint64_t size = len;

	for (size_t i = 0; i < len; i++)
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			size++;
	return size;
}

static uint64_t crlf_count_in_chunks(const char *in, size_t len, size_t chunk)
{
	struct crlf_counter c = { 0, false };

	for (size_t off = 0; off < len; ) {
		size_t piece = len - off < chunk ? len - off : chunk;

		crlf_count(&c, in + off, piece);
		off += piece;
	}
	return c.size;
}

/* The size LIST reports must be what RETR sends, less the stuffing dots
 * and the CRLF that only the transfer adds. */
static void check_crlf_matches_retr(const char *what, const char *in, size_t len)
{
	struct unit_buf sent = { 0 }, model = { 0 };
	struct reference_stats stats;

	encode_in_chunks(in, len, UNIT_WHOLE, false, 0, &sent);
	reference_encode(in, len, false, 0, &model, &stats);
	unit_expect_uint(crlf_count_in_chunks(in, len, UNIT_WHOLE),
			 sent.len - stats.dots - (stats.final_crlf ? 2 : 0),
			 "crlf_count: %s, equals RETR output less stuffing", what);
	unit_buf_free(&sent);
	unit_buf_free(&model);
}

static void check_crlf_count(const char *what, const char *in, size_t len)
{
	char label[64];

	for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++) {
		if (!unit_chunk_worth_running(chunk_sizes[i], len))
			continue;
		unit_expect_uint(crlf_count_in_chunks(in, len, chunk_sizes[i]),
				 crlf_size_by_definition(in, len), "crlf_count: %s (%s)", what,
				 unit_chunk_label(label, sizeof label, chunk_sizes[i]));
	}
	check_crlf_matches_retr(what, in, len);
}

/* Extra inputs aimed at the CR/LF pairing across block boundaries. */
static const struct {
	const char *what;
	const char *in;
	size_t len;
} crlf_inputs[] = {
	{ "CR LF pairs only", BYTES("\r\n\r\n\r\n") },
	{ "LF CR pairs are not CRLF", BYTES("\n\r\n\r") },
	{ "CR CR LF LF", BYTES("\r\r\n\n") },
	{ "a block starting with LF after a text line", BYTES("ab\ncd\n\nef\r\n") },
};

static void test_crlf_count(void)
{
	struct unit_buf message = { 0 };

	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		if (!encode_cases[i].limited)
			check_crlf_count(encode_cases[i].what, encode_cases[i].in, encode_cases[i].in_len);
	for (size_t i = 0; i < sizeof crlf_inputs / sizeof *crlf_inputs; i++)
		check_crlf_count(crlf_inputs[i].what, crlf_inputs[i].in, crlf_inputs[i].len);
	make_large_message(&message);
	check_crlf_count("large message", message.data, message.len);
	unit_buf_free(&message);
}

/* ---- output_response and output_line ---- */

struct response_case {
	bool ok;
	const char *code;
	const char *text;
	const char *expected;
};

static const struct response_case response_cases[] = {
	{ true, NULL, NULL, "+OK\r\n" },
	{ true, NULL, "", "+OK\r\n" },
	{ true, NULL, "2 320", "+OK 2 320\r\n" },
	{ false, NULL, "no such message", "-ERR no such message\r\n" },
	{ false, "AUTH", "bad password", "-ERR [AUTH] bad password\r\n" },
	{ false, "SYS/TEMP", NULL, "-ERR [SYS/TEMP]\r\n" },
	{ false, "IN-USE", "", "-ERR [IN-USE]\r\n" },
	{ true, "X", "y", "+OK [X] y\r\n" },
};

static void test_responses(void)
{
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < sizeof response_cases / sizeof *response_cases; i++) {
		const struct response_case *c = &response_cases[i];

		sink_reset();
		output_response(&out, c->ok, c->code, c->text);
		sink_collect(&got);
		unit_expect_str(got.data, c->expected, "output_response %s code %s text \"%s\"",
				c->ok ? "+OK" : "-ERR", c->code ? c->code : "none",
				c->text ? c->text : "(null)");
	}
	sink_reset();
	output_line(&out, "%zu %llu", (size_t)3, 1024ULL);
	output_line(&out, "%s", "");
	sink_collect(&got);
	unit_expect_str(got.data, "3 1024\r\n\r\n", "output_line formats its arguments");
	unit_buf_free(&got);
}

/* Length rows: a text of text_len letters, sent through output_response
 * (ok, code) or output_line; everything beyond RESPONSE_MAX - 2 octets of
 * the line goes, so that the CRLF still fits in RESPONSE_MAX. */
struct cut_case {
	bool is_response;
	bool ok;
	const char *code;
	size_t text_len;
};

static const struct cut_case cut_cases[] = {
	{ true, true, NULL, RESPONSE_MAX - 7 },		/* "+OK " + 505: 511 with CRLF */
	{ true, true, NULL, RESPONSE_MAX - 6 },		/* exactly 512 with CRLF */
	{ true, true, NULL, RESPONSE_MAX - 5 },
	{ true, false, "SYS/TEMP", 2000 },
	{ false, false, NULL, RESPONSE_MAX - 3 },
	{ false, false, NULL, RESPONSE_MAX - 2 },	/* exactly 512 with CRLF */
	{ false, false, NULL, RESPONSE_MAX - 1 },
	{ false, false, NULL, 2000 },
};

/* The line as it would be without any limit, then cut and ended. */
static void expected_cut_line(const struct cut_case *c, const char *text, struct unit_buf *line)
{
	unit_buf_clear(line);
	if (c->is_response) {
		unit_buf_adds(line, c->ok ? "+OK" : "-ERR");
		if (c->code)
			unit_buf_addf(line, " [%s]", c->code);
		if (c->text_len > 0)
			unit_buf_adds(line, " ");
	}
	unit_buf_adds(line, text);
	if (line->len > RESPONSE_MAX - 2)
		line->len = RESPONSE_MAX - 2;
	unit_buf_adds(line, "\r\n");
}

static void test_cut_lines(void)
{
	struct unit_buf text = { 0 }, expected = { 0 }, got = { 0 };

	for (size_t i = 0; i < sizeof cut_cases / sizeof *cut_cases; i++) {
		const struct cut_case *c = &cut_cases[i];

		unit_buf_clear(&text);
		for (size_t k = 0; k < c->text_len; k++)
			unit_buf_add(&text, &"abcdefghijklmnopqrstuvwxyz"[k % 26], 1);
		expected_cut_line(c, text.data, &expected);
		sink_reset();
		if (c->is_response)
			output_response(&out, c->ok, c->code, text.data);
		else
			output_line(&out, "%s", text.data);
		sink_collect(&got);
		unit_expect_bytes(got.data, got.len, expected.data, expected.len,
				  "%s with %zu octets of text sends %zu octets (RESPONSE_MAX %d)",
				  c->is_response ? "output_response" : "output_line", c->text_len,
				  expected.len, RESPONSE_MAX);
	}
	unit_buf_free(&text);
	unit_buf_free(&expected);
	unit_buf_free(&got);
}

/* ---- output_continuation ---- */

/* RFC 4648 section 10's vectors, binary octets, and the empty challenge. */
static const struct {
	const char *data;
	size_t len;
	const char *expected;
} continuation_cases[] = {
	{ BYTES(""), "+ \r\n" },
	{ BYTES("f"), "+ Zg==\r\n" },
	{ BYTES("fo"), "+ Zm8=\r\n" },
	{ BYTES("foo"), "+ Zm9v\r\n" },
	{ BYTES("foob"), "+ Zm9vYg==\r\n" },
	{ BYTES("fooba"), "+ Zm9vYmE=\r\n" },
	{ BYTES("foobar"), "+ Zm9vYmFy\r\n" },
	{ BYTES("\xff\xfe\xfd"), "+ //79\r\n" },
	{ BYTES("\0\0\0\0"), "+ AAAAAA==\r\n" },
	{ BYTES("\xfb\xff"), "+ +/8=\r\n" },
};

/* A challenge far longer than a response line goes out whole, and decodes back to itself. */
static void test_long_continuation(void)
{
	static unsigned char data[3001], decoded[3001];
	struct unit_buf got = { 0 };
	size_t n = 0;
	bool framed;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	sink_reset();
	output_continuation(&out, data, sizeof data);
	sink_collect(&got);
	framed = got.len == 2 + 4004 + 2 && memcmp(got.data, "+ ", 2) == 0 &&
		 memcmp(got.data + got.len - 2, "\r\n", 2) == 0;
	unit_ok(framed, "a 3001-octet challenge is one line of 4008 octets, not cut at RESPONSE_MAX");
	unit_ok(framed && base64_decode(got.data + 2, got.len - 4, decoded, sizeof decoded, &n) &&
			    n == sizeof data && memcmp(decoded, data, n) == 0,
		    "the long challenge decodes back to its octets");
	unit_buf_free(&got);
}

static void test_continuations(void)
{
	struct unit_buf got = { 0 };

	for (size_t i = 0; i < sizeof continuation_cases / sizeof *continuation_cases; i++) {
		sink_reset();
		output_continuation(&out, (const unsigned char *)continuation_cases[i].data,
				    continuation_cases[i].len);
		sink_collect(&got);
		unit_expect_str(got.data, continuation_cases[i].expected, "output_continuation of %zu octets",
				continuation_cases[i].len);
	}
	unit_buf_free(&got);
	test_long_continuation();
}

int main(void)
{
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_reference_agrees(&encode_cases[i]);
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_encoding(&encode_cases[i]);
	test_large_message();
	test_crlf_count();
	test_responses();
	test_cut_lines();
	test_continuations();
	if (sink_fd >= 0)
		close(sink_fd);
	return unit_done();
}
