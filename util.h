/*
 * util.h - small helpers shared by the modules: growing arrays, bounded
 * string copies, decimal digits, a hash, whole writes, a trim of the
 * stack, and loading a library at run time.
 */
#ifndef POP3_UTIL_H
#define POP3_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes room in a malloc'd array for needed elements of size octets, doubling its capacity;
 * false when memory or size_t runs out. */
bool array_grow(void **array, size_t *capacity, size_t needed, size_t size);

/* Appends len octets of s to a pool of octets addressed by 32-bit offsets (*pool, *used octets
 * of *capacity, grown as needed); their offset, or -1 when memory or offsets ran out. */
int64_t pool_append(char **pool, size_t *used, size_t *capacity, const char *s, size_t len);

/* Copies the string src into dst of size octets if it fits, NUL included; otherwise leaves
 * dst empty and returns false. */
bool str_copy(char *dst, size_t size, const char *src);

/* Seconds in a day: retention and shadow expiry count days. */
#define SECONDS_PER_DAY 86400

#define FNV1A64_INIT 14695981039346656037ULL

/* Writes n in decimal (at most 20 digits) just before end and returns where it starts. */
char *decimal_before(char *end, uint64_t n);

/* Folds len octets into a 64-bit FNV-1a hash (start from FNV1A64_INIT). */
uint64_t fnv1a64(uint64_t hash, const void *data, size_t len);

/* Reads from fd into buf until size octets or the end of the file, resuming after signals and
 * short reads; *len is what was read; false with errno on a read error. */
bool read_all(int fd, void *buf, size_t size, size_t *len);

/* Writes all of buf to fd, resuming after signals and short writes; false with errno on
 * failure. */
bool write_all(int fd, const void *buf, size_t len);

/* Gives the kernel back the pages of the stack below the caller's frame, down to STACK_TRIM_PAGES
 * pages or the end of the stack's mapping: they are dead, and a deeper call later gets them
 * again, zeroed.  False with errno when mincore() or madvise() fails. */
bool stack_trim(void);

/* A function or variable of a library loaded at run time, and where its address goes in the
 * caller's table of pointers. */
struct library_symbol {
	const char *name;
	size_t offset;
};

/* Loads the library soname and stores the address of each of the count symbols at table (of
 * table_size octets) plus its offset; false with the reason in err, the table zeroed and
 * the library let go, when the library or a symbol is missing. */
bool library_load(const char *soname, const struct library_symbol *symbols, size_t count, void *table,
		  size_t table_size, char *err, size_t errlen);

/* library_load() once: *loaded (a field of the table) says it was; false, logged at priority
 * with who wants the library ("NTLM"), when it cannot be loaded. */
bool library_load_once(bool *loaded, const char *soname, const struct library_symbol *symbols, size_t count,
		       void *table, size_t table_size, int priority, const char *who);

#endif
