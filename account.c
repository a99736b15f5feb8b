/*
 * account.c - what every account shares.
 */
#include "account.h"

#include <string.h>

bool account_locked(const struct account *a)
{
	return a->hash[0] == '!';
}

bool account_not_locked(const struct account_query *q, const struct account *a)
{
	(void)q;	/* the hash says it all */
	return !account_locked(a);
}

void account_clear(struct account *a)
{
	explicit_bzero(a, sizeof *a);
}
