/*
 * password.h - checking a password against an account's crypt(3) hash
 * with libxcrypt, in constant time, with the same work for accounts that
 * cannot log in with one.
 */
#ifndef POP3_PASSWORD_H
#define POP3_PASSWORD_H

#include <stdbool.h>

struct account;
struct account_query;

/* Checks password against the account's crypt(3) hash in constant time; with no account
 * (unknown user), a locked one ('!'), one without a password (an empty hash or '*') or an
 * empty password it spends the same as a real check against a hash of libxcrypt's default
 * method, and fails. */
bool password_ok(const struct account *a, const char *password);

/* The password_ok of the sources that keep a crypt(3) hash: password_ok() above. */
bool crypt_password_ok(const struct account_query *q, const struct account *a, const char *password);

#endif
