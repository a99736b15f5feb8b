/*
 * test-io.c - table-driven tests of io.c: response lines, SASL challenge
 * lines and messages streamed from a file, each checked on the octets
 * that reach the file descriptor, since those are what a client gets.
 */
#include "io.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base64.h"
#include "unit-message.h"
#include "unit.h"

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

/* ---- output_message ---- */

/* A message file holding len octets of data, read from its start. */
static int message_file(const char *data, size_t len)
{
	int fd = memfd_create("test-io-message", MFD_CLOEXEC);

	if (fd < 0)
		unit_bail("memfd_create: %s", strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)
		unit_bail("writing the message file: %s", strerror(errno));
	return fd;
}

/* Streams one message file through output_message and compares what reaches the client with
 * the row's expectation. */
static void check_streamed(const struct encode_case *c)
{
	struct unit_buf got = { 0 };
	int fd = message_file(c->in, c->in_len);
	bool ok;

	sink_reset();
	ok = output_message(&out, fd, c->limited, c->body_lines, c->workarounds);
	sink_collect(&got);
	unit_ok(ok, "output_message: %s: read to its end", c->what);
	unit_expect_bytes(got.data, got.len, c->out, c->out_len, "output_message: %s, %s", c->what,
			  c->limited ? "TOP" : "RETR");
	close(fd);
	unit_buf_free(&got);
}

/* Every table row, and the large messages (read in several blocks) whole and under TOP, with
 * and without the workarounds. */
static void test_streaming(void)
{
	static const struct {
		const char *what;
		bool header_only, top;
		unsigned workarounds;
	} runs[] = {
		{ "large message", false, false, 0 },
		{ "large message, TOP 3000", false, true, 0 },
		{ "large message, both workarounds", false, false, NULS | EOH },
		{ "large header alone, both workarounds", true, false, NULS | EOH },
		{ "large header alone, TOP 3000, both workarounds", true, true, NULS | EOH },
	};
	struct unit_buf message = { 0 }, expected = { 0 };
	struct reference_stats stats;

	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++)
		check_streamed(&encode_cases[i]);
	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
		struct encode_case c = { runs[i].what, NULL, 0, runs[i].top, 3000, NULL, 0, false, runs[i].workarounds };

		make_large_message(&message, runs[i].header_only);
		reference_encode(message.data, message.len, c.limited, c.body_lines, c.workarounds, &expected, &stats);
		c.in = message.data;
		c.in_len = message.len;
		c.out = expected.data;
		c.out_len = expected.len;
		check_streamed(&c);
	}
	unit_buf_free(&message);
	unit_buf_free(&expected);
}

int main(void)
{
	test_streaming();
	test_responses();
	test_cut_lines();
	test_continuations();
	if (sink_fd >= 0)
		close(sink_fd);
	return unit_done();
}
