/*
 * encode.h - a message as RETR and TOP send it (CRLF line ends,
 * dot-stuffing, TOP's cut after the header and some body lines, the client
 * workarounds) and the size it has so encoded: pure functions that hand
 * their octets to a sink.
 */
#ifndef POP3_ENCODE_H
#define POP3_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The client workarounds RETR and TOP apply (client_workarounds), as bits: bit i is the i-th
 * word of the key's list in config.c. */
enum {
	WORKAROUND_OUTLOOK_NO_NULS = 1u << 0,	/* outlook-no-nuls: NUL octets are sent as 0x80 */
	WORKAROUND_OE_NS_EOH = 1u << 1,		/* oe-ns-eoh: a header without an empty line after it gets one */
};

/* Where an encoder puts its octets: put() takes them in order (io.c gives the client's
 * output buffer; tests give memory). */
struct byte_sink {
	void (*put)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* The encoder's state between blocks of one message. */
struct dot_encoder {
	bool limited;		/* TOP: stop after body_lines lines of body */
	bool add_eoh;		/* oe-ns-eoh: end a header that has no blank line after it with one */
	bool in_body;		/* the blank line after the header was passed (kept for TOP and add_eoh) */
	bool done;		/* the TOP limit was reached: ignore the rest */
	bool last_cr;		/* the last octet of the current line was CR */
	unsigned line_len;	/* octets in the current line so far, capped at 2 */
	uint64_t body_lines;	/* body lines still to send when limited */
};

/* Starts an encoder for a whole message (limited false) or for its header and body_lines
 * lines of body; with add_eoh, a header that no blank line ends gets one (oe-ns-eoh). */
void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines, bool add_eoh);

/* Encodes the next block of the message into the sink; returns false once the TOP limit is
 * reached and no more is wanted. */
bool dot_encode(struct dot_encoder *e, const char *data, size_t len, const struct byte_sink *out);

/* Ends the message: a CRLF if the last line lacked one, then with add_eoh the blank line a
 * header never ended lacked (the "." line is the caller's). */
void dot_finish(struct dot_encoder *e, const struct byte_sink *out);

/* Counts a message's size with every line ending as CRLF (the size Dovecot reports), block
 * by block. */
struct crlf_counter {
	uint64_t size;
	bool last_cr;
};

/* Adds one block of message bytes to the count. */
void crlf_count(struct crlf_counter *c, const char *data, size_t len);

/* outlook-no-nuls: replaces every NUL octet of a block with 0x80, in place (the size stays). */
void replace_nuls(char *data, size_t len);

/* Where a message's header ends, found block by block as the encoder finds it: at the first
 * blank line (an empty line, or a lone CR before the LF). */
struct header_end {
	bool found;		/* the blank line was passed */
	bool last_cr;		/* the last octet of the current line was CR */
	unsigned line_len;	/* octets in the current line so far, capped at 2 */
};

/* Reads the next block of a message (h zeroed before the first); true once the header's end
 * is found: the rest of the message need not be read. */
bool header_end_find(struct header_end *h, const char *data, size_t len);

/* The octets oe-ns-eoh adds to a message h has read whole: none when its header ends with a
 * blank line, else the blank line (2) and, before it, the CRLF that ends a last line without
 * one (2).  That CRLF, sent for every such line, is counted only here: after it the message
 * goes on with the blank line, so it is the message's, not the terminating dot line's. */
unsigned header_end_added(const struct header_end *h);

#endif
