/*
 * privsep.c - the unprivileged network child and the privileged parent
 * that verifies its login requests.
 */
#include "privsep.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define REQUEST_MAGIC 0x70337270u	/* "p3rp" */

/* One login request: fixed size, every field checked by the parent. */
struct request {
	uint32_t magic;
	uint32_t mechanism;
	uint32_t user_len;
	uint32_t password_len;
	char user[USER_NAME_MAX + 1];
	char password[COMMAND_LENGTH_MAX];
};

struct answer {
	uint32_t magic;
	uint32_t answer;
};

/* Checks the directory the child is locked into: it must be root's and writable by nobody else. */
static bool jail_ok(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		log_msg(LOG_ERR, "privsep_dir %s: %s", dir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_msg(LOG_ERR, "privsep_dir %s must be a directory owned by root and not writable by others", dir);
		return false;
	}
	return true;
}

/* In the child: becomes user, locked into dir, unable to gain privileges again. */
static bool drop_to(const struct passwd *pw, const char *dir)
{
	if (chroot(dir) != 0 || chdir("/") != 0 || setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_msg(LOG_ERR, "privilege separation: %s", strerror(errno));
		return false;
	}
	if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0) {
		log_msg(LOG_ERR, "privilege separation: still root");
		return false;
	}
	return true;
}

enum privsep_role privsep_start(const char *user, const char *dir, struct privsep_child *child, int *parent_fd)
{
	struct passwd *pw;
	int sv[2];
	pid_t pid;

	/* Looked up before the fork: inside the jail there is no passwd. */
	pw = getpwnam(user);
	if (pw == NULL || pw->pw_uid == 0) {
		log_msg(LOG_ERR, "privsep_user %s: %s", user, pw ? "must not be root" : "no such user");
		return PRIVSEP_FAILED;
	}
	if (!jail_ok(dir))
		return PRIVSEP_FAILED;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_msg(LOG_ERR, "socketpair: %s", strerror(errno));
		return PRIVSEP_FAILED;
	}
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return PRIVSEP_FAILED;
	}
	if (pid == 0) {
		close(sv[0]);
		if (!drop_to(pw, dir))
			_exit(1);
		child->fd = sv[1];
		return PRIVSEP_CHILD;
	}
	close(sv[1]);
	*parent_fd = sv[0];
	return PRIVSEP_PARENT;
}

enum privsep_answer privsep_request(struct privsep_child *c, enum privsep_mechanism mech, const char *user,
				    const char *password)
{
	static struct request rq;
	struct answer a;
	ssize_t n;

	memset(&rq, 0, sizeof rq);
	rq.magic = REQUEST_MAGIC;
	rq.mechanism = mech;
	if (!str_copy(rq.user, sizeof rq.user, user) || !str_copy(rq.password, sizeof rq.password, password))
		return ANSWER_FAILED;	/* cannot be a valid login: the parent need not look */
	rq.user_len = (uint32_t)strlen(rq.user);
	rq.password_len = (uint32_t)strlen(rq.password);
	n = send(c->fd, &rq, sizeof rq, MSG_NOSIGNAL);
	explicit_bzero(&rq, sizeof rq);
	if (n != (ssize_t)sizeof rq)
		return ANSWER_TEMPORARY;
	do
		n = recv(c->fd, &a, sizeof a, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof a || a.magic != REQUEST_MAGIC || a.answer < ANSWER_OK || a.answer > ANSWER_REFUSED)
		return ANSWER_TEMPORARY;
	return (enum privsep_answer)a.answer;
}

bool privsep_hand_over(struct privsep_child *c, const char *input, size_t len)
{
	return send(c->fd, input, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* Checks a request the child sent: exact size, known mechanism, lengths matching NUL-terminated strings, a user name we accept or none (a name the child refused, which fails like an unknown user). */
static bool request_ok(const struct request *rq, size_t len)
{
	return len == sizeof *rq && rq->magic == REQUEST_MAGIC &&
	       (rq->mechanism == MECH_USER || rq->mechanism == MECH_PLAIN) &&
	       rq->user_len <= USER_NAME_MAX && rq->password_len < sizeof rq->password &&
	       memchr(rq->user, '\0', sizeof rq->user) == rq->user + rq->user_len &&
	       memchr(rq->password, '\0', sizeof rq->password) == rq->password + rq->password_len &&
	       (rq->user_len == 0 || auth_user_name_ok(rq->user, rq->user_len));
}

static void sleep_seconds(unsigned seconds)
{
	struct timespec t = { (time_t)seconds, 0 };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

int privsep_handle_request(const void *request, size_t len, const struct privsep_policy *policy,
			   unsigned *failures, struct privsep_login *login)
{
	const struct request *rq = request;
	enum lookup_result found;
	bool ok;

	if (!request_ok(rq, len))
		return 0;
	found = rq->user_len > 0 ? auth_lookup(policy->passwd_file, rq->user, &login->account) : LOOKUP_UNKNOWN;
	if (found == LOOKUP_FAILED)
		return ANSWER_TEMPORARY;
	ok = auth_password_ok(found == LOOKUP_FOUND ? &login->account : NULL, rq->password);
	if (ok && (login->account.uid == 0 || login->account.gid == 0)) {
		log_msg(LOG_ERR, "user %s: uid or gid 0 may not log in", rq->user);
		account_clear(&login->account);
		return ANSWER_REFUSED;
	}
	if (ok) {
		login->mechanism = (enum privsep_mechanism)rq->mechanism;
		login->failures = *failures;
		return ANSWER_OK;
	}
	if (found == LOOKUP_FOUND)
		log_msg(LOG_NOTICE, "failed login user=%s", rq->user);
	else
		log_msg(LOG_NOTICE, "failed login: unknown user");
	account_clear(&login->account);
	/* The delay and the count live here, out of the child's reach. */
	sleep_seconds(policy->fail_delay);
	return ++*failures >= policy->max_failures ? ANSWER_FAILED_CLOSE : ANSWER_FAILED;
}

/* Receives the unread client input the child hands over after success. */
static bool receive_input(int fd, struct privsep_login *login)
{
	ssize_t n;

	do
		n = recv(fd, login->input, sizeof login->input, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return false;
	login->input_len = (size_t)n;
	return true;
}

bool privsep_serve(int fd, const struct privsep_policy *policy, struct privsep_login *login)
{
	/* One octet more than a request: a longer message shows as too long
	 * instead of being silently cut to size. */
	static union {
		struct request rq;
		char raw[sizeof(struct request) + 1];
	} in;
	unsigned failures = 0, requests = 0;
	bool logged_in = false;

	/* Each request is answered before the next is read (one in flight);
	 * a child that asks more often than failures allow is cut off. */
	while (requests++ <= policy->max_failures) {
		struct answer a = { REQUEST_MAGIC, 0 };
		ssize_t n;
		int answer;

		do
			n = recv(fd, in.raw, sizeof in.raw, 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			break;	/* the child ended: client gone, QUIT, timeout */
		answer = privsep_handle_request(&in.rq, (size_t)n, policy, &failures, login);
		explicit_bzero(&in, sizeof in);
		if (answer == 0) {
			log_msg(LOG_ERR, "privilege separation: malformed request from the child");
			break;
		}
		a.answer = (uint32_t)answer;
		if (send(fd, &a, sizeof a, MSG_NOSIGNAL) != (ssize_t)sizeof a)
			break;
		if (answer == ANSWER_OK) {
			logged_in = receive_input(fd, login);
			break;
		}
		if (answer == ANSWER_FAILED_CLOSE)
			break;
	}
	close(fd);
	while (waitpid(-1, NULL, 0) < 0 && errno == EINTR)
		;
	if (!logged_in)
		account_clear(&login->account);
	return logged_in;
}
