/*
 * test-encode.c - table-driven tests of encode.c: the RETR/TOP encoder and
 * the CRLF size counter, on the octets they hand their sink.
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
 * streamer does, and tells how the encoder's stop signal behaved. */
static const char *encode_in_chunks(const char *in, size_t len, size_t chunk, bool limited,
				    uint64_t body_lines, struct unit_buf *got)
{
	struct byte_sink sink = { memory_put, got };
	struct dot_encoder e;
	const char *verdict = NOT_STOPPED;
	bool more = true;

	unit_buf_clear(got);
	dot_encoder_init(&e, limited, body_lines);
	for (size_t off = 0; off < len && more; ) {
		size_t piece = len - off < chunk ? len - off : chunk;

		more = dot_encode(&e, in + off, piece, &sink);
		off += piece;
	}
	if (!more)
		verdict = dot_encode(&e, LATE_DATA, strlen(LATE_DATA), &sink) ? RESUMED : STOPPED;
	dot_finish(&e, &sink);
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

int main(void)
{
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_reference_agrees(&encode_cases[i]);
	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_encoding(&encode_cases[i]);
	test_large_message();
	test_crlf_count();
	return unit_done();
}
