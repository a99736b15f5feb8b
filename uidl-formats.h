/*
 * uidl-formats.h - where other POP3 servers left the UIDLs they showed,
 * parsed from memory (no system calls): Dovecot's dovecot-uidlist with its
 * pop3_uidl_format, Courier's courierpop3dsizelist, and an X-UIDL header.
 * Every input is hostile: a line that does not parse is skipped.
 */
#ifndef POP3_UIDL_FORMATS_H
#define POP3_UIDL_FORMATS_H

#include <stdbool.h>
#include <stddef.h>

/* Takes one message's UIDL as a file names it: its base name (the file name before ':') and
 * the UIDL, neither NUL-terminated nor yet checked; false stops the parse (out of memory). */
struct uidl_sink {
	bool (*put)(void *ctx, const char *base, size_t base_len, const char *uidl, size_t uidl_len);
	void *ctx;
};

/* The longest UIDL a format expands to before it is checked: longer ones are refused. */
#define UIDL_EXPANDED_MAX 255

/* Tells whether format is a Dovecot pop3_uidl_format we expand: text with %u (the IMAP UID),
 * %v (the UIDVALIDITY), %f (the file's base name) and %% for a percent; X before u or v writes
 * lower-case hexadecimal, and a width before it works as in Dovecot: with a leading 0 it pads
 * with zeros (%08Xu), without one it keeps the first octets (%5v).  The format must name %u
 * or %f, so that two messages get two UIDLs. */
bool dovecot_format_ok(const char *format);

/* Parses a dovecot-uidlist (versions 1 and 3; 2 as 3) and gives each message its UIDL: the P
 * extension field when a line has one, else format expanded; false when the sink stopped it. */
bool dovecot_uidlist_parse(const char *data, size_t len, const char *format, const struct uidl_sink *sink);

/* Parses a courierpop3dsizelist (version 3: "/3 nextuid uidvalidity", then "name size
 * uid:uidvalidity...") and gives each message Courier's UIDL, "UID<uid>-<uidvalidity>"; false
 * when the sink stopped it. */
bool courier_sizelist_parse(const char *data, size_t len, const struct uidl_sink *sink);

/* Finds an X-UIDL header field in the len octets of a message's header (up to its blank line,
 * or as much as was read): the value without its surrounding blanks in *value and *value_len;
 * false when there is none. */
bool xuidl_find(const char *header, size_t len, const char **value, size_t *value_len);

#endif
