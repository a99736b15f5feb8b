/*
 * fuzz-parse.c - libFuzzer target for parse.c and base64.c: the input is
 * cut into lines by the line reader (in feeds of varying size), each line
 * is split into a command, its arguments go through the number parsers,
 * and the whole input through base64 (decoded, then encoded back) and SASL
 * PLAIN.  Invariants are checked with abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Runs one line through the command and number parsers. */
static void parse_line(const struct line *l, size_t max_line)
{
	struct command c;
	uint64_t count;
	size_t n;

	check(l->len + 2 <= max_line && l->text[l->len] == '\0');
	if (command_parse(l->text, l->len, &c) != PARSE_OK)
		return;
	check(strlen(c.keyword) <= 4 && c.argc <= COMMAND_ARGS_MAX + 1);
	check(c.rest >= l->text && c.rest + c.rest_len == l->text + l->len);
	for (unsigned i = 0; i < c.argc && i < COMMAND_ARGS_MAX; i++) {
		if (parse_message_number(c.argv[i].text, c.argv[i].len, 1000, &n))
			check(n >= 1 && n <= 1000);
		if (parse_line_count(c.argv[i].text, c.argv[i].len, &count))
			check(c.argv[i].len > 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct line_reader r;
	unsigned char decoded[2048];
	char plain[2049], encoded[BASE64_LENGTH(sizeof decoded)];
	struct sasl_plain sp;
	size_t max_line = size > 0 ? COMMAND_LENGTH_MIN + data[0] % (COMMAND_LENGTH_MAX - COMMAND_LENGTH_MIN + 1)
				   : COMMAND_LENGTH_DEFAULT;
	size_t feed = size > 1 ? 1 + data[1] % 97 : 1, off = 0, n;
	struct line l;

	line_reader_init(&r, max_line);
	while (off < size) {
		size_t piece = size - off < feed ? size - off : feed;

		off += line_feed(&r, (const char *)data + off, piece);
		for (enum line_status st; (st = line_take(&r, &l)) != LINE_NEED_MORE;)
			if (st == LINE_OK)
				parse_line(&l, max_line);
	}
	if (base64_decode((const char *)data, size, decoded, sizeof decoded, &n)) {
		check(n <= sizeof decoded && n <= size / 4 * 3);
		/* Strict decoding takes only the canonical form: encoding gives it back. */
		check(base64_encode(decoded, n, encoded) == size && memcmp(encoded, data, size) == 0);
		memcpy(plain, decoded, n);
		if (sasl_plain_parse(plain, n, &sp) == PLAIN_OK)
			check(sp.authcid_len >= 1 && sp.authcid_len <= USER_NAME_MAX);
	}
	return 0;
}
