/*
 * passwd-file.h - the account source that is a passwd-style file:
 * name:hash:uid:gid:gecos:home:shell, and an optional eighth field with
 * the NT hash as 32 hexadecimal digits.
 */
#ifndef POP3_PASSWD_FILE_H
#define POP3_PASSWD_FILE_H

#include "account.h"

/* Finds a user in the file at the path passwd_file gives, reading the whole file either way;
 * refuses a file that is not regular, that group or others may write, or that belongs to
 * neither root nor this process's user (every lookup then fails, logged); logs and skips
 * malformed lines.  A password login of an unknown user, or of one without a usable hash,
 * costs a hash of the setting most used in the file's entries. */
extern const struct account_source passwd_file_source;

#endif
