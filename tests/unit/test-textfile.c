/*
 * test-textfile.c - tests of textfile.c: configuration-style files read
 * line by line (over-long lines skipped whole, CRLF files, the last line
 * without newline) and opened only when they are regular files.
 *
 * Results are rendered as short text ("[a][bb]<eof>") so that each table
 * row states its whole expectation in one literal.
 */
#include "textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "unit.h"

/* ---- file_line_read ---- */

struct file_case {
	const char *what;
	const char *content;
	size_t size;		/* of the caller's buffer */
	const char *expected;
};

/* A buffer of 8 octets holds 7 octets of text and the NUL. */
static const struct file_case file_cases[] = {
	{ "lines", "a\nbb\n", 8, "[a][bb]<eof>" },
	{ "last line without newline", "a\nlast", 8, "[a][last]<eof>" },
	{ "empty file", "", 8, "<eof>" },
	{ "empty lines", "\n\n", 8, "[][]<eof>" },
	{ "a CR before the newline goes too (CRLF files)", "a\r\n", 8, "[a]<eof>" },
	{ "over-long line skipped whole", "much too long a line\nnext\n", 8, "<too long>[next]<eof>" },
	{ "two over-long lines", "much too long\nalso too long\nok\n", 8,
	  "<too long><too long>[ok]<eof>" },
	{ "over-long last line without newline", "a\nmuch too long", 8, "[a]<too long><eof>" },
	{ "6 octets and newline fit", "123456\nnext\n", 8, "[123456][next]<eof>" },
	{ "7 octets and newline fit with the NUL", "1234567\nnext\n", 8, "[1234567][next]<eof>" },
	{ "8 octets and newline do not fit", "12345678\nnext\n", 8, "<too long>[next]<eof>" },
	{ "7 octets at the end without newline fit", "1234567", 8, "[1234567]<eof>" },
};

/* A stdio stream holding content, as the configuration file would be. */
static FILE *file_with(const char *content)
{
	FILE *f = tmpfile();

	if (f == NULL)
		unit_bail("tmpfile failed");
	if (fputs(content, f) == EOF || fseek(f, 0, SEEK_SET) != 0)
		unit_bail("cannot write the temporary file");
	return f;
}

static void read_file_lines(FILE *f, size_t size, struct unit_buf *seen)
{
	static const char *const names[] = {
		[FILE_LINE_TOO_LONG] = "<too long>",
		[FILE_LINE_NUL] = "<nul>",
		[FILE_LINE_EOF] = "<eof>",
		[FILE_LINE_ERROR] = "<error>",
	};
	char buf[CONFIG_LINE_MAX];
	enum file_line_status st;

	unit_buf_clear(seen);
	for (unsigned guard = 0; guard < 64; guard++) {
		st = file_line_read(f, buf, size);
		if (st == FILE_LINE_OK)
			unit_buf_addf(seen, "[%s]", buf);
		else
			unit_buf_adds(seen, names[st]);
		if (st == FILE_LINE_EOF || st == FILE_LINE_ERROR)
			return;
	}
	unit_buf_adds(seen, "<no end>");
}

static void test_file_line_read(void)
{
	struct unit_buf seen = { 0 };

	for (size_t i = 0; i < sizeof file_cases / sizeof *file_cases; i++) {
		const struct file_case *c = &file_cases[i];
		FILE *f = file_with(c->content);

		read_file_lines(f, c->size, &seen);
		fclose(f);
		unit_expect_str(seen.data, c->expected, "file_line_read: %s (buffer %zu)", c->what,
				c->size);
	}
	unit_buf_free(&seen);
}

/* ---- fopen_regular ---- */

/* Opens path with fopen_regular, rendering the outcome: "opened", or the errno's name. */
static const char *open_outcome(const char *path)
{
	FILE *f = fopen_regular(path);

	if (f != NULL) {
		fclose(f);
		return "opened";
	}
	return errno == EINVAL ? "EINVAL" : errno == ENOENT ? "ENOENT" : errno == EISDIR ? "EISDIR" : "other";
}

/* open_regular_at on dir/file (12 octets) and a symbolic link to it: the size given, a larger
 * file refused with EFBIG, the link followed only without O_NOFOLLOW. */
static void test_open_regular_at(const char *dir)
{
	char link[64];
	uint64_t size = 0;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	snprintf(link, sizeof link, "%s/link", dir);
	if (dirfd < 0 || symlink("file", link) != 0)
		unit_bail("open %s, symlink: %s", dir, strerror(errno));
	fd = open_regular_at(dirfd, "file", O_NOFOLLOW, 12, &size);
	unit_ok(fd >= 0 && size == 12, "open_regular_at: a file of 12 octets with a limit of 12 (size %llu)",
		(unsigned long long)size);
	if (fd >= 0)
		close(fd);
	errno = 0;
	unit_ok(open_regular_at(dirfd, "file", O_NOFOLLOW, 11, &size) < 0 && errno == EFBIG,
		"open_regular_at: a file over the limit is refused with EFBIG");
	errno = 0;
	unit_ok(open_regular_at(dirfd, "link", O_NOFOLLOW, 12, &size) < 0 && errno == ELOOP,
		"open_regular_at with O_NOFOLLOW: a symbolic link is not followed");
	fd = open_regular_at(dirfd, "link", 0, 12, &size);
	unit_ok(fd >= 0, "open_regular_at without O_NOFOLLOW: a symbolic link to a regular file opens");
	if (fd >= 0)
		close(fd);
	unlink(link);
	close(dirfd);
}

/* A regular file opens; a directory, a FIFO (without blocking: nobody writes it) and a
 * device are refused as not regular; a missing file says so. */
static void test_fopen_regular(void)
{
	char dir[] = "/tmp/pop3-unit-textfile.XXXXXX";
	char path[64], fifo[64];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		unit_bail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/file", dir);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	f = fopen(path, "w");
	if (f == NULL || fputs("key = value\n", f) == EOF || fclose(f) != 0)
		unit_bail("writing %s: %s", path, strerror(errno));
	if (mkfifo(fifo, 0600) != 0)
		unit_bail("mkfifo: %s", strerror(errno));
	unit_expect_str(open_outcome(path), "opened", "fopen_regular: a regular file");
	unit_expect_str(open_outcome(dir), "EINVAL", "fopen_regular: a directory is not regular");
	unit_expect_str(open_outcome(fifo), "EINVAL", "fopen_regular: a FIFO is refused without blocking");
	unit_expect_str(open_outcome("/dev/null"), "EINVAL", "fopen_regular: a device is not regular");
	test_open_regular_at(dir);
	unlink(path);
	unit_expect_str(open_outcome(path), "ENOENT", "fopen_regular: a missing file");
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	test_file_line_read();
	test_fopen_regular();
	return unit_done();
}
