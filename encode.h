/*
 * encode.h - a message as RETR and TOP send it (CRLF line ends,
 * dot-stuffing, TOP's cut after the header and some body lines) and the
 * size it has so encoded: pure functions that hand their octets to a sink.
 */
#ifndef POP3_ENCODE_H
#define POP3_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where an encoder puts its octets: put() takes them in order (io.c gives the client's
 * output buffer; tests give memory). */
struct byte_sink {
	void (*put)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* The encoder's state between blocks of one message. */
struct dot_encoder {
	bool limited;		/* TOP: stop after body_lines lines of body */
	bool in_body;		/* the blank line after the header was passed */
	bool done;		/* the TOP limit was reached: ignore the rest */
	bool last_cr;		/* the last octet of the current line was CR */
	unsigned line_len;	/* octets in the current line so far, capped at 2 */
	uint64_t body_lines;	/* body lines still to send when limited */
};

/* Starts an encoder for a whole message (limited false) or for its header and body_lines
 * lines of body. */
void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines);

/* Encodes the next block of the message into the sink; returns false once the TOP limit is
 * reached and no more is wanted. */
bool dot_encode(struct dot_encoder *e, const char *data, size_t len, const struct byte_sink *out);

/* Ends the message: a CRLF if the last line lacked one (the "." line is the caller's). */
void dot_finish(struct dot_encoder *e, const struct byte_sink *out);

/* Counts a message's size with every line ending as CRLF (the size Dovecot reports), block
 * by block. */
struct crlf_counter {
	uint64_t size;
	bool last_cr;
};

/* Adds one block of message bytes to the count. */
void crlf_count(struct crlf_counter *c, const char *data, size_t len);

#endif
