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

/* A well-formed entry of the file as passwd_file_visit() shows it: never its hash. */
struct passwd_entry {
	unsigned lineno;
	const char *name, *home;
	unsigned uid, gid;
	bool has_nt_hash;
};

/* Told each well-formed entry, in the order of the file. */
typedef void passwd_visitor(void *ctx, const struct passwd_entry *e);

/* Reads the file at path as a lookup does (the same refusals and logged skipped lines, each
 * naming what is wrong) and shows visit each well-formed entry; false (logged) when the file
 * cannot be read or may not be trusted, so that no login could succeed. */
bool passwd_file_visit(const char *path, passwd_visitor *visit, void *ctx);

#endif
