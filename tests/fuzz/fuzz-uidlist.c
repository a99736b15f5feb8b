/*
 * fuzz-uidlist.c - libFuzzer target for the UID list file (uidlist.c), which
 * lives in the mailbox owner's Maildir and so is hostile input.  The input
 * is the file, or (when its first octet is odd) the file without its END
 * line, which the target then adds with the right count and checksum: few
 * mutations of a whole file would keep a valid checksum, so without that
 * the fuzzer would hardly reach the checks of lists read whole.  It is parsed into an indexed list (uidlist_parse) and, from
 * a real file in a scratch directory, loaded and parsed into a sink as the
 * snapshot from the list does (uidlist_load, uidlist_parse_entries).
 * Invariants, checked with abort():
 *   - a list read whole has increasing UIDs below its next UID, stored names
 *     (1..255 octets, no control octet or '/', a base name before any ':'),
 *     and every entry is found again by its base name;
 *   - a corrupt list is empty;
 *   - the sink gets exactly the entries of the indexed list, in order, and
 *     the two parses agree on the status (the sink skips only the check of
 *     duplicate base names);
 *   - a list read whole, written out and read back is the same list;
 *   - dropping the entries the input's last octets flag (uidlist_drop)
 *     keeps the others in order with their UIDs, each found again, the
 *     dropped ones not found, and the next UID.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "uidlist-file.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* The scratch directory the list file is written to, made once. */
static int scratch_dir(void)
{
	static int dirfd = -1;
	char path[] = "/tmp/fuzz-uidlist.XXXXXX";

	if (dirfd < 0) {
		check(mkdtemp(path) != NULL);
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		check(dirfd >= 0);
	}
	return dirfd;
}

static void put_file(int dirfd, const char *data, size_t size)
{
	int fd = openat(dirfd, UIDLIST_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	check(fd >= 0 && write_all(fd, data, size) && close(fd) == 0);
}

/* Checks the invariants of a list read whole. */
static void check_entries(const struct uidlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *e = &l->entries[i];
		const char *name = uidlist_name(l, e);

		check(e->uid < l->next_uid && (i == 0 || e->uid > l->entries[i - 1].uid));
		check(e->name_len >= 1 && e->base_len >= 1 && e->base_len <= e->name_len);
		check(memchr(name, ':', e->base_len) == NULL);
		check(e->base_len == e->name_len || name[e->base_len] == ':');
		for (size_t k = 0; k < e->name_len; k++)
			check((unsigned char)name[k] >= 0x20 && name[k] != 0x7f && name[k] != '/');
		check(uidlist_find(l, name, e->base_len) == e);
	}
}

/* What the sink was given, compared with the indexed list as it goes. */
struct compare {
	const struct uidlist *indexed;
	size_t seen;
};

static bool compare_entry(void *ctx, const struct uid_entry *e, char *pool)
{
	struct compare *c = ctx;
	const struct uid_entry *want;

	if (c->indexed == NULL)
		return true;
	check(c->seen < c->indexed->count);
	want = &c->indexed->entries[c->seen++];
	check(e->uid == want->uid && e->exact_size == want->exact_size && e->stored_size == want->stored_size &&
	      e->retrieved == want->retrieved && e->name_len == want->name_len && e->base_len == want->base_len);
	check(memcmp(pool + e->name, uidlist_name(c->indexed, want), e->name_len) == 0);
	return true;
}

/* Writes a list read whole and reads it back: the same entries and stamps. */
static void check_round_trip(int dirfd, const struct uidlist *l)
{
	struct uidlist back;
	int lock = uidlist_lock(dirfd, 0);

	check(lock >= 0);
	check(uidlist_write(dirfd, lock, l));
	uidlist_unlock(lock);
	check(uidlist_read(dirfd, &back) == UIDLIST_OK);
	check(back.count == l->count && memcmp(back.stamps, l->stamps, sizeof back.stamps) == 0);
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *a = &l->entries[i], *b = &back.entries[i];

		check(a->uid == b->uid && a->exact_size == b->exact_size && a->stored_size == b->stored_size &&
		      (a->retrieved > 0 ? a->retrieved : 0) == b->retrieved && a->name_len == b->name_len &&
		      memcmp(uidlist_name(l, a), uidlist_name(&back, b), a->name_len) == 0);
	}
	uidlist_free(&back);
}

/* Drops the entries of a list read whole that the input flags (entry i by the low bit of the
 * i-th octet from the end) and checks what remains against a copy taken before. */
static void check_drop(struct uidlist *l, const uint8_t *raw, size_t raw_size)
{
	size_t count = l->count, kept = 0;
	uint64_t next = l->next_uid;
	struct uid_entry *before = malloc((count + 1) * sizeof *before);
	bool *drop = uidlist_flags(l);

	check(before != NULL && drop != NULL);
	memcpy(before, l->entries, count * sizeof *before);
	for (size_t i = 0; i < count; i++)
		drop[i] = i < raw_size && (raw[raw_size - 1 - i] & 1);
	uidlist_drop(l, drop);
	check(l->next_uid == next);
	for (size_t i = 0; i < count; i++) {
		const struct uid_entry *found = uidlist_find(l, uidlist_name(l, &before[i]), before[i].base_len);

		if (drop[i]) {
			check(found == NULL);
			continue;
		}
		check(kept < l->count && found == &l->entries[kept] && found->uid == before[i].uid &&
		      found->name == before[i].name && found->exact_size == before[i].exact_size);
		kept++;
	}
	check(kept == l->count);
	free(before);
	free(drop);
}

/* The input as the list file: as it is, or completed with its END line (see above); malloc'd. */
static char *list_text(const uint8_t *data, size_t size, size_t *len)
{
	bool complete = size > 0 && (data[0] & 1);
	char *text;
	size_t lines = 0;

	if (complete) {
		data++;
		size--;
	}
	text = malloc(size + 64);
	check(text != NULL);
	memcpy(text, data, size);
	*len = size;
	if (complete) {
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		*len += (size_t)snprintf(text + size, 64, "END %zu %016" PRIx64 "\n", lines > 0 ? lines - 1 : 0,
					 fnv1a64(FNV1A64_INIT, text, size));
	}
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t raw_size)
{
	int dirfd = scratch_dir();
	size_t size;
	char *data = list_text(raw, raw_size, &size);
	struct uidlist indexed, loaded;
	enum uidlist_status st, load_st;
	struct compare c = { NULL, 0 };
	struct uidlist_sink sink = { compare_entry, &c };

	st = uidlist_parse(data, size, &indexed);
	check(st == UIDLIST_OK || st == UIDLIST_CORRUPT);
	if (st == UIDLIST_OK)
		check_entries(&indexed);
	else
		check(indexed.count == 0);

	put_file(dirfd, data, size);
	free(data);
	load_st = uidlist_load(dirfd, &loaded);
	if (load_st == UIDLIST_OK) {
		c.indexed = st == UIDLIST_OK ? &indexed : NULL;
		load_st = uidlist_parse_entries(&loaded, &sink);
		check(loaded.count == 0);
		/* Only duplicate base names, which the sink does not look for,
		 * may make the indexed parse alone find the list corrupt. */
		check(load_st == st || (load_st == UIDLIST_OK && st == UIDLIST_CORRUPT));
		if (st == UIDLIST_OK)
			check(c.seen == indexed.count);
	} else {
		check(load_st == UIDLIST_CORRUPT && st == UIDLIST_CORRUPT);
	}
	uidlist_free(&loaded);

	if (st == UIDLIST_OK) {
		check_round_trip(dirfd, &indexed);
		check_drop(&indexed, raw, raw_size);
	}
	uidlist_free(&indexed);
	return 0;
}
