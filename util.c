/*
 * util.c - small helpers shared by the modules.
 */
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

bool array_grow(void **array, size_t *capacity, size_t needed, size_t size)
{
	size_t n = *capacity ? *capacity : 64;
	void *p;

	if (needed <= *capacity)
		return true;
	while (n < needed) {
		if (n > SIZE_MAX / 2 / size)
			return false;
		n *= 2;
	}
	p = realloc(*array, n * size);
	if (p == NULL)
		return false;
	*array = p;
	*capacity = n;
	return true;
}

uint64_t fnv1a64(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 1099511628211ULL;
	}
	return hash;
}

bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* write() made no progress */
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}
