/*
 * test-maildir.c - tests of the Maildir modules (maildir.c, maildir-snapshot.c, maildir-size.c,
 * maildir-update.c) on Maildirs made in /tmp for each test and removed after it: the snapshot's
 * order, merging and moving new/ to cur/, UIDs across snapshots, sizes, what the scan skips,
 * following a message another program renamed, UPDATE, the Seen flag, retention and the
 * retrieval times recorded in the UID list.
 *
 * Each Maildir's lock file starts with a high-water mark of UID_BASE (uidlist.h: a new list
 * issues from the higher of the mark and the clock floor), so that UIDs are known exactly.  A
 * snapshot renders as one line, "[cur/NAME +UID exact/stored]..." with UIDs counted from
 * UID_BASE, so that a row states its whole expectation in one literal.
 */
#include "maildir.h"
#include "maildir-snapshot.h"
#include "maildir-update.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "uidl-import.h"
#include "uidlist-file.h"
#include "util.h"
#include "unit.h"

/* Five years of microseconds: UID_BASE lies that far above the clock floor, within the ten
 * years (UID_CLOCK_MARGIN) that a mark may lead it by. */
#define FIVE_YEARS_US (5ULL * 365 * 24 * 3600 * 1000000)

/* Set in main(): far above the clock floor, so that the mark alone decides the first UID. */
static uint64_t UID_BASE;

/* Unit conversions: expire_days counts days, the settling pause is given in nanoseconds. */
#define SECONDS_PER_DAY 86400
#define NSEC_PER_MSEC 1000000L

/* When the retention tests' messages were retrieved: November 2023. */
#define T0 ((time_t)1700000000)

/* ---- helpers: the Maildir of the current test ---- */

static char root[64];

/* The path of name in subdirectory dir ("" for the root) of the current Maildir. */
static const char *path_of(const char *dir, const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s%s%s", root, dir, *dir ? "/" : "", name);
	return path;
}

/* Makes a Maildir with new/, cur/ and tmp/, and a lock file holding the mark UID_BASE. */
static void make_maildir(void)
{
	static const char *const subdirs[] = { "new", "cur", "tmp" };
	char mark[32];
	int fd;

	snprintf(root, sizeof root, "/tmp/test-maildir.XXXXXX");
	if (mkdtemp(root) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++)
		if (mkdir(path_of(subdirs[i], ""), 0700) != 0)
			unit_bail("mkdir %s: %s", subdirs[i], strerror(errno));
	snprintf(mark, sizeof mark, "%020" PRIu64 "\n", UID_BASE);
	fd = open(path_of("", UIDLIST_LOCK), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !write_all(fd, mark, strlen(mark)) || close(fd) != 0)
		unit_bail("cannot write %s: %s", UIDLIST_LOCK, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) != 0)
		unit_diag("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void remove_maildir(void)
{
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes a file of len octets as dir/name. */
static void put(const char *dir, const char *name, const char *data, size_t len)
{
	int fd = open(path_of(dir, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || !write_all(fd, data, len) || close(fd) != 0)
		unit_bail("cannot write %s/%s: %s", dir, name, strerror(errno));
}

static void put_text(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

/* Delivers each "dir/name" of the NULL-terminated paths as a message holding its letter (the
 * octet after the name's first '.') and a newline: 3 octets with CRLF, 2 stored. */
static void deliver(const char *const *paths)
{
	for (; *paths != NULL; paths++) {
		const char *slash = strchr(*paths, '/'), *dot = slash ? strchr(slash, '.') : NULL;
		char dir[8], text[3] = { dot ? dot[1] : 'm', '\n', '\0' };

		if (slash == NULL || (size_t)(slash - *paths) >= sizeof dir)
			unit_bail("not a dir/name: %s", *paths);
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - *paths), *paths);
		put_text(dir, slash + 1, text);
	}
}

/* Gives dir/name the modification time mtime (and keeps its access time). */
static void set_mtime(const char *dir, const char *name, time_t mtime)
{
	struct timespec times[2] = { { 0, UTIME_OMIT }, { mtime, 0 } };

	if (utimensat(AT_FDCWD, path_of(dir, name), times, AT_SYMLINK_NOFOLLOW) != 0)
		unit_bail("utimensat %s/%s: %s", dir, name, strerror(errno));
}

static void move(const char *from_dir, const char *from, const char *to_dir, const char *to)
{
	char old[PATH_MAX];

	snprintf(old, sizeof old, "%s", path_of(from_dir, from));
	if (rename(old, path_of(to_dir, to)) != 0)
		unit_bail("rename %s/%s: %s", from_dir, from, strerror(errno));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot_or_dotdot(const struct dirent *de)
{
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

/* Renders the names in subdirectory dir, sorted, separated by spaces. */
static void render_dir(struct unit_buf *b, const char *dir)
{
	struct dirent **names;
	int n = scandir(path_of(dir, ""), &names, not_dot_or_dotdot, by_name);

	if (n < 0)
		unit_bail("scandir %s: %s", dir, strerror(errno));
	unit_buf_clear(b);
	for (int i = 0; i < n; i++) {
		unit_buf_addf(b, "%s%s", i > 0 ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* Renders a snapshot: each message's place, UID above UID_BASE and sizes. */
static void render_snapshot(struct unit_buf *b, const struct maildir *md)
{
	unit_buf_clear(b);
	for (size_t i = 0; i < md->count; i++) {
		const struct message *m = &md->msgs[i];

		unit_buf_addf(b, "[%s/%s +%" PRIu64 " %" PRIu64 "/%" PRIu64 "]", m->dir == DIR_CUR ? "cur" : "new",
			      maildir_name(md, i), m->uid - UID_BASE, m->exact_size, m->stored_size);
	}
}

/* Renders the UID list file: each entry's UID above UID_BASE, retrieval time and base name (the
 * names an entry records after a rename depend on when the list was last written). */
static void render_list(struct unit_buf *b)
{
	struct uidlist l;
	int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum uidlist_status st;

	if (dirfd < 0)
		unit_bail("open %s: %s", root, strerror(errno));
	st = uidlist_read(dirfd, &l);
	unit_buf_clear(b);
	if (st != UIDLIST_OK)
		unit_buf_addf(b, "<status %d>", (int)st);
	for (size_t i = 0; i < l.count; i++) {
		const struct uid_entry *e = &l.entries[i];

		unit_buf_addf(b, "[+%" PRIu64 " %" PRId64 " ", e->uid - UID_BASE, e->retrieved);
		unit_buf_add(b, uidlist_name(&l, e), e->base_len);
		unit_buf_adds(b, "]");
	}
	uidlist_free(&l);
	close(dirfd);
}

/* The default settings: Dovecot's and Courier's files are taken over when there. */
static const struct uidl_migration migrate_auto = { UIDL_MIGRATE_AUTO, UIDL_MIGRATE_FORMAT_DEFAULT, false };

/* Takes a snapshot of the current Maildir; false (checked by the caller) when it fails. */
static bool snapshot(struct maildir *md)
{
	return maildir_snapshot(md, root, &migrate_auto);
}

/* The message of the snapshot with the base name of name (whatever its info), or SIZE_MAX. */
static size_t message_named(const struct maildir *md, const char *name)
{
	size_t want = strcspn(name, ":");

	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = maildir_base(md, i, &len);

		if (len == want && memcmp(base, name, len) == 0)
			return i;
	}
	return SIZE_MAX;
}

/* Makes a Maildir whose cur/ holds count messages, "1.a:2," holding "a\n", "2.b:2," holding
 * "b\n" and so on, and takes its snapshot into md. */
static void make_maildir_of(struct maildir *md, size_t count)
{
	make_maildir();
	for (size_t i = 0; i < count; i++) {
		char path[32];

		snprintf(path, sizeof path, "cur/%zu.%c:2,", i + 1, (char)('a' + i));
		deliver((const char *const[]){ path, NULL });
	}
	unit_ok(snapshot(md) && md->count == count, "maildir_snapshot of %zu messages", count);
}

/* Ends a test: closes its snapshot, removes its Maildir and frees its rendering. */
static void end_test(struct maildir *md, struct unit_buf *got)
{
	maildir_close(md);
	remove_maildir();
	unit_buf_free(got);
}

/* Ends a session in which the messages numbered in which ("13": the first and the third) were
 * retrieved, recording their retrieval times or not. */
static void end_session(struct maildir *md, const char *which, bool record, time_t now)
{
	for (const char *p = which; *p != '\0'; p++)
		md->msgs[*p - '1'].retrieved = true;
	maildir_finish(md, record, now);
	maildir_close(md);
}

/* Reads what is left of fd into b and closes it. */
static void read_rest(int fd, struct unit_buf *b)
{
	char block[256];
	ssize_t n;

	unit_buf_clear(b);
	while ((n = read(fd, block, sizeof block)) > 0)
		unit_buf_add(b, block, (size_t)n);
	close(fd);
}

/* Reads the Maildir's file name whole into b. */
static void read_file(struct unit_buf *b, const char *name)
{
	int fd = open(path_of("", name), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		unit_bail("open %s: %s", name, strerror(errno));
	read_rest(fd, b);
}

/* ---- a file system without RENAME_NOREPLACE ---- */

/* How renameat2() behaves for the code under test, which calls this definition in place of the C
 * library's: as the kernel's; as a file system without RENAME_NOREPLACE (GlusterFS); or as that
 * with another program creating the target name just before (which the fallback must not
 * replace). */
enum fs_mode { FS_NATIVE, FS_NO_NOREPLACE, FS_TARGET_APPEARS };
static enum fs_mode fs_mode = FS_NATIVE;

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)
{
	if (fs_mode != FS_NATIVE && (flags & RENAME_NOREPLACE)) {
		int fd = fs_mode == FS_TARGET_APPEARS ? openat(newdirfd, newpath, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;

		if (fs_mode == FS_TARGET_APPEARS && (fd < 0 || !write_all(fd, "other\n", 6) || close(fd) != 0))
			unit_bail("cannot create %s as the other program: %s", newpath, strerror(errno));
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

/* Takes a snapshot of the current Maildir (false, checked by the caller, when it fails) with
 * renameat2() behaving as mode says, as the kernel's again after. */
static bool snapshot_in_mode(struct maildir *md, enum fs_mode mode)
{
	bool ok;

	fs_mode = mode;
	ok = snapshot(md);
	fs_mode = FS_NATIVE;
	return ok;
}

/* ---- the snapshot ---- */

/* Delivery order is the leading timestamp, then the name; a message found in new/ and in cur/
 * (another program moved it during the scan) is one message, the cur/ one. */
static void test_order_and_merge(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir();
	put_text("cur", "1700000002.a.host:2,S", "c\n");
	put_text("new", "1700000001.b.host", "b\n");
	put_text("cur", "1700000001.a.host:2,", "a\n");
	put_text("new", "99.z.host", "z\n");
	put_text("cur", "x.host:2,", "x\n");
	put_text("new", "1700000003.dup.host", "new\n");
	put_text("cur", "1700000003.dup.host:2,S", "from cur/\n");
	unit_ok(snapshot(&md), "maildir_snapshot of seven files");
	render_snapshot(&got, &md);
	unit_expect_str(got.data,
			"[cur/x.host:2, +0 3/2][cur/99.z.host:2, +1 3/2][cur/1700000001.a.host:2, +2 3/2]"
			"[cur/1700000001.b.host:2, +3 3/2][cur/1700000002.a.host:2,S +4 3/2]"
			"[cur/1700000003.dup.host:2,S +5 11/10]",
			"delivery order (timestamp, then name), UIDs in that order, the new/ and cur/ copies merged");
	render_dir(&got, "new");
	unit_expect_str(got.data, "1700000003.dup.host", "the merged message's new/ copy is left alone");
	end_test(&md, &got);
}

/* The snapshot moves new/ to cur/, adding the empty info ":2," where a name has no info; on a file
 * system without RENAME_NOREPLACE (mode) too. */
static void test_new_to_cur(enum fs_mode mode)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir();
	deliver((const char *const[]){ "new/1.a", "new/2.b:2,S", "cur/3.c:2,", NULL });
	unit_ok(snapshot_in_mode(&md, mode), "maildir_snapshot with messages in new/%s",
		mode == FS_NATIVE ? "" : ", without RENAME_NOREPLACE");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/1.a:2, +0 3/2][cur/2.b:2,S +1 3/2][cur/3.c:2, +2 3/2]",
			"the snapshot has the new/ messages under their cur/ names");
	render_dir(&got, "new");
	unit_expect_str(got.data, "", "new/ is empty after the snapshot");
	render_dir(&got, "cur");
	unit_expect_str(got.data, "1.a:2, 2.b:2,S 3.c:2,", "cur/ has every message, \":2,\" added where missing");
	end_test(&md, &got);
}

/* Without RENAME_NOREPLACE the move never replaces a file another program made meanwhile. */
static void test_new_to_cur_target_appears(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir();
	deliver((const char *const[]){ "cur/1.a:2,", "cur/2.b:2,", "new/3.c", NULL });
	unit_ok(snapshot_in_mode(&md, FS_TARGET_APPEARS) && md.count == 3,
		"maildir_snapshot while another program creates the target");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/1.a:2, +0 3/2][cur/2.b:2, +1 3/2][new/3.c +2 3/2]",
			"the message whose target appeared stays in new/");
	render_dir(&got, "new");
	unit_expect_str(got.data, "3.c", "its new/ file is still there");
	read_file(&got, "cur/3.c:2,");
	unit_expect_str(got.data, "other\n", "the file the other program made is not replaced");
	end_test(&md, &got);
}

/* Sleeps until every change made so far lies further back than the stamps' settling margin. */
static void wait_for_stamps_to_settle(void)
{
	struct timespec pause = { 0, (long)(STAMP_SETTLE_NS + 50 * (uint64_t)NSEC_PER_MSEC) };

	while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
		continue;
}

/* Whether the UID list records new/ and cur/ as they are now. */
static bool list_records_dirs(void)
{
	static const char *const dirs[STAMPS] = { [STAMP_NEW] = "new", [STAMP_CUR] = "cur" };
	struct uidlist l;
	bool same = true;
	int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0 || uidlist_read(dirfd, &l) != UIDLIST_OK)
		unit_bail("cannot read the UID list of %s", root);
	for (size_t k = 0; k < STAMPS; k++) {
		struct stat st;

		same = same && stat(path_of(dirs[k], ""), &st) == 0 && l.stamps[k].ino == (uint64_t)st.st_ino &&
		       l.stamps[k].size == (uint64_t)st.st_size && l.stamps[k].sec == (uint64_t)st.st_ctim.tv_sec &&
		       l.stamps[k].nsec == (uint64_t)st.st_ctim.tv_nsec;
	}
	uidlist_free(&l);
	close(dirfd);
	return same;
}

/* A message keeps its UID from one snapshot to the next; new messages get the next UIDs in
 * delivery order, whatever their timestamps say about the old ones.  Once the directories have
 * settled, the list records them and the next snapshot comes from the list alone, the same. */
static void test_uids_across_snapshots(void)
{
	static const char *const expected = "[cur/999.d:2, +3 3/2][cur/1000.a:2, +0 3/2][cur/1001.b:2, +1 3/2]"
					    "[cur/1002.c:2, +2 3/2][cur/1003.e:2, +4 3/2]";
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir();
	deliver((const char *const[]){ "cur/1000.a:2,", "cur/1001.b:2,", "cur/1002.c:2,", NULL });
	unit_ok(snapshot(&md), "first snapshot");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/1000.a:2, +0 3/2][cur/1001.b:2, +1 3/2][cur/1002.c:2, +2 3/2]",
			"first snapshot: UIDs from the mark, in delivery order");
	maildir_close(&md);

	deliver((const char *const[]){ "new/1003.e", "new/999.d", NULL });
	unit_ok(snapshot(&md), "second snapshot, two messages delivered");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, expected, "second snapshot: old UIDs kept, the new messages get the next ones");
	maildir_close(&md);

	wait_for_stamps_to_settle();
	unit_ok(snapshot(&md), "third snapshot, nothing changed");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, expected, "third snapshot: the same messages and UIDs");
	maildir_close(&md);
	unit_ok(list_records_dirs(), "the UID list records new/ and cur/ once they have settled");

	unit_ok(snapshot(&md), "fourth snapshot, from the UID list");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, expected, "fourth snapshot: the same messages and UIDs");
	{
		struct stat st;

		/* Taken from the list alone, the snapshot's name pool is the list file. */
		unit_ok(stat(path_of("", UIDLIST_FILE), &st) == 0 && md.names_len == (size_t)st.st_size,
			"fourth snapshot: taken from the list alone (its name pool is the %zu-octet list)",
			md.names_len);
	}
	end_test(&md, &got);
}

/* A message another program removed between sessions leaves the UID list at the next
 * snapshot: a file that comes back with its base name is a new message. */
static void test_removed_between_sessions(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir_of(&md, 3);
	maildir_close(&md);
	if (unlink(path_of("cur", "2.b:2,")) != 0)
		unit_bail("unlink: %s", strerror(errno));
	unit_ok(snapshot(&md) && md.count == 2, "maildir_snapshot after another program removed one");
	maildir_close(&md);
	render_list(&got);
	unit_expect_str(got.data, "[+0 0 1.a][+2 0 3.c]", "the UID list drops the entry of the message removed");
	deliver((const char *const[]){ "cur/2.b:2,", NULL });
	unit_ok(snapshot(&md), "maildir_snapshot after the file came back");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/1.a:2, +0 3/2][cur/2.b:2, +3 3/2][cur/3.c:2, +2 3/2]",
			"the file back under the removed base name is a new message with a new UID");
	end_test(&md, &got);
}

/* A Maildir that does not exist, or has no new/ and cur/, is an empty mailbox. */
static void test_missing(void)
{
	struct maildir md;

	make_maildir();
	unit_ok(maildir_snapshot(&md, path_of("", "nowhere"), &migrate_auto) && md.count == 0 && md.dirfd == -1,
		"a Maildir that does not exist: an empty snapshot without descriptors");
	maildir_close(&md);
	rmdir(path_of("new", ""));
	rmdir(path_of("cur", ""));
	unit_ok(snapshot(&md) && md.count == 0 && md.dirfd >= 0, "a Maildir without new/ and cur/: empty");
	maildir_close(&md);
	remove_maildir();
}

/* Dot files, directories, symbolic links and FIFOs are not messages: the snapshot skips them,
 * in new/ (which it leaves them in) as in cur/. */
static void test_skipped(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_maildir();
	put_text("", "elsewhere", "not a message\n");
	put_text("cur", ".hidden:2,", "h\n");
	put_text("new", ".dot", "d\n");
	if (mkdir(path_of("cur", "2.dir:2,"), 0700) != 0 || mkdir(path_of("new", "6.dir"), 0700) != 0 ||
	    symlink("../elsewhere", path_of("cur", "3.link:2,")) != 0 ||
	    symlink("../elsewhere", path_of("new", "8.link")) != 0 || mkfifo(path_of("cur", "4.fifo:2,"), 0600) != 0 ||
	    mkfifo(path_of("new", "7.fifo"), 0600) != 0)
		unit_bail("cannot make the entries to skip: %s", strerror(errno));
	deliver((const char *const[]){ "cur/5.real:2,", "new/9.real", NULL });
	unit_ok(snapshot(&md), "maildir_snapshot among dot files, directories, links and FIFOs");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/5.real:2, +0 3/2][cur/9.real:2, +1 3/2]",
			"only the regular files are messages");
	render_dir(&got, "new");
	unit_expect_str(got.data, ".dot 6.dir 7.fifo 8.link", "what is skipped in new/ stays there");
	render_dir(&got, "cur");
	unit_expect_str(got.data, ".hidden:2, 2.dir:2, 3.link:2, 4.fifo:2, 5.real:2, 9.real:2,",
			"what is skipped in cur/ is left as it is");
	end_test(&md, &got);
}

/* ---- sizes ---- */

/* Watches the opening of files in subdirectory dir (inotify); -1 when it cannot. */
static int watch_opens(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd >= 0 && inotify_add_watch(fd, path_of(dir, ""), IN_OPEN) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Renders the names of the files opened since watch_opens, each between slashes. */
static void render_opens(int fd, struct unit_buf *b)
{
	static char events[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	unit_buf_clear(b);
	unit_buf_adds(b, "/");
	while ((n = read(fd, events, sizeof events)) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			if (e->len > 0)
				unit_buf_addf(b, "%s/", e->name);
			p += sizeof *e + e->len;
		}
	}
	close(fd);
}

/* Large messages: a CRLF across the first read block's end; lines of "line\n". */
static char straddle[MESSAGE_READ_BLOCK + 3], big[200000];

static void fill_large_messages(void)
{
	memset(straddle, 'x', sizeof straddle);
	memcpy(straddle + MESSAGE_READ_BLOCK - 1, "\r\ny", 3);
	straddle[sizeof straddle - 1] = '\0';
	for (size_t i = 0; i < sizeof big; i += 5)
		memcpy(big + i, "line\n", 5);
}

static const struct {
	const char *name, *text;
	size_t len;		/* 0: strlen(text) */
	uint64_t exact, stored;
} size_rows[] = {
	{ "1.lf:2,", "a\nb\n", 0, 6, 4 },
	{ "2.crlf:2,", "a\r\nb\r\n", 0, 6, 6 },
	{ "3.mixed:2,", "a\r\nb\nc", 0, 7, 6 },
	{ "4.empty:2,", "", 0, 0, 0 },
	{ "5.no-eol:2,", "abc", 0, 3, 3 },
	{ "6.bare-cr:2,", "a\rb\n", 0, 5, 4 },
	/* Tags possible for the file are taken (,W= need not be right); others are not. */
	{ "7.both,S=3,W=4:2,", "abc", 0, 4, 3 },
	{ "7a.lying,S=1000,W=2000:2,", "abc", 0, 3, 3 },
	{ "7b.wraps,S=18446744073709551615,W=18446744073709551615:2,", "abc", 0, 3, 3 },
	{ "8.stored,S=1000:2,", "a\nb\n", 0, 6, 4 },
	{ "9.exact,W=2000:2,", "a\nb\n", 0, 6, 4 },
	{ "9a.exact,W=7:2,", "a\nb\n", 0, 7, 4 },
	{ "9b.below,W=3:2,", "a\nb\n", 0, 6, 4 },
	{ "9c.lying-stored,S=5,W=6:2,", "a\nb\n", 0, 6, 4 },
	{ "10.bad-tag,S=12x:2,", "ab", 0, 2, 2 },
	{ "11.after-info:2,S=5", "abc", 0, 3, 3 },
	{ "12.straddle:2,", straddle, sizeof straddle - 1, MESSAGE_READ_BLOCK + 2, MESSAGE_READ_BLOCK + 2 },
	{ "13.big:2,", big, sizeof big, sizeof big / 5 * 6, sizeof big },
};

/* "EXACT/STORED" as size row i expects them. */
static const char *size_expected(size_t i)
{
	static char text[64];

	snprintf(text, sizeof text, "%" PRIu64 "/%" PRIu64, size_rows[i].exact, size_rows[i].stored);
	return text;
}

/* Sizes with CRLF line ends (exact) and of the file (stored): from ",S=" and ",W=" in the base
 * name where they are possible for the file (without opening it when it has both), by reading
 * the file otherwise, across read blocks too. */
static void test_sizes(void)
{
	const size_t n = sizeof size_rows / sizeof *size_rows;
	struct maildir md;
	struct unit_buf got = { 0 };
	int opens;

	fill_large_messages();
	make_maildir();
	for (size_t i = 0; i < n; i++)
		put("cur", size_rows[i].name, size_rows[i].text,
		    size_rows[i].len ? size_rows[i].len : strlen(size_rows[i].text));
	opens = watch_opens("cur");
	unit_ok(snapshot(&md) && md.count == n, "maildir_snapshot of %zu messages", n);
	for (size_t i = 0; i < n; i++) {
		size_t m = message_named(&md, size_rows[i].name);

		unit_buf_clear(&got);
		if (m == SIZE_MAX)
			unit_buf_adds(&got, "missing");
		else
			unit_buf_addf(&got, "%" PRIu64 "/%" PRIu64, md.msgs[m].exact_size, md.msgs[m].stored_size);
		unit_expect_str(got.data, size_expected(i), "sizes of %.40s (exact/stored)", size_rows[i].name);
	}
	if (opens < 0) {
		unit_skip("no inotify", "a message with both tags is not opened");
	} else {
		render_opens(opens, &got);
		unit_ok(strstr(got.data, "/1.lf:2,/") != NULL && strstr(got.data, "/7.both") == NULL &&
				strstr(got.data, "/7a.lying") != NULL,
			"a message with both tags possible is not opened, one without or lying is (opened: %.120s)",
			got.data);
	}
	end_test(&md, &got);
}

/* Enough unknown messages to be sized by threads: each one sized right, UIDs in order. */
static void test_sizing_threads(void)
{
	enum { MANY = SIZING_PARALLEL_MIN + 2 * SIZING_CHUNK + 7 };
	struct maildir md;
	size_t wrong = 0;
	char name[64], text[256];

	make_maildir();
	for (size_t i = 0; i < MANY; i++) {
		size_t lines = i % 50;

		snprintf(name, sizeof name, "%zu.m:2,", 1000000 + i);
		for (size_t k = 0; k < lines; k++)
			memcpy(text + 2 * k, "x\n", 2);
		put("cur", name, text, 2 * lines);
	}
	unit_ok(snapshot(&md) && md.count == MANY, "maildir_snapshot of %d unknown messages", MANY);
	for (size_t i = 0; i < md.count; i++) {
		size_t lines = i % 50;

		snprintf(name, sizeof name, "%zu.m:2,", 1000000 + i);
		if (strcmp(maildir_name(&md, i), name) != 0 || md.msgs[i].uid != UID_BASE + i ||
		    md.msgs[i].exact_size != 3 * lines || md.msgs[i].stored_size != 2 * lines)
			wrong++;
	}
	unit_expect_uint(wrong, 0, "every one of %d messages sized by the threads has its sizes and UID", MANY);
	maildir_close(&md);
	remove_maildir();
}

/* ---- taking over a previous server's UIDLs ---- */

/* Renders what UIDL would show for each message: its UIDL taken over, or +N for the UID N above
 * UID_BASE.  Every message gets a UID, whether its UIDL is taken over or not: the numbers the
 * tests expect count them all. */
static void render_uidls(struct unit_buf *b, const struct maildir *md)
{
	unit_buf_clear(b);
	for (size_t i = 0; i < md->count; i++) {
		size_t len;
		const char *base = maildir_base(md, i, &len);

		unit_buf_addf(b, "[%.*s ", (int)len, base);
		if (md->msgs[i].has_uidl)
			unit_buf_addf(b, "%s]", maildir_uidl(md, i));
		else
			unit_buf_addf(b, "+%" PRIu64 "]", md->msgs[i].uid - UID_BASE);
	}
}

/* Takes a snapshot with the settings given and renders its UIDLs into b. */
static bool snapshot_uidls(struct unit_buf *b, const struct uidl_migration *migration)
{
	struct maildir md;
	bool ok = maildir_snapshot(&md, root, migration);

	if (ok)
		render_uidls(b, &md);
	maildir_close(&md);
	return ok;
}

/* What Dovecot 2.3 leaves after DELE of its UIDs 2 and 5 (UIDVALIDITY 0x6b1056bd), for the
 * messages of four_messages. */
#define DOVECOT_LIST "3 V1796232893 N9 G44828f36bd56106ba46d000083ecc375\n" \
	"1 W23 :1.a\n3 W23 :3.c\n4 W23 :4.d\n7 W21 :7.g\n"
static const char *const four_messages[] = { "cur/1.a:2,", "cur/3.c:2,S", "new/4.d", "cur/7.g:2,RS", NULL };
#define DOVECOT_UIDLS "[1.a 000000016b1056bd][3.c 000000036b1056bd][4.d 000000046b1056bd][7.g 000000076b1056bd]"

/* The list made from Dovecot's shows its UIDLs, keeps them in later sessions (from the list
 * alone too), gives a message delivered later a new UID, and leaves Dovecot's file as it was. */
static void test_take_over_dovecot(void)
{
	struct unit_buf got = { 0 }, file = { 0 };

	make_maildir();
	deliver(four_messages);
	put_text("", "dovecot-uidlist", DOVECOT_LIST);
	unit_ok(snapshot_uidls(&got, &migrate_auto), "first snapshot with Dovecot's list");
	unit_expect_str(got.data, DOVECOT_UIDLS, "every message shows the UIDL Dovecot showed");
	wait_for_stamps_to_settle();
	unit_ok(snapshot_uidls(&got, &migrate_auto), "second snapshot");
	unit_expect_str(got.data, DOVECOT_UIDLS, "the UIDLs are kept in the list");
	unit_ok(list_records_dirs() && snapshot_uidls(&got, &migrate_auto), "third snapshot, from the list alone");
	unit_expect_str(got.data, DOVECOT_UIDLS, "the snapshot from the list alone shows them too");
	deliver((const char *const[]){ "new/8.h", NULL });
	put_text("", "dovecot-uidlist", DOVECOT_LIST "8 :8.h\n");
	unit_ok(snapshot_uidls(&got, &migrate_auto), "a snapshot after a delivery");
	unit_expect_str(got.data, DOVECOT_UIDLS "[8.h +4]",
			"a message delivered after the list was made gets the next UID, whatever Dovecot's file says");
	read_file(&file, "dovecot-uidlist");
	unit_expect_str(file.data, DOVECOT_LIST "8 :8.h\n", "Dovecot's list is read, never changed");
	unit_buf_free(&file);
	remove_maildir();
	unit_buf_free(&got);
}

/* A list lost or corrupt is made again from Dovecot's, so migrated messages keep their UIDLs;
 * the others get new UIDs, as after any loss. */
static void test_take_over_again(void)
{
	struct unit_buf got = { 0 };

	make_maildir();
	deliver(four_messages);
	put_text("", "dovecot-uidlist", DOVECOT_LIST);
	deliver((const char *const[]){ "new/8.h", NULL });
	unit_ok(snapshot_uidls(&got, &migrate_auto), "first snapshot");
	unit_expect_str(got.data, DOVECOT_UIDLS "[8.h +4]", "Dovecot's UIDLs, and a UID for the message it lacks");
	if (unlink(path_of("", UIDLIST_FILE)) != 0)
		unit_bail("unlink: %s", strerror(errno));
	unit_ok(snapshot_uidls(&got, &migrate_auto), "a snapshot after the list was lost");
	unit_expect_str(got.data, DOVECOT_UIDLS "[8.h +9]", "the lost list is made again with Dovecot's UIDLs");
	put_text("", UIDLIST_FILE, "POP3-HANDLER-UIDLIST 3 garbage\n");
	unit_ok(snapshot_uidls(&got, &migrate_auto), "a snapshot after the list was corrupted");
	unit_expect_str(got.data, DOVECOT_UIDLS "[8.h +14]", "the corrupt list is made again with Dovecot's UIDLs");
	remove_maildir();
	unit_buf_free(&got);
}

/* How each setting takes over, and from where. */
static void test_take_over_settings(void)
{
	static const struct uidl_migration names = { UIDL_MIGRATE_MAILDIR_NAME, UIDL_MIGRATE_FORMAT_DEFAULT, false };
	static const struct uidl_migration none = { UIDL_MIGRATE_NO, UIDL_MIGRATE_FORMAT_DEFAULT, false };
	static const struct uidl_migration as_file = { UIDL_MIGRATE_AUTO, "%f-%u", false };
	static const struct uidl_migration headers = { UIDL_MIGRATE_NO, UIDL_MIGRATE_FORMAT_DEFAULT, true };
	struct unit_buf got = { 0 };

	make_maildir();
	deliver(four_messages);
	put_text("", "dovecot-uidlist", DOVECOT_LIST);
	unit_ok(snapshot_uidls(&got, &none), "uidl_migrate = no");
	unit_expect_str(got.data, "[1.a +0][3.c +1][4.d +2][7.g +3]", "uidl_migrate = no: UIDs, Dovecot's list unread");
	unlink(path_of("", UIDLIST_FILE));
	unit_ok(snapshot_uidls(&got, &names), "uidl_migrate = maildir-name");
	unit_expect_str(got.data, "[1.a 1.a][3.c 3.c][4.d 4.d][7.g 7.g]", "maildir-name: the base names");
	unlink(path_of("", UIDLIST_FILE));
	unit_ok(snapshot_uidls(&got, &as_file), "uidl_migrate_format = %%f-%%u");
	unit_expect_str(got.data, "[1.a 1.a-1][3.c 3.c-3][4.d 4.d-4][7.g 7.g-7]", "the site's format is applied");
	unlink(path_of("", UIDLIST_FILE));
	unlink(path_of("", "dovecot-uidlist"));
	put_text("", "courierpop3dsizelist", "/3 9 1796232500\n1.a:2, 23 1:1796232500:0\n3.c:2,S 21 3:1796232500\n");
	unit_ok(snapshot_uidls(&got, &migrate_auto), "Courier's size list");
	unit_expect_str(got.data, "[1.a UID1-1796232500][3.c UID3-1796232500][4.d +14][7.g +15]",
			"Courier's UIDLs where its list names the message");
	unlink(path_of("", UIDLIST_FILE));
	put_text("cur", "1.a:2,", "X-UIDL: same\n\nbody\n");
	put_text("cur", "3.c:2,S", "Subject: x\nx-uidl:  UIDL-of-c \n\nbody\n");
	put_text("cur", "4.d:2,", "X-UIDL: same\n\nbody\n");
	unit_ok(snapshot_uidls(&got, &headers), "uidl_from_header = yes");
	unit_expect_str(got.data, "[1.a +16][3.c UIDL-of-c][4.d +18][7.g +19]",
			"X-UIDL taken over; the two messages that share one get UIDs");
	remove_maildir();
	unit_buf_free(&got);
}

/* No UIDL is given twice, nor one that is not an RFC 1939 unique-id; a number must not be one
 * of our UIDs, now or later (our UIDs are at or above 10^15); a file that is not a regular file
 * gives nothing, and Courier's is read when Dovecot's gives nothing. */
static void test_take_over_refused(void)
{
	static const char *const five[] = { "cur/1.a:2,", "cur/2.b:2,", "cur/3.c:2,", "cur/4.d:2,", "cur/5.e:2,",
					     "cur/6.f:2,", "cur/7.g:2,", "cur/8.h:2,", NULL };
	struct unit_buf got = { 0 };

	make_maildir();
	deliver(five);
	put_text("", "dovecot-uidlist",
		 "3 V1 N9\n"
		 "1 Pshared :1.a\n2 Pshared :2.b\n"	/* one UIDL for two files */
		 "3 Pone :3.c\n4 Ptwo :3.c\n"		/* one file named twice, two UIDLs */
		 "5 P" "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu :4.d\n"
		 "6 Pwith\x01octet :5.e\n"
		 "7 P42 :6.f\n"			/* a small number: none of our UIDs */
		 "8 P5000000000000000100 :7.g\n"	/* a number above 10^15: refused */
		 "9 P0999999999999999999 :8.h\n");	/* a leading zero: none of our UIDs */
	unit_ok(snapshot_uidls(&got, &migrate_auto), "snapshot with a hostile Dovecot list");
	unit_expect_str(got.data,
			"[1.a +0][2.b +1][3.c +2][4.d +3][5.e +4][6.f 42][7.g +6][8.h 0999999999999999999]",
			"shared, doubly named, over-long, unprintable and large numeric UIDLs refused");
	unlink(path_of("", UIDLIST_FILE));
	unlink(path_of("", "dovecot-uidlist"));
	if (symlink("/dev/zero", path_of("", "dovecot-uidlist")) != 0 ||
	    mkfifo(path_of("", "courierpop3dsizelist"), 0600) != 0)
		unit_bail("symlink, mkfifo: %s", strerror(errno));
	unit_ok(snapshot_uidls(&got, &migrate_auto) && strstr(got.data, "+") != NULL && strstr(got.data, "4.d") != NULL,
		"a symlink and a FIFO in their place are not read (no hang): %s", got.data);
	unlink(path_of("", "courierpop3dsizelist"));
	put_text("", "courierpop3dsizelist", "/3 9 7\n1.a:2, 23 1:7\n");
	for (int headerless = 0; headerless <= 1; headerless++) {
		unlink(path_of("", UIDLIST_FILE));
		if (headerless) {
			unlink(path_of("", "dovecot-uidlist"));
			put_text("", "dovecot-uidlist", "not a header\n1 :1.a\n");
		}
		unit_ok(snapshot_uidls(&got, &migrate_auto) && strstr(got.data, "[1.a UID1-7]") != NULL,
			"Courier's list is read when Dovecot's is %s: %s", headerless ? "without header" : "a symlink",
			got.data);
	}
	remove_maildir();
	unit_buf_free(&got);
}

/* A message whose flags another program changed is found under its new name; one removed is
 * gone; one that became a FIFO is refused. */
static void test_open(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };
	enum open_result r;
	int fd = -1;

	make_maildir_of(&md, 3);
	r = maildir_open_message(&md, 0, &fd);
	unit_ok(r == OPEN_OK && fd >= 0, "maildir_open_message: OPEN_OK under its snapshot name");
	unit_buf_clear(&got);
	if (fd >= 0)
		read_rest(fd, &got);
	unit_expect_str(got.data, "a\n", "the message read is the file's content");

	move("cur", "1.a:2,", "cur", "1.a:2,FS");
	fd = -1;
	r = maildir_open_message(&md, 0, &fd);
	unit_ok(r == OPEN_OK && fd >= 0, "maildir_open_message after another program changed the flags: OPEN_OK");
	unit_buf_clear(&got);
	if (fd >= 0)
		read_rest(fd, &got);
	unit_expect_str(got.data, "a\n", "the renamed message read is the file's content");
	unit_expect_str(maildir_name(&md, 0), "1.a:2,FS", "the snapshot follows the message to its new name");

	if (unlink(path_of("cur", "2.b:2,")) != 0)
		unit_bail("unlink: %s", strerror(errno));
	fd = -1;
	r = maildir_open_message(&md, 1, &fd);
	unit_ok(r == OPEN_GONE && fd == -1, "maildir_open_message of a removed message: OPEN_GONE (%d)", (int)r);

	if (unlink(path_of("cur", "3.c:2,")) != 0 || mkfifo(path_of("cur", "3.c:2,"), 0600) != 0)
		unit_bail("cannot make a FIFO: %s", strerror(errno));
	fd = -1;
	r = maildir_open_message(&md, 2, &fd);
	unit_ok(r == OPEN_FAILED && fd == -1, "maildir_open_message of a message now a FIFO: OPEN_FAILED (%d)", (int)r);
	end_test(&md, &got);
}

/* ---- the end of a session ---- */

/* UPDATE removes the messages marked deleted, under whatever name they have now, and drops their
 * UIDs: a file that comes back with the same base name is a new message with a new UID. */
static void test_update(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };
	size_t failed;

	make_maildir_of(&md, 4);
	md.msgs[1].deleted = true;
	md.msgs[2].deleted = true;	/* then renamed by another program */
	md.msgs[3].deleted = true;	/* then removed by another program */
	move("cur", "3.c:2,", "cur", "3.c:2,S");
	if (unlink(path_of("cur", "4.d:2,")) != 0)
		unit_bail("unlink: %s", strerror(errno));
	failed = maildir_update(&md);
	unit_expect_uint(failed, 0, "maildir_update: every deleted message removed or already gone");
	unit_ok(!md.msgs[0].removed && md.msgs[1].removed && md.msgs[2].removed && md.msgs[3].removed,
		"maildir_update: the deleted messages are marked removed, the other is not");
	render_dir(&got, "cur");
	unit_expect_str(got.data, "1.a:2,", "cur/ holds only the message not deleted");
	render_list(&got);
	unit_expect_str(got.data, "[+0 0 1.a]", "the UID list forgets the removed messages");
	maildir_close(&md);

	put_text("cur", "2.b:2,", "b again\n");
	put_text("cur", "3.c:2,", "c again\n");
	unit_ok(snapshot(&md), "maildir_snapshot after files came back under removed base names");
	render_snapshot(&got, &md);
	unit_expect_str(got.data, "[cur/1.a:2, +0 3/2][cur/2.b:2, +4 9/8][cur/3.c:2, +5 9/8]",
			"files back under removed base names are new messages with new UIDs");
	end_test(&md, &got);
}

struct seen_row {
	const char *name;
	bool retrieved, deleted;
	const char *renamed_to;	/* by another program before the end of the session */
	const char *after;
};

static const struct seen_row seen_rows[] = {
	{ "1.a:2,RT", true, false, NULL, "1.a:2,RST" },
	{ "2.b", true, false, NULL, "2.b:2,S" },
	{ "3.c:2,", true, false, NULL, "3.c:2,S" },
	{ "4.d:2,S", true, false, NULL, "4.d:2,S" },
	{ "5.e:2,FS", true, false, NULL, "5.e:2,FS" },
	{ "6.f:1,foo", true, false, NULL, "6.f:1,foo" },
	{ "7.g:2,T", true, false, NULL, "7.g:2,ST" },
	{ "8.h:2,DFa", true, false, NULL, "8.h:2,DFSa" },
	{ "9.i:2,", false, false, NULL, "9.i:2," },
	{ "10.j:2,", true, true, NULL, "10.j:2," },
	{ "11.k:2,T", true, false, "11.k:2,FT", "11.k:2,FST" },
};

/* The Seen flag goes to each message retrieved and not deleted, flag letters kept in order, once
 * and only in a standard info; a message another program renamed is followed.  A name too long
 * to take ":2,S" stays as it is. */
static void test_seen_flag(void)
{
	/* The longest name without info that still takes ":2,S", and one octet longer. */
	static char long_ok[NAME_MAX - sizeof ":2,S" + 2], long_over[NAME_MAX - sizeof ":2,S" + 3];
	static char long_ok_seen[NAME_MAX + 1];
	struct seen_row rows[sizeof seen_rows / sizeof *seen_rows + 2];
	size_t n = sizeof seen_rows / sizeof *seen_rows;
	struct maildir md;

	memset(long_ok, 'y', sizeof long_ok - 1);
	memset(long_over, 'z', sizeof long_over - 1);
	snprintf(long_ok_seen, sizeof long_ok_seen, "%s:2,S", long_ok);
	memcpy(rows, seen_rows, sizeof seen_rows);
	rows[n++] = (struct seen_row){ long_ok, true, false, NULL, long_ok_seen };
	rows[n++] = (struct seen_row){ long_over, true, false, NULL, long_over };

	make_maildir();
	for (size_t i = 0; i < n; i++)
		put_text("cur", rows[i].name, "m\n");
	unit_ok(snapshot(&md) && md.count == n, "maildir_snapshot of %zu messages", n);
	for (size_t i = 0; i < n; i++) {
		size_t m = message_named(&md, rows[i].name);

		if (m == SIZE_MAX)
			unit_bail("%s is not in the snapshot", rows[i].name);
		md.msgs[m].retrieved = rows[i].retrieved;
		md.msgs[m].deleted = rows[i].deleted;
		if (rows[i].renamed_to != NULL)
			move("cur", rows[i].name, "cur", rows[i].renamed_to);
	}
	maildir_finish(&md, false, 0);
	for (size_t i = 0; i < n; i++) {
		size_t m = message_named(&md, rows[i].name);

		unit_ok(m != SIZE_MAX && strcmp(maildir_name(&md, m), rows[i].after) == 0 &&
				access(path_of("cur", rows[i].after), F_OK) == 0,
			"Seen flag: %.40s (%zu octets)%s%s -> %.40s (file and snapshot)", rows[i].name,
			strlen(rows[i].name),
			!rows[i].retrieved ? " (not retrieved)" : rows[i].deleted ? " (deleted)" : "",
			rows[i].renamed_to ? " (renamed)" : "", rows[i].after);
	}
	maildir_close(&md);
	remove_maildir();
}

/* Retrieval times go into the UID list when recorded, once: a later session's retrieval does
 * not move them, and a session that does not record leaves them out. */
static void test_retrieval_times(void)
{
	struct maildir md, other;
	struct unit_buf got = { 0 };

	make_maildir_of(&md, 3);
	end_session(&md, "12", true, T0);
	render_list(&got);
	unit_expect_str(got.data, "[+0 1700000000 1.a][+1 1700000000 2.b][+2 0 3.c]",
			"maildir_finish records the retrieval times of the messages retrieved");

	unit_ok(snapshot(&md) && md.count == 3 && md.msgs[0].retrieved_at == T0 && md.msgs[2].retrieved_at == 0,
		"the next snapshot gives the retrieval times recorded");
	end_session(&md, "13", false, T0 + 5);
	render_list(&got);
	unit_expect_str(got.data, "[+0 1700000000 1.a][+1 1700000000 2.b][+2 0 3.c]",
			"maildir_finish without recording leaves the times as they were");

	unit_ok(snapshot(&md) && md.count == 3, "a third snapshot");
	end_session(&md, "13", true, T0 + 9);
	render_list(&got);
	unit_expect_str(got.data, "[+0 1700000000 1.a][+1 1700000000 2.b][+2 1700000009 3.c]",
			"a time recorded stays; the first retrieval recorded is added");

	/* Two sessions that both took their snapshot before either recorded: the first time stays. */
	deliver((const char *const[]){ "cur/4.d:2,", NULL });
	unit_ok(snapshot(&md) && snapshot(&other) && md.count == 4 && other.count == 4,
		"two snapshots of four messages");
	end_session(&md, "4", true, T0 + 20);
	end_session(&other, "4", true, T0 + 30);
	render_list(&got);
	unit_expect_str(got.data, "[+0 1700000000 1.a][+1 1700000000 2.b][+2 1700000009 3.c][+3 1700000020 4.d]",
			"the retrieval time recorded first stays when a second session records its own");
	end_test(&md, &got);
}

static const struct {
	unsigned days;
	bool unread;
	time_t now;
	const char *retrieved_now;	/* retrieved in this session */
	const char *deleted_before;	/* deleted by the client */
	size_t expired;
	const char *deleted_after;
} expire_rows[] = {
	{ 2, false, T0 + 2 * SECONDS_PER_DAY - 1, "", "", 0, "" },
	{ 2, false, T0 + 2 * SECONDS_PER_DAY, "", "", 2, "1 2" },
	{ 2, false, T0 + 2 * SECONDS_PER_DAY, "", "1", 1, "1 2" },
	{ 1, false, T0, "", "", 0, "" },
	{ 0, false, T0, "", "", 2, "1 2" },
	{ 0, false, T0 - 1, "3", "", 1, "3" },
	{ 10, true, T0 - 1, "", "", 0, "" },
	{ 10, true, T0, "", "", 1, "3" },
	{ 1, true, T0, "", "", 2, "3 4" },
	{ 1, true, T0, "", "4", 1, "3 4" },
	{ 0, true, T0 + 100 * SECONDS_PER_DAY, "", "", 4, "1 2 3 4" },
};

/* Makes the Maildir of the retention rows and takes its snapshot into md. */
static void make_expiry_maildir(struct maildir *md)
{
	make_maildir_of(md, 4);
	end_session(md, "12", true, T0);
	set_mtime("cur", "1.a:2,S", T0 + 100 * SECONDS_PER_DAY);
	set_mtime("cur", "2.b:2,S", T0 + 100 * SECONDS_PER_DAY);
	set_mtime("cur", "3.c:2,", T0 - 10 * SECONDS_PER_DAY);
	set_mtime("cur", "4.d:2,", T0 - SECONDS_PER_DAY);
	unit_ok(snapshot(md) && md->count == 4 && md->msgs[0].retrieved_at == T0 && md->msgs[1].retrieved_at == T0,
		"a snapshot with messages 1 and 2 retrieved at T0");
}

/* Retention: messages retrieved at least days ago, those retrieved in this session when days is
 * 0, and (unread) files at least days old are marked deleted; those deleted already are not
 * counted.  Messages 1 and 2 were retrieved at T0, 3 and 4 never; the files of 1 and 2 are
 * younger than any row's limit, 3's is ten days older than T0 and 4's one day. */
static void test_expire(void)
{
	struct maildir md;
	struct unit_buf got = { 0 };

	make_expiry_maildir(&md);
	for (size_t r = 0; r < sizeof expire_rows / sizeof *expire_rows; r++) {
		size_t expired;

		for (size_t i = 0; i < md.count; i++) {
			char number[2] = { (char)('1' + i), '\0' };

			md.msgs[i].retrieved = strstr(expire_rows[r].retrieved_now, number) != NULL;
			md.msgs[i].deleted = strstr(expire_rows[r].deleted_before, number) != NULL;
		}
		expired = maildir_expire(&md, expire_rows[r].days, expire_rows[r].unread, expire_rows[r].now);
		unit_buf_clear(&got);
		for (size_t i = 0; i < md.count; i++)
			if (md.msgs[i].deleted)
				unit_buf_addf(&got, "%s%zu", got.len ? " " : "", i + 1);
		unit_ok(expired == expire_rows[r].expired && strcmp(got.data, expire_rows[r].deleted_after) == 0,
			"maildir_expire days=%u%s now=T0%+lld, retrieved now [%s], deleted [%s]: %zu expired, "
			"deleted [%s] (got %zu, [%s])",
			expire_rows[r].days, expire_rows[r].unread ? " unread" : "",
			(long long)(expire_rows[r].now - T0), expire_rows[r].retrieved_now,
			expire_rows[r].deleted_before, expire_rows[r].expired, expire_rows[r].deleted_after, expired,
			got.data);
	}
	end_test(&md, &got);
}

int main(void)
{
	UID_BASE = uidlist_clock_floor() + FIVE_YEARS_US;
	log_to_stderr();
	test_order_and_merge();
	test_new_to_cur(FS_NATIVE);
	test_new_to_cur(FS_NO_NOREPLACE);
	test_new_to_cur_target_appears();
	test_uids_across_snapshots();
	test_removed_between_sessions();
	test_missing();
	test_skipped();
	test_sizes();
	test_sizing_threads();
	test_open();
	test_update();
	test_seen_flag();
	test_retrieval_times();
	test_expire();
	test_take_over_dovecot();
	test_take_over_again();
	test_take_over_settings();
	test_take_over_refused();
	return unit_done();
}
