/*
 * privsep.c - the two processes of a separated session: the jail of the
 * unprivileged child that talks to the client before login, the fork that
 * puts it there, and the parent's wait for the hand-over or the end.
 */
#include "privsep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "become.h"
#include "channel.h"
#include "confine.h"
#include "log.h"

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
	jail->confine = true;
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

/* In the child, once jailed: gives up every file, TCP, signals to others and all system calls
 * it does not make (confine.h), so that a bug in the code that parses the client's bytes
 * reaches nothing; false (logged) when a step the kernel supports failed. */
static bool confine_child(void)
{
	unsigned missing;

	if (!confine_prelogin(&missing)) {
		log_msg(LOG_ERR, "privilege separation: cannot confine the network process: %s", strerror(errno));
		return false;
	}
	/* The session logs a kernel's missing steps after login, as a warning. */
	if (missing != 0)
		log_msg(LOG_DEBUG, "privilege separation: the kernel lacks%s%s", missing & CONFINE_NO_LANDLOCK ?
			" Landlock" : "", missing & CONFINE_NO_SECCOMP ? " seccomp filters" : "");
	return true;
}

/* In the child: chroot to the jail, drop root for good, forbid gaining privileges again (no
 * set-uid, no file capabilities), die with the parent, and confine itself unless the jail
 * says not to. */
static bool enter_jail(struct privsep_jail *jail, pid_t parent)
{
	bool ok = fchdir(jail->dirfd) == 0 && chroot(".") == 0 && chdir("/") == 0;

	if (!ok)
		log_msg(LOG_ERR, "privilege separation: cannot chroot to privsep_dir: %s", strerror(errno));
	close(jail->dirfd);
	if (!ok || !become_user(jail->uid, jail->gid))
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
	return !jail->confine || confine_child();
}

/* In the parent: puts null on the descriptors that may be the client's connection (0, 1, and 2
 * unless keep_stderr). */
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

/* Kills the child and waits for it: it is not to be trusted to end by itself. */
static void stop_child(pid_t child)
{
	int wstatus;

	if (kill(child, SIGKILL) != 0)
		log_msg(LOG_ERR, "cannot stop the network process: %s", strerror(errno));
	reap(child, &wstatus);
}

/* In the parent: tells the child it may start (the parent holds nothing of the client now);
 * false (logged) when it could not be told. */
static bool let_child_start(int fd)
{
	struct privsep_answer start = { PRIVSEP_START, 0 };
	ssize_t n = channel_send(fd, &start, sizeof start, NULL, 0);

	if (n == (ssize_t)sizeof start)
		return true;
	log_msg(LOG_ERR, "privilege separation: cannot write to the network process: %s",
		n < 0 ? strerror(errno) : "short send");
	return false;
}

/* The largest message on the channel: the hand-over, with a whole input buffer, and a GSSAPI
 * token, a Kerberos ticket of up to GSSAPI_TOKEN_MAX octets. */
#define PRIVSEP_MESSAGE_MAX                                                                \
	(sizeof(struct privsep_hand_over) > sizeof(struct privsep_gssapi_request) ?        \
		 sizeof(struct privsep_hand_over) :                                        \
		 sizeof(struct privsep_gssapi_request))

enum privsep_role privsep_fork(struct privsep_jail *jail, bool keep_stderr, int *fd, pid_t *child)
{
	pid_t parent = getpid();
	int sv[2], null;
	bool detached;

	/* Syslog stamps each line with the local time: the zone is read now,
	 * as the jail has no /etc/localtime. */
	tzset();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || !channel_pair(sv, PRIVSEP_MESSAGE_MAX)) {
		log_msg(LOG_ERR, "privilege separation: %s: %s", null < 0 ? "/dev/null" : "socket pair",
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
		if (!channel_receive_exact(*fd, PRIVSEP_START, &start, sizeof start)) {
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
	if (detached && let_child_start(*fd))
		return PRIVSEP_PARENT;
	close(sv[0]);
	stop_child(*child);
	return PRIVSEP_FAILED;
}

/* The exit status for a session whose child ended without a login: 0 when it ended normally,
 * else 1 (logged). */
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
