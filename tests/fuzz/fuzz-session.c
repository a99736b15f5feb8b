/*
 * fuzz-session.c - libFuzzer target for a whole session: the input is what
 * a client sends, served by serve_one_process() against a small fixed Maildir and
 * passwd file (user "fuzz", password "secret" and its NT hash, user "plain"
 * with the same password through AUTH PLAIN), with NTLM offered.  The input's length picks the
 * client_workarounds (none, either, both), so that every input runs under each over time; the
 * Maildir holds NULs and a header without blank line for them.  The replies are checked for the
 * protocol's invariants, and the Maildir for lost mail: a message may only be gone
 * when the input held both DELE and QUIT.
 *
 * Started as root, the target first becomes nobody: a session changes to
 * the mail user for good, which a fuzzer running many sessions cannot.
 */
#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ntlm.h"
#include "serve.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MESSAGES 5
#define TEXT(s) { s, sizeof s - 1 }
static const struct {
	const char *text;
	size_t len;
} messages[MESSAGES] = {
	TEXT("From: a@example.org\nSubject: one\n\nbody\n.dot line\n"),
	TEXT("Subject: two\r\n\r\ncrlf body\r\n"),
	TEXT("Subject: three\n\nno final newline"),
	TEXT("Subject: four, a header alone\nX-Nul: \0\n.\nX-Last: no final newline"),
	TEXT("Subject: five\n\nNULs\0in\0the\0body\n\0"),
};

/* client_workarounds by the input's length modulo 4. */
static const char *const workaround_values[] = { "", "outlook-no-nuls", "oe-ns-eoh", "oe-ns-eoh, outlook-no-nuls" };

static char world[64];
static struct config cfg;

static void die(const char *what)
{
	perror(what);
	abort();
}

/* Writes path with the len octets of text, or dies. */
static void put_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* Empties a directory of the Maildir (files only). */
static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Counts the message files left in cur/ and new/. */
static int count_messages(void)
{
	static const char *const dirs[] = { "cur", "new" };
	int n = 0;

	for (int i = 0; i < 2; i++) {
		char path[512];
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof path, "%s/Maildir/%s", world, dirs[i]);
		d = opendir(path);
		if (d == NULL)
			die(path);
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		closedir(d);
	}
	return n;
}

/* Puts the three messages back in new/, as a fresh delivery. */
static void reset_maildir(void)
{
	char path[512];

	snprintf(path, sizeof path, "%s/Maildir/cur", world);
	empty_dir(path);
	snprintf(path, sizeof path, "%s/Maildir/new", world);
	empty_dir(path);
	for (int i = 0; i < MESSAGES; i++) {
		snprintf(path, sizeof path, "%s/Maildir/new/17000000%02d.M%dP1.fuzz", world, i, i);
		put_file(path, messages[i].text, messages[i].len);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { "Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp" };
	char path[512], line[512], err[256], nt_text[2 * NTLM_HASH_SIZE + 1];
	unsigned char nt[NTLM_HASH_SIZE];
	struct crypt_data cd;

	(void)argc, (void)argv;
	if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		die("dropping root");
	snprintf(world, sizeof world, "/tmp/pop3-fuzz.XXXXXX");
	if (mkdtemp(world) == NULL)
		die("mkdtemp");
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", world, dirs[i]);
		if (mkdir(path, 0700) != 0)
			die(path);
	}
	memset(&cd, 0, sizeof cd);
	if (!ntlm_nt_hash("secret", nt))
		die("ntlm_nt_hash");
	ntlm_hash_format(nt, nt_text);
	/* A cheap hash keeps the fuzzer fast; the check is the same code. */
	snprintf(line, sizeof line, "fuzz:%s:%u:%u::%s:/bin/sh:%s\nplain:%s:%u:%u::%s:/bin/sh\n",
		 crypt_r("secret", "$5$rounds=1000$fuzzsalt$", &cd), (unsigned)getuid(), (unsigned)getgid(),
		 world, nt_text, crypt_r("secret", "$5$rounds=1000$fuzzsalt$", &cd), (unsigned)getuid(),
		 (unsigned)getgid(), world);
	snprintf(path, sizeof path, "%s/passwd", world);
	put_file(path, line, strlen(line));
	chmod(path, 0600);
	config_defaults(&cfg);
	/* Sessions run inside the fuzzer's process, which must not be
	 * confined to one Maildir for the rest of its run. */
	if (!config_set(&cfg, "confine", "no", err, sizeof err) ||
	    !config_set(&cfg, "passwd_file", path, err, sizeof err) ||
	    !config_set(&cfg, "auth_fail_delay", "0", err, sizeof err) ||
	    !config_set(&cfg, "max_auth_failures", "100", err, sizeof err) ||
	    !config_set(&cfg, "plaintext_auth", "yes", err, sizeof err) ||
	    !config_set(&cfg, "ntlm", "yes", err, sizeof err) ||
	    !config_set(&cfg, "keytab", "/nonexistent/krb5.keytab", err, sizeof err)) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
	return 0;
}

/* Case-insensitive search for a keyword in the input. */
static int input_has(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i + n <= size; i++)
		if (strncasecmp((const char *)data + i, word, n) == 0)
			return 1;
	return 0;
}

/* Every reply line ends in CRLF; a status line starts "+OK", "-ERR" or "+ " and is at most 512 octets. */
static void check_replies(const char *out, size_t len)
{
	const char *p = out, *end = out + len;

	if (len < 5 || memcmp(out, "+OK ", 4) != 0)
		abort();	/* the greeting comes first */
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		if (lf == NULL || lf == p || lf[-1] != '\r')
			abort();
		if ((lf - p >= 3 && memcmp(p, "+OK", 3) == 0) || (lf - p >= 4 && memcmp(p, "-ERR", 4) == 0))
			if (lf + 1 - p > 512)
				abort();
		p = lf + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in = memfd_create("fuzz-in", 0), out = memfd_create("fuzz-out", 0);
	char *replies, err[256];
	off_t len;

	if (in < 0 || out < 0)
		die("memfd_create");
	reset_maildir();
	if (!config_set(&cfg, "client_workarounds", workaround_values[size % 4], err, sizeof err))
		die(err);
	if (write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		die("input");
	serve_one_process(&cfg, in, out);
	len = lseek(out, 0, SEEK_END);
	replies = len > 0 ? mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, out, 0) : NULL;
	if (len <= 0 || replies == MAP_FAILED)
		abort();
	check_replies(replies, (size_t)len);
	munmap(replies, (size_t)len);
	if (count_messages() < MESSAGES && !(input_has(data, size, "DELE") && input_has(data, size, "QUIT")))
		abort();	/* mail lost without DELE and QUIT */
	close(in);
	close(out);
	return 0;
}
