/*
 * hash-setting.c - the method and cost of crypt(3) hashes, the one most
 * used in a user database, and dummy settings of it.
 */
#include "hash-setting.h"

#include <crypt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Tells whether a modular hash is bcrypt's ("$2$", "$2a$", "$2b$", "$2x$", "$2y$"), whose last
 * field holds salt and digest together. */
static bool bcrypt_form(const char *hash)
{
	return hash[1] == '2' && (hash[2] == '$' || (hash[2] != '\0' && hash[3] == '$'));
}

/* The length of hash's setting, up to and with the '$' before the salt, or 0 when it has none
 * that can be read: the setting is all but the last two '$' fields (salt, digest), all but
 * the last for bcrypt, and holds at least "$id$". */
static size_t setting_length(const char *hash)
{
	const char *end;

	if (hash[0] != '$')
		return 0;	/* '*', '!', empty, DES: nothing to count */
	end = strrchr(hash, '$');
	if (!bcrypt_form(hash))
		while (end > hash && *--end != '$')
			;
	return end > hash + 1 ? (size_t)(end - hash) + 1 : 0;
}

void setting_tally_add(struct setting_tally *t, const char *hash)
{
	size_t len = setting_length(hash), i;

	if (len == 0 || len >= HASH_SETTING_MAX)
		return;
	for (i = 0; i < t->rows; i++)
		if (strncmp(t->row[i].setting, hash, len) == 0 && t->row[i].setting[len] == '\0')
			break;
	if (i == SETTING_TALLY_ROWS)
		return;
	if (i == t->rows) {
		memcpy(t->row[i].setting, hash, len);
		t->row[i].setting[len] = '\0';
		t->row[i].count = 0;
		t->rows++;
	}
	t->row[i].count++;
}

const char *setting_tally_most_used(const struct setting_tally *t)
{
	const char *best = NULL;
	unsigned most = 0;

	for (size_t i = 0; i < t->rows; i++) {
		if (t->row[i].count > most) {
			most = t->row[i].count;
			best = t->row[i].setting;
		}
	}
	return best;
}

/* Makes in out a setting of setting's method and cost: libxcrypt makes a salt for the method
 * ("$id$" alone), whose last field is put after the cost; false when it cannot. */
static bool setting_with_salt(const char *setting, char *out, size_t size)
{
	char method[HASH_SETTING_MAX], made[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *id_end = setting[0] == '$' ? strchr(setting + 1, '$') : NULL, *salt;
	int n;

	if (id_end == NULL || (size_t)(id_end - setting) + 1 >= sizeof method)
		return false;
	memcpy(method, setting, (size_t)(id_end - setting) + 1);
	method[id_end - setting + 1] = '\0';
	if (crypt_gensalt_rn(method, 0, NULL, 0, made, sizeof made) == NULL || (salt = strrchr(made, '$')) == NULL)
		return false;
	/* A method whose made setting ends in '$' (Sun MD5, sha1crypt) has
	 * no salt to move: its default cost is the nearest we have. */
	if (*++salt == '\0')
		return str_copy(out, size, made);
	n = snprintf(out, size, "%s%s", setting, salt);
	return n > 0 && (size_t)n < size;
}

void dummy_setting_make(const char *setting, char *out, size_t size)
{
	if (setting != NULL && setting_with_salt(setting, out, size))
		return;
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, out, (int)size) == NULL)
		str_copy(out, size, "*");
}
