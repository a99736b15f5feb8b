/*
 * uidlist.c - the UID list in memory: its entries, found by base name
 * through a hash index, their names in one pool, and the entries added,
 * renamed and dropped.
 */
#include "uidlist.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "util.h"

/* The index's hash (slot_of): odd multipliers with well-mixed bits, the golden ratio's for the
 * length and MurmurHash3's finalizer's for the words, each followed by a shift that folds the
 * high bits, which the multiplications mix best, into the low ones the slot is taken from. */
#define HASH_LEN_MUL 0x9e3779b97f4a7c15ULL
#define HASH_WORD_MUL 0xff51afd7ed558ccdULL
#define HASH_WORD_SHIFT 32
#define HASH_TAIL_MUL 0xc4ceb9fe1a85ec53ULL
#define HASH_TAIL_SHIFT 29

void uidlist_init(struct uidlist *l)
{
	memset(l, 0, sizeof *l);
	l->next_uid = 1;
}

void uidlist_free(struct uidlist *l)
{
	free(l->entries);
	free(l->pool);
	free(l->slots);
	uidlist_init(l);
}

const char *uidlist_name(const struct uidlist *l, const struct uid_entry *e)
{
	return l->pool + e->name;
}

/* The index's hash of a base name: eight octets at a time (FNV's octet
 * loop was a tenth of a session's time on large mailboxes). */
static size_t slot_of(const struct uidlist *l, const char *base, size_t len)
{
	uint64_t h = (uint64_t)len * HASH_LEN_MUL, w;

	for (; len >= sizeof w; base += sizeof w, len -= sizeof w) {
		memcpy(&w, base, sizeof w);
		h = (h ^ w) * HASH_WORD_MUL;
		h ^= h >> HASH_WORD_SHIFT;
	}
	w = 0;
	memcpy(&w, base, len);
	h = (h ^ w) * HASH_TAIL_MUL;
	h ^= h >> HASH_TAIL_SHIFT;
	return (size_t)h & (l->slot_count - 1);
}

/* The slot holding the entry named base, or the free slot where it would go. */
static uint32_t *probe(const struct uidlist *l, const char *base, size_t len)
{
	size_t s = slot_of(l, base, len);

	for (; l->slots[s] != 0; s = (s + 1) & (l->slot_count - 1)) {
		const struct uid_entry *e = &l->entries[l->slots[s] - 1];

		if (e->base_len == len && memcmp(l->pool + e->name, base, len) == 0)
			break;
	}
	return &l->slots[s];
}

/* Rebuilds the hash index for the current entries, sized for at least needed ones. */
static bool index_rebuild(struct uidlist *l, size_t needed)
{
	size_t n = UIDLIST_INDEX_SLOTS_MIN;

	while (n < needed * 2) {
		if (n > SIZE_MAX / 2 / sizeof *l->slots)
			return false;
		n *= 2;
	}
	free(l->slots);
	l->slots = calloc(n, sizeof *l->slots);
	if (l->slots == NULL) {
		l->slot_count = 0;
		return false;
	}
	l->slot_count = n;
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *e = &l->entries[i];
		size_t s = slot_of(l, uidlist_name(l, e), e->base_len);

		while (l->slots[s] != 0)
			s = (s + 1) & (n - 1);
		l->slots[s] = (uint32_t)i + 1;
	}
	return true;
}

struct uid_entry *uidlist_find(const struct uidlist *l, const char *base, size_t len)
{
	uint32_t *slot;

	if (l->slot_count == 0)
		return NULL;
	slot = probe(l, base, len);
	return *slot != 0 ? &l->entries[*slot - 1] : NULL;
}

/* Adds an entry (callers keep UIDs increasing; the name already checked and in the pool) to the
 * list; NULL on out of memory or when the base name is there already. */
struct uid_entry *uidlist_insert(struct uidlist *l, const struct uid_entry *from)
{
	struct uid_entry *e;
	uint32_t *slot;

	if (l->count >= UINT32_MAX - 1 ||
	    !array_grow((void **)&l->entries, &l->capacity, l->count + 1, sizeof *l->entries))
		return NULL;
	if ((l->count + 1) * 2 > l->slot_count && !index_rebuild(l, l->count + 1))
		return NULL;
	slot = probe(l, l->pool + from->name, from->base_len);
	if (*slot != 0)
		return NULL;
	e = &l->entries[l->count];
	*e = *from;
	*slot = (uint32_t)++l->count;
	return e;
}

/* Copies len octets to the end of the list's pool; their offset, or -1 when memory or offsets
 * ran out. */
static int64_t pool_copy(struct uidlist *l, const char *s, size_t len)
{
	return pool_append(&l->pool, &l->pool_len, &l->pool_capacity, s, len);
}

struct uid_entry *uidlist_add(struct uidlist *l, const char *name, size_t len)
{
	struct uid_entry new = { .uid = l->next_uid, .name_len = (uint8_t)len };
	struct uid_entry *e;
	int64_t off;

	new.base_len = (uint8_t)uidlist_base_len(name, len);
	if (new.base_len == 0 || l->next_uid >= UID_LIMIT || (off = pool_copy(l, name, len)) < 0)
		return NULL;
	new.name = (uint32_t)off;
	e = uidlist_insert(l, &new);
	if (e == NULL)
		l->pool_len -= len;
	else
		l->next_uid++;
	return e;
}

bool uidlist_rename(struct uidlist *l, struct uid_entry *e, const char *name, size_t len)
{
	int64_t off;

	if (uidlist_base_len(name, len) != e->base_len || memcmp(name, uidlist_name(l, e), e->base_len) != 0 ||
	    (off = pool_copy(l, name, len)) < 0)
		return false;
	e->name = (uint32_t)off;
	e->name_len = (uint8_t)len;
	return true;
}

bool uidlist_set_uidl(struct uidlist *l, struct uid_entry *e, const char *uidl, size_t len)
{
	int64_t off;

	if (len == 0 || len > UIDL_STRING_MAX || (off = pool_copy(l, uidl, len)) < 0)
		return false;
	e->uidl = (uint32_t)off;
	e->uidl_len = (uint8_t)len;
	return true;
}

const char *uidlist_uidl(const struct uidlist *l, const struct uid_entry *e)
{
	return e->uidl_len > 0 ? l->pool + e->uidl : NULL;
}

bool *uidlist_flags(const struct uidlist *l)
{
	/* One more than needed: calloc(0, ...) may give NULL. */
	bool *flags = calloc(l->count + 1, sizeof *flags);

	if (flags == NULL)
		log_msg(LOG_ERR, "out of memory flagging the entries of the UID list");
	return flags;
}

void uidlist_drop(struct uidlist *l, const bool *drop)
{
	size_t out = 0;

	for (size_t i = 0; i < l->count; i++)
		if (!drop[i])
			l->entries[out++] = l->entries[i];
	if (out == l->count)
		return;
	l->count = out;
	/* The pool keeps the dropped names until the list is freed: a list
	 * is read, changed once and written. */
	if (!index_rebuild(l, l->count))
		log_msg(LOG_ERR, "out of memory indexing the UID list");
}

bool uidlist_reserve(struct uidlist *l, size_t n)
{
	return array_grow((void **)&l->entries, &l->capacity, n, sizeof *l->entries) && index_rebuild(l, n);
}
