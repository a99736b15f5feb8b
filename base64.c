/*
 * base64.c - base64 encoding and strict decoding (RFC 4648).
 */
#include "base64.h"

#include <stdint.h>

/* The 64 digits, and the pad at index 64. */
static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
#define PAD 64

/* The value of a base64 digit, or -1. */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool base64_decode(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len)
{
	size_t n = 0;

	if (len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		size_t pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
		uint32_t group = 0;

		for (size_t k = 0; k < 4 - pad; k++) {
			int v = base64_value((unsigned char)in[i + k]);

			if (v < 0)
				return false;
			group = group << 6 | (uint32_t)v;
		}
		group <<= 6 * pad;
		/* Padding must stand for zero bits (canonical encoding). */
		if ((pad == 1 && (group & 0xff) != 0) || (pad == 2 && (group & 0xffff) != 0))
			return false;
		if (n + 3 - pad > size)
			return false;
		out[n++] = (unsigned char)(group >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(group >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)group;
	}
	*out_len = n;
	return true;
}

size_t base64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? len - i : 3;
		uint32_t group = (uint32_t)in[i] << 16 | (n > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
				 (n > 2 ? in[i + 2] : 0);

		out[o++] = digits[group >> 18];
		out[o++] = digits[(group >> 12) & 63];
		out[o++] = digits[n > 1 ? (group >> 6) & 63 : PAD];
		out[o++] = digits[n > 2 ? group & 63 : PAD];
	}
	return o;
}
