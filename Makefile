# pop3-handler - GNU make.  CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, PREFIX and
# DESTDIR may be given on the command line; the flags the build needs are
# added to them, never replaced by them.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
CFLAGS ?= -O2 -g

WARNINGS = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wcast-qual -Wsign-compare -Wformat=2
override ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS)
override ALL_CPPFLAGS = -D_GNU_SOURCE -I. $(CPPFLAGS)
override ALL_LDLIBS = $(LDLIBS) -lcrypt

LIB_OBJS = parse.o io.o maildir.o uidlist.o auth.o log.o util.o
OBJS = pop3-handler.o $(LIB_OBJS)
UNIT_TESTS = tests/unit/test-parse tests/unit/test-io tests/unit/test-uidlist

.PHONY: all check unit-tests demo deps clean install uninstall

all: pop3-handler

pop3-handler: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(ALL_LDLIBS)

%.o: %.c $(wildcard *.h)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(ALL_LDLIBS)

unit-tests: $(UNIT_TESTS)

# Installs what the build and the tests need (Debian), then builds and
# runs every test; the last line is "N passed, N failed".
check:
	./tests/install-deps
	$(MAKE) pop3-handler unit-tests
	./tests/run $(UNIT_TESTS) -- tests/*.bats

deps:
	./tests/install-deps

demo:
	./tests/install-deps
	$(MAKE) pop3-handler
	./contrib/demo

install: pop3-handler
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 pop3-handler $(DESTDIR)$(BINDIR)/pop3-handler

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pop3-handler

clean:
	rm -f pop3-handler $(OBJS) $(UNIT_TESTS)
	rm -rf demo
