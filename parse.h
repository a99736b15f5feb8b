/*
 * parse.h - turning client bytes into lines, lines into commands, and text
 * into numbers and names: pure functions over memory, no system calls.
 */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "params.h"

/* Buffered command input: bytes arrive through line_room() and
 * line_commit() (io.c reads them from the client) or line_feed(), and
 * leave as lines through line_take(). */
struct line_reader {
	size_t max_line;	/* longest line accepted, CRLF included */
	size_t start, end;	/* unread bytes are buf[start..end) */
	size_t used;		/* the most of buf input has ever filled: what a wipe covers */
	bool discarding;	/* dropping the rest of an over-long line */
	char buf[INPUT_BUFFER_SIZE];
};

enum line_status {
	LINE_OK,		/* a complete line was taken */
	LINE_TOO_LONG,		/* a line exceeded max_line; reported once, then dropped up to its LF */
	LINE_NEED_MORE,		/* no complete line is buffered: more input is needed */
};

/* One command line: bytes without the line ending, NUL-terminated in place. */
struct line {
	char *text;
	size_t len;
};

/* Prepares an empty reader for lines of at most max_line octets (CRLF included, at most
 * INPUT_BUFFER_SIZE). */
void line_reader_init(struct line_reader *r, size_t max_line);

/* Changes the longest line accepted from the next line on (at most INPUT_BUFFER_SIZE): a SASL
 * response may be longer than a command. */
void line_reader_limit(struct line_reader *r, size_t max_line);

/* Takes the next complete line from the buffered input, ending at LF with an optional CR
 * before it. */
enum line_status line_take(struct line_reader *r, struct line *out);

/* Makes the free space at the end of the buffer as large as it can be and returns it, with
 * its size in *room, for input to be written into and then counted by line_commit(). */
char *line_room(struct line_reader *r, size_t *room);

/* Counts n octets written into the space line_room() gave as buffered input. */
void line_commit(struct line_reader *r, size_t n);

/* Appends bytes to the buffer as if they had arrived from the client, returning how many
 * fitted (for tests, fuzzing, and the input a separated session hands over). */
size_t line_feed(struct line_reader *r, const char *data, size_t len);

/* Wipes every octet input ever filled (it may have held a password) and empties the reader;
 * the rest of the buffer, never written, is left untouched, so that its pages are never
 * faulted in. */
void line_reader_wipe(struct line_reader *r);

/* Points *data at the bytes buffered but not yet taken as lines (at most INPUT_BUFFER_SIZE)
 * and returns their number. */
size_t line_pending(const struct line_reader *r, const char **data);

/* The most arguments a command takes (TOP msg n). */
#define COMMAND_ARGS_MAX 2

struct command {
	char keyword[5];	/* upper-cased keyword; "" when it is not 1..4 letters */
	const char *rest;	/* everything after the separators that follow the keyword */
	size_t rest_len;
	unsigned argc;		/* arguments seen; COMMAND_ARGS_MAX + 1 means too many */
	struct {
		const char *text;
		size_t len;
	} argv[COMMAND_ARGS_MAX];
};

enum parse_status {
	PARSE_OK,
	PARSE_EMPTY,		/* nothing but separators */
	PARSE_BAD_BYTE,		/* a NUL or CR inside the line */
};

/* Splits a line into keyword and arguments separated by runs of SP or HTAB; the line itself
 * is not changed. */
enum parse_status command_parse(const char *line, size_t len, struct command *out);

/* Splits the next line (without its LF) off *p, up to end; false when no LF is left (a last
 * line without one is a file cut short).  Inline: list files call it once a line. */
static inline bool split_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *lf = memchr(*p, '\n', (size_t)(end - *p));

	if (lf == NULL)
		return false;
	*line = *p;
	*len = (size_t)(lf - *p);
	*p = lf + 1;
	return true;
}

/* Parses decimal digits only (no sign, no blanks) into *out; false when empty, not all
 * digits, or above max. */
bool parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out);

/* Parses a message number: decimal digits only, value 1..max; false for anything else. */
bool parse_message_number(const char *text, size_t len, size_t max, size_t *out);

/* Parses a line count for TOP: decimal digits only; values beyond UINT64_MAX saturate to
 * it. */
bool parse_line_count(const char *text, size_t len, uint64_t *out);

/* Parses an unsigned decimal setting in [min, max]: digits only, no sign, no overflow. */
bool parse_uint_setting(const char *text, unsigned min, unsigned max, unsigned *out);

/* Tells whether a user name is one we accept: 1..USER_NAME_MAX octets, no '/', ':', '\',
 * control characters, space or DEL, no leading '.' or '-' (so NSS and PAM never see a name
 * they would take apart; '@' stays, for sssd's user@domain). */
bool user_name_ok(const char *name, size_t len);

/* Tells whether len octets are an RFC 1939 unique-id: 1 to UIDL_STRING_MAX octets, each from
 * 0x21 to 0x7E. */
bool unique_id_ok(const char *s, size_t len);

/* Tells whether a domain or realm name is one we accept: 1..DOMAIN_NAME_MAX letters, digits,
 * '.', '-' and '_'. */
bool domain_name_ok(const char *name);

/* The parts of a SASL PLAIN message (RFC 4616): authzid NUL authcid NUL password, each
 * NUL-terminated in place. */
struct sasl_plain {
	const char *authzid;	/* "" when absent */
	const char *authcid;
	const char *password;
	size_t authcid_len;
};

enum sasl_plain_status {
	PLAIN_OK,
	PLAIN_MALFORMED,	/* not exactly two NULs */
	PLAIN_BAD_AUTHCID,	/* empty or longer than USER_NAME_MAX */
	PLAIN_BAD_AUTHZID,	/* neither empty nor the authentication id */
};

/* Splits a decoded PLAIN message held in buf (len octets, buf[len] writable) into its
 * parts. */
enum sasl_plain_status sasl_plain_parse(char *buf, size_t len, struct sasl_plain *out);

/* Removes leading and trailing spaces and tabs in place and returns the trimmed start. */
char *trim_blanks(char *s);

#endif
