/*
 * fuzz-uidl-import.c - libFuzzer target for taking over a previous server's
 * UIDLs (uidl-formats.c, uidl-import.c): the dovecot-uidlist or
 * courierpop3dsizelist in a Maildir is whatever its owner wrote, and so is
 * every message's header.  The first octet of the input chooses; the rest
 * is the file:
 *   bit 0: Courier's size list, else Dovecot's list;
 *   bit 1: Dovecot's format is "%f" (UIDLs that are file names), else
 *          "%08Xu%08Xv";
 *   bit 2: the rest is a message header for xuidl_find instead.
 * The file is parsed into a sink and, written into a scratch Maildir of
 * four messages whose base names the dictionary holds, taken over by a
 * snapshot made without a UID list (with X-UIDL headers taken over when
 * bit 3 is set; two of the messages share one).
 * Invariants, checked with abort():
 *   - the parsers give base names of 1 or more octets without ':', and
 *     UIDLs of at most UIDL_EXPANDED_MAX octets; Courier's are
 *     "UID<digits>-<digits>";
 *   - an X-UIDL value lies inside the header, is not empty, neither
 *     starts nor ends with a blank, and holds no LF (a stray CR is the
 *     importer's to refuse);
 *   - the snapshot opens with all four messages; every UIDL it shows is an
 *     RFC 1939 unique-id, and no two messages show the same UIDL (decimal
 *     UIDs included); the UID list read back gives each message the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-snapshot.h"
#include "params.h"
#include "parse.h"
#include "uidl-formats.h"
#include "uidl-import.h"
#include "uidlist-file.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COURIER_BIT 1
#define NAMES_BIT 2
#define HEADER_BIT 4
#define XUIDL_BIT 8

/* The scratch Maildir's messages: the dictionary holds their base names. */
static const char *const messages[][2] = {
	{ "cur", "1700000001.M1P1.host:2," },
	{ "cur", "1700000002.M2P1.host:2,S" },
	{ "cur", "a:2,RS" },
	{ "cur", "b:2," },
};
#define MESSAGES (sizeof messages / sizeof *messages)

static void check(int ok)
{
	if (!ok)
		abort();
}

static char root[] = "/tmp/fuzz-uidl-import.XXXXXX";

static void put_file(const char *path, const char *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	check(fd >= 0 && write_all(fd, data, size) && close(fd) == 0);
}

/* Makes the scratch Maildir once: the first two messages share an X-UIDL. */
static void make_maildir(void)
{
	static const char *const headers[MESSAGES] = { "X-UIDL: twin\n\nx\n", "X-UIDL: twin\n\ny\n",
						       "Subject: a\nX-UIDL: 42\n\nz\n", "Subject: b\n\nw\n" };
	static const char *const dirs[] = { "new", "cur", "tmp" };
	static bool made;
	char path[PATH_MAX];

	if (made)
		return;
	made = true;
	check(mkdtemp(root) != NULL);
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
		check(mkdir(path, 0700) == 0);
	}
	for (size_t i = 0; i < MESSAGES; i++) {
		snprintf(path, sizeof path, "%s/%s/%s", root, messages[i][0], messages[i][1]);
		put_file(path, headers[i], strlen(headers[i]));
	}
}

/* A uidl_sink that checks what a parser gives. */
static bool check_given(void *ctx, const char *base, size_t base_len, const char *uidl, size_t uidl_len)
{
	const bool *courier = ctx;

	check(base_len >= 1 && memchr(base, ':', base_len) == NULL && uidl_len <= UIDL_EXPANDED_MAX);
	if (*courier) {
		const char *dash = memchr(uidl, '-', uidl_len);
		uint64_t n;

		check(uidl_len > 3 && memcmp(uidl, "UID", 3) == 0 && dash != NULL);
		check(parse_u64(uidl + 3, (size_t)(dash - uidl - 3), UINT64_MAX, &n));
		check(parse_u64(dash + 1, (size_t)(uidl + uidl_len - dash - 1), UINT64_MAX, &n));
	}
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void check_xuidl(const char *header, size_t len)
{
	const char *value;
	size_t n;

	if (!xuidl_find(header, len, &value, &n))
		return;
	check(value >= header && n >= 1 && value + n <= header + len);
	check(!is_blank(value[0]) && !is_blank(value[n - 1]));
	check(memchr(value, '\n', n) == NULL);
}

/* The UIDL message i shows: its own, or its UID in decimal (written to buf). */
static const char *shown(const struct maildir *md, size_t i, char *buf, size_t size)
{
	if (md->msgs[i].has_uidl)
		return maildir_uidl(md, i);
	snprintf(buf, size, "%" PRIu64, md->msgs[i].uid);
	return buf;
}

/* Checks a snapshot taken over: all messages, unique-ids, none shown twice. */
static void check_snapshot(const struct maildir *md)
{
	char a[32], b[32];

	check(md->count == MESSAGES);
	for (size_t i = 0; i < md->count; i++) {
		const char *x = shown(md, i, a, sizeof a);

		check(unique_id_ok(x, strlen(x)));
		for (size_t k = 0; k < i; k++)
			check(strcmp(x, shown(md, k, b, sizeof b)) != 0);
	}
}

/* Checks that the UID list written gives each message its UIDL again. */
static void check_list(const struct maildir *md)
{
	struct uidlist l;

	check(uidlist_read(md->dirfd, &l) == UIDLIST_OK && l.count == md->count);
	for (size_t i = 0; i < md->count; i++) {
		size_t base_len;
		const char *base = maildir_base(md, i, &base_len);
		const struct uid_entry *e = uidlist_find(&l, base, base_len);

		check(e != NULL && e->uid == md->msgs[i].uid);
		check(e->uidl_len == (md->msgs[i].has_uidl ? strlen(maildir_uidl(md, i)) : 0));
		check(e->uidl_len == 0 || memcmp(uidlist_uidl(&l, e), maildir_uidl(md, i), e->uidl_len) == 0);
	}
	uidlist_free(&l);
}

/* Writes the file into the scratch Maildir, without a UID list, and takes the snapshot. */
static void take_over(const char *file, const char *text, size_t len, const struct uidl_migration *migration)
{
	static const char *const files[] = { "dovecot-uidlist", "courierpop3dsizelist", UIDLIST_FILE };
	char path[PATH_MAX];
	struct maildir md;

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", root, files[i]);
		check(unlink(path) == 0 || errno == ENOENT);
	}
	snprintf(path, sizeof path, "%s/%s", root, file);
	put_file(path, text, len);
	check(maildir_snapshot(&md, root, migration));
	check_snapshot(&md);
	check_list(&md);
	maildir_close(&md);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	size_t len = size > 0 ? size - 1 : 0;
	struct uidl_migration migration = { UIDL_MIGRATE_AUTO, UIDL_MIGRATE_FORMAT_DEFAULT, false };
	struct uidl_sink sink;
	bool courier;

	if (size == 0)
		return 0;
	courier = data[0] & COURIER_BIT;
	sink = (struct uidl_sink){ check_given, &courier };
	if (data[0] & HEADER_BIT) {
		check_xuidl(text, len);
		return 0;
	}
	if (data[0] & NAMES_BIT)
		migration.format = "%f";
	migration.from_header = data[0] & XUIDL_BIT;
	check(courier ? courier_sizelist_parse(text, len, &sink)
		      : dovecot_uidlist_parse(text, len, migration.format, &sink));
	make_maildir();
	take_over(courier ? "courierpop3dsizelist" : "dovecot-uidlist", text, len, &migration);
	return 0;
}
