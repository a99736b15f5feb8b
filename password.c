/*
 * password.c - crypt(3) checks in constant time, and the dummy work for
 * accounts without a usable hash.
 */
#include "password.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "hash-setting.h"
#include "log.h"

/* Compares a crypt result with the stored hash without stopping at the first difference. */
static bool same_string(const char *computed, const char *stored)
{
	size_t lc = strlen(computed), ls = strlen(stored);
	unsigned char diff = lc != ls;

	for (size_t i = 0; i < lc; i++)
		diff |= (unsigned char)(computed[i] ^ (i < ls ? stored[i] : 0));
	return diff == 0;
}

/* A setting of libxcrypt's default method, made once: the dummy of a caller that knows no
 * better one. */
static const char *default_dummy(void)
{
	static char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (setting[0] == '\0')
		dummy_setting_make(NULL, setting, sizeof setting);
	return setting;
}

bool password_ok(const struct account *a, const char *password, const char *dummy)
{
	/* An empty password never logs in, whatever the hash says; nor does
	 * an account without one (an empty hash or '*'). */
	bool usable = a != NULL && !account_locked(a) && a->hash[0] != '\0' && a->hash[0] != '*' &&
		      password[0] != '\0';
	const char *hash = usable ? a->hash : dummy != NULL ? dummy : default_dummy();
	const char *out;
	bool ok;
	/* Some 32 KiB for this check alone (zeroed, as crypt_rn wants it),
	 * freed at once: the process that checked goes on to serve the
	 * session, and would keep the pages for nothing.  Mapped apart when
	 * the heap cannot hold it (MALLOC_MMAP_THRESHOLD), else from the
	 * heap, whose pages malloc_trim() gives back once the mailbox is
	 * open (mailbox.c). */
	struct crypt_data *data = calloc(1, sizeof *data);

	if (data == NULL) {
		log_msg(LOG_ERR, "checking a password: %s", strerror(errno));
		return false;
	}
	out = crypt_rn(password, hash, data, (int)sizeof *data);
	/* crypt_rn fails with NULL, or with a string starting '*' for a
	 * setting it does not know. */
	ok = usable && out != NULL && out[0] != '*' && same_string(out, hash);
	explicit_bzero(data, sizeof *data);
	free(data);
	return ok;
}

enum verdict crypt_verdict(enum lookup_result found, const struct account *a, const char *password,
			   const char *dummy)
{
	if (found == LOOKUP_FAILED)
		return VERDICT_UNAVAILABLE;
	if (found == LOOKUP_UNKNOWN) {
		(void)password_ok(NULL, password, dummy);	/* the work a real check costs */
		return VERDICT_UNKNOWN;
	}
	return password_ok(a, password, dummy) ? VERDICT_OK : VERDICT_REFUSED;
}
