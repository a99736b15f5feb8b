/*
 * io.h - everything pop3-handler sends to the client: one output buffer,
 * the RETR/TOP encoder (CRLF line ends and dot-stuffing), and the
 * inactivity timer that bounds every blocking read and write.
 */
#ifndef POP3_IO_H
#define POP3_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

enum output_state {
	OUTPUT_OK,
	OUTPUT_CLIENT_GONE,	/* write failed: the client closed or reset */
	OUTPUT_TIMED_OUT,	/* the client stopped reading until the timer fired */
};

struct output {
	int fd;
	enum output_state state;	/* once not OK, further output is dropped */
	size_t len;
	uint64_t sent;			/* octets written so far */
	char buf[OUTPUT_BUFFER_SIZE];
};

/* Prepares buffered output to fd. */
void output_init(struct output *o, int fd);

/* Appends bytes, writing the buffer out whenever it fills. */
void output_put(struct output *o, const void *data, size_t len);

/* Writes out everything buffered; returns false once the output has failed. */
bool output_flush(struct output *o);

/* Appends one response line: "+OK" or "-ERR", an optional [code], the text, CRLF, cut to RESPONSE_MAX octets. */
void output_response(struct output *o, bool ok, const char *code, const char *text);

/* Appends one line of a multi-line response (text plus CRLF, cut to RESPONSE_MAX octets). */
void output_line(struct output *o, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends a SASL challenge line (RFC 5034): "+ ", the len octets of data in base64 (RFC 4648, '=' padded), CRLF; "+ " alone for none.  Not cut: a mechanism's challenge must arrive whole. */
void output_continuation(struct output *o, const unsigned char *data, size_t len);

/* Appends the line "A B" CRLF of two decimal numbers, as LIST and UIDL list them (without printf: a large mailbox has 100,000 such lines). */
void output_number_pair(struct output *o, uint64_t a, uint64_t b);

/* Streams a message as RETR or TOP send it: CRLF line ends, dot-stuffing, optionally cut after the header and some body lines. */
struct dot_encoder {
	bool limited;		/* TOP: stop after body_lines lines of body */
	bool in_body;		/* the blank line after the header was passed */
	bool done;		/* the TOP limit was reached: ignore the rest */
	bool last_cr;		/* the last octet of the current line was CR */
	unsigned line_len;	/* octets in the current line so far, capped at 2 */
	uint64_t body_lines;	/* body lines still to send when limited */
};

/* Starts an encoder for a whole message (limited false) or for its header and body_lines lines of body. */
void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines);

/* Encodes the next block of the message into o; returns false once the TOP limit is reached and no more is wanted. */
bool dot_encode(struct dot_encoder *e, const char *data, size_t len, struct output *o);

/* Ends the message: a CRLF if the last line lacked one (the "." line is the caller's). */
void dot_finish(struct dot_encoder *e, struct output *o);

/* Counts a message's size with every line ending as CRLF (the size Dovecot reports), block by block. */
struct crlf_counter {
	uint64_t size;
	bool last_cr;
};

/* Adds one block of message bytes to the count. */
void crlf_count(struct crlf_counter *c, const char *data, size_t len);

/* Installs the SIGALRM and SIGPIPE handling the timer and the writers rely on. */
void io_signals_init(void);

/* (Re)starts the inactivity timer: after seconds without progress, blocking calls fail with EINTR and io_timed_out() turns true. */
void io_timer_start(unsigned seconds);

/* Restarts the timer with the last duration given (progress was made). */
void io_timer_restart(void);

/* Tells whether the inactivity timer has fired. */
bool io_timed_out(void);

#endif
