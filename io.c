/*
 * io.c - the one writer to the client, the message encoder, and the
 * inactivity timer.
 */
#include "io.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void output_init(struct output *o, int fd)
{
	o->fd = fd;
	o->state = OUTPUT_OK;
	o->len = 0;
	o->sent = 0;
}

bool output_flush(struct output *o)
{
	size_t done = 0;

	while (done < o->len && o->state == OUTPUT_OK) {
		ssize_t n = write(o->fd, o->buf + done, o->len - done);

		if (n > 0) {
			done += (size_t)n;
			o->sent += (uint64_t)n;
			io_timer_restart();	/* the client is reading: still active */
		} else if (n < 0 && errno == EINTR) {
			if (io_timed_out())
				o->state = OUTPUT_TIMED_OUT;
		} else {
			/* EPIPE (SIGPIPE is ignored), ECONNRESET and the like:
			 * nobody is left to read the rest. */
			o->state = OUTPUT_CLIENT_GONE;
		}
	}
	o->len = 0;
	return o->state == OUTPUT_OK;
}

void output_put(struct output *o, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && o->state == OUTPUT_OK) {
		size_t room = sizeof o->buf - o->len;
		size_t n = len < room ? len : room;

		memcpy(o->buf + o->len, p, n);
		o->len += n;
		p += n;
		len -= n;
		if (o->len == sizeof o->buf)
			output_flush(o);
	}
}

/* Appends text (already cut to fit) and CRLF. */
static void output_crlf_line(struct output *o, const char *text, int len)
{
	if (len < 0)
		len = 0;	/* vsnprintf failed: send an empty line, never garbage */
	if ((size_t)len > RESPONSE_MAX - 2)
		len = RESPONSE_MAX - 2;
	output_put(o, text, (size_t)len);
	output_put(o, "\r\n", 2);
}

void output_response(struct output *o, bool ok, const char *code, const char *text)
{
	char line[RESPONSE_MAX];
	int len;

	len = snprintf(line, sizeof line, "%s%s%s%s%s%s", ok ? "+OK" : "-ERR",
		       code ? " [" : "", code ? code : "", code ? "]" : "",
		       text && *text ? " " : "", text ? text : "");
	output_crlf_line(o, line, len);
}

void output_line(struct output *o, const char *format, ...)
{
	char line[RESPONSE_MAX];
	va_list ap;
	int len;

	va_start(ap, format);
	len = vsnprintf(line, sizeof line, format, ap);
	va_end(ap);
	output_crlf_line(o, line, len);
}

void output_continuation(struct output *o, const unsigned char *data, size_t len)
{
	/* The 64 digits, and the pad at index 64. */
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

	output_put(o, "+ ", 2);
	for (size_t i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? len - i : 3;
		uint32_t group = (uint32_t)data[i] << 16 | (n > 1 ? (uint32_t)data[i + 1] << 8 : 0) |
				 (n > 2 ? data[i + 2] : 0);
		char quad[4] = { digits[group >> 18], digits[(group >> 12) & 63],
				 digits[n > 1 ? (group >> 6) & 63 : 64], digits[n > 2 ? group & 63 : 64] };

		output_put(o, quad, sizeof quad);
	}
	output_put(o, "\r\n", 2);
}

void output_number_pair(struct output *o, uint64_t a, uint64_t b)
{
	char buf[2 * 20 + 3];
	char *end = buf + sizeof buf, *p = end - 2;

	p[0] = '\r';
	p[1] = '\n';
	p = decimal_before(p, b);
	*--p = ' ';
	p = decimal_before(p, a);
	output_put(o, p, (size_t)(end - p));
}

void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines)
{
	memset(e, 0, sizeof *e);
	e->limited = limited;
	e->body_lines = body_lines;
}

/* Counts one finished line for TOP: the blank line ends the header, each later line uses up the body allowance. */
static void dot_count_line(struct dot_encoder *e, bool blank)
{
	if (!e->limited)
		return;
	if (!e->in_body) {
		if (blank) {
			e->in_body = true;
			e->done = e->body_lines == 0;
		}
	} else if (--e->body_lines == 0) {
		e->done = true;
	}
}

bool dot_encode(struct dot_encoder *e, const char *data, size_t len, struct output *o)
{
	const char *p = data, *end = data + len;
	const char *run = p;	/* start of input not yet copied to o */

	while (p < end && !e->done) {
		const char *lf;
		size_t span;
		bool cr, blank;

		if (e->line_len == 0 && *p == '.') {
			output_put(o, run, (size_t)(p - run));
			output_put(o, ".", 1);
			run = p;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			size_t n = (size_t)(end - p);

			e->line_len = e->line_len + n > 2 ? 2 : e->line_len + (unsigned)n;
			e->last_cr = end[-1] == '\r';
			p = end;
			break;
		}
		span = (size_t)(lf - p);
		cr = span > 0 ? lf[-1] == '\r' : e->last_cr;
		blank = e->line_len + span == 0 || (e->line_len + span == 1 && cr);
		if (!cr) {
			output_put(o, run, (size_t)(lf - run));
			output_put(o, "\r\n", 2);
			run = lf + 1;
		}
		p = lf + 1;
		e->line_len = 0;
		e->last_cr = false;
		dot_count_line(e, blank);
	}
	output_put(o, run, (size_t)(p - run));
	return !e->done;
}

void dot_finish(struct dot_encoder *e, struct output *o)
{
	if (e->line_len > 0)
		output_put(o, "\r\n", 2);
	e->line_len = 0;
}

void crlf_count(struct crlf_counter *c, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	const char *lf;

	c->size += len;
	while (p < end && (lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		bool cr = lf > data ? lf[-1] == '\r' : c->last_cr;

		if (!cr)
			c->size++;
		p = lf + 1;
	}
	if (len > 0)
		c->last_cr = end[-1] == '\r';
}

static volatile sig_atomic_t timer_fired;
static unsigned timer_seconds;

static void on_alarm(int signo)
{
	(void)signo;
	timer_fired = 1;
}

void io_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read() or write() must return EINTR
	 * when the timer fires. */
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		log_msg(LOG_ERR, "sigaction(SIGALRM): %s", strerror(errno));
	/* A client that went away makes write() fail with EPIPE, which
	 * ends the session without UPDATE, instead of killing us. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		log_msg(LOG_ERR, "sigaction(SIGPIPE): %s", strerror(errno));
}

void io_timer_start(unsigned seconds)
{
	timer_seconds = seconds;
	io_timer_restart();
}

void io_timer_restart(void)
{
	struct itimerval it;

	/* After it first fires the timer repeats, so a signal that lands
	 * just before a blocking call starts is followed by another. */
	it.it_value.tv_sec = timer_seconds;
	it.it_value.tv_usec = 0;
	it.it_interval.tv_sec = TIMER_REPEAT_SECONDS;
	it.it_interval.tv_usec = 0;
	timer_fired = 0;
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		log_msg(LOG_ERR, "setitimer: %s", strerror(errno));
}

bool io_timed_out(void)
{
	return timer_fired != 0;
}
