/*
 * parse.h - turning client bytes into lines, lines into commands, and
 * arguments into numbers.  Nothing here writes a reply or touches a file
 * other than the one it is handed.
 */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "params.h"

/* Buffered command input from one file descriptor. */
struct line_reader {
	int fd;
	size_t max_line;	/* longest line accepted, CRLF included */
	size_t start, end;	/* unread bytes are buf[start..end) */
	bool discarding;	/* dropping the rest of an over-long line */
	char buf[INPUT_BUFFER_SIZE];
};

enum line_status {
	LINE_OK,		/* a complete line was taken */
	LINE_TOO_LONG,		/* a line exceeded max_line; reported once, then dropped up to its LF */
	LINE_NEED_MORE,		/* no complete line is buffered: call line_fill() */
};

/* One command line: bytes without the line ending, NUL-terminated in place. */
struct line {
	char *text;
	size_t len;
};

/* Prepares a reader on fd for lines of at most max_line octets (CRLF included, at most INPUT_BUFFER_SIZE). */
void line_reader_init(struct line_reader *r, int fd, size_t max_line);

/* Changes the longest line accepted from the next line on (at most INPUT_BUFFER_SIZE): a SASL response may be longer than a command. */
void line_reader_limit(struct line_reader *r, size_t max_line);

/* Takes the next complete line from the buffered input, ending at LF with an optional CR before it. */
enum line_status line_take(struct line_reader *r, struct line *out);

/* Reads more input into the buffer: returns the number of bytes read, 0 at end of input, -1 with errno on error (EINTR included). */
ssize_t line_fill(struct line_reader *r);

/* Appends bytes to the buffer as if read from the fd, returning how many fitted (for tests, fuzzing, and the input a separated session hands over). */
size_t line_feed(struct line_reader *r, const char *data, size_t len);

/* Points *data at the bytes read but not yet taken as lines (at most INPUT_BUFFER_SIZE) and returns their number. */
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

/* Splits a line into keyword and arguments separated by runs of SP or HTAB; the line itself is not changed. */
enum parse_status command_parse(const char *line, size_t len, struct command *out);

/* Parses decimal digits only (no sign, no blanks) into *out; false when empty, not all digits, or above max. */
bool parse_u64(const char *text, size_t len, uint64_t max, uint64_t *out);

/* Parses a message number: decimal digits only, value 1..max; false for anything else. */
bool parse_message_number(const char *text, size_t len, size_t max, size_t *out);

/* Parses a line count for TOP: decimal digits only; values beyond UINT64_MAX saturate to it. */
bool parse_line_count(const char *text, size_t len, uint64_t *out);

/* Parses an unsigned decimal setting in [min, max]: digits only, no sign, no overflow. */
bool parse_uint_setting(const char *text, unsigned min, unsigned max, unsigned *out);

/* Decodes strict base64 (RFC 4648: standard alphabet, '=' padding to a multiple of 4, no blanks) into out; false when malformed or longer than size. */
bool base64_decode(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len);

/* The parts of a SASL PLAIN message (RFC 4616): authzid NUL authcid NUL password, each NUL-terminated in place. */
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

/* Splits a decoded PLAIN message held in buf (len octets, buf[len] writable) into its parts. */
enum sasl_plain_status sasl_plain_parse(char *buf, size_t len, struct sasl_plain *out);

enum file_line_status {
	FILE_LINE_OK,
	FILE_LINE_TOO_LONG,	/* the line was longer than the buffer; it was skipped */
	FILE_LINE_NUL,		/* the line holds a NUL octet; it was skipped */
	FILE_LINE_EOF,
	FILE_LINE_ERROR,
};

/* Reads one line of a configuration-style file into buf without its newline (nor a CR before it), skipping over-long lines and lines with NUL octets whole. */
enum file_line_status file_line_read(FILE *f, char *buf, size_t size);

/* Removes leading and trailing spaces and tabs in place and returns the trimmed start. */
char *trim_blanks(char *s);

#endif
