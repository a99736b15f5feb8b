/*
 * unit.h - a tiny TAP harness for the C unit tests.
 *
 * Every check prints "ok N - what" or "not ok N - what"; a failed check
 * adds "# " lines saying what was expected and what came instead.
 * unit_done() prints the plan "1..N" last (TAP allows a trailing plan, so
 * tables can grow without anyone counting) and gives the exit status:
 * 1 when a check failed, 0 otherwise.  Header-only and static: each test
 * program is a single file, and unused helpers must not warn.
 */
#ifndef POP3_UNIT_H
#define POP3_UNIT_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A byte string literal and its length, NULs included: for table rows. */
#define BYTES(s) (s), (sizeof(s) - 1)

#define UNIT_DESC_MAX 256
/* Diagnostics show at most this many octets of a value, so that a failed
 * check on a 300 KB message stays readable. */
#define UNIT_SHOW_MAX 120

struct unit_state {
	unsigned run;
	unsigned failed;
};

/* One counter per program, without a global that an unused header would
 * leave dangling. */
static inline struct unit_state *unit_state(void)
{
	static struct unit_state state;

	return &state;
}

/* Prints one result line; descriptions are flattened to one line because
 * a newline would end the TAP line early. */
static inline bool unit_report(bool pass, const char *desc)
{
	struct unit_state *s = unit_state();

	s->run++;
	if (!pass)
		s->failed++;
	printf("%s %u - ", pass ? "ok" : "not ok", s->run);
	for (const char *p = desc; *p != '\0'; p++)
		putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
	putchar('\n');
	/* Flushed per line so that a crash still leaves every earlier result. */
	fflush(stdout);
	return pass;
}

__attribute__((format(printf, 3, 0)))
static inline void unit_vformat(char *buf, size_t size, const char *format, va_list ap)
{
	if (vsnprintf(buf, size, format, ap) < 0)
		snprintf(buf, size, "(unprintable description)");
}

/* Prints a diagnostic line under the last result. */
__attribute__((format(printf, 1, 2)))
static inline void unit_diag(const char *format, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, format);
	unit_vformat(text, sizeof text, format, ap);
	va_end(ap);
	printf("# %s\n", text);
	fflush(stdout);
}

/* Stops the whole program when the test environment itself fails (no
 * memfd, no tmpfile): no later result could be trusted. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void unit_bail(const char *format, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, format);
	unit_vformat(text, sizeof text, format, ap);
	va_end(ap);
	printf("Bail out! %s\n", text);
	exit(2);
}

/* Records a plain condition. */
__attribute__((format(printf, 2, 3)))
static inline bool unit_ok(bool pass, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	return unit_report(pass, desc);
}

/* Records a check that cannot run on this machine, with the reason: TAP's
 * "# SKIP", which the runner counts as skipped, neither passed nor failed. */
__attribute__((format(printf, 2, 3)))
static inline void unit_skip(const char *why, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	unit_state()->run++;
	printf("ok %u - %s # SKIP %s\n", unit_state()->run, desc, why);
	fflush(stdout);
}

/* Appends bytes to a diagnostic C-escaped, so that CR, LF and NUL show. */
static inline void unit_escape(char *dst, size_t size, const char *src, size_t len)
{
	size_t used = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		char piece[8];

		switch (c) {
		case '\r': snprintf(piece, sizeof piece, "\\r"); break;
		case '\n': snprintf(piece, sizeof piece, "\\n"); break;
		case '\t': snprintf(piece, sizeof piece, "\\t"); break;
		case '\\': snprintf(piece, sizeof piece, "\\\\"); break;
		case '"': snprintf(piece, sizeof piece, "\\\""); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				snprintf(piece, sizeof piece, "\\x%02x", c);
			else
				snprintf(piece, sizeof piece, "%c", c);
		}
		if (used + strlen(piece) + 1 > size)
			break;
		memcpy(dst + used, piece, strlen(piece) + 1);
		used += strlen(piece);
	}
}

/* Shows a window of a value around offset at, marking cut-off ends. */
static inline void unit_show(const char *label, const char *data, size_t len, size_t at)
{
	char text[UNIT_SHOW_MAX * 4 + 1];
	size_t from = at > UNIT_SHOW_MAX / 3 ? at - UNIT_SHOW_MAX / 3 : 0;
	size_t count = len - (from < len ? from : len);

	if (count > UNIT_SHOW_MAX)
		count = UNIT_SHOW_MAX;
	unit_escape(text, sizeof text, data + (from < len ? from : len), count);
	unit_diag("%s %zu octets: %s\"%s\"%s", label, len, from > 0 ? "..." : "",
		  text, from + count < len ? "..." : "");
}

static inline size_t unit_first_difference(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0;

	while (i < alen && i < blen && a[i] == b[i])
		i++;
	return i;
}

/* Compares byte strings; on failure shows both around the first difference. */
__attribute__((format(printf, 5, 6)))
static inline bool unit_expect_bytes(const char *got, size_t got_len, const char *expected,
				     size_t expected_len, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;
	bool pass = got_len == expected_len && memcmp(got, expected, got_len) == 0;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	if (!unit_report(pass, desc)) {
		size_t at = unit_first_difference(got, got_len, expected, expected_len);

		unit_diag("first difference at offset %zu", at);
		unit_show("expected", expected, expected_len, at);
		unit_show("got     ", got, got_len, at);
	}
	return pass;
}

/* Compares NUL-terminated strings (results rendered as text by the tests). */
__attribute__((format(printf, 3, 4)))
static inline bool unit_expect_str(const char *got, const char *expected, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;
	bool pass = strcmp(got, expected) == 0;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	if (!unit_report(pass, desc)) {
		size_t at = unit_first_difference(got, strlen(got), expected, strlen(expected));

		unit_show("expected", expected, strlen(expected), at);
		unit_show("got     ", got, strlen(got), at);
	}
	return pass;
}

__attribute__((format(printf, 3, 4)))
static inline bool unit_expect_uint(uint64_t got, uint64_t expected, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;
	bool pass = got == expected;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	if (!unit_report(pass, desc))
		unit_diag("expected %" PRIu64 ", got %" PRIu64, expected, got);
	return pass;
}

__attribute__((format(printf, 3, 4)))
static inline bool unit_expect_bool(bool got, bool expected, const char *format, ...)
{
	char desc[UNIT_DESC_MAX];
	va_list ap;
	bool pass = got == expected;

	va_start(ap, format);
	unit_vformat(desc, sizeof desc, format, ap);
	va_end(ap);
	if (!unit_report(pass, desc))
		unit_diag("expected %s, got %s", expected ? "true" : "false", got ? "true" : "false");
	return pass;
}

/* A growable byte string: tests render results into one and compare it
 * whole, so that a row's expectation is a single literal. */
struct unit_buf {
	char *data;	/* always NUL-terminated once anything was added */
	size_t len, cap;
};

static inline void unit_buf_add(struct unit_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (b->len + len + 1 > cap)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			unit_bail("out of memory");
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static inline void unit_buf_adds(struct unit_buf *b, const char *s)
{
	unit_buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static inline void unit_buf_addf(struct unit_buf *b, const char *format, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, format);
	unit_vformat(text, sizeof text, format, ap);
	va_end(ap);
	unit_buf_adds(b, text);
}

/* Empties the string, keeping its memory for the next row. */
static inline void unit_buf_clear(struct unit_buf *b)
{
	unit_buf_add(b, "", 0);
	b->len = 0;
	b->data[0] = '\0';
}

static inline void unit_buf_free(struct unit_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Streaming code is fed whole (UNIT_WHOLE) and in pieces of other sizes;
 * a piece size not below the input length would repeat the whole run. */
#define UNIT_WHOLE SIZE_MAX

static inline bool unit_chunk_worth_running(size_t chunk, size_t input_len)
{
	return chunk == UNIT_WHOLE || chunk < input_len;
}

static inline const char *unit_chunk_label(char *buf, size_t size, size_t chunk)
{
	if (chunk == UNIT_WHOLE)
		snprintf(buf, size, "whole");
	else if (chunk == 1)
		snprintf(buf, size, "byte by byte");
	else
		snprintf(buf, size, "in chunks of %zu", chunk);
	return buf;
}

/* Prints the plan and returns the exit status; a program that checked
 * nothing has failed too, as it proved nothing. */
static inline int unit_done(void)
{
	struct unit_state *s = unit_state();

	printf("1..%u\n", s->run);
	if (s->run == 0)
		printf("# no test ran\n");
	else if (s->failed > 0)
		printf("# %u of %u failed\n", s->failed, s->run);
	fflush(stdout);
	return s->run == 0 || s->failed > 0 ? 1 : 0;
}

#endif
