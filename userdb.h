/*
 * userdb.h - the account source the passwd_file setting names: the table
 * of sources, one row each.  A new source (PAM, say) is one more file that
 * fills a struct account_source (account.h) and one row in userdb.c.
 */
#ifndef POP3_USERDB_H
#define POP3_USERDB_H

#include <stddef.h>

#include "account.h"

/* The source passwd_file names: one of the keywords, or the passwd-style file at an
 * absolute path; NULL for anything else. */
const struct account_source *userdb_named(const char *passwd_file);

/* The i-th keyword passwd_file may take instead of a path, or NULL past the last. */
const char *userdb_keyword(size_t i);

#endif
