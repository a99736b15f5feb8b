/*
 * pam-accounts.h - the account source that is PAM and NSS (passwd_file =
 * pam): PAM (service pam_service) checks the password and the account's
 * state, NSS gives the account (uid, gid, home), so directory users
 * (LDAP through sssd or nslcd, Active Directory) log in.  libpam is loaded
 * the first time it is needed.
 */
#ifndef POP3_PAM_ACCOUNTS_H
#define POP3_PAM_ACCOUNTS_H

#include "account.h"

/* The source:
 * - password_login(): pam_authenticate (PAM_DISALLOW_NULL_AUTHTOK), then pam_acct_mgmt, then
 *   the NSS lookup; PAM_RHOST is the client's address, PAM_RUSER the user, PAM_TTY the
 *   service.  PAM's own failure delay is turned off (the login decision has one).  An
 *   expired or locked account, one pam_access denies and one whose password must change
 *   are refused, with the reason; PAM_AUTHINFO_UNAVAIL (a directory down) is
 *   VERDICT_UNAVAILABLE.  An unknown user costs what a known one costs.
 * - lookup(): the NSS lookup alone (getpwnam_r).
 * - account_usable(): pam_acct_mgmt, for logins whose mechanism proved the identity.
 * It holds no NT hashes.  The conversation answers echo-off prompts with the password and
 * echo-on prompts with the user name, logs error and information messages, and fails every
 * other kind; the password and every answer are wiped after use. */
extern const struct account_source pam_accounts;

/* Loads libpam if it is not yet; false (logged as an error) when it or a function is missing. */
bool pam_ready(void);

#endif
