/*
 * system-accounts.h - the account source that is the host's own accounts
 * (getpwnam, and the hash from /etc/shadow): passwd_file = system.
 */
#ifndef POP3_SYSTEM_ACCOUNTS_H
#define POP3_SYSTEM_ACCOUNTS_H

#include "account.h"

/* Finds a user among the host's accounts; an account whose shadow entry has expired gets a
 * locked hash.  It holds no NT hashes. */
extern const struct account_source system_accounts;

#endif
