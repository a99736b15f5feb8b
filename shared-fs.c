/*
 * shared-fs.c - telling a file system that several hosts share from a
 * local one, and reading a small file past this host's caches of it.
 */
#include "shared-fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"

/* The f_type of the shared file systems a Maildir is put on (linux/magic.h and the file
 * systems' own sources; not all are in Debian 12's headers). */
static const struct {
	unsigned long magic;
	const char *name;
} shared_types[] = {
	{ 0x6969, "nfs" },
	{ 0x65735546, "fuse" },		/* GlusterFS, and every other FUSE file system */
	{ 0x00c36400, "ceph" },
	{ 0xFF534D42, "cifs" },
	{ 0xFE534D42, "smb2" },
	{ 0x517B, "smb" },
	{ 0x5346414F, "afs" },
	{ 0x7461636f, "ocfs2" },
	{ 0x01161970, "gfs2" },
	{ 0x0BD00BD0, "lustre" },
	{ 0x47504653, "gpfs" },
};

const char *fs_shared_name(int fd)
{
	struct statfs sf;

	/* A file system that cannot be asked is taken as shared: the
	 * careful reads cost little and are right on a local one too. */
	if (fstatfs(fd, &sf) != 0)
		return "unknown";
	for (size_t i = 0; i < sizeof shared_types / sizeof *shared_types; i++)
		if ((unsigned long)sf.f_type == shared_types[i].magic)
			return shared_types[i].name;
	return NULL;
}

bool fs_is_shared(int fd)
{
	return fs_shared_name(fd) != NULL;
}

ssize_t fresh_read(int dirfd, const char *name, int fd, off_t size, char *buf, size_t len)
{
	/* O_DIRECT wants the buffer aligned to the block size. */
	static char block[FRESH_READ_MAX] __attribute__((aligned(FRESH_READ_MAX)));
	ssize_t n;
	int direct;

	if (len > sizeof block)
		len = sizeof block;
	/* A truncation to the size it has changes nothing, but it is a write
	 * that GlusterFS's client-side caches (quick-read, io-cache) drop the
	 * file's data for, where O_DIRECT alone may still be answered from
	 * what a recent lookup fetched. */
	if (ftruncate(fd, size) != 0)
		return -1;
	direct = openat(dirfd, name, O_RDONLY | O_DIRECT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (direct < 0 && errno == EINVAL) {
		log_msg(LOG_WARNING, "the file system of the Maildir (%s) refuses O_DIRECT: %s is read through "
			"this host's page cache, and a stale read waits for it to expire (see the README)",
			fs_shared_name(dirfd), name);
		return pread(fd, buf, len, 0);
	}
	if (direct < 0)
		return -1;
	n = pread(direct, block, sizeof block, 0);
	if (n >= 0)
		memcpy(buf, block, (size_t)n < len ? (size_t)n : len);
	close(direct);
	return n < 0 ? -1 : (ssize_t)((size_t)n < len ? (size_t)n : len);
}
