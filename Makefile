# pop3-handler - GNU make.  CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, PREFIX,
# DESTDIR and LINK_SHARED may be given on the command line; the flags the
# build needs are added to them, never replaced by them.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pop3-handler
CONTRIB = contrib/pop3-handler.conf contrib/inetd.conf contrib/xinetd.d/pop3 \
	contrib/systemd/pop3.socket contrib/systemd/pop3@.service \
	contrib/systemd/stunnel-pop3s.service contrib/stunnel/pop3s.conf \
	contrib/stunnel/pop3-starttls.conf contrib/pam.d/pop3-handler contrib/haproxy.cfg \
	contrib/fail2ban/filter.d/pop3-handler.conf contrib/fail2ban/jail.d/pop3-handler.conf
CFLAGS ?= -O2 -g

WARNINGS = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wcast-qual -Wsign-compare -Wformat=2
override ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS)
override ALL_CPPFLAGS = -D_GNU_SOURCE -I. $(CPPFLAGS)
# nettle and MIT Kerberos are not linked: ntlm.c and gssapi.c load them
# when a session needs them (most never do).  The unit tests compute their
# reference values with nettle and play Kerberos clients.
# libcrypt, which every session uses, is linked into the binary: each
# session is a new process, and loading one more shared library at every
# exec costs CPU and memory per session (make bench-load).  LINK_SHARED=yes
# links it as a shared library, for distributions whose security updates
# must reach it without a rebuild (debian/rules does).
ifeq ($(LINK_SHARED),yes)
SESSION_LIBS = -lcrypt
else
SESSION_LIBS = -Wl,-Bstatic -lcrypt -Wl,-Bdynamic
endif
override ALL_LDLIBS = $(LDLIBS) $(SESSION_LIBS) -pthread
# test-confine answers a call with ENOSYS through a libseccomp filter of its own.
UNIT_LDLIBS = -lnettle -lgssapi_krb5 -lkrb5 -lseccomp

# Every module but main(): the unit tests and the fuzz targets link these.
LIB_OBJS = parse.o base64.o encode.o textfile.o io.o log.o util.o netbios.o \
	maildir.o maildir-snapshot.o maildir-size.o maildir-update.o uidlist.o uidlist-file.o shared-fs.o uidl-formats.o uidl-import.o config.o config-test.o \
	account.o userdb.o passwd-file.o system-accounts.o pam-accounts.o password.o hash-setting.o hashtool.o become.o \
	login.o auth.o channel.o privsep.o privsep-child.o privsep-parent.o ntlm.o gssapi.o gssapi-helper.o confine.o \
	seccomp-programs.o \
	session.o mailbox.o attempt.o sasl.o authorization.o transaction.o serve.o
OBJS = pop3-handler.o $(LIB_OBJS)
# One program per module: tests/unit/test-<module>.c.
UNIT_TESTS = tests/unit/test-parse tests/unit/test-base64 tests/unit/test-encode tests/unit/test-textfile \
	tests/unit/test-uidl-formats tests/unit/test-util \
	tests/unit/test-io tests/unit/test-uidlist tests/unit/test-maildir tests/unit/test-confine tests/unit/test-privsep \
	tests/unit/test-ntlm tests/unit/test-config tests/unit/test-userdb tests/unit/test-auth tests/unit/test-gssapi-helper
# Unit tests that need a Kerberos KDC: built with the others, run by the
# bats file that starts one (tests/login-gssapi.bats).
KDC_UNIT_TESTS = tests/unit/test-gssapi

.PHONY: all check check-scaleout unit-tests demo deps clean install uninstall fuzz fuzz-smoke \
	check-sanitize check-valgrind lint bench bench-load

all: pop3-handler

pop3-handler: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(ALL_LDLIBS)

%.o: %.c $(wildcard *.h)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The seccomp filters are finished BPF programs (seccomp-programs.c), which
# seccomp-gen makes here with libseccomp from the allow-lists in
# seccomp-lists.c: building them in every session cost some 0.25 ms of CPU
# per filter, and the binary needs no libseccomp.  seccomp-gen runs on the
# build machine, so the programs are for its architecture: the binary must
# be built where it runs, or on a machine of the same architecture.
SECCOMP_GEN_SRCS = seccomp-gen.c seccomp-lists.c
seccomp-gen: $(SECCOMP_GEN_SRCS) seccomp-lists.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(SECCOMP_GEN_SRCS) -lseccomp

seccomp-programs.c: seccomp-gen
	./seccomp-gen >$@.tmp && mv $@.tmp $@

tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(ALL_LDLIBS) $(UNIT_LDLIBS)

unit-tests: $(UNIT_TESTS) $(KDC_UNIT_TESTS)

# Installs what the build and the tests need (Debian), then builds and
# runs every test, a short fuzzing smoke included; the last line is
# "N passed, N failed".
check:
	./tests/install-deps
	$(MAKE) pop3-handler unit-tests fuzz-build
	./tests/run $(UNIT_TESTS) $(FUZZ_SMOKE) -- tests/*.bats

# Issue 19's scale-out rig, as root: two front ends behind HAProxy sharing
# one Maildir, first on a local directory, then on a GlusterFS volume (a few
# minutes each at most); tests/scaleout/rig installs what it lacks.
check-scaleout: pop3-handler
	./tests/scaleout/rig local && ./tests/scaleout/rig gluster

# The whole suite again with AddressSanitizer and UBSan (clang), built in
# its own directory so the normal objects are left alone.  ASan's allocator
# reads the monotonic clock on first use only to time giving memory back to
# the kernel; under libfaketime (the retention tests) that call re-enters
# libfaketime's start-up, which allocates, and the process deadlocks before
# main: the option turns that timing off.
SANITIZE_DIR = build-sanitize
SANITIZE_OPTIONS = ASAN_OPTIONS=allocator_release_to_os_interval_ms=-1
check-sanitize:
	./tests/install-deps
	rm -rf $(SANITIZE_DIR) && mkdir -p $(SANITIZE_DIR)/tests/unit
	cp *.c *.h Makefile $(SANITIZE_DIR)/ && cp tests/unit/*.[ch] $(SANITIZE_DIR)/tests/unit/
	$(MAKE) -C $(SANITIZE_DIR) CC=clang CFLAGS='-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' pop3-handler unit-tests
	$(SANITIZE_OPTIONS) POP3_HANDLER=$(CURDIR)/$(SANITIZE_DIR)/pop3-handler ./tests/run $(addprefix $(SANITIZE_DIR)/,$(UNIT_TESTS)) -- tests/*.bats

# The unit tests and the session tests with every handler run under valgrind
# (the session basics, the TRANSACTION commands, USER/PASS logins, the user
# database and the Maildir snapshot).
# valgrind (3.19) implements neither seccomp nor Landlock: the sessions get
# confine = no (tests/lib/helpers.bash), and test-confine, whose checks would
# all be skipped, is left out.
VALGRIND = valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions=$(CURDIR)/tests/valgrind-krb5.supp
check-valgrind: pop3-handler unit-tests
	./tests/install-deps
	POP3_HANDLER_WRAPPER='$(VALGRIND)' UNIT_WRAPPER='$(VALGRIND)' \
		./tests/run $(filter-out tests/unit/test-confine,$(UNIT_TESTS)) -- \
		tests/greeting-and-commands.bats tests/transaction.bats tests/login-password.bats tests/accounts.bats \
		tests/mailbox-snapshot.bats

# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy).
lint: seccomp-programs.c
	./tests/install-deps
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance --std=c11 \
		--inline-suppr -D_GNU_SOURCE -I. $(OBJS:.o=.c) $(SECCOMP_GEN_SRCS)
	clang-tidy --quiet $(OBJS:.o=.c) $(SECCOMP_GEN_SRCS) -- -D_GNU_SOURCE -I. -std=gnu11

# libFuzzer targets (clang): parse.c, a whole session, the UID list file, and
# the files of the servers whose UIDLs are taken over.
# make fuzz runs each for FUZZ_SECONDS; make check runs a few seconds each.
FUZZ_DIR = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TARGETS = $(addprefix $(FUZZ_DIR)/fuzz-,$(FUZZ_NAMES))
FUZZ_SMOKE = tests/fuzz/smoke
fuzz-build: $(FUZZ_TARGETS)
.SECONDARY: $(addprefix $(FUZZ_DIR)/,$(LIB_OBJS))

$(FUZZ_DIR)/%.o: %.c $(wildcard *.h)
	@mkdir -p $(FUZZ_DIR)
	clang $(ALL_CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c $(addprefix $(FUZZ_DIR)/,$(LIB_OBJS))
	clang $(ALL_CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror -O1 -g -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(addprefix $(FUZZ_DIR)/,$(LIB_OBJS)) $(ALL_LDLIBS)

fuzz: fuzz-build
	./tests/install-deps
	mkdir -p $(FUZZ_DIR) && chmod a+rwx $(FUZZ_DIR)
	FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS) FUZZ_CORPUS_DIR=$(FUZZ_DIR) $(FUZZ_SMOKE)

deps:
	./tests/install-deps

demo:
	./tests/install-deps
	$(MAKE) pop3-handler
	./contrib/demo

# The binary, both man pages, and the example configuration with the
# launcher files in the documentation directory (never over /etc); and
# /var/empty, the default privsep_dir, when missing (root's when installed
# as root; uninstall leaves it, as other programs may use it).
# pop3-handler beside Dovecot's pop3 and `cat` (as root: installs dovecot-pop3d,
# its service kept off, and a user pop3bench); prints a table with the targets,
# PASS or FAIL, and exits 0 either way.
bench: pop3-handler
	./bench/run

# Many clients at once (issue 21): pop3-handler under xinetd and under
# systemd-socket-activate beside a whole Dovecot, 200 users x 1,000 messages
# (as root; installs dovecot-pop3d and xinetd, their services kept off);
# prints the figures with the targets, PASS or FAIL (a few minutes).
bench-load: pop3-handler
	./bench/load-run

install: pop3-handler
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)
	install -m 755 pop3-handler $(DESTDIR)$(BINDIR)/pop3-handler
	install -m 644 man/pop3-handler.8 $(DESTDIR)$(MANDIR)/man8/pop3-handler.8
	install -m 644 man/pop3-handler.conf.5 $(DESTDIR)$(MANDIR)/man5/pop3-handler.conf.5
	install -m 644 README $(DESTDIR)$(DOCDIR)/README
	for f in $(CONTRIB:contrib/%=%); do install -D -m 644 contrib/$$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done
	test -d $(DESTDIR)/var/empty || install -d -m 755 $(DESTDIR)/var/empty

# A Debian package (debian/): dpkg-buildpackage -b on a copy of the files
# git knows in DEB_DIR/src, so that the results land in DEB_DIR
# ($(DEB_DIR)/pop3-handler_*.deb), not beside the source tree.
DEB_DIR = build-deb
.PHONY: deb check-deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b

# As root (CI): installs what it needs, builds the package, runs lintian,
# installs the package on this machine, serves a session through it and
# purges it (tests/check-deb).  Never part of make check.
check-deb:
	./tests/check-deb

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pop3-handler $(DESTDIR)$(MANDIR)/man8/pop3-handler.8 \
		$(DESTDIR)$(MANDIR)/man5/pop3-handler.conf.5
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,README $(CONTRIB:contrib/%=%))
	-rmdir $(DESTDIR)$(DOCDIR)/xinetd.d $(DESTDIR)$(DOCDIR)/systemd $(DESTDIR)$(DOCDIR)/stunnel \
		$(DESTDIR)$(DOCDIR)/pam.d $(DESTDIR)$(DOCDIR)/fail2ban/filter.d \
		$(DESTDIR)$(DOCDIR)/fail2ban/jail.d $(DESTDIR)$(DOCDIR)/fail2ban $(DESTDIR)$(DOCDIR)

clean:
	rm -f pop3-handler $(OBJS) $(UNIT_TESTS) $(KDC_UNIT_TESTS) seccomp-gen seccomp-programs.c seccomp-programs.c.tmp
	rm -rf demo $(FUZZ_DIR) $(SANITIZE_DIR)
	rm -rf $(DEB_DIR) debian/.debhelper debian/pop3-handler debian/tmp debian/files debian/*.substvars \
		debian/debhelper-build-stamp debian/*.debhelper.log
