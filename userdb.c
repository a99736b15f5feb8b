/*
 * userdb.c - the table of account sources.
 */
#include "userdb.h"

#include <string.h>

#include "pam-accounts.h"
#include "passwd-file.h"
#include "system-accounts.h"

/* The sources passwd_file names by a word (a path names the passwd file), and NULL. */
static const struct account_source *const keyword_sources[] = {
	&system_accounts,
	&pam_accounts,
	NULL,
};

const struct account_source *userdb_named(const char *passwd_file)
{
	for (size_t i = 0; keyword_sources[i] != NULL; i++)
		if (strcmp(passwd_file, keyword_sources[i]->keyword) == 0)
			return keyword_sources[i];
	return passwd_file[0] == '/' ? &passwd_file_source : NULL;
}

const char *userdb_keyword(size_t i)
{
	for (size_t k = 0; keyword_sources[k] != NULL; k++)
		if (k == i)
			return keyword_sources[k]->keyword;
	return NULL;
}
