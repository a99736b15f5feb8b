/*
 * io.h - the client's descriptors: reading its input, the one output
 * buffer every reply goes through, streaming a message file to it, the
 * inactivity timer that bounds every blocking read and write, the signals
 * they rely on, and who the client is (its address).
 */
#ifndef POP3_IO_H
#define POP3_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/types.h>

#include "encode.h"
#include "params.h"
#include "parse.h"

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

/* Reads what the client sent next from fd into the reader: the number of octets read, 0 at
 * end of input, -1 with errno on error (EINTR when a signal, the timer's included, came). */
ssize_t input_read(struct line_reader *r, int fd);

/* Prepares buffered output to fd. */
void output_init(struct output *o, int fd);

/* Appends bytes, writing the buffer out whenever it fills. */
void output_put(struct output *o, const void *data, size_t len);

/* Writes out everything buffered; returns false once the output has failed. */
bool output_flush(struct output *o);

/* A sink (encode.h) that appends to o. */
struct byte_sink output_sink(struct output *o);

/* Appends one response line: "+OK" or "-ERR", an optional [code], the text, CRLF, cut to
 * RESPONSE_MAX octets. */
void output_response(struct output *o, bool ok, const char *code, const char *text);

/* Appends one line of a multi-line response (text plus CRLF, cut to RESPONSE_MAX octets). */
void output_line(struct output *o, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends a SASL challenge line (RFC 5034): "+ ", the len octets of data in base64, CRLF;
 * "+ " alone for none.  Not cut: a mechanism's challenge must arrive whole. */
void output_continuation(struct output *o, const unsigned char *data, size_t len);

/* Appends the line "A B" CRLF of two decimal numbers, as LIST and UIDL list them (without
 * printf: a large mailbox has 100,000 such lines). */
void output_number_pair(struct output *o, uint64_t a, uint64_t b);

/* Appends the line "A TEXT" CRLF, as UIDL lists a UIDL taken over from a previous server. */
void output_number_text(struct output *o, uint64_t a, const char *text);

/* Streams the message file open as fd to o as RETR (limited false) or TOP (the header and
 * body_lines lines of body) send it, without the final "." line: read in large blocks,
 * CRLF line ends, dot-stuffing and the workarounds (WORKAROUND_* bits, encode.h); false
 * (logged) when it could not be read to its end. */
bool output_message(struct output *o, int fd, bool limited, uint64_t body_lines, unsigned workarounds);

/* Installs the SIGALRM and SIGPIPE handling the timer and the writers rely on. */
void io_signals_init(void);

/* (Re)starts the inactivity timer: after seconds without progress, blocking calls fail with
 * EINTR and io_timed_out() turns true. */
void io_timer_start(unsigned seconds);

/* Restarts the timer with the last duration given (progress was made). */
void io_timer_restart(void);

/* Tells whether the inactivity timer has fired. */
bool io_timed_out(void);

/* The timer and SIGALRM's action a deadline put aside. */
struct io_deadline {
	struct itimerval timer;
	struct sigaction action;
	bool armed;
};

/* Bounds a call that may hang (a PAM module, a directory that does not answer): until
 * io_deadline_end(), SIGALRM takes its default action, ending the process, once seconds have
 * passed (0: no bound).  The timer and handler in place are put aside in d. */
void io_deadline_begin(struct io_deadline *d, unsigned seconds);

/* Puts back the timer and SIGALRM's action io_deadline_begin() put aside. */
void io_deadline_end(const struct io_deadline *d);

/* Longest client address text: an IPv6 address, or "local". */
#define CLIENT_ADDRESS_MAX 46

/* Writes the client's address as the launcher gives it (REMOTE_ADDR, REMOTE_HOST,
 * TCPREMOTEIP, in that order) or else as getpeername(fd) finds it; "local" when there is
 * no network peer (a pipe, a Unix socket). */
void io_client_address(int fd, char *buf, size_t size);

/* Tells whether an address from io_client_address() is this host: "local", or a loopback
 * address. */
bool io_address_is_local(const char *address);

#endif
