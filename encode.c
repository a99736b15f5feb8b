/*
 * encode.c - the RETR/TOP encoder and the CRLF size counter.
 */
#include "encode.h"

#include <string.h>

void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines)
{
	memset(e, 0, sizeof *e);
	e->limited = limited;
	e->body_lines = body_lines;
}

/* Counts one finished line for TOP: the blank line ends the header, each later line uses up the
 * body allowance. */
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

bool dot_encode(struct dot_encoder *e, const char *data, size_t len, const struct byte_sink *out)
{
	const char *p = data, *end = data + len;
	const char *run = p;	/* start of input not yet given to the sink */

	while (p < end && !e->done) {
		const char *lf;
		size_t span;
		bool cr, blank;

		if (e->line_len == 0 && *p == '.') {
			out->put(out->ctx, run, (size_t)(p - run));
			out->put(out->ctx, ".", 1);
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
			out->put(out->ctx, run, (size_t)(lf - run));
			out->put(out->ctx, "\r\n", 2);
			run = lf + 1;
		}
		p = lf + 1;
		e->line_len = 0;
		e->last_cr = false;
		dot_count_line(e, blank);
	}
	out->put(out->ctx, run, (size_t)(p - run));
	return !e->done;
}

void dot_finish(struct dot_encoder *e, const struct byte_sink *out)
{
	if (e->line_len > 0)
		out->put(out->ctx, "\r\n", 2);
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
