/*
 * maildir-size.h - the sizes of the snapshot's messages: the stored size from the file, the
 * exact size from the ,W= tag of a name where that is possible for the file (a name is a hint,
 * never trusted) and otherwise by reading each file once.
 */
#ifndef POP3_MAILDIR_SIZE_H
#define POP3_MAILDIR_SIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "maildir.h"

/* Sizes the messages of the snapshot that are not known (known false), setting sized on each
 * one sized; unknown of them, the count that tells whether threads pay (params.h: one per CPU
 * from SIZING_PARALLEL_MIN on).  Neither follows a rename nor logs: what is left unsized is for
 * maildir_size_message. */
void maildir_size_unknown(struct maildir *md, size_t unknown);

/* Finds the exact and stored sizes of message i, following it once if another program renamed
 * it; false (logged unless it vanished) when it cannot be sized. */
bool maildir_size_message(struct maildir *md, size_t i);

/* oe-ns-eoh: notes in each message of the snapshot the octets the workaround adds to it
 * (eoh_added), reading its file as far as the blank line that ends its header (with threads for
 * many, params.h), following a rename; a message that cannot be read gets none (logged unless
 * it vanished). */
void maildir_size_header_ends(struct maildir *md);

#endif
