/*
 * io.c - the client's descriptors: input, the output buffer, message
 * streaming, the inactivity timer and signals, and the client's address.
 */
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base64.h"
#include "log.h"
#include "util.h"

/* Message files are streamed through this block: RETR and TOP only. */
static char message_block[MESSAGE_READ_BLOCK];

ssize_t input_read(struct line_reader *r, int fd)
{
	size_t room;
	char *to = line_room(r, &room);
	ssize_t n = read(fd, to, room);

	if (n > 0)
		line_commit(r, (size_t)n);
	return n;
}

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

/* output_continuation encodes this many octets at a time: 64 characters. */
#define CONTINUATION_CHUNK 48

void output_continuation(struct output *o, const unsigned char *data, size_t len)
{
	char text[BASE64_LENGTH(CONTINUATION_CHUNK)];

	output_put(o, "+ ", 2);
	/* Every chunk but the last is a multiple of 3 octets: no padding
	 * inside the line. */
	for (size_t i = 0; i < len; i += CONTINUATION_CHUNK) {
		size_t n = len - i < CONTINUATION_CHUNK ? len - i : CONTINUATION_CHUNK;

		output_put(o, text, base64_encode(data + i, n, text));
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

void output_number_text(struct output *o, uint64_t a, const char *text)
{
	char buf[20 + 1];
	char *end = buf + sizeof buf, *p = end - 1;

	*p = ' ';
	p = decimal_before(p, a);
	output_put(o, p, (size_t)(end - p));
	output_put(o, text, strlen(text));
	output_put(o, "\r\n", 2);
}

/* A byte_sink's put: appends to the output. */
static void sink_put(void *ctx, const void *data, size_t len)
{
	output_put(ctx, data, len);
}

struct byte_sink output_sink(struct output *o)
{
	return (struct byte_sink){ sink_put, o };
}

bool output_message(struct output *o, int fd, bool limited, uint64_t body_lines, unsigned workarounds)
{
	struct byte_sink sink = output_sink(o);
	struct dot_encoder e;
	ssize_t n;

	dot_encoder_init(&e, limited, body_lines, (workarounds & WORKAROUND_OE_NS_EOH) != 0);
	while (o->state == OUTPUT_OK && (n = read(fd, message_block, sizeof message_block)) != 0) {
		if (n < 0) {
			if (errno == EINTR && !io_timed_out())
				continue;
			log_msg(LOG_ERR, "reading a message: %s", strerror(errno));
			return false;
		}
		if (workarounds & WORKAROUND_OUTLOOK_NO_NULS)
			replace_nuls(message_block, (size_t)n);
		if (!dot_encode(&e, message_block, (size_t)n, &sink))
			break;
	}
	dot_finish(&e, &sink);
	return true;
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

void io_deadline_begin(struct io_deadline *d, unsigned seconds)
{
	struct itimerval it = { { 0, 0 }, { (time_t)seconds, 0 } };
	struct sigaction sa;

	d->armed = seconds > 0;
	if (!d->armed)
		return;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGALRM, &sa, &d->action) != 0 || setitimer(ITIMER_REAL, &it, &d->timer) != 0)
		log_msg(LOG_ERR, "cannot bound a call by the timer: %s", strerror(errno));
}

void io_deadline_end(const struct io_deadline *d)
{
	if (!d->armed)
		return;
	if (setitimer(ITIMER_REAL, &d->timer, NULL) != 0 || sigaction(SIGALRM, &d->action, NULL) != 0)
		log_msg(LOG_ERR, "cannot restore the timer: %s", strerror(errno));
}

/* Copies an address the launcher put in the environment, if it is one (it goes into logs). */
static bool address_from_env(const char *name, char *buf, size_t size)
{
	const char *v = getenv(name);
	struct in6_addr a6;
	struct in_addr a4;

	if (v == NULL || (inet_pton(AF_INET, v, &a4) != 1 && inet_pton(AF_INET6, v, &a6) != 1))
		return false;
	return str_copy(buf, size, v);
}

void io_client_address(int fd, char *buf, size_t size)
{
	/* systemd (Accept=yes), stunnel and xinetd, ucspi-tcp.  Under
	 * stunnel fd 0 is a socket pair to stunnel itself: the environment
	 * must win over getpeername(). */
	static const char *const vars[] = { "REMOTE_ADDR", "REMOTE_HOST", "TCPREMOTEIP" };
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(&ss, 0, sizeof ss);
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (address_from_env(vars[i], buf, size))
			return;
	snprintf(buf, size, "local");	/* a pipe, a file, a Unix socket */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
		if (errno != ENOTSOCK)
			snprintf(buf, size, "unknown");
		return;
	}
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)size);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)size);
	else if (ss.ss_family != AF_UNIX)
		snprintf(buf, size, "unknown");
}

bool io_address_is_local(const char *address)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(address, "local") == 0)
		return true;
	if (inet_pton(AF_INET, address, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, address, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}
