/*
 * base64.h - base64 (RFC 4648, standard alphabet, '=' padding) both ways,
 * as SASL carries its challenges and responses: pure functions over memory.
 */
#ifndef POP3_BASE64_H
#define POP3_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the base64 text for len octets. */
#define BASE64_LENGTH(len) (((len) + 2) / 3 * 4)

/* Decodes strict base64 (padding to a multiple of 4, padding bits zero, no blanks) into out;
 * false when malformed or longer than size octets.  On failure out may hold part of the
 * result: at most BASE64_DECODED_MAX(len) octets, which a caller keeping secrets wipes. */
bool base64_decode(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len);

/* The most octets base64_decode() writes for len characters of text. */
#define BASE64_DECODED_MAX(len) (((len) + 3) / 4 * 3)

/* Encodes len octets into out, which holds BASE64_LENGTH(len) characters (no NUL is
 * added); returns that length. */
size_t base64_encode(const unsigned char *in, size_t len, char *out);

#endif
