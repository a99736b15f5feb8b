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

/* A setting of the method and cost most used among the host's shadow entries that hold a
 * password (SHADOW_TALLY_MAX of them at most, read once), or of libxcrypt's default method
 * when there are none or they cannot be read (logged): the dummy check of an unknown user,
 * for the sources that check passwords against them. */
const char *system_dummy_setting(void);

#endif
