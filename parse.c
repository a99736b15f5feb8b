/*
 * parse.c - line framing, command splitting, strict numbers and the name
 * rules, over memory only.
 */
#include "parse.h"

#include <string.h>

void line_reader_init(struct line_reader *r, size_t max_line)
{
	r->max_line = max_line;
	r->start = 0;
	r->end = 0;
	r->used = 0;
	r->discarding = false;
}

void line_reader_limit(struct line_reader *r, size_t max_line)
{
	r->max_line = max_line;
}

/* Moves the unread bytes to the front so that new input has the most room. */
static void line_compact(struct line_reader *r)
{
	size_t avail = r->end - r->start;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, avail);
		r->start = 0;
		r->end = avail;
	}
}

enum line_status line_take(struct line_reader *r, struct line *out)
{
	for (;;) {
		char *p = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *lf = memchr(p, '\n', avail);

		if (r->discarding) {
			if (lf == NULL) {
				r->start = r->end = 0;
				return LINE_NEED_MORE;
			}
			r->start += (size_t)(lf - p) + 1;
			r->discarding = false;
			continue;
		}
		if (lf == NULL) {
			/* max_line octets without an LF cannot become a line of
			 * at most max_line octets with its CRLF. */
			if (avail >= r->max_line) {
				r->discarding = true;
				r->start = r->end = 0;
				return LINE_TOO_LONG;
			}
			line_compact(r);
			return LINE_NEED_MORE;
		}
		size_t len = (size_t)(lf - p);
		r->start += len + 1;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		/* Counted as if it ended in CRLF, so a bare LF gains nothing. */
		if (len + 2 > r->max_line)
			return LINE_TOO_LONG;
		p[len] = '\0';
		out->text = p;
		out->len = len;
		return LINE_OK;
	}
}

char *line_room(struct line_reader *r, size_t *room)
{
	line_compact(r);
	*room = sizeof r->buf - r->end;
	return r->buf + r->end;
}

void line_commit(struct line_reader *r, size_t n)
{
	r->end += n;
	if (r->end > r->used)
		r->used = r->end;
}

void line_reader_wipe(struct line_reader *r)
{
	explicit_bzero(r->buf, r->used);
	line_reader_init(r, r->max_line);
}

size_t line_feed(struct line_reader *r, const char *data, size_t len)
{
	size_t room;
	char *to = line_room(r, &room);

	if (len > room)
		len = room;
	memcpy(to, data, len);
	line_commit(r, len);
	return len;
}

size_t line_pending(const struct line_reader *r, const char **data)
{
	*data = r->buf + r->start;
	return r->end - r->start;
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ascii_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Copies a keyword of 1..4 ASCII letters upper-cased; anything else leaves "". */
static void keyword_copy(char dst[5], const char *src, size_t len)
{
	dst[0] = '\0';
	if (len == 0 || len > 4)
		return;
	for (size_t i = 0; i < len; i++)
		if (!is_ascii_letter(src[i]))
			return;
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(src[i] & ~0x20);
	dst[len] = '\0';
}

static size_t skip_separators(const char *s, size_t i, size_t len)
{
	while (i < len && is_separator(s[i]))
		i++;
	return i;
}

static size_t skip_word(const char *s, size_t i, size_t len)
{
	while (i < len && !is_separator(s[i]))
		i++;
	return i;
}

enum parse_status command_parse(const char *line, size_t len, struct command *out)
{
	size_t i, word;

	memset(out, 0, sizeof *out);
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL)
		return PARSE_BAD_BYTE;
	i = skip_separators(line, 0, len);
	if (i == len)
		return PARSE_EMPTY;
	word = i;
	i = skip_word(line, i, len);
	keyword_copy(out->keyword, line + word, i - word);
	i = skip_separators(line, i, len);
	out->rest = line + i;
	out->rest_len = len - i;
	while (i < len) {
		word = i;
		i = skip_word(line, i, len);
		if (out->argc < COMMAND_ARGS_MAX) {
			out->argv[out->argc].text = line + word;
			out->argv[out->argc].len = i - word;
		}
		if (out->argc <= COMMAND_ARGS_MAX)
			out->argc++;
		i = skip_separators(line, i, len);
	}
	return PARSE_OK;
}

static bool all_digits(const char *text, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

/* Decimal digits that cannot overflow 64 bits whatever they are: 10^19 - 1 < 2^64. */
#define U64_SAFE_DIGITS 19

bool parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;

	if (!all_digits(text, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		uint64_t digit = (uint64_t)(text[i] - '0');

		/* Only a 20th digit and beyond may overflow: the check (a
		 * division) is left out of the common numbers, which a UID
		 * list of a million messages holds millions of. */
		if (i >= U64_SAFE_DIGITS && value > (UINT64_MAX - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	if (value > max)
		return false;
	*out = value;
	return true;
}

bool parse_message_number(const char *text, size_t len, size_t max, size_t *out)
{
	uint64_t value;

	if (!parse_u64(text, len, max, &value) || value < 1)
		return false;
	*out = (size_t)value;
	return true;
}

bool parse_line_count(const char *text, size_t len, uint64_t *out)
{
	if (!all_digits(text, len))
		return false;
	/* fetchmail asks for TOP n 99999999: any count beyond the
	 * message means the whole message, however many digits. */
	if (!parse_u64(text, len, UINT64_MAX, out))
		*out = UINT64_MAX;
	return true;
}

bool parse_uint_setting(const char *text, unsigned min, unsigned max, unsigned *out)
{
	uint64_t value;

	if (!parse_u64(text, strlen(text), max, &value) || value < min)
		return false;
	*out = (unsigned)value;
	return true;
}

bool user_name_ok(const char *name, size_t len)
{
	/* A leading '-' reads as an option to the tools a PAM module may
	 * run, a leading '.' as a hidden file. */
	if (len < 1 || len > USER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* '\\' is Windows' DOMAIN\user, which sssd and winbind take
		 * apart; '/' a path and ':' the passwd file's separator. */
		if (c <= 0x20 || c == 0x7f || c == '/' || c == ':' || c == '\\')
			return false;
	}
	return true;
}

bool unique_id_ok(const char *s, size_t len)
{
	if (len < 1 || len > UIDL_STRING_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

bool domain_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= DOMAIN_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") == len;
}

enum sasl_plain_status sasl_plain_parse(char *buf, size_t len, struct sasl_plain *out)
{
	char *first = memchr(buf, '\0', len);
	char *second = first ? memchr(first + 1, '\0', len - (size_t)(first + 1 - buf)) : NULL;

	buf[len] = '\0';
	if (second == NULL || memchr(second + 1, '\0', len - (size_t)(second + 1 - buf)) != NULL)
		return PLAIN_MALFORMED;
	out->authzid = buf;
	out->authcid = first + 1;
	out->authcid_len = (size_t)(second - (first + 1));
	out->password = second + 1;
	if (out->authcid_len == 0 || out->authcid_len > USER_NAME_MAX)
		return PLAIN_BAD_AUTHCID;
	if (buf[0] != '\0' && strcmp(out->authzid, out->authcid) != 0)
		return PLAIN_BAD_AUTHZID;
	return PLAIN_OK;
}

char *trim_blanks(char *s)
{
	size_t len;

	while (is_separator(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_separator(s[len - 1]))
		s[--len] = '\0';
	return s;
}
