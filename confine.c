/*
 * confine.c - the confinement of a session's two stages: no new
 * privileges, Landlock on the file system (and on TCP and signals), and a
 * seccomp allow-list.  A bug in the protocol or Maildir code then reaches
 * no file outside the user's Maildir (before login: no file at all) and no
 * system call the stage never makes.
 */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's kernel headers (Linux 6.1) stop at Landlock ABI 2; these
 * values are the kernel's stable ABI since the versions named. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5, Linux 6.10 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)	/* ABI 4, Linux 6.7 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6, Linux 6.12 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6: the installed header may lack
 * the later fields.  The kernel takes a larger struct than it knows as
 * long as the fields it does not know are zero. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

/* The file system rights each Landlock ABI version added, by version. */
static const uint64_t fs_rights_added[] = {
	0,
	(LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1,	/* 1: EXECUTE to MAKE_SYM */
	LANDLOCK_ACCESS_FS_REFER,		/* 2 */
	LANDLOCK_ACCESS_FS_TRUNCATE,		/* 3 */
	0,					/* 4: TCP rights only */
	LANDLOCK_ACCESS_FS_IOCTL_DEV,		/* 5 */
};
#define FS_RIGHTS_KNOWN (sizeof fs_rights_added / sizeof *fs_rights_added)

/* What a session does beneath its Maildir: read messages and directories;
 * write the UID list (created, truncated, renamed over) and its lock file;
 * rename messages from new/ to cur/ (REFER: across directories) and to
 * new flags; remove messages.  Not: execute, make directories, devices,
 * FIFOs, sockets or symbolic links, remove directories. */
#define MAILDIR_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
			LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
			LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REFER | \
			LANDLOCK_ACCESS_FS_TRUNCATE)

/* ABI 1 refuses every rename and link between directories, which moving
 * new/ to cur/ needs: below ABI 2 the kernel lacks what a session needs.
 * Before login no file is reached at all, which ABI 1 can enforce. */
#define LANDLOCK_ABI_MAILDIR 2
#define LANDLOCK_ABI_NO_FILES 1
#define LANDLOCK_ABI_NET 4
#define LANDLOCK_ABI_SCOPE 6

/* The file system rights Landlock ABI abi knows. */
static uint64_t fs_rights_of_abi(long abi)
{
	uint64_t rights = 0;

	for (long v = 1; v <= abi && v < (long)FS_RIGHTS_KNOWN; v++)
		rights |= fs_rights_added[v];
	return rights;
}

/* Allows rights beneath the directory at path; false with errno set when
 * the rule cannot be added. */
static bool allow_beneath(int ruleset, const char *path, uint64_t rights)
{
	struct landlock_path_beneath_attr beneath = { .allowed_access = rights };
	bool ok;

	beneath.parent_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* A Maildir that cannot be opened gets no rule, so no file at all
	 * stays reachable: the snapshot that follows meets the same trouble
	 * and reports it. */
	if (beneath.parent_fd < 0)
		return true;
	ok = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0;
	if (close(beneath.parent_fd) != 0)
		ok = false;
	return ok;
}

/* Fills a ruleset that handles the file system rights handled (allowing nothing when maildir
 * is NULL), and enforces it; false with errno set. */
static bool enforce_ruleset(int ruleset, const char *maildir, uint64_t handled)
{
	bool ok = maildir == NULL || allow_beneath(ruleset, maildir, MAILDIR_RIGHTS & handled);

#ifdef CONFINE_FOR_LEAK_CHECK
	ok = ok && allow_beneath(ruleset, "/proc/self", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
#endif
	return ok && syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
}

/* Restricts file access to beneath maildir (to nothing when NULL), forbids TCP and signals to
 * processes outside this one; false with errno set on failure, true with CONFINE_NO_LANDLOCK
 * added to *missing when the kernel lacks Landlock (or the ABI version a Maildir needs). */
static bool restrict_files(const char *maildir, unsigned *missing)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	long abi_min = maildir != NULL ? LANDLOCK_ABI_MAILDIR : LANDLOCK_ABI_NO_FILES;
	struct ruleset_attr attr = { 0 };
	int ruleset, saved;
	bool ok;

	if ((abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) || (abi >= 0 && abi < abi_min)) {
		*missing |= CONFINE_NO_LANDLOCK;
		return true;
	}
	if (abi < 0)
		return false;
	attr.handled_access_fs = fs_rights_of_abi(abi);
	if (abi >= LANDLOCK_ABI_NET)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (abi >= LANDLOCK_ABI_SCOPE)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		return false;
	ok = enforce_ruleset(ruleset, maildir, attr.handled_access_fs);
	saved = errno;
	if (close(ruleset) != 0 && ok)
		return false;
	errno = saved;
	return ok;
}

/* Tells whether the kernel has seccomp filters that can kill the whole process (Linux 4.14 and
 * later). */
static bool seccomp_can_kill_process(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* Loads program, with this process's pid where it compares with it; false with errno set. */
static bool load_program(const struct seccomp_program *program)
{
	size_t size = program->length * sizeof *program->code;
	struct sock_fprog fprog = { program->length, malloc(size) };
	bool ok;
	int saved;

	if (fprog.filter == NULL)
		return false;
	memcpy(fprog.filter, program->code, size);
	for (size_t i = 0; i < program->own_pid_count; i++)
		fprog.filter[program->own_pid_at[i]].k = (uint32_t)getpid();
	ok = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
	saved = errno;
	free(fprog.filter);
	errno = saved;
	return ok;
}

bool confine_system_calls(const struct seccomp_program *program, unsigned *missing)
{
	if (!seccomp_can_kill_process()) {
		if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return false;
		*missing |= CONFINE_NO_SECCOMP;
		return true;
	}
	return load_program(program);
}

/* Sets no-new-privileges: Landlock requires it of an unprivileged process, and no exec'd
 * program could gain privileges anyway; false with errno set. */
static bool forbid_new_privileges(unsigned *missing)
{
	*missing = 0;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

bool confine_session(const char *maildir, unsigned *missing)
{
	return forbid_new_privileges(missing) && restrict_files(maildir, missing) &&
	       confine_system_calls(&seccomp_session_program, missing);
}

bool confine_prelogin(unsigned *missing)
{
	return forbid_new_privileges(missing) && restrict_files(NULL, missing) &&
	       confine_system_calls(&seccomp_prelogin_program, missing);
}
