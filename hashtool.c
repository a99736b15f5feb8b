/*
 * hashtool.c - pop3-handler -H: a password read at the terminal (or from
 * standard input) and printed as the passwd file's hashes.
 */
#include "hashtool.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ntlm.h"

/* Reads one line of at most size - 1 octets from stdin into buf without its newline, echo off
 * on a terminal; false at end of input or when too long. */
static bool read_secret(const char *prompt, char *buf, size_t size)
{
	struct termios saved, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	bool ok;
	size_t len;

	if (tty) {
		/* Echo goes off before the prompt, and nothing typed ahead
		 * is thrown away. */
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
		fputs(prompt, stderr);
	}
	ok = fgets(buf, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputc('\n', stderr);
	}
	len = ok ? strlen(buf) : 0;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (ok && !feof(stdin))
		ok = false;	/* longer than the buffer */
	return ok;
}

int hash_tool(bool nt_hash)
{
	static struct crypt_data data;
	/* libxcrypt hashes passphrases of up to CRYPT_MAX_PASSPHRASE_SIZE - 1
	 * octets; one more octet holds the newline fgets keeps. */
	char password[CRYPT_MAX_PASSPHRASE_SIZE + 1], again[CRYPT_MAX_PASSPHRASE_SIZE + 1];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char nt[NTLM_HASH_SIZE];
	char nt_text[2 * NTLM_HASH_SIZE + 1];
	const char *hash = NULL;
	bool tty = isatty(STDIN_FILENO);
	int status = 1;

	if (!read_secret("Password: ", password, sizeof password) || password[0] == '\0') {
		fprintf(stderr, "pop3-handler: no password read (one line of 1 to %d octets)\n",
			CRYPT_MAX_PASSPHRASE_SIZE - 1);
	} else if (tty && (!read_secret("Again: ", again, sizeof again) || strcmp(password, again) != 0)) {
		fprintf(stderr, "pop3-handler: the passwords differ\n");
	} else if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof setting) == NULL ||
		   (hash = crypt_rn(password, setting, &data, (int)sizeof data)) == NULL || hash[0] == '*') {
		fprintf(stderr, "pop3-handler: libxcrypt could not hash: %s\n", strerror(errno));
	} else if (nt_hash && !ntlm_ready()) {
		fprintf(stderr, "pop3-handler: no NT hash without nettle (libnettle8)\n");
	} else if (nt_hash && !ntlm_nt_hash(password, nt)) {
		fprintf(stderr, "pop3-handler: an NT hash needs a password in UTF-8 of at most %d octets\n",
			NTLM_PASSWORD_MAX);
	} else {
		printf("%s\n", hash);
		if (nt_hash) {
			ntlm_hash_format(nt, nt_text);
			printf("%s\n", nt_text);
		}
		status = 0;
	}
	explicit_bzero(password, sizeof password);
	explicit_bzero(again, sizeof again);
	explicit_bzero(&data, sizeof data);
	explicit_bzero(nt, sizeof nt);
	explicit_bzero(nt_text, sizeof nt_text);
	return status;
}
