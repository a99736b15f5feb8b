/*
 * encode.c - the RETR/TOP encoder, the client workarounds it applies, and
 * the sizes: the CRLF size counter and the header's end.
 */
#include "encode.h"

#include <string.h>

void dot_encoder_init(struct dot_encoder *e, bool limited, uint64_t body_lines, bool add_eoh)
{
	memset(e, 0, sizeof *e);
	e->limited = limited;
	e->add_eoh = add_eoh;
	e->body_lines = body_lines;
}

/* Tells whether a line that ends at an LF is blank (the one that ends the header): line_len
 * octets of it in earlier blocks and span octets before the LF in this one, the last of them a
 * CR when cr. */
static bool is_blank_line(unsigned line_len, size_t span, bool cr)
{
	return line_len + span == 0 || (line_len + span == 1 && cr);
}

/* Counts one finished line where the header's end matters (TOP, oe-ns-eoh): the blank line ends
 * the header, each later line uses up TOP's body allowance. */
static void dot_count_line(struct dot_encoder *e, bool blank)
{
	if (!e->limited && !e->add_eoh)
		return;
	if (!e->in_body) {
		if (blank) {
			e->in_body = true;
			e->done = e->limited && e->body_lines == 0;
		}
	} else if (e->limited && --e->body_lines == 0) {
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
		blank = is_blank_line(e->line_len, span, cr);
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
	/* What header_end_added counts, with the CRLF above. */
	if (e->add_eoh && !e->in_body)
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

void replace_nuls(char *data, size_t len)
{
	char *end = data + len;

	for (char *p = data; (p = memchr(p, '\0', (size_t)(end - p))) != NULL; p++)
		*p = (char)0x80;
}

bool header_end_find(struct header_end *h, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end && !h->found) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t span;

		if (lf == NULL) {
			size_t n = (size_t)(end - p);

			h->line_len = h->line_len + n > 2 ? 2 : h->line_len + (unsigned)n;
			h->last_cr = end[-1] == '\r';
			break;
		}
		span = (size_t)(lf - p);
		h->found = is_blank_line(h->line_len, span, span > 0 ? lf[-1] == '\r' : h->last_cr);
		h->line_len = 0;
		h->last_cr = false;
		p = lf + 1;
	}
	return h->found;
}

unsigned header_end_added(const struct header_end *h)
{
	if (h->found)
		return 0;
	return h->line_len > 0 ? 4 : 2;
}
