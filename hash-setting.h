/*
 * hash-setting.h - the setting of crypt(3) hashes: their method and its
 * cost, the part before the salt ("$6$", "$6$rounds=5000$", "$y$j9T$",
 * "$2b$10$"); the one most used in a user database; and a dummy setting
 * of it, for the checks that must cost what a real user's check costs.
 */
#ifndef POP3_HASH_SETTING_H
#define POP3_HASH_SETTING_H

#include <stddef.h>

#include "params.h"

/* The distinct settings of one database's hashes, each with how many hashes use it.  Zeroed
 * before the first setting_tally_add(). */
struct setting_tally {
	size_t rows;
	struct {
		char setting[HASH_SETTING_MAX];
		unsigned count;
	} row[SETTING_TALLY_ROWS];
};

/* Counts the setting of hash.  Not counted: a hash that cannot log in (empty, '*', '!' before
 * it), one not in the modular form "$id$[cost$]salt$digest" (traditional DES), a setting of
 * HASH_SETTING_MAX octets or more, and a new setting after SETTING_TALLY_ROWS others. */
void setting_tally_add(struct setting_tally *t, const char *hash);

/* The setting counted most often (of equals, the one counted first), or NULL when none was. */
const char *setting_tally_most_used(const struct setting_tally *t);

/* Makes in out (size octets, CRYPT_GENSALT_OUTPUT_SIZE will do) a setting with setting's
 * method and cost and a fresh salt; with setting NULL, or one whose method libxcrypt cannot
 * make a salt for, a setting of libxcrypt's default method; "*" (crypt fails at once) when
 * even that cannot be made. */
void dummy_setting_make(const char *setting, char *out, size_t size);

#endif
