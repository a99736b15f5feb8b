/*
 * test-util.c - tests of util.c's stack_trim: the pages of the stack below the caller's frame go
 * back to the kernel (mincore() says which are resident), the caller's own frame keeps its
 * contents, and a deeper call afterwards gets zeroed pages that work as before.
 */
#include "util.h"

#include <errno.h>
#include <stdint.h>
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
	unit_ok(stack_trim(512 * 1024), "stack_trim with a span beyond the stack's mapping");
	after = resident_below(here);
	unit_ok(after == 0, "no page below the frame is resident after the trim (%d)", after);
	unit_ok(mine[0] == 'k' && mine[sizeof mine - 1] == 'k', "the caller's frame keeps its contents");
	unit_ok(dirty_stack() == dirty_stack(), "a deeper call afterwards works on fresh pages");
	again = resident_below(here);
	unit_ok(again >= before - 1, "and they are resident again (%d pages)", again);
}

int main(void)
{
	test_stack_trim();
	return unit_done();
}
