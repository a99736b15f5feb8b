/*
 * pam_probe.c - a PAM module for the tests of passwd_file = pam, built by
 * tests/login-pam.bats: it shows what pop3-handler's conversation answers
 * and which process runs PAM, and it plays the modules that misbehave.
 * Its one argument says what it does in pam_sm_authenticate:
 *
 *   record=FILE    asks an echo-on and an echo-off prompt and sends an error
 *                  and an information message, then a prompt of a kind the
 *                  handler must refuse; writes to FILE the echo-on answer,
 *                  whether the echo-off answer was PAM_AUTHTOK's password
 *                  ("secret"), how the last prompt went, its uid and pid,
 *                  the items PAM_RHOST, PAM_RUSER, PAM_TTY, and for each child
 *                  process (a separated session's jailed child) its uid and
 *                  whether it has libpam or this module mapped; succeeds
 *   hang           sleeps for an hour
 *   crash          dies of SIGSEGV
 *   unavail        answers PAM_AUTHINFO_UNAVAIL (a directory that is down)
 */
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Linux-PAM's binary prompt, which no text conversation can answer. */
#define BINARY_PROMPT 7

/* Asks one prompt of style; the answer (malloc'd) in *answer, or the conversation's error. */
static int ask(pam_handle_t *h, int style, const char *text, char **answer)
{
	const struct pam_conv *conv;
	struct pam_message m = { style, text };
	const struct pam_message *mp = &m;
	struct pam_response *r = NULL;
	int rc = pam_get_item(h, PAM_CONV, (const void **)&conv);

	*answer = NULL;
	if (rc != PAM_SUCCESS)
		return rc;
	rc = conv->conv(1, &mp, &r, conv->appdata_ptr);
	if (rc == PAM_SUCCESS && r != NULL)
		*answer = r->resp;
	free(r);
	return rc;
}

static const char *item(pam_handle_t *h, int type)
{
	const void *v = NULL;

	return pam_get_item(h, type, &v) == PAM_SUCCESS && v != NULL ? v : "(none)";
}

/* Writes, for each process whose parent is this one, "child=PID uid=UID pam=mapped|absent". */
static void record_children(FILE *f)
{
	char path[64], line[512];
	FILE *p;
	int pid;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	p = fopen(path, "r");
	while (p != NULL && fscanf(p, "%d", &pid) == 1) {
		unsigned uid = 0;
		int mapped = 0;
		FILE *s, *m;

		snprintf(path, sizeof path, "/proc/%d/status", pid);
		s = fopen(path, "r");
		while (s != NULL && fgets(line, sizeof line, s) != NULL)
			if (sscanf(line, "Uid: %u", &uid) == 1)
				break;
		if (s != NULL)
			fclose(s);
		snprintf(path, sizeof path, "/proc/%d/maps", pid);
		m = fopen(path, "r");
		while (m != NULL && fgets(line, sizeof line, m) != NULL)
			mapped |= strstr(line, "libpam") != NULL || strstr(line, "pam_") != NULL;
		if (m != NULL)
			fclose(m);
		fprintf(f, "child=%d uid=%u pam=%s\n", pid, uid, mapped ? "mapped" : "absent");
	}
	if (p != NULL)
		fclose(p);
}

static int record(pam_handle_t *h, const char *file)
{
	char *on = NULL, *off = NULL, *binary = NULL, *ignored = NULL;
	int binary_rc;
	FILE *f;

	ask(h, PAM_PROMPT_ECHO_ON, "login: ", &on);
	ask(h, PAM_PROMPT_ECHO_OFF, "Password: ", &off);
	ask(h, PAM_ERROR_MSG, "probe error message", &ignored);
	ask(h, PAM_TEXT_INFO, "probe information", &ignored);
	binary_rc = ask(h, BINARY_PROMPT, "binary", &binary);
	f = fopen(file, "w");
	if (f == NULL)
		return PAM_SYSTEM_ERR;
	fprintf(f, "echo_on=%s\necho_off=%s\nbinary=%s\nuid=%u\npid=%d\nppid=%d\nrhost=%s\nruser=%s\ntty=%s\n",
		on ? on : "(none)", off && strcmp(off, "secret") == 0 ? "password" : "other",
		binary_rc == PAM_SUCCESS ? "answered" : "refused", (unsigned)getuid(), (int)getpid(),
		(int)getppid(), item(h, PAM_RHOST), item(h, PAM_RUSER), item(h, PAM_TTY));
	record_children(f);
	fclose(f);
	free(on);
	free(off);
	free(binary);
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *h, int flags, int argc, const char **argv)
{
	(void)flags;
	if (argc < 1)
		return PAM_SERVICE_ERR;
	if (strncmp(argv[0], "record=", 7) == 0)
		return record(h, argv[0] + 7);
	if (strcmp(argv[0], "hang") == 0)
		sleep(3600);
	if (strcmp(argv[0], "crash") == 0)
		raise(SIGSEGV);
	if (strcmp(argv[0], "unavail") == 0)
		return PAM_AUTHINFO_UNAVAIL;
	return PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv)
{
	(void)h, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}
