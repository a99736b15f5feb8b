/*
 * mailbox.h - the logged-in user's mailbox as a session holds it: opened
 * after a login (confinement, then the snapshot), its counts kept as the
 * client marks messages, and finished when the session ends, by QUIT
 * (UPDATE) or otherwise.
 */
#ifndef POP3_MAILBOX_H
#define POP3_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"
#include "session.h"

/* Opens the account's Maildir for a session that logged in by mechanism: confines the
 * process to it (unless confine = no), takes the snapshot, enters TRANSACTION with its
 * timer, logs the login and sets the +OK; on failure sets the -ERR that closes the session. */
void mailbox_open(struct session *s, const struct account *a, enum mechanism mechanism,
		  struct reply *r);

/* The size LIST, STAT and RETR give message i: with CRLF line ends (exact_size) or the
 * file's, at most MESSAGE_SIZE_MAX, so that no total of them wraps. */
uint64_t mailbox_message_size(const struct session *s, size_t i);

/* Marks message i deleted (DELE), counting it out of the live messages. */
void mailbox_mark_deleted(struct session *s, size_t i);

/* Unmarks every message (RSET). */
void mailbox_unmark_all(struct session *s);

/* QUIT in TRANSACTION: removes what the client deleted and retention expires, sets the Seen
 * flags, logs the logout and sets the reply that closes the session. */
void mailbox_quit(struct session *s, struct reply *r);

/* Ends a session that left TRANSACTION without QUIT (client gone, autologout, too many bad
 * commands): nothing is removed, but what was retrieved is seen. */
void mailbox_abandon(struct session *s);

#endif
