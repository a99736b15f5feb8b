/*
 * privsep.c - the jail of the unprivileged child that talks to the client
 * before login, and the root parent that decides its login requests.
 */
#include "privsep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* The names of enum privsep_mechanism, as the logs give them. */
static const char *const mechanism_names[PRIVSEP_MECHANISM_COUNT] = { "USER", "PLAIN", "NTLM" };

/* The client's input and output descriptors travel with the hand-over. */
#define CLIENT_FDS 2

/* Room for the descriptors a message may carry: more than CLIENT_FDS do
 * not fit, and the kernel closes them and marks the message truncated. */
union fd_control {
	char buf[CMSG_SPACE(CLIENT_FDS * sizeof(int))];
	struct cmsghdr align;
};

/* --- Start ----------------------------------------------------------- */

/* Why an open privsep_dir is unfit for the jail, or NULL when it is fit. */
static const char *jail_dir_problem(int dirfd)
{
	struct dirent *de;
	struct stat st;
	bool empty = true;
	int copy;
	DIR *d;

	if (fstat(dirfd, &st) != 0)
		return strerror(errno);
	if (st.st_uid != 0)
		return "must be owned by root";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "must not be writable by group or others";
	copy = dup(dirfd);
	d = copy < 0 ? NULL : fdopendir(copy);
	if (d == NULL) {
		if (copy >= 0)
			close(copy);
		return strerror(errno);
	}
	errno = 0;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	if (empty && errno != 0)
		empty = false;
	closedir(d);
	return empty ? NULL : "must be an empty directory";
}

bool privsep_jail_open(const char *user, const char *dir, struct privsep_jail *jail, char *err, size_t errlen)
{
	const char *problem;
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "privsep_user %s: %s", user,
			 errno == 0 || errno == ENOENT || errno == ESRCH ? "no such user" : strerror(errno));
		return false;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "privsep_user %s: must not have uid or gid 0", user);
		return false;
	}
	jail->uid = pw->pw_uid;
	jail->gid = pw->pw_gid;
	/* Opened once, without following a final symbolic link: what was
	 * checked is what the child enters, whatever happens to the path. */
	jail->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (jail->dirfd < 0) {
		int saved = errno;
		struct stat st;
		bool link = lstat(dir, &st) == 0 && S_ISLNK(st.st_mode);

		snprintf(err, errlen, "privsep_dir %s: %s", dir,
			 link ? "a symbolic link, not a directory" : strerror(saved));
		return false;
	}
	problem = jail_dir_problem(jail->dirfd);
	if (problem != NULL) {
		snprintf(err, errlen, "privsep_dir %s: %s", dir, problem);
		close(jail->dirfd);
		return false;
	}
	return true;
}

/* In the child: chroot to the jail, drop root for good, forbid gaining privileges again (no set-uid, no file capabilities), and die with the parent. */
static bool enter_jail(struct privsep_jail *jail, pid_t parent)
{
	bool ok = fchdir(jail->dirfd) == 0 && chroot(".") == 0 && chdir("/") == 0;

	if (!ok)
		log_msg(LOG_ERR, "privilege separation: cannot chroot to privsep_dir: %s", strerror(errno));
	close(jail->dirfd);
	if (!ok || !auth_become(jail->uid, jail->gid))
		return false;
	/* The death signal is set after the change of ids, which clears it.
	 * A session whose parent is killed ends, as one process would. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
		log_msg(LOG_ERR, "privilege separation: prctl: %s", strerror(errno));
		return false;
	}
	if (getppid() != parent) {
		log_msg(LOG_ERR, "privilege separation: the parent is gone");
		return false;
	}
	return true;
}

/* In the parent: puts null on the descriptors that may be the client's connection (0, 1, and 2 unless keep_stderr). */
static bool detach_client(int null, bool keep_stderr)
{
	for (int fd = 0; fd <= (keep_stderr ? 1 : 2); fd++) {
		if (dup2(null, fd) < 0) {
			log_msg(LOG_ERR, "privilege separation: dup2: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

/* Waits for the child to end; false (logged) when waitpid fails. */
static bool reap(pid_t child, int *wstatus)
{
	while (waitpid(child, wstatus, 0) < 0) {
		if (errno != EINTR) {
			log_msg(LOG_ERR, "waitpid: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

/* Sends one message of len octets, resuming after signals; the number of octets sent, or -1 (errno set). */
static ssize_t send_message(int fd, const void *msg, size_t len)
{
	ssize_t n;

	do
		n = send(fd, msg, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* In the parent: sends the child one message; false (logged) when that failed. */
static bool send_to_child(int fd, const void *msg, size_t len)
{
	ssize_t n = send_message(fd, msg, len);

	if (n != (ssize_t)len) {
		log_msg(LOG_ERR, "privilege separation: cannot write to the network process: %s",
			n < 0 ? strerror(errno) : "short send");
		return false;
	}
	return true;
}

/* In the child: receives one message of exactly len octets into msg; false unless one of that kind and size came. */
static bool receive_from_parent(int fd, uint32_t kind, void *msg, size_t len)
{
	uint32_t got;
	ssize_t n;

	/* The parent sleeps the failure delay before it answers: the
	 * inactivity timer may fire meanwhile, and the wait goes on. */
	do
		n = recv(fd, msg, len, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return false;
	memcpy(&got, msg, sizeof got);
	return got == kind;
}

/* Kills the child and waits for it: it is not to be trusted to end by itself. */
static void stop_child(pid_t child)
{
	int wstatus;

	if (kill(child, SIGKILL) != 0)
		log_msg(LOG_ERR, "cannot stop the network process: %s", strerror(errno));
	reap(child, &wstatus);
}

enum privsep_role privsep_fork(struct privsep_jail *jail, bool keep_stderr, int *fd, pid_t *child)
{
	pid_t parent = getpid();
	int sv[2], null;
	bool detached;

	/* Syslog stamps each line with the local time: the zone is read now,
	 * as the jail has no /etc/localtime. */
	tzset();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_msg(LOG_ERR, "privilege separation: %s: %s", null < 0 ? "/dev/null" : "socketpair",
			strerror(errno));
		if (null >= 0)
			close(null);
		return PRIVSEP_FAILED;
	}
	*child = fork();
	if (*child < 0) {
		log_msg(LOG_ERR, "privilege separation: fork: %s", strerror(errno));
		close(null);
		close(sv[0]);
		close(sv[1]);
		return PRIVSEP_FAILED;
	}
	if (*child == 0) {
		struct privsep_answer start;

		close(null);
		close(sv[0]);
		*fd = sv[1];
		if (!enter_jail(jail, parent))
			_exit(1);
		/* Not a byte is read from the client before the root parent
		 * has let go of it. */
		if (!receive_from_parent(*fd, PRIVSEP_START, &start, sizeof start)) {
			log_msg(LOG_ERR, "privilege separation: the parent did not let the session start");
			_exit(1);
		}
		return PRIVSEP_CHILD;
	}
	close(sv[1]);
	close(jail->dirfd);
	*fd = sv[0];
	detached = detach_client(null, keep_stderr);
	close(null);
	if (detached && send_to_child(*fd, &(struct privsep_answer){ PRIVSEP_START, 0 }, sizeof(struct privsep_answer)))
		return PRIVSEP_PARENT;
	close(sv[0]);
	stop_child(*child);
	return PRIVSEP_FAILED;
}

/* --- The child ------------------------------------------------------- */

/* In the child: fills a login request with the credential; false when it does not fit. */
static bool login_request(struct privsep_login *rq, uint32_t mechanism, const char *user, const struct credential *c)
{
	bool fits = mechanism < PRIVSEP_MECHANISM_COUNT && str_copy(rq->user, sizeof rq->user, user);

	rq->kind = PRIVSEP_LOGIN;
	rq->mechanism = mechanism;
	rq->user_len = (uint32_t)strlen(rq->user);
	if (c->kind == CREDENTIAL_PASSWORD) {
		fits = fits && str_copy(rq->secret, sizeof rq->secret, c->password);
		rq->secret_len = (uint32_t)strlen(rq->secret);
		return fits;
	}
	fits = fits && c->domain_len <= sizeof rq->domain && c->response_len <= sizeof rq->response;
	if (fits) {
		memcpy(rq->domain, c->domain, c->domain_len);
		memcpy(rq->response, c->response, c->response_len);
		rq->domain_len = (uint32_t)c->domain_len;
		rq->response_len = (uint32_t)c->response_len;
	}
	return fits;
}

/* In the child: sends a request of len octets and receives the answer of its kind and size; false (logged, naming what) when either failed. */
static bool ask_parent(int fd, const void *rq, size_t len, bool fits, uint32_t kind, void *answer, size_t answer_len,
		       const char *what)
{
	ssize_t n = fits ? send_message(fd, rq, len) : 0;

	if (n != (ssize_t)len) {
		log_msg(LOG_ERR, "privilege separation: cannot send the %s: %s", what,
			!fits ? "it does not fit" : n < 0 ? strerror(errno) : "short send");
		return false;
	}
	if (!receive_from_parent(fd, kind, answer, answer_len)) {
		log_msg(LOG_ERR, "privilege separation: no valid answer to the %s", what);
		return false;
	}
	return true;
}

bool privsep_ask(int fd, const char *mechanism, const char *user, const struct credential *c,
		 enum login_result *result)
{
	static struct privsep_login rq;
	struct privsep_answer a;
	uint32_t m = 0;
	bool fits, ok;

	while (m < PRIVSEP_MECHANISM_COUNT && strcmp(mechanism_names[m], mechanism) != 0)
		m++;
	memset(&rq, 0, sizeof rq);
	fits = login_request(&rq, m, user, c);
	ok = ask_parent(fd, &rq, sizeof rq, fits, PRIVSEP_ANSWER, &a, sizeof a, "login request");
	explicit_bzero(&rq, sizeof rq);
	if (ok && a.result > LOGIN_REFUSED) {
		log_msg(LOG_ERR, "privilege separation: no valid answer to the login request");
		ok = false;
	}
	if (ok)
		*result = (enum login_result)a.result;
	return ok;
}

bool privsep_challenge(int fd, unsigned char challenge[NTLM_CHALLENGE_SIZE], bool *issued)
{
	struct privsep_challenge rq = { PRIVSEP_CHALLENGE, 0, { 0 } }, a;

	if (!ask_parent(fd, &rq, sizeof rq, true, PRIVSEP_CHALLENGE, &a, sizeof a, "challenge request"))
		return false;
	if (a.ok > 1) {
		log_msg(LOG_ERR, "privilege separation: a malformed answer to the challenge request");
		return false;
	}
	memcpy(challenge, a.challenge, sizeof a.challenge);
	*issued = a.ok == 1;
	return true;
}

bool privsep_gssapi(int fd, bool first, const unsigned char *in, size_t in_len, unsigned char *out, size_t out_size,
		    size_t *out_len, enum sasl_step *step, enum login_result *result)
{
	static struct privsep_gssapi_request rq;
	static struct privsep_gssapi_answer a;
	bool fits = in_len <= sizeof rq.token;

	memset(&rq, 0, sizeof rq);
	rq.kind = PRIVSEP_GSSAPI;
	rq.first = first;
	rq.len = (uint32_t)(fits ? in_len : 0);
	memcpy(rq.token, in, rq.len);
	if (!ask_parent(fd, &rq, sizeof rq, fits, PRIVSEP_GSSAPI_ANSWER, &a, sizeof a, "GSSAPI token"))
		return false;
	if (a.decided > 1 || a.result > LOGIN_REFUSED || a.len > sizeof a.token || a.len > out_size) {
		log_msg(LOG_ERR, "privilege separation: a malformed answer to the GSSAPI token");
		return false;
	}
	*step = a.decided ? SASL_DECIDED : SASL_CHALLENGE;
	*result = (enum login_result)a.result;
	*out_len = a.len;
	memcpy(out, a.token, a.len);
	return true;
}

bool privsep_hand_over(int fd, int in_fd, int out_fd, const char *input, size_t len)
{
	static struct privsep_hand_over h;
	const int fds[CLIENT_FDS] = { in_fd, out_fd };
	union fd_control control;
	struct iovec iov = { &h, sizeof h };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof control.buf };
	struct cmsghdr *c;
	ssize_t n;

	if (len > sizeof h.input) {
		log_msg(LOG_ERR, "privilege separation: %zu octets of input do not fit the hand-over", len);
		return false;
	}
	memset(&h, 0, sizeof h);
	h.kind = PRIVSEP_HAND_OVER;
	h.input_len = (uint32_t)len;
	memcpy(h.input, input, len);
	memset(&control, 0, sizeof control);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* Pipelined input may hold a password too. */
	explicit_bzero(&h, sizeof h);
	if (n != (ssize_t)sizeof h) {
		log_msg(LOG_ERR, "privilege separation: cannot hand the session over: %s",
			n < 0 ? strerror(errno) : "short send");
		return false;
	}
	return true;
}

/* --- The parent ------------------------------------------------------ */

void privsep_parent_init(struct privsep_parent *p, int fd, struct login_guard *guard, bool plaintext_ok)
{
	memset(p, 0, sizeof *p);
	p->fd = fd;
	p->guard = guard;
	p->plaintext_ok = plaintext_ok;
	p->expect = AWAIT_REQUEST;
	p->client_in = p->client_out = -1;
}

/* Anything the child may send, with room for the largest. */
union message {
	uint32_t kind;
	struct privsep_login login;
	struct privsep_challenge challenge;
	struct privsep_gssapi_request gssapi;
	struct privsep_hand_over hand_over;
};

/* One message as received: its real length, the descriptors it carried, and whether it was cut (data or descriptors). */
struct received {
	size_t len;
	bool truncated;
	size_t nfds;
	int fds[CLIENT_FDS];
};

/* Receives one message into in; returns its real length, 0 at the end of the channel (or for an empty message), -1 (errno set) on error. */
static ssize_t receive(int fd, union message *in, struct received *r)
{
	union fd_control control;
	struct iovec iov = { in, sizeof *in };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof control.buf };
	ssize_t n;

	*r = (struct received){ .nfds = 0, .fds = { -1, -1 } };
	/* MSG_TRUNC: the real length of an oversized message, not the part
	 * that fitted. */
	do
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		/* The bound is the buffer's: no more than CLIENT_FDS arrive. */
		for (size_t i = 0; i < count && r->nfds < CLIENT_FDS; i++)
			memcpy(&r->fds[r->nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	r->len = (size_t)n;
	r->truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return n;
}

/* Tells whether the child closed its end: recv() returns 0 both then and for an empty message, but only the end hangs up the socket. */
static bool child_hung_up(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0;
}

/* Tells whether another message is queued behind the one being answered. */
static bool message_waiting(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n == 0 && !child_hung_up(fd));
}

/* Counts a new login exchange: why it may not start, or NULL. */
static const char *exchange_problem(const struct privsep_parent *p)
{
	return auth_exchange_begin(p->guard) ? NULL : "too many login exchanges";
}

/* Why the credential of an NTLM login request is unacceptable, or NULL. */
static const char *ntlm_problem(const struct privsep_parent *p, const struct privsep_login *rq)
{
	if (!p->guard->ntlm_offered)
		return "an NTLM login, which is not offered";
	if (rq->secret_len != 0 || rq->domain_len > NTLM_DOMAIN_MAX || rq->domain_len % 2 != 0 ||
	    rq->response_len < NTLM_RESPONSE_MIN || rq->response_len > NTLM_RESPONSE_MAX)
		return "an NTLM credential of the wrong size";
	/* One answer per challenge: a login without one, or a second
	 * login on it, would let a response be tried again. */
	if (!p->guard->ntlm_challenge_issued)
		return "an NTLM login without a challenge";
	return NULL;
}

/* Why the credential of a USER or PLAIN login request is unacceptable, or NULL. */
static const char *password_problem(const struct privsep_parent *p, const struct privsep_login *rq)
{
	/* Both send the password in the clear: where the policy forbids
	 * that, an honest child never asks. */
	if (!p->plaintext_ok)
		return "a plaintext login the policy forbids";
	if (rq->secret_len > PRIVSEP_SECRET_MAX || strnlen(rq->secret, sizeof rq->secret) != rq->secret_len ||
	    rq->domain_len != 0 || rq->response_len != 0)
		return "a secret of the wrong length";
	/* A PASS argument is the non-empty rest of a command line, which
	 * holds no CR or LF. */
	if (rq->mechanism == PRIVSEP_USER && (rq->secret_len == 0 || strpbrk(rq->secret, "\r\n") != NULL))
		return "a password no command line can carry";
	return exchange_problem(p);
}

/* Why a login request's fields are unacceptable, or NULL. */
static const char *login_problem(const struct privsep_parent *p, const struct privsep_login *rq)
{
	if (rq->mechanism >= PRIVSEP_MECHANISM_COUNT)
		return "an unknown mechanism";
	if (rq->user_len > USER_NAME_MAX || strnlen(rq->user, sizeof rq->user) != rq->user_len)
		return "a user name of the wrong length";
	if (rq->user_len > 0 && !auth_user_name_ok(rq->user, rq->user_len))
		return "a user name with forbidden characters";
	return rq->mechanism == PRIVSEP_NTLM ? ntlm_problem(p, rq) : password_problem(p, rq);
}

/* Why a GSSAPI token is unacceptable, or NULL. */
static const char *gssapi_problem(const struct privsep_parent *p, const struct privsep_gssapi_request *rq)
{
	if (!p->guard->gssapi_offered)
		return "a GSSAPI token, which is not offered";
	if (rq->first > 1 || rq->len > sizeof rq->token)
		return "a malformed GSSAPI token";
	if (!rq->first)
		return p->guard->gssapi.state == GSSAPI_IDLE ? "a GSSAPI token outside an exchange" : NULL;
	return exchange_problem(p);
}

/* Why a request of the kind in in, received as r says, is unacceptable now, or NULL. */
static const char *request_problem(const struct privsep_parent *p, const union message *in, const struct received *r,
				   size_t size)
{
	if (p->expect != AWAIT_REQUEST)
		return "a request out of order";
	if (r->len != size || r->nfds != 0)
		return "a request of the wrong size or with descriptors";
	if (in->kind == PRIVSEP_LOGIN)
		return login_problem(p, &in->login);
	if (in->kind == PRIVSEP_GSSAPI)
		return gssapi_problem(p, &in->gssapi);
	if (!p->guard->ntlm_offered)
		return "a challenge request, but NTLM is not offered";
	if (in->challenge.ok != 0)
		return "a malformed challenge request";
	return exchange_problem(p);
}

/* Why a message is unacceptable now, or NULL. */
static const char *message_problem(const struct privsep_parent *p, const union message *in, const struct received *r)
{
	if (r->truncated)
		return "an oversized message";
	if (r->len < sizeof in->kind)
		return "a message too short to have a kind";
	switch (in->kind) {
	case PRIVSEP_LOGIN:
		return request_problem(p, in, r, sizeof in->login);
	case PRIVSEP_CHALLENGE:
		return request_problem(p, in, r, sizeof in->challenge);
	case PRIVSEP_GSSAPI:
		return request_problem(p, in, r, sizeof in->gssapi);
	case PRIVSEP_HAND_OVER:
		if (p->expect != AWAIT_HAND_OVER)
			return "a hand-over without an accepted login";
		if (r->len != sizeof in->hand_over || r->nfds != CLIENT_FDS ||
		    in->hand_over.input_len > sizeof in->hand_over.input)
			return "a malformed hand-over";
		return NULL;
	default:
		return "a message of unknown kind";
	}
}

/* Logs why the child is refused. */
static enum privsep_step refuse(const char *problem)
{
	log_msg(LOG_ERR, "privilege separation: %s from the network process; ending the session", problem);
	return STEP_REFUSED;
}

/* Sends a checked request's answer (len octets), once no other request is queued behind it, and moves on: after LOGIN_OK (decided) to the hand-over, after the last failure to the end. */
static enum privsep_step send_answer(struct privsep_parent *p, const void *answer, size_t len, bool decided,
				     enum login_result result, const char *mechanism)
{
	/* One request in flight: an honest child waits for each answer,
	 * failure delay included, before it asks again. */
	if (message_waiting(p->fd)) {
		account_clear(&p->account);
		return refuse("a request before the answer to the previous one");
	}
	if (!send_to_child(p->fd, answer, len)) {
		account_clear(&p->account);
		return STEP_REFUSED;
	}
	if (decided && result == LOGIN_OK) {
		p->mechanism = mechanism;
		p->expect = AWAIT_HAND_OVER;
	} else if (decided && result == LOGIN_FAILED_LAST) {
		p->expect = AWAIT_END;
	}
	return STEP_ANSWERED;
}

/* Decides a checked login request and answers it. */
static enum privsep_step answer_login(struct privsep_parent *p, const struct privsep_login *rq)
{
	const char *mechanism = mechanism_names[rq->mechanism];
	struct credential c = { .kind = rq->mechanism == PRIVSEP_NTLM ? CREDENTIAL_NTLMV2 : CREDENTIAL_PASSWORD,
				.password = rq->secret, .domain = rq->domain, .domain_len = rq->domain_len,
				.response = rq->response, .response_len = rq->response_len };
	enum login_result result = auth_login(p->guard, rq->user, &c, mechanism, &p->account);
	struct privsep_answer a = { PRIVSEP_ANSWER, (uint32_t)result };

	return send_answer(p, &a, sizeof a, true, result, mechanism);
}

/* Issues an NTLM challenge for a checked request. */
static enum privsep_step answer_challenge(struct privsep_parent *p)
{
	struct privsep_challenge a = { PRIVSEP_CHALLENGE, 0, { 0 } };
	enum privsep_step step;

	a.ok = auth_ntlm_challenge(p->guard, a.challenge);
	step = send_answer(p, &a, sizeof a, false, LOGIN_FAILED, "NTLM");
	explicit_bzero(&a, sizeof a);
	return step;
}

/* Takes a checked GSSAPI token a step further and answers with a challenge or the login decided. */
static enum privsep_step answer_gssapi(struct privsep_parent *p, const struct privsep_gssapi_request *rq)
{
	static struct privsep_gssapi_answer a;
	enum login_result result = LOGIN_FAILED;
	size_t len = 0;
	enum sasl_step step;

	memset(&a, 0, sizeof a);
	step = auth_gssapi_step(p->guard, rq->first == 1, rq->token, rq->len, a.token, sizeof a.token, &len, &result,
				&p->account);
	a.kind = PRIVSEP_GSSAPI_ANSWER;
	a.decided = step == SASL_DECIDED;
	a.result = (uint32_t)result;
	a.len = (uint32_t)len;
	return send_answer(p, &a, sizeof a, a.decided, result, "GSSAPI");
}

/* Takes the client's descriptors and unused input from a checked hand-over. */
static enum privsep_step take_hand_over(struct privsep_parent *p, const struct privsep_hand_over *h,
					const struct received *r)
{
	p->client_in = r->fds[0];
	p->client_out = r->fds[1];
	p->input_len = h->input_len;
	memcpy(p->input, h->input, h->input_len);
	p->expect = AWAIT_END;
	return STEP_HANDED_OVER;
}

enum privsep_step privsep_parent_step(struct privsep_parent *p)
{
	/* Static: large, and it holds secrets until wiped below. */
	static union message in;
	struct received r;
	const char *problem;
	enum privsep_step step;

	if (receive(p->fd, &in, &r) < 0) {
		log_msg(LOG_ERR, "privilege separation: receiving from the network process: %s", strerror(errno));
		return STEP_REFUSED;
	}
	if (r.len == 0 && r.nfds == 0 && child_hung_up(p->fd))
		return STEP_ENDED;
	problem = r.len == 0 ? "an empty message" : message_problem(p, &in, &r);
	if (problem != NULL) {
		for (size_t i = 0; i < r.nfds; i++)
			close(r.fds[i]);
		step = refuse(problem);
	} else if (in.kind == PRIVSEP_LOGIN) {
		step = answer_login(p, &in.login);
	} else if (in.kind == PRIVSEP_CHALLENGE) {
		step = answer_challenge(p);
	} else if (in.kind == PRIVSEP_GSSAPI) {
		step = answer_gssapi(p, &in.gssapi);
	} else {
		step = take_hand_over(p, &in.hand_over, &r);
	}
	/* What came is wiped, and no more: the buffer is 16 KiB, and a page
	 * never touched costs memory for nothing. */
	explicit_bzero(&in, r.len < sizeof in ? r.len : sizeof in);
	return step;
}

/* The exit status for a session whose child ended without a login: 0 when it ended normally, else 1 (logged). */
static int child_end_status(int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return 0;
	if (WIFSIGNALED(wstatus))
		log_msg(LOG_ERR, "the network process was killed by signal %d", WTERMSIG(wstatus));
	else
		log_msg(LOG_ERR, "the network process ended with status %d", WEXITSTATUS(wstatus));
	return 1;
}

bool privsep_parent_serve(struct privsep_parent *p, pid_t child, int *status)
{
	enum privsep_step step;
	int wstatus;

	do
		step = privsep_parent_step(p);
	while (step == STEP_ANSWERED);
	close(p->fd);
	p->fd = -1;
	if (step == STEP_HANDED_OVER) {
		/* It has nothing left to do but exit; one that lingered would
		 * share the client with us. */
		stop_child(child);
		return true;
	}
	account_clear(&p->account);
	if (step == STEP_REFUSED) {
		stop_child(child);
		*status = 1;
	} else {
		*status = reap(child, &wstatus) ? child_end_status(wstatus) : 1;
	}
	return false;
}
