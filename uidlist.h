/*
 * uidlist.h - the UID list of a Maildir in memory: which decimal unique-id
 * (profile C0007-C0009) and which sizes belong to each message, by base
 * name, with what new/ and cur/ looked like when it named exactly their
 * messages.  Its file, and the rules that keep UIDs from ever being
 * reused, are uidlist-file.h's.
 */
#ifndef POP3_UIDLIST_H
#define POP3_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "params.h"

/* What a directory looked like: its inode, size and change time.  The
 * change time, unlike the modification time, cannot be set back by a
 * program (a restored backup included); ino 0 means "not known". */
struct dir_stamp {
	uint64_t ino, size, sec, nsec;
};

/* The stamps of new/ and cur/ in the header. */
enum { STAMP_NEW, STAMP_CUR, STAMPS };

struct uid_entry {
	uint64_t uid;
	uint64_t exact_size;	/* size with CRLF line ends */
	uint64_t stored_size;	/* size of the file */
	int64_t retrieved;	/* when first retrieved (kept for expire_days); 0: not recorded */
	uint32_t name;		/* offset of the file name in the pool (the list file is below 4 GiB) */
	uint8_t name_len;	/* the whole file name: base name and any ":2,..." info */
	uint8_t base_len;	/* its base name, the part before ':', which renames keep */
	uint8_t uidl_len;	/* the UIDL a previous server showed (uidl-import.h); 0: none */
	uint32_t uidl;		/* its offset in the pool: UIDL shows it instead of the uid */
};

struct uidlist {
	uint64_t next_uid;	/* lowest UID never issued */
	unsigned format;	/* the version of the file it was read from (the entries' layout) */
	bool corrupt;		/* the file it was read from was corrupt (and reported) */
	bool has_checksum;	/* the file it was read from ended in an END line, whose checksum is: */
	uint64_t checksum;	/* what tells this list from any other the file held (uidlist-file.h) */
	bool latest;		/* it is the list last written (uidlist_load) */
	struct dir_stamp stamps[STAMPS];	/* new/ and cur/ when the entries were exactly their messages */
	struct uid_entry *entries;
	size_t count, capacity;
	char *pool;
	size_t pool_len, pool_capacity;
	uint32_t *slots;	/* hash index: entry number + 1, 0 for free */
	size_t slot_count;	/* a power of two, at least twice count */
};

/* The entry for a base name, or NULL. */
struct uid_entry *uidlist_find(const struct uidlist *l, const char *base, size_t len);

/* Adds a file name (a base name and any ":2,..." info) with the next UID; NULL when the name is
 * not one we store or memory or UIDs ran out.  Pointers to entries are valid until the next add
 * or drop. */
struct uid_entry *uidlist_add(struct uidlist *l, const char *name, size_t len);

/* Gives an entry the file name its message has now (same base name, other info); false when it
 * is not one we store or memory ran out. */
bool uidlist_rename(struct uidlist *l, struct uid_entry *e, const char *name, size_t len);

/* Gives an entry the UIDL a previous server showed for its message (1 to UIDL_STRING_MAX
 * octets, the caller checked it); false when memory ran out. */
bool uidlist_set_uidl(struct uidlist *l, struct uid_entry *e, const char *uidl, size_t len);

/* The imported UIDL of an entry (not NUL-terminated: see uidl_len), or NULL for none. */
const char *uidlist_uidl(const struct uidlist *l, const struct uid_entry *e);

/* The file name of an entry (not NUL-terminated: see name_len). */
const char *uidlist_name(const struct uidlist *l, const struct uid_entry *e);

/* One flag per entry of l, by index, all false, for the caller to set and give to uidlist_drop
 * (free it with free()); NULL (logged) when memory ran out. */
bool *uidlist_flags(const struct uidlist *l);

/* Removes the entries whose flag in drop is set (one flag per entry, by index), keeping the
 * others in order with their UIDs and the index consistent; the next UID is unchanged. */
void uidlist_drop(struct uidlist *l, const bool *drop);

/* Makes l an empty list whose next UID is 1. */
void uidlist_init(struct uidlist *l);

/* Frees the list. */
void uidlist_free(struct uidlist *l);

/* The length of the base name of a file name we store, or 0 when we store no such name:
 * 1..UIDLIST_NAME_MAX octets, none of them a control octet (a line break would split the
 * record) or '/', and a base name (before the first ':') of at least one octet.  Spaces are
 * fine: the name is the last field of its line.  Inline: reading a list of many entries calls
 * it once an entry. */
static inline size_t uidlist_base_len(const char *name, size_t len)
{
	size_t base = len;

	if (len > UIDLIST_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return 0;
		if (c == ':' && base == len)
			base = i;
	}
	return base;
}

/* Adds an entry as it stands (its UID, sizes and name offset in l's pool); NULL when its
 * base name is listed already or memory ran out. */
struct uid_entry *uidlist_insert(struct uidlist *l, const struct uid_entry *e);

/* Makes room for n entries and their index at once; false (nothing lost) when memory ran
 * out, and the arrays then grow as entries come. */
bool uidlist_reserve(struct uidlist *l, size_t n);

#endif
