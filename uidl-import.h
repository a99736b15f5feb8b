/*
 * uidl-import.h - taking over the UIDLs a previous POP3 server showed, so
 * that clients which keep mail on the server download nothing twice: read
 * from Dovecot's dovecot-uidlist or Courier's courierpop3dsizelist when our
 * UID list is made (or made again after a loss), or taken from the base
 * file names (qmail-pop3d, vpopmail) or X-UIDL headers when the site says
 * so.  The previous server's files are only ever read.  A UIDL that is not
 * an RFC 1939 unique-id, or that two messages would share, is refused.
 */
#ifndef POP3_UIDL_IMPORT_H
#define POP3_UIDL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "maildir.h"

/* The site's settings. */
struct uidl_migration {
	enum uidl_migrate mode;	/* auto: Dovecot's or Courier's file, when there */
	const char *format;		/* Dovecot's pop3_uidl_format as the site had it */
	bool from_header;		/* an X-UIDL header wins over the rest */
};

/* Why a UIDL is never given. */
enum uidl_refusal {
	UIDL_GIVEN,			/* it is not refused */
	UIDL_NOT_UNIQUE_ID,
	UIDL_SHARED_IN_FILE,		/* the file gives it to two messages */
	UIDL_NAMED_TWICE,		/* the file gives the message two UIDLs */
	UIDL_SHARED_IN_MAILDIR,		/* two messages would show it (X-UIDL, base names) */
	UIDL_NUMBER_CLASH,		/* all digits, and one of our UIDs could be that number */
};

/* One UIDL as a file names it. */
struct uidl_taken {
	uint32_t base, uidl;		/* offsets in the pool */
	uint8_t base_len, uidl_len;
	uint8_t refused;		/* enum uidl_refusal */
};

/* What the previous server left for one Maildir. */
struct uidl_import {
	const struct uidl_migration *opt;
	const char *source;		/* the file read, for the log; NULL: none */
	struct uidl_taken *taken;	/* by base name, once loaded */
	size_t count, capacity;
	struct uidl_taken *planned;	/* per message of the snapshot (base unused), once planned */
	size_t planned_count;
	char *pool;
	size_t pool_len, pool_capacity;
	uint64_t uids_from;		/* the first UID the list being made gives */
	bool overflowed;		/* the file names more than MESSAGES_MAX messages */
	size_t given, not_found, refused;	/* the counts the log reports */
};

/* Reads what the previous server left in the Maildir at dirfd, as opt says (nothing for
 * UIDL_MIGRATE_NO and UIDL_MIGRATE_MAILDIR_NAME), into im, for a UID list being made whose first
 * UID is uids_from: Dovecot's file, or Courier's when Dovecot's gives nothing.  A file that is
 * missing, not a regular file, too large, naming more than MESSAGES_MAX messages or malformed
 * gives nothing (logged when not missing).  False when memory ran out. */
bool uidl_import_load(struct uidl_import *im, int dirfd, const struct uidl_migration *opt, uint64_t uids_from);

/* Finds the UIDL for each message of md the UID list does not know (its X-UIDL header when
 * the settings say so, else its base name or the file's entry), refusing (logged, with why)
 * those that are not RFC 1939 unique-ids, that two messages would share, and all-digit ones
 * that could equal one of our UIDs (any at or above UIDL_NUMBER_SAFE_BELOW); false when memory
 * ran out. */
bool uidl_import_plan(struct uidl_import *im, struct maildir *md);

/* The UIDL planned for message i, counted as given; NULL when there is none to give. */
const char *uidl_import_for(struct uidl_import *im, size_t i, size_t *len);

/* Logs the counts, once, when anything was there to take over. */
void uidl_import_log(const struct uidl_import *im);

/* Frees what uidl_import_load() read. */
void uidl_import_free(struct uidl_import *im);

#endif
