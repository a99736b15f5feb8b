/*
 * util.c - small helpers shared by the modules.
 */
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "params.h"

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

bool str_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0)
		return false;
	if (len >= size) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

char *decimal_before(char *end, uint64_t n)
{
	do {
		*--end = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	return end;
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

int64_t pool_append(char **pool, size_t *used, size_t *capacity, const char *s, size_t len)
{
	size_t off = *used;

	if (off + len > UINT32_MAX || !array_grow((void **)pool, capacity, off + len, 1))
		return -1;
	memcpy(*pool + off, s, len);
	*used += len;
	return (int64_t)off;
}

bool read_all(int fd, void *buf, size_t size, size_t *len)
{
	char *p = buf;

	*len = 0;
	while (*len < size) {
		ssize_t n = read(fd, p + *len, size - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return true;
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

bool stack_trim(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	/* A page is left below this frame for the calls made from here. */
	uintptr_t end = ((uintptr_t)__builtin_frame_address(0) - page) & ~(page - 1);
	unsigned char resident[STACK_TRIM_PAGES];
	size_t mapped = 0, most = STACK_TRIM_PAGES;

	if (most > end / page)
		most = end / page;
	/* How far the stack's mapping reaches below end: mincore() fails
	 * with ENOMEM on a span that reaches past it into the gap the kernel
	 * keeps below every stack, so another mapping is never touched. */
	while (mapped < most) {
		size_t pages = (mapped + most + 1) / 2;

		if (mincore((void *)(end - pages * page), pages * page, resident) == 0)
			mapped = pages;
		else if (errno == ENOMEM)
			most = pages - 1;
		else
			return false;
	}
	return mapped == 0 || madvise((void *)(end - mapped * page), mapped * page, MADV_DONTNEED) == 0;
}

/* A function's address travels through dlsym()'s data pointer. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function and data pointers differ in size");

bool library_load(const char *soname, const struct library_symbol *symbols, size_t count, void *table,
		  size_t table_size, char *err, size_t errlen)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		void *symbol = dlsym(lib, symbols[i].name);

		if (symbol == NULL) {
			snprintf(err, errlen, "%s lacks %s", soname, symbols[i].name);
			memset(table, 0, table_size);
			dlclose(lib);
			return false;
		}
		/* POSIX's way from dlsym()'s pointer to a function pointer. */
		memcpy((char *)table + symbols[i].offset, &symbol, sizeof symbol);
	}
	return true;
}

bool library_load_once(bool *loaded, const char *soname, const struct library_symbol *symbols, size_t count,
		       void *table, size_t table_size, int priority, const char *who)
{
	char err[RESPONSE_MAX];

	if (*loaded)
		return true;
	if (!library_load(soname, symbols, count, table, table_size, err, sizeof err)) {
		log_msg(priority, "%s: %s", who, err);
		return false;
	}
	*loaded = true;
	return true;
}
