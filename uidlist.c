/*
 * uidlist.c - the Maildir's UID list file: parse, index, write, lock.
 *
 * Format (text, one record a line):
 *   POP3-HANDLER-UIDLIST 1 <next-uid>
 *   <uid> <exact-size> <stored-size> <retrieved> <base-name>     (UIDs increasing)
 *   END <entries> <FNV-1a 64 of every octet before this line, 16 hex digits>
 * Anything else, a wrong count or checksum, or octets after END is corrupt.
 */
#include "uidlist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "parse.h"
#include "util.h"

#define MAGIC "POP3-HANDLER-UIDLIST 1 "

/* Base names longer than a file name cannot occur. */
#define BASE_NAME_MAX 255

/* A UID this large would overflow the arithmetic of later issues. */
#define UID_LIMIT (UINT64_MAX / 2)

uint64_t uidlist_clock_floor(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || now.tv_sec < 0)
		return 1;
	return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

/* The lock file holds the next UID as 20 digits and a newline. */
#define MARK_LEN 21

/* Parses a mark: 20 digits and a newline; 0 when it is not one. */
static uint64_t parse_mark(const char *buf, ssize_t len)
{
	uint64_t mark;

	if (len != MARK_LEN || buf[MARK_LEN - 1] != '\n' || !parse_u64(buf, MARK_LEN - 1, UID_LIMIT, &mark))
		return 0;
	return mark;
}

/* The high-water mark kept in the lock file, or 0 when there is none. */
static uint64_t read_mark(int dirfd)
{
	char buf[MARK_LEN] = "";
	uint64_t mark;
	ssize_t n;
	int fd = openat(dirfd, UIDLIST_LOCK, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0;
	/* Closing this descriptor keeps our lock: it is an open file
	 * description lock, held by the descriptor uidlist_lock opened. */
	n = pread(fd, buf, sizeof buf, 0);
	mark = parse_mark(buf, n);
	close(fd);
	return mark;
}

/* Records next_uid in the lock file before a list that may issue up to it is written; the mark never goes down. */
static bool write_mark(int lock_fd, uint64_t next_uid)
{
	char buf[MARK_LEN + 1] = "";
	ssize_t n = pread(lock_fd, buf, MARK_LEN, 0);
	uint64_t old = parse_mark(buf, n);

	if (old > next_uid)
		return true;
	snprintf(buf, sizeof buf, "%020" PRIu64 "\n", next_uid);
	return pwrite(lock_fd, buf, MARK_LEN, 0) == MARK_LEN && fdatasync(lock_fd) == 0;
}

/* Raises the next UID above the lock file's mark (a list restored from a backup must not issue again what was issued since) and, for a list started again, to the clock floor. */
static void raise_next_uid(int dirfd, struct uidlist *l, bool restarted)
{
	uint64_t mark = read_mark(dirfd);

	if (l->next_uid < mark)
		l->next_uid = mark;
	if (restarted && l->next_uid < uidlist_clock_floor())
		l->next_uid = uidlist_clock_floor();
}

static void uidlist_init(struct uidlist *l)
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

/* A base name we store: 1..BASE_NAME_MAX octets, none of them a control octet (a line break would split the record), '/' or ':'.  Spaces are fine: the name is the last field of its line. */
static bool base_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > BASE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

/* The index's hash of a base name: eight octets at a time (FNV's octet
 * loop was a tenth of a session's time on large mailboxes). */
static size_t slot_of(const struct uidlist *l, const char *base, size_t len)
{
	uint64_t h = (uint64_t)len * 0x9e3779b97f4a7c15ULL, w;

	for (; len >= 8; base += 8, len -= 8) {
		memcpy(&w, base, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, base, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (size_t)h & (l->slot_count - 1);
}

/* The slot holding the entry named base, or the free slot where it would go. */
static size_t *probe(const struct uidlist *l, const char *base, size_t len)
{
	size_t s = slot_of(l, base, len);

	for (; l->slots[s] != 0; s = (s + 1) & (l->slot_count - 1)) {
		const struct uid_entry *e = &l->entries[l->slots[s] - 1];

		if (e->name_len == len && memcmp(l->pool + e->name, base, len) == 0)
			break;
	}
	return &l->slots[s];
}

/* Rebuilds the hash index for the current entries, sized for at least needed ones. */
static bool index_rebuild(struct uidlist *l, size_t needed)
{
	size_t n = 64;

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
		size_t s = slot_of(l, uidlist_name(l, e), e->name_len);

		while (l->slots[s] != 0)
			s = (s + 1) & (n - 1);
		l->slots[s] = i + 1;
	}
	return true;
}

struct uid_entry *uidlist_find(const struct uidlist *l, const char *base, size_t len)
{
	size_t *slot;

	if (l->slot_count == 0)
		return NULL;
	slot = probe(l, base, len);
	return *slot != 0 ? &l->entries[*slot - 1] : NULL;
}

/* Adds an entry with the given UID (callers keep UIDs increasing) for the name already in the pool at offset name; NULL on out of memory or when the name is there already. */
static struct uid_entry *entry_insert(struct uidlist *l, uint64_t uid, size_t name, size_t len)
{
	struct uid_entry *e;
	size_t *slot;

	if (!array_grow((void **)&l->entries, &l->capacity, l->count + 1, sizeof *l->entries))
		return NULL;
	if ((l->count + 1) * 2 > l->slot_count && !index_rebuild(l, l->count + 1))
		return NULL;
	slot = probe(l, l->pool + name, len);
	if (*slot != 0)
		return NULL;
	e = &l->entries[l->count];
	memset(e, 0, sizeof *e);
	e->uid = uid;
	e->name = name;
	e->name_len = (unsigned)len;
	*slot = ++l->count;
	return e;
}

struct uid_entry *uidlist_add(struct uidlist *l, const char *base, size_t len)
{
	struct uid_entry *e;

	if (!base_name_ok(base, len) || l->next_uid >= UID_LIMIT ||
	    !array_grow((void **)&l->pool, &l->pool_capacity, l->pool_len + len, 1))
		return NULL;
	memcpy(l->pool + l->pool_len, base, len);
	e = entry_insert(l, l->next_uid, l->pool_len, len);
	if (e != NULL) {
		l->pool_len += len;
		l->next_uid++;
	}
	return e;
}

void uidlist_prune_unseen(struct uidlist *l)
{
	size_t out = 0;

	for (size_t i = 0; i < l->count; i++)
		if (l->entries[i].seen)
			l->entries[out++] = l->entries[i];
	if (out == l->count)
		return;
	l->count = out;
	/* The pool keeps the dropped names until the list is next read:
	 * a session prunes at most once. */
	if (!index_rebuild(l, l->count))
		log_msg(LOG_ERR, "out of memory indexing the UID list");
}

/* Splits the next line (without its LF) off *p; false when no LF is left. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *lf = memchr(*p, '\n', (size_t)(end - *p));

	if (lf == NULL)
		return false;
	*line = *p;
	*len = (size_t)(lf - *p);
	*p = lf + 1;
	return true;
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

/* Parses "<uid> <exact> <stored> <retrieved> <name>" into a new entry; UIDs must increase and stay below next_uid. */
static bool parse_entry(struct uidlist *l, const char *line, size_t len)
{
	const char *s = line, *end = line + len;
	uint64_t uid, exact, stored, retrieved;
	struct uid_entry *e;

	if (!take_number(&s, end, UID_LIMIT, &uid) || !take_number(&s, end, UINT64_MAX, &exact) ||
	    !take_number(&s, end, UINT64_MAX, &stored) || !take_number(&s, end, INT64_MAX, &retrieved))
		return false;
	if (uid >= l->next_uid || (l->count > 0 && uid <= l->entries[l->count - 1].uid) ||
	    !base_name_ok(s, (size_t)(end - s)))
		return false;
	/* The line lies in the pool (the file's own buffer): the entry names
	 * its base name where it stands.  NULL for a duplicate name too. */
	e = entry_insert(l, uid, (size_t)(s - l->pool), (size_t)(end - s));
	if (e == NULL)
		return false;
	e->exact_size = exact;
	e->stored_size = stored;
	e->retrieved = (int64_t)retrieved;
	return true;
}

/* Checks "END <count> <checksum>" against what was read, and that nothing follows it. */
static bool parse_trailer(const struct uidlist *l, const char *line, size_t len, uint64_t checksum, bool at_end)
{
	char expect[64];
	int n = snprintf(expect, sizeof expect, "END %zu %016" PRIx64, l->count, checksum);

	return at_end && n > 0 && (size_t)n == len && memcmp(expect, line, len) == 0;
}

/* The lowest number above every number a damaged list may have issued: each line's first field, and the last field of a header line. */
static uint64_t above_every_number(const char *data, size_t len)
{
	const char *p = data, *end = data + len, *line;
	uint64_t above = 1, n;
	size_t line_len;

	while (p < end) {
		if (!next_line(&p, end, &line, &line_len)) {
			line = p;
			line_len = (size_t)(end - p);
			p = end;
		}
		const char *first_end = memchr(line, ' ', line_len);
		const char *last = memrchr(line, ' ', line_len);
		size_t first_len = first_end ? (size_t)(first_end - line) : line_len;

		if (parse_u64(line, first_len, UID_LIMIT, &n) && n + 1 > above)
			above = n + 1;
		if (last != NULL && line_len >= 4 && memcmp(line, "POP3", 4) == 0 &&
		    parse_u64(last + 1, (size_t)(line + line_len - last - 1), UID_LIMIT, &n) && n > above)
			above = n;
	}
	return above;
}

/* Sizes the entries, the name pool and the index once for the lines of data, instead of growing them entry by entry. */
static void presize(struct uidlist *l, const char *data, size_t len)
{
	size_t lines = 0;

	for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		lines++;
	/* Failure only means the arrays grow as they go. */
	if (array_grow((void **)&l->entries, &l->capacity, lines, sizeof *l->entries))
		index_rebuild(l, lines);
}

/* Parses the list held in data (len octets of a malloc'd buffer of capacity octets), which becomes the list's name pool: the names are not copied.  data is owned by l from here on, whatever the result. */
static enum uidlist_status parse_in_place(char *data, size_t len, size_t capacity, struct uidlist *l)
{
	const char *p = data, *end = data + len, *line;
	uint64_t header_next = 0, above;
	size_t line_len;

	uidlist_init(l);
	l->pool = data;
	l->pool_len = len;
	l->pool_capacity = capacity;
	presize(l, data, len);
	if (next_line(&p, end, &line, &line_len) && line_len > strlen(MAGIC) &&
	    memcmp(line, MAGIC, strlen(MAGIC)) == 0 &&
	    parse_u64(line + strlen(MAGIC), line_len - strlen(MAGIC), UID_LIMIT, &header_next) &&
	    header_next >= 1) {
		l->next_uid = header_next;
		while (next_line(&p, end, &line, &line_len)) {
			if (line_len >= 4 && memcmp(line, "END ", 4) == 0) {
				uint64_t sum = fnv1a64(FNV1A64_INIT, data, (size_t)(line - data));

				if (parse_trailer(l, line, line_len, sum, p == end))
					return UIDLIST_OK;
				break;
			}
			if (!parse_entry(l, line, line_len))
				break;
		}
	}
	/* Corrupt: forget the entries (their messages get new UIDs), and
	 * leave in next_uid the lowest UID the list cannot have named. */
	above = above_every_number(data, len);
	uidlist_free(l);	/* frees data too */
	l->next_uid = above;
	return UIDLIST_CORRUPT;
}

enum uidlist_status uidlist_parse(const char *data, size_t len, struct uidlist *l)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		uidlist_init(l);
		return UIDLIST_FAILED;
	}
	memcpy(copy, data, len);
	return parse_in_place(copy, len, len + 1, l);
}

/* Reads the whole list file; NULL with *status set when it is missing or unreadable. */
static char *read_list_file(int dirfd, size_t *len, enum uidlist_status *status)
{
	struct stat st;
	char *data;
	int fd = openat(dirfd, UIDLIST_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*status = UIDLIST_FAILED;
	if (fd < 0) {
		if (errno == ENOENT)
			*status = UIDLIST_MISSING;
		else
			log_msg(LOG_ERR, "cannot open %s: %s", UIDLIST_FILE, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_msg(LOG_ERR, "%s is not a regular file", UIDLIST_FILE);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > UIDLIST_SIZE_MAX) {
		log_msg(LOG_ERR, "%s is larger than any UID list: treated as corrupt", UIDLIST_FILE);
		close(fd);
		*status = UIDLIST_CORRUPT;
		return NULL;
	}
	data = malloc((size_t)st.st_size + 1);
	*len = 0;
	while (data != NULL && *len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + *len, (size_t)st.st_size - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* shorter than fstat said: parse what is there */
		*len += (size_t)n;
	}
	if (data == NULL)
		log_msg(LOG_ERR, "out of memory reading %s", UIDLIST_FILE);
	close(fd);
	return data;
}

enum uidlist_status uidlist_read(int dirfd, struct uidlist *l)
{
	enum uidlist_status status;
	size_t len;
	char *data = read_list_file(dirfd, &len, &status);

	if (data == NULL)
		uidlist_init(l);
	else
		status = parse_in_place(data, len, len + 1, l);
	if (status == UIDLIST_CORRUPT)
		log_msg(LOG_WARNING, "%s is corrupt: rebuilt with new UIDs", UIDLIST_FILE);
	if (status != UIDLIST_FAILED)
		raise_next_uid(dirfd, l, status != UIDLIST_OK);
	return status;
}

/* Renders the list in its file format, checksum included; NULL on out of memory. */
static char *render(const struct uidlist *l, size_t *len_r)
{
	size_t cap = 64 + l->count * 90 + l->pool_len, len = 0;
	char *buf = malloc(cap);
	int n;

	if (buf == NULL)
		return NULL;
	len += (size_t)snprintf(buf, cap, MAGIC "%" PRIu64 "\n", l->next_uid);
	for (size_t i = 0; i < l->count; i++) {
		const struct uid_entry *e = &l->entries[i];

		/* Four numbers of at most 20 digits and their spaces. */
		if (!array_grow((void **)&buf, &cap, len + 90 + e->name_len, 1)) {
			free(buf);
			return NULL;
		}
		n = snprintf(buf + len, cap - len, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %.*s\n",
			     e->uid, e->exact_size, e->stored_size, e->retrieved, (int)e->name_len,
			     uidlist_name(l, e));
		len += (size_t)n;
	}
	if (!array_grow((void **)&buf, &cap, len + 64, 1)) {
		free(buf);
		return NULL;
	}
	len += (size_t)snprintf(buf + len, cap - len, "END %zu %016" PRIx64 "\n", l->count,
				fnv1a64(FNV1A64_INIT, buf, len));
	*len_r = len;
	return buf;
}

bool uidlist_write(int dirfd, int lock_fd, const struct uidlist *l)
{
	size_t len;
	char *buf;
	int fd;
	bool ok;

	if (!write_mark(lock_fd, l->next_uid)) {
		log_msg(LOG_ERR, "cannot record the next UID in %s: %s", UIDLIST_LOCK, strerror(errno));
		return false;
	}
	buf = render(l, &len);
	if (buf == NULL) {
		log_msg(LOG_ERR, "out of memory writing %s", UIDLIST_FILE);
		return false;
	}
	fd = openat(dirfd, UIDLIST_TEMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd >= 0 && write_all(fd, buf, len) && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	/* Only a complete, synced file replaces the list; a crash before the
	 * rename leaves the old list, one after it the new. */
	ok = ok && renameat(dirfd, UIDLIST_TEMP, dirfd, UIDLIST_FILE) == 0;
	if (ok && fsync(dirfd) != 0)
		log_msg(LOG_WARNING, "fsync of the Maildir: %s", strerror(errno));
	if (!ok) {
		log_msg(LOG_ERR, "cannot write %s: %s", UIDLIST_FILE, strerror(errno));
		if (unlinkat(dirfd, UIDLIST_TEMP, 0) != 0 && errno != ENOENT)
			log_msg(LOG_WARNING, "cannot remove %s: %s", UIDLIST_TEMP, strerror(errno));
	}
	free(buf);
	return ok;
}

int uidlist_lock(int dirfd)
{
	struct timespec pause = { 0, UIDLIST_LOCK_RETRY_MS * 1000000L };
	struct flock fl;
	int fd = openat(dirfd, UIDLIST_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		log_msg(LOG_ERR, "cannot open %s: %s", UIDLIST_LOCK, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	/* An open file description lock: unlike a classic fcntl lock it is
	 * not dropped when this process closes some other descriptor of the
	 * file (as reading the mark does); like it, the kernel (or NFS
	 * lockd) releases it when the holder dies. */
	for (int waited = 0; waited < UIDLIST_LOCK_WAIT_MS; waited += UIDLIST_LOCK_RETRY_MS) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return fd;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			break;
		nanosleep(&pause, NULL);
	}
	log_msg(LOG_ERR, "cannot lock %s: %s", UIDLIST_LOCK,
		errno == EACCES || errno == EAGAIN ? "held too long by another session" : strerror(errno));
	close(fd);
	return -1;
}

void uidlist_unlock(int lock_fd)
{
	/* Closing the descriptor drops the fcntl lock. */
	if (close(lock_fd) != 0)
		log_msg(LOG_WARNING, "closing %s: %s", UIDLIST_LOCK, strerror(errno));
}
