/*
 * password.c - crypt(3) checks in constant time, and the dummy work for
 * accounts without a usable hash.
 */
#include "password.h"

#include <crypt.h>
#include <string.h>

#include "account.h"
#include "util.h"

/* Compares a crypt result with the stored hash without stopping at the first difference. */
static bool same_string(const char *computed, const char *stored)
{
	size_t lc = strlen(computed), ls = strlen(stored);
	unsigned char diff = lc != ls;

	for (size_t i = 0; i < lc; i++)
		diff |= (unsigned char)(computed[i] ^ (i < ls ? stored[i] : 0));
	return diff == 0;
}

/* A setting (method and salt) of libxcrypt's default method, made once: unknown users and
 * locked accounts are checked against it, so they cost what a real user costs. */
static const char *dummy_setting(void)
{
	static char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (setting[0] == '\0' && crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof setting) == NULL)
		str_copy(setting, sizeof setting, "*");
	return setting;
}

bool password_ok(const struct account *a, const char *password)
{
	/* Some 32 KiB: static rather than on the stack. */
	static struct crypt_data data;
	/* An empty password never logs in, whatever the hash says; nor does
	 * an account without one (an empty hash or '*'). */
	bool usable = a != NULL && !account_locked(a) && a->hash[0] != '\0' && a->hash[0] != '*' &&
		      password[0] != '\0';
	const char *hash = usable ? a->hash : dummy_setting();
	const char *out;
	bool ok;

	memset(&data, 0, sizeof data);
	out = crypt_rn(password, hash, &data, (int)sizeof data);
	/* crypt_rn fails with NULL, or with a string starting '*' for a
	 * setting it does not know. */
	ok = usable && out != NULL && out[0] != '*' && same_string(out, hash);
	explicit_bzero(&data, sizeof data);
	return ok;
}

enum verdict crypt_verdict(enum lookup_result found, const struct account *a, const char *password)
{
	if (found == LOOKUP_FAILED)
		return VERDICT_UNAVAILABLE;
	if (found == LOOKUP_UNKNOWN) {
		(void)password_ok(NULL, password);	/* the work a real check costs */
		return VERDICT_UNKNOWN;
	}
	return password_ok(a, password) ? VERDICT_OK : VERDICT_REFUSED;
}
