/*
 * test-base64.c - table-driven tests of base64.c: strict decoding
 * (RFC 4648: standard alphabet, '=' padding to a multiple of 4, no blanks,
 * canonical padding bits) and encoding, and round trips of every length.
 *
 * Decoding results are rendered as short text ("ok 3 \"abc\"", "rejected")
 * so that each row states its whole expectation in one literal and a
 * failure shows the difference at a glance.
 */
#include "base64.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* ---- base64_decode ---- */

/* Output buffers get this many guard octets past the size the decoder is
 * told, so that a write beyond it shows. */
#define GUARD 16
#define GUARD_BYTE 0xa5

struct b64_case {
	const char *what;
	const char *in;
	size_t in_len;
	size_t size;		/* the output buffer size given to the decoder */
	bool ok;
	const char *out;	/* the decoded octets when ok */
	size_t out_len;
};

#define DECODES(s) true, BYTES(s)
#define REJECTED false, "", 0

/* The 64 digits of the alphabet in order, decoded. */
#define ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define ALPHABET_DECODED \
	"\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51" \
	"\x55\x97\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a" \
	"\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf"

static const struct b64_case b64_cases[] = {
	/* valid, with 0, 1 and 2 padding characters */
	{ "no padding", BYTES("YWJj"), 64, DECODES("abc") },
	{ "one '='", BYTES("YWI="), 64, DECODES("ab") },
	{ "two '='", BYTES("YQ=="), 64, DECODES("a") },
	{ "two groups, no padding", BYTES("YWJjZGVm"), 64, DECODES("abcdef") },
	{ "two groups, one '='", BYTES("YWJjZGU="), 64, DECODES("abcde") },
	{ "two groups, two '='", BYTES("YWJjZA=="), 64, DECODES("abcd") },
	{ "a PLAIN message with NULs", BYTES("AGFsaWNlAHNlY3JldA=="), 64, DECODES("\0alice\0secret") },
	{ "'+' and '/' digits", BYTES("+/8="), 64, DECODES("\xfb\xff") },
	{ "octets 0xff 0xfe 0xfd", BYTES("//79"), 64, DECODES("\xff\xfe\xfd") },
	{ "single 0xff", BYTES("/w=="), 64, DECODES("\xff") },
	{ "all zero bits", BYTES("AAAA"), 64, DECODES("\0\0\0") },
	{ "the whole alphabet in order", BYTES(ALPHABET), 64, DECODES(ALPHABET_DECODED) },
	/* empty */
	{ "empty input", BYTES(""), 64, DECODES("") },
	{ "empty input into a 0-octet buffer", BYTES(""), 0, DECODES("") },
	/* invalid characters */
	{ "a space inside", BYTES("YW Jj"), 64, REJECTED },
	{ "a space in place of a digit", BYTES("YW j"), 64, REJECTED },
	{ "a trailing CRLF", BYTES("YWJj\r\n"), 64, REJECTED },
	{ "a NUL in place of a digit", BYTES("YW\0j"), 64, REJECTED },
	{ "URL-safe '-'", BYTES("-_8="), 64, REJECTED },
	{ "URL-safe '_'", BYTES("YW_j"), 64, REJECTED },
	{ "'*' (the SASL cancel) is not base64", BYTES("*AAA"), 64, REJECTED },
	{ "'.'", BYTES("YW.j"), 64, REJECTED },
	{ "an 8-bit octet", BYTES("YW\xe9j"), 64, REJECTED },
	{ "a bad digit in the second group", BYTES("YWJjZ!Vm"), 64, REJECTED },
	/* missing or misplaced padding */
	{ "padding missing (2 digits)", BYTES("YQ"), 64, REJECTED },
	{ "padding missing (3 digits)", BYTES("YWI"), 64, REJECTED },
	{ "one '=' where two are needed", BYTES("YQ="), 64, REJECTED },
	{ "'=' alone", BYTES("="), 64, REJECTED },
	{ "'====' (an empty group)", BYTES("===="), 64, REJECTED },
	{ "three '='", BYTES("Y==="), 64, REJECTED },
	{ "'=' then a digit", BYTES("YQ=A"), 64, REJECTED },
	{ "'=' in the middle of the last group", BYTES("Y=Q="), 64, REJECTED },
	{ "'=' first in the group", BYTES("=YWJ"), 64, REJECTED },
	{ "padding in the first of two groups", BYTES("YQ==YWJj"), 64, REJECTED },
	{ "one '=' in the first of two groups", BYTES("YWI=YWJj"), 64, REJECTED },
	{ "padding followed by more padding", BYTES("YQ======"), 64, REJECTED },
	/* non-canonical: the bits that padding stands for must be zero */
	{ "non-canonical, 2 digits: the lowest unused bit set (YR==)", BYTES("YR=="), 64, REJECTED },
	{ "non-canonical, 2 digits: all 4 unused bits set (Yf==)", BYTES("Yf=="), 64, REJECTED },
	{ "non-canonical, 2 digits: the highest unused bit set (YY==)", BYTES("YY=="), 64, REJECTED },
	{ "canonical neighbour of YR== (YQ==)", BYTES("YQ=="), 64, DECODES("a") },
	{ "non-canonical, 3 digits: the lowest unused bit set (YWJ=)", BYTES("YWJ="), 64, REJECTED },
	{ "non-canonical, 3 digits: both unused bits set (YWL=)", BYTES("YWL="), 64, REJECTED },
	{ "non-canonical, 3 digits: the higher unused bit set (YWK=)", BYTES("YWK="), 64, REJECTED },
	{ "canonical neighbour of YWJ= (YWI=)", BYTES("YWI="), 64, DECODES("ab") },
	/* length not a multiple of 4 */
	{ "1 digit", BYTES("Y"), 64, REJECTED },
	{ "5 digits", BYTES("YWJjZ"), 64, REJECTED },
	{ "6 digits", BYTES("YWJjZA"), 64, REJECTED },
	{ "7 digits", BYTES("YWJjZGU"), 64, REJECTED },
	{ "9 octets ending in padding", BYTES("YWJjZA==="), 64, REJECTED },
	/* the output buffer */
	{ "3 octets into exactly 3", BYTES("YWJj"), 3, DECODES("abc") },
	{ "3 octets into 2", BYTES("YWJj"), 2, REJECTED },
	{ "3 octets into 0", BYTES("YWJj"), 0, REJECTED },
	{ "2 octets into exactly 2", BYTES("YWI="), 2, DECODES("ab") },
	{ "2 octets into 1", BYTES("YWI="), 1, REJECTED },
	{ "1 octet into exactly 1", BYTES("YQ=="), 1, DECODES("a") },
	{ "1 octet into 0", BYTES("YQ=="), 0, REJECTED },
	{ "6 octets into exactly 6", BYTES("YWJjZGVm"), 6, DECODES("abcdef") },
	{ "6 octets into 5", BYTES("YWJjZGVm"), 5, REJECTED },
	{ "6 octets into 3 (the second group does not fit)", BYTES("YWJjZGVm"), 3, REJECTED },
	{ "5 octets into exactly 5", BYTES("YWJjZGU="), 5, DECODES("abcde") },
	{ "5 octets into 4", BYTES("YWJjZGU="), 4, REJECTED },
	{ "13 octets (PLAIN) into 12", BYTES("AGFsaWNlAHNlY3JldA=="), 12, REJECTED },
	{ "48 octets (alphabet) into 47", BYTES(ALPHABET), 47, REJECTED },
};

/* "ok N \"escaped octets\"" or "rejected". */
static void render_decoded(struct unit_buf *b, bool ok, const unsigned char *out, size_t len)
{
	char shown[1024];

	unit_buf_clear(b);
	if (!ok) {
		unit_buf_adds(b, "rejected");
		return;
	}
	unit_escape(shown, sizeof shown, (const char *)out, len);
	unit_buf_addf(b, "ok %zu \"%s\"", len, shown);
}

static void test_base64_decode(void)
{
	struct unit_buf got = { 0 }, want = { 0 };

	for (size_t i = 0; i < sizeof b64_cases / sizeof *b64_cases; i++) {
		const struct b64_case *c = &b64_cases[i];
		unsigned char out[64 + GUARD];
		/* The input is followed by valid digits, not a NUL: a decoder
		 * reading past in_len would decode them and show. */
		char in[128];
		size_t out_len = SIZE_MAX;
		bool ok, guard_intact = true;

		memset(in, 'A', sizeof in);
		memcpy(in, c->in, c->in_len);
		memset(out, GUARD_BYTE, sizeof out);
		ok = base64_decode(in, c->in_len, out, c->size, &out_len);
		render_decoded(&got, ok, out, ok ? out_len : 0);
		render_decoded(&want, c->ok, (const unsigned char *)c->out, c->out_len);
		unit_expect_str(got.data, want.data, "base64_decode: %s (size %zu)", c->what, c->size);
		for (size_t k = c->size; k < sizeof out; k++)
			if (out[k] != GUARD_BYTE)
				guard_intact = false;
		unit_ok(guard_intact, "base64_decode: %s: nothing written past %zu octets", c->what, c->size);
	}
	unit_buf_free(&got);
	unit_buf_free(&want);
}

/* A reference encoder, to check decoding round trips for every length. */
static size_t encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = ALPHABET;
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t g = (uint32_t)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			g |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			g |= in[i + 2];
		out[n++] = digits[g >> 18 & 63];
		out[n++] = digits[g >> 12 & 63];
		out[n++] = left > 1 ? digits[g >> 6 & 63] : '=';
		out[n++] = left > 2 ? digits[g & 63] : '=';
	}
	return n;
}

/* Every length from 0 to 200 octets of varied bytes (all 256 values
 * occur) decodes back to itself into a buffer of exactly its size. */
static void test_base64_round_trip(void)
{
	unsigned char data[200], out[200 + GUARD];
	char text[300];
	unsigned bad = 0, first_bad = 0;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 167 + 13);
	for (size_t len = 0; len <= sizeof data; len++) {
		size_t tlen = encode(data, len, text), out_len = SIZE_MAX;

		memset(out, GUARD_BYTE, sizeof out);
		if (!base64_decode(text, tlen, out, len, &out_len) || out_len != len ||
		    memcmp(out, data, len) != 0 || out[len] != GUARD_BYTE) {
			if (bad++ == 0)
				first_bad = (unsigned)len;
		}
	}
	if (!unit_ok(bad == 0, "base64_decode: round trip of 0..200 octets into exact-size buffers"))
		unit_diag("%u lengths failed, the first %u octets", bad, first_bad);
}

/* ---- base64_encode ---- */

/* RFC 4648 section 10's vectors and binary octets. */
static const struct {
	const char *data;
	size_t len;
	const char *expected;
} encode_cases[] = {
	{ BYTES(""), "" },
	{ BYTES("f"), "Zg==" },
	{ BYTES("fo"), "Zm8=" },
	{ BYTES("foo"), "Zm9v" },
	{ BYTES("foob"), "Zm9vYg==" },
	{ BYTES("fooba"), "Zm9vYmE=" },
	{ BYTES("foobar"), "Zm9vYmFy" },
	{ BYTES("\xff\xfe\xfd"), "//79" },
	{ BYTES("\0\0\0\0"), "AAAAAA==" },
	{ BYTES("\xfb\xff"), "+/8=" },
	{ BYTES(ALPHABET_DECODED), ALPHABET },
};

static void test_base64_encode(void)
{
	char text[128];

	for (size_t i = 0; i < sizeof encode_cases / sizeof *encode_cases; i++) {
		size_t n;

		memset(text, 'X', sizeof text);
		n = base64_encode((const unsigned char *)encode_cases[i].data, encode_cases[i].len, text);
		unit_expect_bytes(text, n, encode_cases[i].expected, strlen(encode_cases[i].expected),
				  "base64_encode of %zu octets", encode_cases[i].len);
		unit_ok(text[n] == 'X', "base64_encode of %zu octets: nothing written past its length",
			encode_cases[i].len);
	}
}

/* Every length from 0 to 200 octets encodes as the reference encoder does, into exactly
 * BASE64_LENGTH characters. */
static void test_base64_encode_lengths(void)
{
	unsigned char data[200];
	char want[300], got[300];
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 167 + 13);
	for (size_t len = 0; len <= sizeof data; len++) {
		size_t n = encode(data, len, want);

		memset(got, 'X', sizeof got);
		if (base64_encode(data, len, got) != n || n != BASE64_LENGTH(len) || memcmp(got, want, n) != 0 ||
		    got[n] != 'X')
			bad++;
	}
	unit_expect_uint(bad, 0, "base64_encode: 0..200 octets as the reference encoder, nothing past the end");
}

int main(void)
{
	test_base64_decode();
	test_base64_round_trip();
	test_base64_encode();
	test_base64_encode_lengths();
	return unit_done();
}
