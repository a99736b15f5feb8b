/*
 * test-encode.c - table-driven tests of encode.c: the RETR/TOP encoder with
 * and without the client workarounds, the CRLF size counter and the
 * header's end, on the octets they hand their sink and the sizes they give.
 *
 * Every message is encoded whole, byte by byte and in odd chunk sizes:
 * the encoder keeps state across blocks (a CR ending one block, a "." or
 * a blank line starting the next), and only misaligned feeds prove it.
 */
#include "encode.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit-message.h"
#include "unit.h"

static const size_t chunk_sizes[] = {
	UNIT_WHOLE, 1, 2, 7, 4093, MESSAGE_READ_BLOCK, MESSAGE_READ_BLOCK + 1,
};

/* A sink that collects the octets in a unit_buf. */
static void memory_put(void *ctx, const void *data, size_t len)
{
	unit_buf_add(ctx, data, len);
}

/* ---- the encoder under test ---- */

/* What a caller that keeps offering data after the limit must not see. */
#define LATE_DATA "late line\n.late\n"

static const char *const STOPPED = "stopped at the TOP limit";
static const char *const NOT_STOPPED = "never stopped";
static const char *const RESUMED = "took more after stopping";

/* Encodes in at most chunk octets per dot_encode() call, as the message
 * streamer does (replacing NULs in each block first for outlook-no-nuls),
 * and tells how the encoder's stop signal behaved. */
static const char *encode_in_chunks(const char *in, size_t len, size_t chunk, bool limited,
				    uint64_t body_lines, unsigned workarounds, struct unit_buf *got)
{
	struct byte_sink sink = { memory_put, got };
	struct unit_buf block = { 0 };
	struct dot_encoder e;
	const char *verdict = NOT_STOPPED;
	bool more = true;

	unit_buf_clear(got);
	dot_encoder_init(&e, limited, body_lines, workarounds & WORKAROUND_OE_NS_EOH);
	for (size_t off = 0; off < len && more; ) {
		size_t piece = len - off < chunk ? len - off : chunk;

		unit_buf_clear(&block);
		unit_buf_add(&block, in + off, piece);
		if (workarounds & WORKAROUND_OUTLOOK_NO_NULS)
			replace_nuls(block.data, piece);
		more = dot_encode(&e, block.data, piece, &sink);
		off += piece;
	}
	if (!more)
		verdict = dot_encode(&e, LATE_DATA, strlen(LATE_DATA), &sink) ? RESUMED : STOPPED;
	dot_finish(&e, &sink);
	unit_buf_free(&block);
	return verdict;
}

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
		verdict = encode_in_chunks(c->in, c->in_len, chunk, c->limited, c->body_lines, c->workarounds, &got);
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

	reference_encode(c->in, c->in_len, c->limited, c->body_lines, c->workarounds, &enc, &stats);
	unit_expect_bytes(enc.data, enc.len, c->out, c->out_len,
			  "reference encoder agrees with the table: %s", c->what);
	unit_buf_free(&enc);
}

/* The large messages as RETR and as TOP with several limits, with and
 * without the workarounds, each row's expectation taken from the reference
 * encoder. */
static void test_large_message(void)
{
	static const struct {
		const char *what;
		bool header_only;
		bool limited;
		uint64_t body_lines;
		unsigned workarounds;
	} runs[] = {
		{ "large message", false, false, 0, 0 },
		{ "large message, TOP 0", false, true, 0, 0 },
		{ "large message, TOP 1", false, true, 1, 0 },
		{ "large message, TOP 3000", false, true, 3000, 0 },
		{ "large message, TOP UINT64_MAX", false, true, UINT64_MAX, 0 },
		{ "large message, both workarounds", false, false, 0, NULS | EOH },
		{ "large message, TOP 0, both workarounds", false, true, 0, NULS | EOH },
		{ "large header alone", true, false, 0, 0 },
		{ "large header alone, both workarounds", true, false, 0, NULS | EOH },
		{ "large header alone, TOP 0, oe-ns-eoh", true, true, 0, EOH },
	};
	struct unit_buf message = { 0 }, expected = { 0 };
	struct reference_stats stats;

	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
		struct encode_case c = {
			runs[i].what, NULL, 0, runs[i].limited, runs[i].body_lines, NULL, 0, false,
			runs[i].workarounds,
		};

		make_large_message(&message, runs[i].header_only);
		c.in = message.data;
		c.in_len = message.len;
		reference_encode(message.data, message.len, c.limited, c.body_lines, c.workarounds, &expected,
				 &stats);
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

	encode_in_chunks(in, len, UNIT_WHOLE, false, 0, 0, &sent);
	reference_encode(in, len, false, 0, 0, &model, &stats);
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
	for (int header_only = 0; header_only <= 1; header_only++) {
		make_large_message(&message, header_only);
		check_crlf_count(header_only ? "large header alone" : "large message", message.data, message.len);
	}
	unit_buf_free(&message);
}

/* ---- header_end_find, header_end_added: the size oe-ns-eoh gives ---- */

/* What header_end_added gives after the message was fed in chunks; *found_early is set when
 * header_end_find said so before the last octet. */
static unsigned header_end_in_chunks(const char *in, size_t len, size_t chunk, bool *found_early)
{
	struct header_end h = { 0 };

	*found_early = false;
	for (size_t off = 0; off < len; ) {
		size_t piece = len - off < chunk ? len - off : chunk;

		if (header_end_find(&h, in + off, piece)) {
			*found_early = off + piece < len;
			break;	/* as the sizing stops reading */
		}
		off += piece;
	}
	return header_end_added(&h);
}

/* With oe-ns-eoh, LIST's size (the CRLF count and what header_end_added says) is what RETR
 * sends less the stuffing dots, and less the CRLF after a last line without LF only when no
 * blank line follows it; the octets added agree with the model's, in every chunking. */
static void check_header_end(const char *what, const char *in, size_t len)
{
	struct unit_buf sent = { 0 }, model = { 0 };
	struct reference_stats stats;
	char label[64];
	bool early;

	encode_in_chunks(in, len, UNIT_WHOLE, false, 0, EOH, &sent);
	reference_encode(in, len, false, 0, EOH, &model, &stats);
	for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++) {
		if (!unit_chunk_worth_running(chunk_sizes[i], len))
			continue;
		unit_expect_uint(header_end_in_chunks(in, len, chunk_sizes[i], &early), stats.eoh_added,
				 "header_end_added: %s (%s)", what,
				 unit_chunk_label(label, sizeof label, chunk_sizes[i]));
	}
	unit_expect_uint(crlf_count_in_chunks(in, len, UNIT_WHOLE) + header_end_in_chunks(in, len, UNIT_WHOLE, &early),
			 sent.len - stats.dots - (stats.final_crlf && stats.eoh_added == 0 ? 2 : 0),
			 "oe-ns-eoh: %s: the size equals RETR output less stuffing", what);
	unit_buf_free(&sent);
	unit_buf_free(&model);
}

static void test_header_end(void)
{
	struct unit_buf message = { 0 };
	bool early;

	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		if (!encode_cases[i].limited)
			check_header_end(encode_cases[i].what, encode_cases[i].in, encode_cases[i].in_len);
	for (size_t i = 0; i < sizeof crlf_inputs / sizeof *crlf_inputs; i++)
		check_header_end(crlf_inputs[i].what, crlf_inputs[i].in, crlf_inputs[i].len);
	make_large_message(&message, false);
	check_header_end("large message", message.data, message.len);
	unit_ok(header_end_in_chunks(message.data, message.len, 4093, &early) == 0 && early,
		"header_end_find: the large message's header end is found in the first block");
	make_large_message(&message, true);
	check_header_end("large header alone", message.data, message.len);
	unit_buf_free(&message);
}

int main(void)
{
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_reference_agrees(&encode_cases[i]);
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_encoding(&encode_cases[i]);
	test_large_message();
	test_crlf_count();
	test_header_end();
	return unit_done();
}
