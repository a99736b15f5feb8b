/*
 * password.h - checking a password against an account's crypt(3) hash
 * with libxcrypt, in constant time, with the same work for accounts that
 * cannot log in with one.
 */
#ifndef POP3_PASSWORD_H
#define POP3_PASSWORD_H

#include <stdbool.h>

#include "account.h"

/* Checks password against the account's crypt(3) hash in constant time; with no account
 * (unknown user), a locked one ('!'), one without a password (an empty hash or '*') or an
 * empty password it spends the same as a real check against the setting dummy (the one most
 * used in the account's database, from dummy_setting_make(); NULL: libxcrypt's default
 * method), and fails. */
bool password_ok(const struct account *a, const char *password, const char *dummy);

/* The password_login of the sources that keep a crypt(3) hash, from what their lookup found
 * (into a): the password checked with password_ok() and dummy, an unknown user after the same
 * work. */
enum verdict crypt_verdict(enum lookup_result found, const struct account *a, const char *password,
			   const char *dummy);

#endif
