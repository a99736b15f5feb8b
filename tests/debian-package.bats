#!/usr/bin/env bats
# The Debian packaging (debian/) without building or installing anything
# (make check-deb does that, in CI): its version against the code's, its
# Recommends against the libraries the code loads with dlopen(), and the
# maintainer scripts run on a scratch root ($DPKG_ROOT), where /var/empty
# may be missing or not as the machine's cannot.

load lib/helpers

SRC="$BATS_TEST_DIRNAME/.."

setup() {
	T=$(mktemp -d /tmp/pop3-deb-test.XXXXXX)
	ROOT=$T/root
	mkdir "$ROOT"
}

teardown() {
	rm -rf "$T"
}

# maint SCRIPT ARGS...: debian/pop3-handler.SCRIPT on $ROOT, as dpkg
# --root runs it (debhelper's part, #DEBHELPER#, is a comment here).
maint() {
	local script=$1
	shift
	DPKG_ROOT=$ROOT sh -e "$SRC/debian/pop3-handler.$script" "$@"
}

needs_root() {
	[ "$(id -u)" -eq 0 ] || skip "the maintainer scripts make directories owned by root"
}

@test "debian/changelog's version is the code's POP3_HANDLER_VERSION and what pop3-handler -V prints" {
	local code deb upstream
	code=$(sed -n 's/^#define POP3_HANDLER_VERSION "\(.*\)"$/\1/p' "$SRC/pop3-handler.h")
	[ -n "$code" ]
	deb=$(sed -n '1s/^pop3-handler (\([^)]*\)) .*/\1/p' "$SRC/debian/changelog")
	[ -n "$deb" ] || { echo "debian/changelog's first line names no pop3-handler version"; return 1; }
	# no epoch, the Debian revision after the last '-'
	upstream=${deb#*:}
	upstream=${upstream%-*}
	if [ "$upstream" != "$code" ]; then
		echo "debian/changelog has $deb, the code POP3_HANDLER_VERSION $code: add a changelog entry"
		return 1
	fi
	[ "$("$HANDLER" -V)" = "pop3-handler $code" ]
}

@test "debian/control recommends exactly the packages of the libraries the code loads with dlopen()" {
	command -v dpkg-query >/dev/null 2>&1 || skip "dpkg-query is not installed"
	local sonames soname pkg want=() recommends
	sonames=$(grep -ho '^#define [A-Z_]*_LIBRARY "lib[^"]*\.so\.[0-9]*"' "$SRC"/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u)
	[ "$(wc -l <<<"$sonames")" -ge 3 ]
	for soname in $sonames; do
		pkg=$(dpkg-query -S "*/$soname" 2>/dev/null | sed -n '1s/[:,].*//p')
		[ -n "$pkg" ] || skip "$soname is not installed here"
		want+=("$pkg")
	done
	recommends=$(sed -n 's/^Recommends: *//p' "$SRC/debian/control" | tr -d ' ' | tr ',' '\n' | sort)
	if [ "$(printf '%s\n' "${want[@]}" | sort -u)" != "$recommends" ]; then
		echo "the code loads $(echo $sonames), of the packages: ${want[*]}"
		echo "debian/control recommends: $(echo $recommends)"
		return 1
	fi
}

@test "postinst on a root without /var/empty makes it (root, 755) and /etc/pop3-handler (700); purge removes them and its note" {
	needs_root
	maint postinst configure ""
	[ "$(stat -c '%U:%G %a' "$ROOT/var/empty")" = "root:root 755" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/etc/pop3-handler")" = "root:root 700" ]
	[ -z "$(ls -A "$ROOT/var/empty")" ] && [ -z "$(ls -A "$ROOT/etc/pop3-handler")" ]
	[ -f "$ROOT/var/lib/pop3-handler/made-var-empty" ]
	# an upgrade configures again: nothing changes
	maint postinst configure 0.1.0-1
	[ -f "$ROOT/var/lib/pop3-handler/made-var-empty" ]
	# remove keeps them for the purge
	maint postrm remove
	[ -d "$ROOT/var/empty" ] && [ -d "$ROOT/etc/pop3-handler" ] && [ -f "$ROOT/var/lib/pop3-handler/made-var-empty" ]
	maint postrm purge
	[ ! -e "$ROOT/var/empty" ]
	[ ! -e "$ROOT/etc/pop3-handler" ]
	[ ! -e "$ROOT/var/lib/pop3-handler" ]
}

@test "an existing /var/empty and /etc/pop3-handler are left as they are, and stay after purge with the administrator's passwd file" {
	needs_root
	install -d -m 711 "$ROOT/var/empty" "$ROOT/etc/pop3-handler"
	echo 'alice:*:1001:1001::/home/alice:/usr/sbin/nologin' >"$ROOT/etc/pop3-handler/passwd"
	maint postinst configure ""
	[ "$(stat -c %a "$ROOT/var/empty")" = 711 ]
	[ "$(stat -c %a "$ROOT/etc/pop3-handler")" = 711 ]
	[ ! -e "$ROOT/var/lib/pop3-handler/made-var-empty" ]
	run maint postrm purge
	[ "$status" -eq 0 ]
	[ "$output" = "pop3-handler: /etc/pop3-handler is not empty, left in place" ]
	[ "$(stat -c %a "$ROOT/var/empty")" = 711 ]
	[ -f "$ROOT/etc/pop3-handler/passwd" ]
	[ ! -e "$ROOT/var/lib/pop3-handler" ]
}

@test "purge leaves a /var/empty postinst made that is no longer empty, and removes the state pop3@.service kept" {
	needs_root
	maint postinst configure ""
	touch "$ROOT/var/empty/something"
	# what pop3@.service's ExecStartPre makes: Kerberos' replay cache
	install -d -m 700 "$ROOT/var/lib/pop3-handler/rcache"
	touch "$ROOT/var/lib/pop3-handler/rcache/krb5_0.rcache2"
	maint postrm purge
	[ -f "$ROOT/var/empty/something" ]
	[ ! -e "$ROOT/var/lib/pop3-handler" ]
	[ ! -e "$ROOT/etc/pop3-handler" ]
}

@test "the maintainer scripts refuse an unknown action" {
	run maint postinst frobnicate
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown argument 'frobnicate'"* ]]
	run maint postrm frobnicate
	[ "$status" -ne 0 ]
	[ ! -e "$ROOT/var" ]
}
