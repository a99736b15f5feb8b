#!/usr/bin/env bats
# Logging in with SASL GSSAPI (RFC 4752) and Kerberos 5:
# tests/unit/test-gssapi drives whole exchanges between an MIT Kerberos
# client and gssapi.c against a throw-away realm (tests/lib/krb5.bash) whose
# KDC this file starts once for all its tests; then curl logs in to the
# handler started per connection by systemd-socket-activate (as inetd
# would), with the realm's tickets, and is refused without a fitting one.

load lib/helpers
load lib/krb5

# The test program beside the handler under test: make check-sanitize
# gives POP3_HANDLER in its own build directory.  UNIT_WRAPPER runs it
# under a tool such as valgrind, as tests/run does.
HANDLER="${POP3_HANDLER:-$BATS_TEST_DIRNAME/../pop3-handler}"
TEST_GSSAPI="$(dirname "$HANDLER")/tests/unit/test-gssapi"
# A leak of MIT Kerberos itself, which an AddressSanitizer build reports.
export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/lsan-krb5.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

setup_file() {
	krb5_realm_start "$BATS_FILE_TMPDIR/krb5"
	# One credential cache per client principal: alice's is KRB5CCNAME.
	export TEST_CCACHE_ALICE=$KRB5CCNAME
	export TEST_CCACHE_BOB=FILE:$KRB5_TEST_DIR/bob.ccache
	export TEST_CCACHE_ADMIN=FILE:$KRB5_TEST_DIR/admin.ccache
	KRB5CCNAME=$TEST_CCACHE_BOB krb5_kinit "$KRB5_TEST_USER2" "$KRB5_TEST_PASSWORD2"
	KRB5CCNAME=$TEST_CCACHE_ADMIN krb5_kinit "$KRB5_TEST_ADMIN" "$KRB5_TEST_PASSWORD"
}

teardown_file() {
	krb5_realm_stop
}

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	add_user alice secret
	add_user bob secret
	deliver alice 1700000001.M1P1.host 'Subject: one\n\nbody one\n'
	conf keytab "$KRB5_TEST_KEYTAB"
	SSA_PID=
}

teardown() {
	stop_listener
	cleanup_world
}

# curl_gssapi [CURL-OPTION]...: lists the mailbox at localhost (the
# service principal is pop/localhost) with AUTH GSSAPI and the tickets of
# KRB5CCNAME; the listing in $T/out, curl's trace in $T/trace, its exit
# status in $rc.
curl_gssapi() {
	rc=0
	curl -sS -v --max-time 10 --login-options AUTH=GSSAPI -u : "$@" "pop3://localhost:$PORT/" \
		>"$T/out" 2>"$T/trace" || rc=$?
}

# listen_krb5: listen, passing the test realm's settings to the handler
# (systemd-socket-activate passes on only the variables it is told to).
listen_krb5() {
	listen -E KRB5_CONFIG -E KRB5RCACHEDIR
}

# refute_server_logged TEXT: no handler logged a line holding TEXT.
refute_server_logged() {
	! grep -qF -- "$1" "$T/ssa.log" || { echo "the log holds: $1"; cat "$T/ssa.log"; return 1; }
}

@test "GSSAPI exchanges against a test KDC (tests/unit/test-gssapi)" {
	# shellcheck disable=SC2086
	run ${UNIT_WRAPPER:-} "$TEST_GSSAPI"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output"
		echo "# the server's log:"
		cat "$KRB5_TEST_DIR/test-gssapi.log"
		return 1
	fi
}

@test "CAPA and AUTH offer GSSAPI only while the keytab has a usable pop/ key" {
	session -- CAPA AUTH QUIT
	[ "$status" -eq 0 ]
	expect_line 10 "SASL GSSAPI PLAIN"
	expect_lines 12 "+OK Supported mechanisms follow" GSSAPI PLAIN "." "+OK Bye"
	# a keytab with imap/localhost only, and none at all
	session -o "keytab=$KRB5_TEST_OTHER_KEYTAB" -- CAPA "AUTH GSSAPI" QUIT
	expect_line 10 "SASL PLAIN"
	expect_line 12 "-ERR Unsupported authentication mechanism"
	expect_logged "GSSAPI: getting the service key for pop from $KRB5_TEST_OTHER_KEYTAB failed"
	session -o "keytab=$T/no.keytab" -- CAPA QUIT
	expect_line 10 "SASL PLAIN"
	[ ! -s "$T/log" ]
}

@test "curl logs in with AUTH GSSAPI and alice's ticket, as alice" {
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 0 ] || { cat "$T/trace" "$T/ssa.log"; false; }
	printf '1 26\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	tr -d '\r' <"$T/trace" | grep -qx '> AUTH GSSAPI'
	expect_server_logged "info: login user=alice mechanism=GSSAPI client=127.0.0.1 messages=1 octets=26"
}

@test "GSSAPI needs no plaintext permission, and curl may name alice as authorization identity" {
	conf plaintext_auth no
	listen_krb5
	curl_gssapi --sasl-authzid alice
	[ "$rc" -eq 0 ]
	expect_server_logged "info: login user=alice mechanism=GSSAPI client=127.0.0.1 messages=1 octets=26"
	curl_gssapi --sasl-authzid bob
	[ "$rc" -eq 67 ]	# CURLE_LOGIN_DENIED
	expect_server_logged "notice: failed login: GSSAPI exchange failed, client=127.0.0.1"
}

@test "a principal that maps to no user, one with an instance, and one of another realm are refused" {
	listen_krb5
	# bob@POP3TEST.LOCAL is a principal, but not in the user database
	sed -i '/^bob:/d' "$T/passwd"
	KRB5CCNAME=$TEST_CCACHE_BOB curl_gssapi
	[ "$rc" -eq 67 ]
	[ ! -s "$T/out" ]
	expect_server_logged "notice: failed login: unknown user, mechanism=GSSAPI client=127.0.0.1"
	KRB5CCNAME=$TEST_CCACHE_ADMIN curl_gssapi
	[ "$rc" -eq 67 ]
	grep -q "alice/admin@$KRB5_TEST_REALM" "$T/ssa.log"
	refute_server_logged "info: login user="
	# alice, while the configured realm is another
	stop_listener
	conf krb5_realm OTHER.REALM
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 67 ]
	grep -q "alice@$KRB5_TEST_REALM.*OTHER.REALM" "$T/ssa.log"
	refute_server_logged "info: login user="
}

@test "an account without a password (hash *) logs in with its ticket; a locked one (hash !...) does not" {
	sed -i 's/^alice:[^:]*:/alice:*:/' "$T/passwd"
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 0 ]
	expect_server_logged "info: login user=alice mechanism=GSSAPI client=127.0.0.1 messages=1 octets=26"
	sed -i 's/^alice:[^:]*:/alice:!locked:/' "$T/passwd"
	curl_gssapi
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: user alice: the account is locked"
	expect_server_logged "notice: failed login user=alice mechanism=GSSAPI client=127.0.0.1"
}

@test "without a ticket curl cannot log in; a ticket the server's clock sees as stale is refused" {
	listen_krb5
	KRB5CCNAME=FILE:$T/no-ccache curl_gssapi
	[ "$rc" -ne 0 ]
	refute_server_logged "info: login user="
	stop_listener
	# The handler's clock 3 hours on: alice's ticket (1 hour) has expired.
	HANDLER_REAL=$HANDLER
	HANDLER=$T/late-handler
	printf '#!/bin/sh\nexec faketime -f +3h %s "$@"\n' "$HANDLER_REAL" >"$HANDLER"
	chmod 755 "$HANDLER"
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: failed login: GSSAPI exchange failed, client=127.0.0.1"
	grep -q "GSSAPI: .*failed: .*\(expired\|skew\)" "$T/ssa.log"
}

@test "a garbage GSSAPI token fails as a login (counted), a cancelled exchange does not" {
	session -- "AUTH GSSAPI" "$(printf 'not a kerberos token' | base64)" \
		"AUTH GSSAPI" "*" \
		"AUTH GSSAPI $(printf 'junk' | base64)" \
		"AUTH GSSAPI" "not base64!" QUIT
	[ "$status" -eq 0 ]
	expect_lines 1 "+ " "-ERR [AUTH] Authentication failed" \
		"+ " "-ERR Authentication cancelled" \
		"-ERR [AUTH] Authentication failed" \
		"+ " "-ERR Invalid base64 in the SASL response" "+OK Bye"
	[ "$(grep -c 'failed login: GSSAPI exchange failed, client=local' "$T/log")" -eq 2 ]
	session -o max_auth_failures=2 -- "AUTH GSSAPI" "AAAA" "USER alice" "PASS wrong" "NOOP"
	expect_lines 1 "+ " "-ERR [AUTH] Authentication failed" "+OK Send your password" \
		"-ERR [AUTH] Authentication failed; too many failures, closing connection"
}

@test "a GSSAPI response of 64,000 octets of base64 (Windows' MaxTokenSize) is taken; a longer line is refused whole" {
	local token
	token=$(head -c 48000 /dev/zero | tr '\0' 'x' | base64 -w 0)
	[ ${#token} -eq 64000 ]
	session -- "AUTH GSSAPI" "$token" "AUTH GSSAPI" "${token}AAAA" "NOOP" QUIT
	expect_lines 1 "+ " "-ERR [AUTH] Authentication failed" "+ " "-ERR Command line too long" \
		"-ERR Command not valid in this state" "+OK Bye"
	# The whole token reached GSS (not cut short at a smaller limit).
	expect_logged "GSSAPI: accepting the context failed"
	refute_logged "exceeds"
}

@test "the other mechanisms keep their limits: NTLM 16 KiB lines, PLAIN a command line's length" {
	conf ntlm yes
	local ntlm plain
	# base64 of zeros (no NTLM message) in lines of 16,382 and 16,386
	# octets; PLAIN's in lines of 512 and 513 (the default
	# max_command_length), the first not base64 (510 characters).
	ntlm=$(head -c 16380 /dev/zero | tr '\0' 'A')
	plain=$(head -c 510 /dev/zero | tr '\0' 'A')
	session -- "AUTH NTLM" "$ntlm" "AUTH NTLM" "${ntlm}AAAA" "NOOP" \
		"AUTH PLAIN" "$plain" "AUTH PLAIN" "${plain}A" "NOOP" QUIT
	expect_lines 1 "+ " "-ERR Malformed NTLM message" "+ " "-ERR Command line too long" \
		"-ERR Command not valid in this state" \
		"+ " "-ERR Invalid base64 in the SASL response" "+ " "-ERR Command line too long" \
		"-ERR Command not valid in this state" "+OK Bye"
}

@test "pop3@.service's SystemCallFilter allows a GSSAPI login's system calls (keytab, replay cache)" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
	# a sanitizer build makes system calls of its own
	[ -z "${POP3_HANDLER:-}" ] || skip "POP3_HANDLER is another build"
	local real=$HANDLER
	HANDLER=$T/traced-handler
	printf '#!/bin/sh\nexec strace -f -qq -o %s %s "$@"\n' "$T/trace" "$real" >"$HANDLER"
	chmod 755 "$HANDLER"
	conf log syslog
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 0 ]
	# the trace shows the keytab read and the replay cache written
	grep -qF "\"$KRB5_TEST_KEYTAB\"" "$T/trace"
	grep -qF "\"$KRB5RCACHEDIR/" "$T/trace"
	systemd-analyze syscall-filter >"$T/groups" 2>/dev/null
	"$BATS_TEST_DIRNAME/unit-filter-allows" "$BATS_TEST_DIRNAME/../contrib/systemd/pop3@.service" "$T/groups" "$T/trace"
}

@test "the Kerberos token is parsed in a helper, as privsep_user and under seccomp, never as root" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	[ "$(id -u)" -eq 0 ] || skip "the helper changes its user only under a handler started as root"
	local real=$HANDLER nobody helper
	nobody=$(id -u nobody)
	HANDLER=$T/traced-handler
	printf '#!/bin/sh\nexec strace -f -qq -s 8 -o %s %s "$@"\n' "$T/trace" "$real" >"$HANDLER"
	chmod 755 "$HANDLER"
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 0 ] || { cat "$T/ssa.log"; false; }
	# The one process that takes the token from its channel ("GTOK",
	# little-endian) ...
	helper=$(grep -E 'recvfrom(\(| resumed>)[^"]*"KOTG' "$T/trace" | awk '{ print $1 }' | sort -u)
	[ -n "$helper" ] && [ "$(wc -w <<<"$helper")" -eq 1 ]
	grep "^$helper " "$T/trace" >"$T/helper"
	# ... became nobody, then installed its seccomp filter, before the token,
	awk -v uid="$nobody" '
		$0 ~ ("setuid\\(" uid "\\) += 0$") { user = NR }
		/seccomp\(SECCOMP_SET_MODE_FILTER, 0,.* = 0$/ && user { filter = NR }
		/recvfrom.*"KOTG/ { token = NR; exit }
		END { exit !(user && filter && token && user < filter && filter < token) }' "$T/helper" ||
		{ cat "$T/helper"; false; }
	# ... and is the only one that opened the replay cache.
	[ "$(grep -F "\"$KRB5RCACHEDIR/" "$T/trace" | awk '{ print $1 }' | sort -u)" = "$helper" ]
	expect_server_logged "info: login user=alice mechanism=GSSAPI client=127.0.0.1 messages=1 octets=26"
}

@test "curl's token replayed in another session is refused: the replay cache outlives a session" {
	listen_krb5
	curl_gssapi
	[ "$rc" -eq 0 ]
	local token
	token=$(tr -d '\r' <"$T/trace" | sed -n 's/^> \(YII[A-Za-z0-9+/=]*\)$/\1/p' | head -n 1)
	[ ${#token} -gt 100 ]
	session -- "AUTH GSSAPI" "$token" QUIT
	expect_lines 1 "+ " "-ERR [AUTH] Authentication failed" "+OK Bye"
	expect_logged "Request is a replay"
}
