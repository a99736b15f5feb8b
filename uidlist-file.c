/*
 * uidlist-file.c - the UID list's file: its format, read and written
 * whole, the lock, and the high-water mark kept in the lock file.
 *
 * Format (text, one record a line):
 *   POP3-HANDLER-UIDLIST 3 <next-uid> <new/ stamp> <cur/ stamp>
 *   <uid> <exact-size> <stored-size> <retrieved> <uidl> <file-name>     (UIDs increasing)
 *   END <entries> <FNV-1a 64 of every octet before this line, 16 hex digits>
 * A stamp is four numbers: inode, size, change time in seconds and its
 * nanoseconds; all 0 when not known.  <uidl> is "-", or "=" and the UIDL a
 * previous server showed (1 to 70 octets of 0x21..0x7E), which UIDL shows
 * instead of the uid.  Version 2 lists (entries without <uidl>) and
 * version 1 lists (header "POP3-HANDLER-UIDLIST 1 <next-uid>", base names
 * only) are still read.
 * Anything else, a wrong count or checksum, or octets after END is corrupt.
 */
#include "uidlist-file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "parse.h"
#include "shared-fs.h"
#include "textfile.h"
#include "util.h"

#define MAGIC "POP3-HANDLER-UIDLIST 3 "
#define MAGIC_V2 "POP3-HANDLER-UIDLIST 2 "
#define MAGIC_V1 "POP3-HANDLER-UIDLIST 1 "
#define MAGIC_LEN (sizeof MAGIC - 1)

/* The most decimal digits of a 64-bit number. */
#define U64_DIGITS 20

/* The clock floor counts microseconds. */
#define USEC_PER_SEC 1000000
#define NSEC_PER_USEC 1000

/* The lock's retry pause is given in milliseconds. */
#define NSEC_PER_MSEC 1000000L

/* The END line: "END", the entry count and the checksum (16 hex digits) fit in this. */
#define END_LINE_MAX 64

/* The longest entry line: four numbers of at most 20 digits with their spaces, "=" and a UIDL
 * and its space, a name, the LF. */
#define ENTRY_LINE_MAX (4 * (U64_DIGITS + 1) + 1 + UIDL_STRING_MAX + 1 + UIDLIST_NAME_MAX + 1)

uint64_t uidlist_clock_floor(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || now.tv_sec < 0)
		return 1;
	return (uint64_t)now.tv_sec * USEC_PER_SEC + (uint64_t)now.tv_nsec / NSEC_PER_USEC;
}

/* The highest next UID a list, a mark or a damaged list may lead to now: the clock floor plus
 * UID_CLOCK_MARGIN, and below UID_LIMIT.  A number above it was not issued by us; trusted, it
 * would use up the mailbox's UIDs. */
static uint64_t uid_ceiling(void)
{
	uint64_t floor = uidlist_clock_floor();

	return floor < UID_LIMIT - UID_CLOCK_MARGIN ? floor + UID_CLOCK_MARGIN : UID_LIMIT;
}

/* The lock file's record: the next UID (the high-water mark) as 20 digits, a space, the checksum
 * of the list last written (the one its END line carries) as 16 hex digits, and a newline.  Lock
 * files of versions before the checksum hold the mark and its newline only. */
#define MARK_LEN (U64_DIGITS + 1)
#define CHECKSUM_DIGITS 16
#define RECORD_LEN (MARK_LEN + CHECKSUM_DIGITS + 1)

struct lock_record {
	uint64_t mark;		/* 0: none */
	bool has_checksum;
	uint64_t checksum;
};

/* Parses len hex digits (lower case, as written) into *out. */
static bool parse_hex64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > CHECKSUM_DIGITS)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

/* Parses a record: the mark (20 digits, at most the ceiling; 0 when it is not one: a mark beyond
 * the ceiling is ignored, and the next list written replaces it) and, when the record has one,
 * the checksum. */
static void parse_record(const char *buf, ssize_t len, struct lock_record *rec)
{
	memset(rec, 0, sizeof *rec);
	if (len < MARK_LEN || (buf[MARK_LEN - 1] != '\n' && buf[MARK_LEN - 1] != ' '))
		return;
	if (!parse_u64(buf, MARK_LEN - 1, uid_ceiling(), &rec->mark))
		rec->mark = 0;
	rec->has_checksum = buf[MARK_LEN - 1] == ' ' && len >= RECORD_LEN && buf[RECORD_LEN - 1] == '\n' &&
			    parse_hex64(buf + MARK_LEN, CHECKSUM_DIGITS, &rec->checksum);
}

/* Reads the lock file's record, through lock_fd when the caller holds the lock (else -1), and
 * on a shared file system past this host's caches (shared-fs.h); an empty record when there is
 * no lock file.  False when it cannot be read. */
static bool read_record(int dirfd, int lock_fd, struct lock_record *rec)
{
	char buf[RECORD_LEN];
	bool shared = fs_is_shared(dirfd);
	ssize_t n;
	int fd = lock_fd;

	memset(rec, 0, sizeof *rec);
	/* fresh_read truncates the file to its own size: it needs to write. */
	if (fd < 0)
		fd = openat(dirfd, UIDLIST_LOCK, (shared ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	/* Closing a descriptor of our own keeps the lock: it is an open file
	 * description lock, held by the descriptor uidlist_lock opened. */
	n = shared ? fresh_read(dirfd, UIDLIST_LOCK, fd, RECORD_LEN, buf, sizeof buf) : pread(fd, buf, sizeof buf, 0);
	if (fd != lock_fd)
		close(fd);
	if (n < 0)
		return false;
	parse_record(buf, n, rec);
	return true;
}

/* The high-water mark kept in the lock file, or 0 when there is none. */
static uint64_t read_mark(int dirfd)
{
	struct lock_record rec;

	return read_record(dirfd, -1, &rec) ? rec.mark : 0;
}

/* Records, in the lock file held as lock_fd, next_uid as the mark (which never goes down) and the
 * checksum of the list about to replace the list file; the record it replaces in *old. */
static bool write_record(int dirfd, int lock_fd, uint64_t next_uid, uint64_t checksum, struct lock_record *old)
{
	char buf[RECORD_LEN + 1];

	if (!read_record(dirfd, lock_fd, old))
		return false;
	snprintf(buf, sizeof buf, "%020" PRIu64 " %016" PRIx64 "\n", old->mark > next_uid ? old->mark : next_uid,
		 checksum);
	return pwrite(lock_fd, buf, RECORD_LEN, 0) == RECORD_LEN && fdatasync(lock_fd) == 0;
}

/* Raises the next UID above the lock file's mark (a list restored from a backup must not issue
 * again what was issued since) and, for a list started again, to the clock floor. */
static void raise_next_uid(struct uidlist *l, bool restarted, uint64_t mark)
{
	if (l->next_uid < mark)
		l->next_uid = mark;
	if (restarted && l->next_uid < uidlist_clock_floor())
		l->next_uid = uidlist_clock_floor();
}

/* Tells whether the len octets at line begin with the string prefix. */
static bool starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* Takes one space-terminated decimal field off the front of a line. */
static bool take_number(const char **s, const char *end, uint64_t max, uint64_t *out)
{
	const char *sp = memchr(*s, ' ', (size_t)(end - *s));

	if (sp == NULL || !parse_u64(*s, (size_t)(sp - *s), max, out))
		return false;
	*s = sp + 1;
	return true;
}

/* Takes a version 3 entry's "<uidl> " field off the front of a line: "-", or "=" and a UIDL
 * (an offset in l's pool). */
static bool take_uidl(const struct uidlist *l, const char **s, const char *end, struct uid_entry *e)
{
	const char *sp;
	size_t len;

	/* Most entries have none: "- " is taken without a search. */
	if (end - *s >= 2 && (*s)[0] == '-' && (*s)[1] == ' ') {
		*s += 2;
		return true;
	}
	sp = memchr(*s, ' ', (size_t)(end - *s));
	len = sp != NULL ? (size_t)(sp - *s) : 0;
	if (len < 2 || len - 1 > UIDL_STRING_MAX || **s != '=' || !unique_id_ok(*s + 1, len - 1))
		return false;
	e->uidl = (uint32_t)(*s + 1 - l->pool);
	e->uidl_len = (uint8_t)(len - 1);
	*s = sp + 1;
	return true;
}

/* Parses "<uid> <exact> <stored> <retrieved> [<uidl>] <name>" into *e (the name an offset in
 * l's pool, where the line lies); UIDs must increase (after the UID last, 0 for none) and stay
 * below next_uid. */
static bool parse_entry(const struct uidlist *l, const char *line, size_t len, uint64_t last, struct uid_entry *e)
{
	const char *s = line, *end = line + len;
	uint64_t retrieved;
	size_t base;

	memset(e, 0, sizeof *e);
	if (!take_number(&s, end, UID_LIMIT, &e->uid) || !take_number(&s, end, UINT64_MAX, &e->exact_size) ||
	    !take_number(&s, end, UINT64_MAX, &e->stored_size) || !take_number(&s, end, INT64_MAX, &retrieved) ||
	    (l->format >= 3 && !take_uidl(l, &s, end, e)))
		return false;
	if (e->uid >= l->next_uid || e->uid <= last || (base = uidlist_base_len(s, (size_t)(end - s))) == 0)
		return false;
	e->retrieved = (int64_t)retrieved;
	e->name = (uint32_t)(s - l->pool);
	e->name_len = (uint8_t)(end - s);
	e->base_len = (uint8_t)base;
	return true;
}

/* Parses the stamps of a version 2 header: " <ino> <size> <sec> <nsec>" for new/ and then cur/,
 * ending the line. */
static bool parse_stamps(const char *s, const char *end, struct dir_stamp *stamps)
{
	for (size_t k = 0; k < STAMPS; k++) {
		uint64_t *field[] = { &stamps[k].ino, &stamps[k].size, &stamps[k].sec, &stamps[k].nsec };

		for (size_t f = 0; f < sizeof field / sizeof *field; f++) {
			const char *sp = memchr(s, ' ', (size_t)(end - s));
			const char *stop = sp ? sp : end;

			/* A space ends every field but the last of the line. */
			if ((sp == NULL) != (k == STAMPS - 1 && f == sizeof field / sizeof *field - 1) ||
			    !parse_u64(s, (size_t)(stop - s), UINT64_MAX, field[f]))
				return false;
			s = stop + (sp != NULL);
		}
	}
	return true;
}

/* Parses the header line: "<magic 1> <next>", or "<magic 2 or 3> <next> <stamps>"; a next UID
 * beyond the ceiling makes the list corrupt (its entries' UIDs lie below it). */
static bool parse_header(struct uidlist *l, const char *line, size_t len)
{
	const char *s = line + MAGIC_LEN, *end = line + len;

	if (len <= MAGIC_LEN)
		return false;
	if (memcmp(line, MAGIC_V1, MAGIC_LEN) == 0) {
		l->format = 1;
		return parse_u64(s, len - MAGIC_LEN, uid_ceiling(), &l->next_uid) && l->next_uid >= 1;
	}
	if (memcmp(line, MAGIC, MAGIC_LEN) == 0)
		l->format = 3;
	else if (memcmp(line, MAGIC_V2, MAGIC_LEN) == 0)
		l->format = 2;
	else
		return false;
	return take_number(&s, end, uid_ceiling(), &l->next_uid) && l->next_uid >= 1 &&
	       parse_stamps(s, end, l->stamps);
}

/* Checks "END <count> <checksum>" against what was read, and that nothing follows it. */
static bool parse_trailer(const char *line, size_t len, size_t count, uint64_t checksum, bool at_end)
{
	char expect[END_LINE_MAX];
	int n = snprintf(expect, sizeof expect, "END %zu %016" PRIx64, count, checksum);

	return at_end && n > 0 && (size_t)n == len && memcmp(expect, line, len) == 0;
}

/* The lowest number above every number a damaged list may have issued: each line's first field,
 * and every number of a header line (the next UID among them), up to the ceiling (a larger
 * number is no UID of ours). */
static uint64_t above_every_number(const char *data, size_t len)
{
	const char *p = data, *end = data + len, *line;
	const uint64_t ceiling = uid_ceiling();
	uint64_t above = 1, n;
	size_t line_len;

	while (p < end) {
		if (!split_line(&p, end, &line, &line_len)) {
			line = p;
			line_len = (size_t)(end - p);
			p = end;
		}
		const char *first_end = memchr(line, ' ', line_len);
		size_t first_len = first_end ? (size_t)(first_end - line) : line_len;
		bool header = starts_with(line, line_len, "POP3");

		if (parse_u64(line, first_len, ceiling - 1, &n) && n + 1 > above)
			above = n + 1;
		for (const char *sp = first_end, *stop = line + line_len; header && sp != NULL;) {
			const char *f = sp + 1;

			sp = memchr(f, ' ', (size_t)(stop - f));
			if (parse_u64(f, (size_t)((sp ? sp : stop) - f), ceiling, &n) && n > above)
				above = n;
		}
	}
	return above;
}

/* Sizes the entries, the name pool and the index once for the lines of data, instead of growing
 * them entry by entry. */
static void presize(struct uidlist *l, const char *data, size_t len)
{
	size_t lines = 0;

	for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		lines++;
	/* Failure only means the arrays grow as they go. */
	uidlist_reserve(l, lines);
}

/* Empties a list found corrupt, leaving in next_uid the lowest UID it cannot have named (its
 * entries' messages get new UIDs). */
static enum uidlist_status corrupt(struct uidlist *l)
{
	uint64_t above = above_every_number(l->pool, l->pool_len);

	uidlist_free(l);
	l->next_uid = above;
	l->corrupt = true;
	return UIDLIST_CORRUPT;
}

/* The last line of the len octets at data when they end in an END line: where it starts (its
 * length, without the LF, in *line_len); NULL when they end otherwise. */
static const char *end_line(const char *data, size_t len, size_t *line_len)
{
	const char *line;

	if (len < 2 || data[len - 1] != '\n')
		return NULL;
	line = memrchr(data, '\n', len - 1);
	line = line != NULL ? line + 1 : data;
	*line_len = (size_t)(data + len - 1 - line);
	return starts_with(line, *line_len, "END ") ? line : NULL;
}

/* Notes in l the checksum of the END line that ends data, if there is one: what tells this list
 * from any other, for the lock file's record. */
static void note_checksum(struct uidlist *l, const char *data, size_t len)
{
	size_t line_len = 0;
	const char *line = end_line(data, len, &line_len);
	const char *sp = line != NULL ? memrchr(line, ' ', line_len) : NULL;

	l->has_checksum = sp != NULL && parse_hex64(sp + 1, (size_t)(line + line_len - sp - 1), &l->checksum);
}

/* Makes data (len octets of a malloc'd buffer of capacity octets) the list's pool, the names
 * are not copied, and parses its header.  data is owned by l from here on, whatever the result. */
static enum uidlist_status take_data(char *data, size_t len, size_t capacity, struct uidlist *l)
{
	const char *p = data, *line;
	size_t line_len;

	uidlist_init(l);
	l->pool = data;
	l->pool_len = len;
	l->pool_capacity = capacity;
	note_checksum(l, data, len);
	if (split_line(&p, data + len, &line, &line_len) && parse_header(l, line, line_len))
		return UIDLIST_OK;
	return corrupt(l);
}

enum uidlist_status uidlist_parse_entries(struct uidlist *l, const struct uidlist_sink *sink)
{
	const char *p = l->pool, *end = l->pool + l->pool_len, *line;
	uint64_t sum, last = 0;
	size_t line_len, count = 0;

	if (!split_line(&p, end, &line, &line_len))	/* the header, which take_data checked */
		return corrupt(l);
	sum = fnv1a64(FNV1A64_INIT, line, line_len + 1);
	if (sink == NULL)
		presize(l, p, (size_t)(end - p));
	while (split_line(&p, end, &line, &line_len)) {
		struct uid_entry e;

		if (starts_with(line, line_len, "END "))
			return parse_trailer(line, line_len, count, sum, p == end) ? UIDLIST_OK : corrupt(l);
		/* Without a sink, a second entry for one base name is corrupt too. */
		if (!parse_entry(l, line, line_len, last, &e) || (sink == NULL && uidlist_insert(l, &e) == NULL))
			break;
		/* Summed before the sink may overwrite the line's LF. */
		sum = fnv1a64(sum, line, line_len + 1);
		if (sink != NULL && !sink->put(sink->ctx, &e, l->pool)) {
			uidlist_free(l);
			return UIDLIST_FAILED;
		}
		last = e.uid;
		count++;
	}
	return corrupt(l);
}

enum uidlist_status uidlist_parse(const char *data, size_t len, struct uidlist *l)
{
	char *copy = malloc(len + 1);
	enum uidlist_status status;

	if (copy == NULL) {
		uidlist_init(l);
		return UIDLIST_FAILED;
	}
	memcpy(copy, data, len);
	status = take_data(copy, len, len + 1, l);
	return status == UIDLIST_OK ? uidlist_parse_entries(l, NULL) : status;
}

/* The longest header line: the magic and nine numbers with their spaces, the LF. */
#define HEADER_LINE_MAX (MAGIC_LEN + (size_t)9 * (U64_DIGITS + 1) + 1)

/* The entry count the END line at the end of the open list file (size octets) claims, at most
 * MESSAGES_MAX; false when its last line is no END line. */
static bool claimed_count(int fd, uint64_t size, uint64_t *count)
{
	char tail[END_LINE_MAX];
	size_t want = size < END_LINE_MAX ? (size_t)size : END_LINE_MAX, line_len = 0;
	ssize_t n = pread(fd, tail, want, (off_t)(size - want));
	const char *line = n == (ssize_t)want ? end_line(tail, want, &line_len) : NULL;
	const char *sp = line != NULL ? memchr(line + 4, ' ', line_len - 4) : NULL;

	return sp != NULL && parse_u64(line + 4, (size_t)(sp - line - 4), MESSAGES_MAX, count);
}

/* Tells whether a list file of size octets is no larger than the entries its END line counts can
 * need (each of the longest form, with the header and the END line): we write no larger one, and
 * one that is would cost its size in memory and time to read. */
static bool size_fits_count(int fd, uint64_t size)
{
	uint64_t count;

	return claimed_count(fd, size, &count) && size <= HEADER_LINE_MAX + count * ENTRY_LINE_MAX + END_LINE_MAX;
}

/* Why the list file could not be opened, logged when report says so; the status it means. */
static enum uidlist_status open_failure(int err, bool report)
{
	if (err == ENOENT)
		return UIDLIST_MISSING;
	if (err == EFBIG) {
		if (report)
			log_msg(LOG_ERR, "%s is larger than any UID list: treated as corrupt", UIDLIST_FILE);
		return UIDLIST_CORRUPT;
	}
	if (report)
		log_msg(LOG_ERR, err == EINVAL ? "%s is not a regular file" : "cannot open %s: %s", UIDLIST_FILE,
			strerror(err));
	return UIDLIST_FAILED;
}

/* Reads the whole list file (under its name, or another that links it); NULL with *status set
 * when it is missing, unreadable or (corrupt) larger than its END line allows, each logged when
 * report says so (but a stale handle).  *stale tells that a stale file handle got in the way:
 * another host replaced the file, and reading it again by name will find the new one. */
static char *read_list_file(int dirfd, const char *name, size_t *len, enum uidlist_status *status, bool report,
			    bool *stale)
{
	uint64_t size;
	char *data = NULL;
	int fd = open_regular_at(dirfd, name, O_NOFOLLOW, UIDLIST_SIZE_MAX, &size);

	*stale = fd < 0 && errno == ESTALE;
	if (fd < 0) {
		*status = open_failure(errno, report && !*stale);
		return NULL;
	}
	*status = UIDLIST_FAILED;
	errno = 0;
	if (!size_fits_count(fd, size)) {
		*stale = errno == ESTALE;
		if (!*stale)
			*status = UIDLIST_CORRUPT;
		if (!*stale && size > END_LINE_MAX && report)
			log_msg(LOG_ERR, "%s is larger than the entries its END line counts can need, or has none: "
				"treated as corrupt", UIDLIST_FILE);
	} else if ((data = malloc((size_t)size + 1)) == NULL) {
		if (report)
			log_msg(LOG_ERR, "out of memory reading %s", UIDLIST_FILE);
	} else if (!read_all(fd, data, (size_t)size, len) && errno == ESTALE) {
		*stale = true;
		free(data);
		data = NULL;
	}
	/* Another read error ends the data early: what was read is parsed,
	 * as a file shorter than fstat said is. */
	close(fd);
	return data;
}

/* Pauses for SHARED_RETRY_MS before a read is tried again. */
static void pause_before_retry(void)
{
	struct timespec pause = { 0, SHARED_RETRY_MS * NSEC_PER_MSEC };

	nanosleep(&pause, NULL);
}

/* Makes data (or, when it is NULL, nothing with status) the list l. */
static enum uidlist_status take_file(char *data, size_t len, enum uidlist_status status, struct uidlist *l)
{
	if (data == NULL) {
		uidlist_init(l);
		l->corrupt = status == UIDLIST_CORRUPT;
		return status;
	}
	return take_data(data, len, len + 1, l);
}

/* Loads the list by its name, logging what is wrong with the file when report says so.  A stale
 * file handle (the list another host replaced, still cached by name on a shared file system) is
 * read again by name until the name leads to the new file, for at most SHARED_STALE_WAIT_MS. */
static enum uidlist_status load_list(int dirfd, struct uidlist *l, bool report)
{
	enum uidlist_status status;
	size_t len = 0;
	char *data;
	bool stale;

	for (unsigned waited = 0;; waited += SHARED_RETRY_MS) {
		data = read_list_file(dirfd, UIDLIST_FILE, &len, &status, report, &stale);
		if (!stale)
			break;
		if (waited >= SHARED_STALE_WAIT_MS) {
			if (report)
				log_msg(LOG_ERR, "cannot read %s: %s for %u ms", UIDLIST_FILE, strerror(ESTALE), waited);
			break;
		}
		pause_before_retry();
	}
	return take_file(data, len, status, l);
}

/* The name the list is also linked under on a shared file system: the list's name, a dot and the
 * checksum its END line carries, in 16 hex digits. */
#define CHECKSUM_NAME_SIZE (sizeof UIDLIST_FILE + 1 + CHECKSUM_DIGITS)

static void checksum_name(char name[CHECKSUM_NAME_SIZE], uint64_t checksum)
{
	snprintf(name, CHECKSUM_NAME_SIZE, "%s.%016" PRIx64, UIDLIST_FILE, checksum);
}

/* Tells whether the list l, loaded with status, is the one the lock file's record names: it is
 * when the record names none (there is no lock file, or an older version wrote it), or when the
 * file cannot be read at all (reading it again will not help). */
static bool list_is_recorded(const struct uidlist *l, enum uidlist_status status, const struct lock_record *rec)
{
	if (!rec->has_checksum || status == UIDLIST_FAILED)
		return true;
	return l->has_checksum && l->checksum == rec->checksum;
}

/* Loads the list the lock file's record names through its checksum name: a name made for that
 * list alone, so no host's cache holds another file under it.  False (l empty) when there is no
 * such file (an older version wrote the list, or a newer list replaced it just now). */
static bool load_by_checksum(int dirfd, const struct lock_record *rec, struct uidlist *l)
{
	char name[CHECKSUM_NAME_SIZE];
	enum uidlist_status status;
	size_t len = 0;
	char *data;
	bool stale;

	uidlist_init(l);
	if (!rec->has_checksum)
		return false;
	checksum_name(name, rec->checksum);
	data = read_list_file(dirfd, name, &len, &status, false, &stale);
	if (data == NULL)
		return false;
	if (take_file(data, len, status, l) == UIDLIST_OK && list_is_recorded(l, UIDLIST_OK, rec))
		return true;
	uidlist_free(l);
	return false;
}

/* Loads the list, logging what is wrong with it when report says so: on a shared file system the
 * one the record rec names, under its checksum name where it has one, else by its name, noting in
 * l->latest whether it is the recorded one; on a local file system by its name, the latest. */
static enum uidlist_status load_recorded(int dirfd, bool shared, const struct lock_record *rec, struct uidlist *l,
					 bool report)
{
	enum uidlist_status status;

	if (shared && load_by_checksum(dirfd, rec, l)) {
		l->latest = true;
		return UIDLIST_OK;
	}
	status = load_list(dirfd, l, report);
	l->latest = !shared || list_is_recorded(l, status, rec);
	return status;
}

enum uidlist_status uidlist_load(int dirfd, struct uidlist *l)
{
	struct lock_record rec = { 0 };
	bool shared = fs_is_shared(dirfd);
	enum uidlist_status status;

	/* Without the record no list read here can be taken as current. */
	if (shared && !read_record(dirfd, -1, &rec)) {
		status = load_list(dirfd, l, true);
		l->latest = false;
		return status;
	}
	return load_recorded(dirfd, shared, &rec, l, true);
}

/* Completes what uidlist_load began with status, logging a corrupt list when report says so;
 * mark is the lock file's. */
static enum uidlist_status finish_read(struct uidlist *l, enum uidlist_status status, bool report, uint64_t mark)
{
	if (status == UIDLIST_OK)
		status = uidlist_parse_entries(l, NULL);
	if (status == UIDLIST_CORRUPT && report)
		log_msg(LOG_WARNING, "%s is corrupt: rebuilt with new UIDs", UIDLIST_FILE);
	if (status != UIDLIST_FAILED)
		raise_next_uid(l, status != UIDLIST_OK, mark);
	return status;
}

enum uidlist_status uidlist_read(int dirfd, struct uidlist *l)
{
	return uidlist_complete_read(dirfd, l, uidlist_load(dirfd, l));
}

enum uidlist_status uidlist_complete_read(int dirfd, struct uidlist *l, enum uidlist_status status)
{
	return finish_read(l, status, true, read_mark(dirfd));
}

enum uidlist_status uidlist_reread(int dirfd, int lock_fd, struct uidlist *l)
{
	bool reported = l->corrupt, shared = fs_is_shared(dirfd);
	enum uidlist_status status;
	struct lock_record rec;

	for (unsigned waited = 0;; waited += SHARED_RETRY_MS) {
		uidlist_free(l);
		if (!read_record(dirfd, lock_fd, &rec)) {
			log_msg(LOG_ERR, "cannot read %s: %s", UIDLIST_LOCK, strerror(errno));
			return UIDLIST_FAILED;
		}
		status = load_recorded(dirfd, shared, &rec, l, false);
		if (l->latest)
			break;
		if (waited >= SHARED_STALE_WAIT_MS) {
			log_msg(LOG_WARNING, "%s is still not the list %s records after %u ms: taken as it is "
				"(written by an older version, or the file system caches longer: see the README)",
				UIDLIST_FILE, UIDLIST_LOCK, waited);
			break;
		}
		pause_before_retry();
	}
	/* Read again, to log what is wrong with it. */
	if (status == UIDLIST_CORRUPT || status == UIDLIST_FAILED) {
		uidlist_free(l);
		status = load_list(dirfd, l, !reported);
	}
	return finish_read(l, status, !reported, rec.mark);
}

/* Writes entry e's line just before end; returns where it starts. */
static char *entry_line_before(char *end, const struct uidlist *l, const struct uid_entry *e)
{
	char *p = end - 1 - e->name_len;

	memcpy(p, uidlist_name(l, e), e->name_len);
	end[-1] = '\n';
	*--p = ' ';
	if (e->uidl_len > 0) {
		p -= e->uidl_len;
		memcpy(p, uidlist_uidl(l, e), e->uidl_len);
		*--p = '=';
	} else {
		*--p = '-';
	}
	*--p = ' ';
	p = decimal_before(p, e->retrieved > 0 ? (uint64_t)e->retrieved : 0);
	*--p = ' ';
	p = decimal_before(p, e->stored_size);
	*--p = ' ';
	p = decimal_before(p, e->exact_size);
	*--p = ' ';
	return decimal_before(p, e->uid);
}

/* The list file being written: a block at a time, never the whole list in memory, with the
 * checksum of what went out. */
struct list_writer {
	int fd;
	uint64_t sum;		/* of the octets written out so far */
	size_t len;		/* octets waiting in buf */
	char buf[UIDLIST_WRITE_BLOCK];
};

static bool writer_flush(struct list_writer *w)
{
	bool ok = write_all(w->fd, w->buf, w->len);

	w->sum = fnv1a64(w->sum, w->buf, w->len);
	w->len = 0;
	return ok;
}

/* Makes room for n more octets (n at most the block) and returns where they go; NULL when a
 * write failed. */
static char *writer_room(struct list_writer *w, size_t n)
{
	if (w->len + n > sizeof w->buf && !writer_flush(w))
		return NULL;
	return w->buf + w->len;
}

/* Writes the list in its file format, checksum included (also in *checksum), through w. */
static bool write_through(struct list_writer *w, const struct uidlist *l, uint64_t *checksum)
{
	char line[ENTRY_LINE_MAX], *start, *to;
	int n;

	w->sum = FNV1A64_INIT;
	/* The header: the magic and nine numbers of at most 20 digits. */
	n = snprintf(w->buf, sizeof w->buf, MAGIC "%" PRIu64, l->next_uid);
	for (size_t k = 0; k < STAMPS; k++)
		n += snprintf(w->buf + n, sizeof w->buf - (size_t)n, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
			      l->stamps[k].ino, l->stamps[k].size, l->stamps[k].sec, l->stamps[k].nsec);
	w->buf[n++] = '\n';
	w->len = (size_t)n;
	for (size_t i = 0; i < l->count; i++) {
		start = entry_line_before(line + sizeof line, l, &l->entries[i]);
		to = writer_room(w, (size_t)(line + sizeof line - start));
		if (to == NULL)
			return false;
		memcpy(to, start, (size_t)(line + sizeof line - start));
		w->len += (size_t)(line + sizeof line - start);
	}
	to = writer_room(w, END_LINE_MAX);
	if (to == NULL)
		return false;
	*checksum = fnv1a64(w->sum, w->buf, w->len);
	w->len += (size_t)snprintf(to, END_LINE_MAX, "END %zu %016" PRIx64 "\n", l->count, *checksum);
	return writer_flush(w);
}

/* Writes the list in its file format, checksum included (also in *checksum), to fd; false with
 * errno when it cannot. */
static bool write_list(int fd, const struct uidlist *l, uint64_t *checksum)
{
	/* The block is too large for some stacks, and a static one would
	 * stay resident in every session that wrote the list, idle for
	 * minutes after (64 KiB each).  Freed after the write: mapped apart
	 * when the heap cannot hold it (MALLOC_MMAP_THRESHOLD), else from
	 * the heap, whose pages malloc_trim() gives back once the mailbox is
	 * open (mailbox.c; the other write is at the session's end). */
	struct list_writer *w = malloc(sizeof *w);
	bool ok;

	if (w == NULL)
		return false;
	w->fd = fd;
	ok = write_through(w, l, checksum);
	free(w);	/* keeps errno (glibc 2.33 and later) */
	return ok;
}

/* Links the temporary list under its checksum name (shared file systems only), where a session
 * that reads the record finds it; the same list linked already is no failure. */
static bool link_by_checksum(int dirfd, uint64_t checksum)
{
	char name[CHECKSUM_NAME_SIZE];

	checksum_name(name, checksum);
	return linkat(dirfd, UIDLIST_TEMP, dirfd, name, 0) == 0 || errno == EEXIST;
}

/* Removes the checksum name of the list the record named before (shared file systems only). */
static void unlink_by_checksum(int dirfd, const struct lock_record *old, uint64_t checksum)
{
	char name[CHECKSUM_NAME_SIZE];

	if (!old->has_checksum || old->checksum == checksum)
		return;
	checksum_name(name, old->checksum);
	if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "cannot remove %s: %s", name, strerror(errno));
}

bool uidlist_write(int dirfd, int lock_fd, const struct uidlist *l)
{
	bool shared = fs_is_shared(dirfd);
	struct lock_record old = { 0 };
	uint64_t checksum;
	int fd = openat(dirfd, UIDLIST_TEMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write_list(fd, l, &checksum) && fsync(fd) == 0;

	if (fd >= 0 && close(fd) != 0)
		ok = false;
	/* Without the link, sessions read the list by its name, again until
	 * it is the recorded one: slower, never wrong. */
	if (ok && shared && !link_by_checksum(dirfd, checksum))
		log_msg(LOG_WARNING, "cannot link %s under its checksum name: %s", UIDLIST_TEMP, strerror(errno));
	/* The record goes first: no list may issue UIDs beyond the mark, and
	 * a session that reads the list must find the one the record names
	 * (on a shared file system it reads again until it does). */
	if (ok && !write_record(dirfd, lock_fd, l->next_uid, checksum, &old)) {
		log_msg(LOG_ERR, "cannot record the next UID in %s: %s", UIDLIST_LOCK, strerror(errno));
		ok = false;
	} else if (ok && renameat(dirfd, UIDLIST_TEMP, dirfd, UIDLIST_FILE) != 0) {
		/* Only a complete, synced file replaces the list; a crash before
		 * the rename leaves the old list, one after it the new. */
		ok = false;
	} else if (ok && fsync(dirfd) != 0) {
		log_msg(LOG_WARNING, "fsync of the Maildir: %s", strerror(errno));
	}
	if (ok && shared)
		unlink_by_checksum(dirfd, &old, checksum);
	if (!ok) {
		log_msg(LOG_ERR, "cannot write %s: %s", UIDLIST_FILE, strerror(errno));
		if (unlinkat(dirfd, UIDLIST_TEMP, 0) != 0 && errno != ENOENT)
			log_msg(LOG_WARNING, "cannot remove %s: %s", UIDLIST_TEMP, strerror(errno));
	}
	return ok;
}

/* Opens the lock file, making it when it is missing; -1 (logged) on failure. */
static int open_lock_file(int dirfd)
{
	int fd = openat(dirfd, UIDLIST_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		log_msg(LOG_ERR, "cannot open %s: %s", UIDLIST_LOCK, strerror(errno));
	return fd;
}

int uidlist_lock(int dirfd, unsigned wait_ms)
{
	struct timespec pause = { 0, UIDLIST_LOCK_RETRY_MS * NSEC_PER_MSEC };
	struct flock fl;
	bool held;
	int fd = open_lock_file(dirfd);

	if (fd < 0)
		return -1;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	/* An open file description lock: unlike a classic fcntl lock it is
	 * not dropped when this process closes some other descriptor of the
	 * file (as reading the mark does); like it, the kernel (or NFS
	 * lockd) releases it when the holder dies.  It is tried rather than
	 * waited for: GlusterFS does not wake a waiter when the holder's
	 * close releases it. */
	for (unsigned waited = 0;; waited += UIDLIST_LOCK_RETRY_MS) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return fd;
		if (errno == ESTALE) {
			/* Another host replaced the lock file (a restore): the
			 * name leads to the new one once this host sees it. */
			close(fd);
			if ((fd = open_lock_file(dirfd)) < 0)
				return -1;
			errno = EAGAIN;
		}
		if ((errno != EACCES && errno != EAGAIN && errno != EINTR) || waited >= wait_ms)
			break;
		nanosleep(&pause, NULL);
	}
	held = errno == EACCES || errno == EAGAIN;
	if (!held || wait_ms > 0)
		log_msg(LOG_ERR, "cannot lock %s: %s", UIDLIST_LOCK, held ? "held too long by another session" : strerror(errno));
	close(fd);
	return -1;
}

void uidlist_unlock(int lock_fd)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	/* Closing the descriptor drops the lock too, but GlusterFS wakes no
	 * waiter for that, and an explicit unlock costs one call. */
	if (fcntl(lock_fd, F_OFD_SETLK, &fl) != 0)
		log_msg(LOG_WARNING, "unlocking %s: %s", UIDLIST_LOCK, strerror(errno));
	if (close(lock_fd) != 0)
		log_msg(LOG_WARNING, "closing %s: %s", UIDLIST_LOCK, strerror(errno));
}
