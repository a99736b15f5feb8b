/*
 * shared-fs.h - reading what another host wrote to a file system that
 * several hosts mount (NFS, GlusterFS and other FUSE file systems, CephFS,
 * SMB): telling such a file system from a local one, and reading a small
 * file past this host's caches of it.
 *
 * On a local file system every read sees every write made before it.  A
 * shared one's clients cache names, attributes and contents for a while
 * (GlusterFS: one second each, by default), so a file read by name may be
 * one another host has since replaced, and even a read through a
 * descriptor taken under a lock may give data older than the lock.
 */
#ifndef POP3_SHARED_FS_H
#define POP3_SHARED_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Tells whether the file system of the open file fd is one that other hosts may mount too. */
bool fs_is_shared(int fd);

/* The type of that file system, for the log ("nfs", "fuse", ...), or NULL for a local one. */
const char *fs_shared_name(int fd);

/* Reads up to len octets (at most FRESH_READ_MAX) from the start of the file name in dirfd,
 * which the caller holds open for writing as fd and whose size is always size octets, past
 * this host's caches: truncating it to its own size makes a FUSE client (GlusterFS) drop what
 * it cached of it, and the read itself is made with O_DIRECT, which skips the page cache.
 * Where O_DIRECT is refused it reads through fd.  The octets read, or -1 with errno. */
ssize_t fresh_read(int dirfd, const char *name, int fd, off_t size, char *buf, size_t len);

/* The most fresh_read reads: O_DIRECT reads a whole aligned block. */
#define FRESH_READ_MAX 4096

#endif
