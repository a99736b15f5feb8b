/*
 * test-util.c - tests of util.c's stack_trim: the pages of the stack below the caller's frame go
 * back to the kernel (mincore() says which are resident), the caller's own frame keeps its
 * contents, a deeper call afterwards gets zeroed pages that work as before, and a mapping
 * below the stack is left alone.
 */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

/* How deep the stack is dirtied below the test's frame, and the part of it that is counted: it
 * leaves room for the frames of the calls in between. */
#define DEPTH (96 * 1024)
#define COUNTED_FROM (16 * 1024)
#define COUNTED_TO (80 * 1024)

/* Dirties DEPTH octets of stack below the caller; returns a sum so that the writes stay. */
static __attribute__((noinline)) unsigned dirty_stack(void)
{
	volatile unsigned char deep[DEPTH];
	unsigned sum = 0;

	for (size_t i = 0; i < sizeof deep; i += 512)
		deep[i] = (unsigned char)i;
	for (size_t i = 0; i < sizeof deep; i += 4096)
		sum += deep[i];
	return sum;
}

/* How many pages of [from, to) below here are resident; -1 when mincore() fails. */
static __attribute__((noinline)) int resident_below(uintptr_t here)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (here - COUNTED_TO) & ~(page - 1), end = (here - COUNTED_FROM) & ~(page - 1);
	unsigned char vec[COUNTED_TO / 4096 + 1];
	int n = 0;

	if (mincore((void *)start, end - start, vec) != 0) {
		unit_diag("mincore: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < (end - start) / page; i++)
		n += vec[i] & 1;
	return n;
}

static void test_stack_trim(void)
{
	char mine[64];
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	int before, after, again;

	memset(mine, 'k', sizeof mine);
	dirty_stack();
	before = resident_below(here);
	unit_ok(before >= (COUNTED_TO - COUNTED_FROM) / 4096 - 1, "the dirtied stack is resident (%d pages)", before);
	unit_ok(stack_trim(), "stack_trim with a span beyond the stack's mapping");
	after = resident_below(here);
	unit_ok(after == 0, "no page below the frame is resident after the trim (%d)", after);
	unit_ok(mine[0] == 'k' && mine[sizeof mine - 1] == 'k', "the caller's frame keeps its contents");
	unit_ok(dirty_stack() == dirty_stack(), "a deeper call afterwards works on fresh pages");
	again = resident_below(here);
	unit_ok(again >= before - 1, "and they are resident again (%d pages)", again);
}

/* Where the stack's mapping starts, from /proc/self/maps; 0 when it is not found. */
static uintptr_t stack_bottom(void)
{
	char line[512];
	uintptr_t lo = 0, hi;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "[stack]") != NULL && sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2)
			break;
	if (f != NULL)
		fclose(f);
	return lo;
}

/* A mapping just below the stack, past the gap the kernel keeps (here made one page wide, as
 * MAP_FIXED may): the trim stops at the end of the stack's own mapping. */
static void test_stack_trim_stops_at_the_stack(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), bottom;
	unsigned char *below;

	dirty_stack();
	bottom = stack_bottom();
	if (bottom == 0)
		unit_bail("no [stack] line in /proc/self/maps");
	below = mmap((void *)(bottom - 2 * page), page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (below == MAP_FAILED)
		unit_bail("mmap below the stack: %s", strerror(errno));
	memset(below, 'm', page);
	unit_ok(stack_trim(), "stack_trim with a mapping one page past the stack's end");
	unit_ok(below[0] == 'm' && below[page - 1] == 'm', "the mapping below the stack keeps its contents");
	munmap(below, page);
}

int main(void)
{
	test_stack_trim();
	test_stack_trim_stops_at_the_stack();
	return unit_done();
}
