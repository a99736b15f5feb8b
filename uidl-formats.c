/*
 * uidl-formats.c - other servers' UIDL files and the X-UIDL header, parsed.
 */
#include "uidl-formats.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* Dovecot's and Courier's UIDs and UIDVALIDITYs are 32-bit. */
#define UID32_MAX 4294967295ULL

/* Takes the next space-separated word of [*s, end) into *word and *word_len; false at the end. */
static bool next_word(const char **s, const char *end, const char **word, size_t *word_len)
{
	const char *sp;

	while (*s < end && **s == ' ')
		(*s)++;
	if (*s == end)
		return false;
	sp = memchr(*s, ' ', (size_t)(end - *s));
	*word = *s;
	*word_len = (size_t)((sp != NULL ? sp : end) - *s);
	*s += *word_len;
	return true;
}

/* The length of a file name's base name: the part before ':'. */
static size_t base_of(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);

	return colon != NULL ? (size_t)(colon - name) : len;
}

/* --- Dovecot's pop3_uidl_format ------------------------------------------ */

/* The values a format may name for one message. */
struct format_values {
	uint64_t uid, uidvalidity;
	const char *base;
	size_t base_len;
};

/* A variable's text before its width applies: a number's digits, or the base name. */
struct field {
	char digits[20];
	const char *text;
	size_t len;
};

/* Sets f to n's digits in decimal or lower-case hexadecimal. */
static void number_field(struct field *f, uint64_t n, bool hex)
{
	size_t count = 0;
	char reversed[sizeof f->digits];

	do {
		reversed[count++] = "0123456789abcdef"[n % (hex ? 16 : 10)];
		n /= hex ? 16 : 10;
	} while (n != 0);
	for (f->len = 0; f->len < count; f->len++)
		f->digits[f->len] = reversed[count - 1 - f->len];
	f->text = f->digits;
}

/* Appends f to out at *len as Dovecot applies a width: "%08u" pads with zeros to at least 8
 * octets, "%8u" keeps at most the first 8; false when it does not fit size. */
static bool append_field(char *out, size_t *len, size_t size, const struct field *f, unsigned width, bool zero_pad)
{
	size_t take = !zero_pad && width > 0 && width < f->len ? width : f->len;
	size_t pad = zero_pad && width > f->len ? width - f->len : 0;

	if (pad + take > size - *len)
		return false;
	memset(out + *len, '0', pad);
	memcpy(out + *len + pad, f->text, take);
	*len += pad + take;
	return true;
}

/* Expands format for one message into out (size octets): text, %% and the variables
 * "%[0][width][X](u|v|f)"; false when the format is not of that form or the result does not
 * fit. */
static bool expand(const char *format, const struct format_values *v, char *out, size_t size, size_t *out_len)
{
	size_t len = 0;

	for (const char *p = format; *p != '\0'; p++) {
		struct field f = { .text = p, .len = 1 };
		unsigned width = 0;
		bool zero_pad = false, hex = false;

		if (*p == '%' && p[1] == '%') {
			p++;
		} else if (*p == '%') {
			zero_pad = *++p == '0';
			for (; *p >= '0' && *p <= '9' && width < UIDL_EXPANDED_MAX; p++)
				width = width * 10 + (unsigned)(*p - '0');
			if (*p == 'X')
				hex = *p++ == 'X';
			if (*p == 'f' && !hex)
				f = (struct field){ .text = v->base, .len = v->base_len };
			else if (*p == 'u' || *p == 'v')
				number_field(&f, *p == 'u' ? v->uid : v->uidvalidity, hex);
			else
				return false;
		}
		if (!append_field(out, &len, size, &f, width, zero_pad))
			return false;
	}
	*out_len = len;
	return true;
}

bool dovecot_format_ok(const char *format)
{
	static const struct format_values one = { 1, 1, "b", 1 }, other = { 2, 1, "c", 1 };
	char a[UIDL_EXPANDED_MAX], b[UIDL_EXPANDED_MAX];
	size_t a_len, b_len;

	/* Two messages must get two UIDLs: the format names the UID or the file. */
	return expand(format, &one, a, sizeof a, &a_len) && expand(format, &other, b, sizeof b, &b_len) &&
	       a_len > 0 && (a_len != b_len || memcmp(a, b, a_len) != 0);
}

/* --- dovecot-uidlist ------------------------------------------------------ */

/* Parses the header: "1 <uidvalidity> <nextuid>", or "3 V<uidvalidity> N<nextuid> ...". */
static bool dovecot_header(const char *line, size_t len, unsigned *version, uint64_t *uidvalidity)
{
	const char *s = line, *end = line + len, *w;
	size_t n;

	if (!next_word(&s, end, &w, &n) || n != 1 || (w[0] != '1' && w[0] != '2' && w[0] != '3'))
		return false;
	*version = (unsigned)(w[0] - '0');
	if (*version == 1)
		return next_word(&s, end, &w, &n) && parse_u64(w, n, UID32_MAX, uidvalidity);
	while (next_word(&s, end, &w, &n))
		if (w[0] == 'V')
			return parse_u64(w + 1, n - 1, UID32_MAX, uidvalidity);
	return false;
}

/* Parses one entry, "<uid> <name>" (version 1) or "<uid> [<ext>...] :<name>", and gives its
 * UIDL to the sink; true (nothing given) for a line that does not parse. */
static bool dovecot_entry(const char *line, size_t len, unsigned version, const char *format,
			  struct format_values *v, const struct uidl_sink *sink)
{
	const char *s = line, *end = line + len, *w, *name = NULL, *pop3 = NULL;
	size_t n, name_len = 0, pop3_len = 0, uidl_len;
	char uidl[UIDL_EXPANDED_MAX];

	if (!next_word(&s, end, &w, &n) || !parse_u64(w, n, UID32_MAX, &v->uid) || v->uid == 0)
		return true;
	while (name == NULL && next_word(&s, end, &w, &n)) {
		if (version == 1) {
			name = w;
			name_len = (size_t)(end - w);
		} else if (w[0] == ':') {
			name = w + 1;
			name_len = (size_t)(end - w - 1);
		} else if (w[0] == 'P') {
			pop3 = w + 1;
			pop3_len = n - 1;
		}
	}
	if (name == NULL || (v->base_len = base_of(name, name_len)) == 0)
		return true;
	v->base = name;
	if (pop3 != NULL && pop3_len > 0)
		return sink->put(sink->ctx, v->base, v->base_len, pop3, pop3_len);
	if (!expand(format, v, uidl, sizeof uidl, &uidl_len))
		return true;
	return sink->put(sink->ctx, v->base, v->base_len, uidl, uidl_len);
}

bool dovecot_uidlist_parse(const char *data, size_t len, const char *format, const struct uidl_sink *sink)
{
	const char *p = data, *end = data + len, *line;
	struct format_values v = { 0, 0, NULL, 0 };
	unsigned version;
	size_t n;

	if (!split_line(&p, end, &line, &n) || !dovecot_header(line, n, &version, &v.uidvalidity))
		return true;
	while (split_line(&p, end, &line, &n))
		if (!dovecot_entry(line, n, version, format, &v, sink))
			return false;
	return true;
}

/* --- courierpop3dsizelist -------------------------------------------------- */

/* Parses one line, "<name> <size> <uid>:<uidvalidity>[:...]", and gives the sink Courier's
 * UIDL, the numbers as Courier prints them; true (nothing given) for a line that does not parse. */
static bool courier_entry(const char *line, size_t len, const struct uidl_sink *sink)
{
	const char *s = line, *end = line + len, *name, *size, *ids, *colon, *uidv_end;
	size_t name_len, size_len, ids_len, base_len;
	uint64_t number, uid, uidvalidity;
	char uidl[UIDL_EXPANDED_MAX];
	int n;

	if (!next_word(&s, end, &name, &name_len) || !next_word(&s, end, &size, &size_len) ||
	    !next_word(&s, end, &ids, &ids_len) || !parse_u64(size, size_len, UINT64_MAX, &number) ||
	    (colon = memchr(ids, ':', ids_len)) == NULL || (base_len = base_of(name, name_len)) == 0)
		return true;
	/* The UIDVALIDITY ends at the next ':', if any. */
	uidv_end = memchr(colon + 1, ':', (size_t)(ids + ids_len - (colon + 1)));
	if (uidv_end == NULL)
		uidv_end = ids + ids_len;
	if (!parse_u64(ids, (size_t)(colon - ids), UID32_MAX, &uid) ||
	    !parse_u64(colon + 1, (size_t)(uidv_end - (colon + 1)), UID32_MAX, &uidvalidity))
		return true;
	n = snprintf(uidl, sizeof uidl, "UID%" PRIu64 "-%" PRIu64, uid, uidvalidity);
	return n < 0 || (size_t)n >= sizeof uidl || sink->put(sink->ctx, name, base_len, uidl, (size_t)n);
}

bool courier_sizelist_parse(const char *data, size_t len, const struct uidl_sink *sink)
{
	const char *p = data, *end = data + len, *line;
	size_t n;

	if (!split_line(&p, end, &line, &n) || n < 3 || memcmp(line, "/3 ", 3) != 0)
		return true;
	while (split_line(&p, end, &line, &n))
		if (!courier_entry(line, n, sink))
			return false;
	return true;
}

/* --- X-UIDL ----------------------------------------------------------------- */

bool xuidl_find(const char *header, size_t len, const char **value, size_t *value_len)
{
	static const char field[] = "X-UIDL:";
	const char *p = header, *end = header + len, *line;
	size_t n;

	while (split_line(&p, end, &line, &n)) {
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0)
			return false;	/* the blank line: the header ends */
		if (n < sizeof field - 1 || strncasecmp(line, field, sizeof field - 1) != 0)
			continue;
		line += sizeof field - 1;
		n -= sizeof field - 1;
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		*value = line;
		*value_len = n;
		return n > 0;
	}
	return false;
}
