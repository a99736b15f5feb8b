#!/usr/bin/env bats
# passwd_file = pam: PAM checks the password and the account's state, NSS
# gives the account.  Each test runs in a private mount namespace
# (lib/namespace.bash) whose /etc it may change: it adds a host account
# with useradd and chpasswd and writes /etc/pam.d/pop3-handler, and the
# machine's own files are never touched.  pam_unix decides with Debian's
# common-auth and common-account (contrib/pam.d/pop3-handler); a module
# built here (tests/pam/pam_probe.c) shows the conversation and the items,
# which process runs PAM, and plays a module that hangs, crashes or finds
# its directory down.  Needs root.

load lib/helpers
load lib/krb5
load lib/namespace

# A leak of MIT Kerberos itself, which an AddressSanitizer build reports.
export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/lsan-krb5.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

setup_file() {
	if [ "$(id -u)" -eq 0 ]; then
		gcc -shared -fPIC -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/pam_probe.so" \
			"$BATS_TEST_DIRNAME/pam/pam_probe.c" -lpam
		krb5_realm_start "$BATS_FILE_TMPDIR/krb5"
	fi
}

teardown_file() {
	if [ "$(id -u)" -eq 0 ]; then
		krb5_realm_stop
	fi
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "PAM's tests need root (a private mount namespace, useradd)"
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	ns_start
	ns cp "$BATS_TEST_DIRNAME/../contrib/pam.d/pop3-handler" /etc/pam.d/pop3-handler
	conf passwd_file pam
	ns_add_user pamuser 'Pam-Pw 42'
	deliver_owned pamuser 1700000000.M1P1.host "$MSG"
}

teardown() {
	stop_listener
	ns_stop
	cleanup_world
}

PROBE="$BATS_FILE_TMPDIR/pam_probe.so"

# deliver_owned USER NAME TEXT: a message in USER's new/, owned by USER.
deliver_owned() {
	printf '%s' "$3" >"$T/home/$1/Maildir/new/$2"
	ns chown "$1:" "$T/home/$1/Maildir/new/$2"
}

@test "a host account logs in through PAM with USER/PASS and AUTH PLAIN, as the uid, gid and home NSS gives" {
	session -- "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	expect_log "info: login user=pamuser mechanism=USER client=local messages=1 octets=22"
	[ "$(ns stat -c %U "$T/home/pamuser/Maildir/pop3-handler-uidlist")" = pamuser ]
	session -- "AUTH PLAIN $(plain_b64 '' pamuser 'Pam-Pw 42')" "STAT" "QUIT"
	expect_line 1 "+OK Logged in, 1 message (22 octets)"
	expect_log "info: login user=pamuser mechanism=PLAIN client=local messages=1 octets=22"
}

@test "a wrong password and an unknown user: -ERR [AUTH], each logged as what it is" {
	session -o max_auth_failures=5 -- "USER pamuser" "PASS Pam-Pw 43" "USER nosuchuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_line 4 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=pamuser mechanism=USER client=local reason=authentication failure"
	expect_log "notice: failed login: unknown user, mechanism=USER client=local"
}

@test "locked (usermod -L), expired (chage -E 1), must change (chage -d 0): -ERR [AUTH] with the reason logged" {
	ns usermod -L pamuser
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=pamuser mechanism=USER client=local reason=account locked"
	ns usermod -U pamuser
	ns chage -E 1 pamuser
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=pamuser mechanism=USER client=local reason=account expired"
	ns chage -E -1 pamuser
	ns chage -d 0 pamuser
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=pamuser mechanism=USER client=local reason=password must be changed"
	# what pam_unix told the user is logged, never sent
	expect_logged "PAM says to pamuser: You are required to change your password"
	ns chage -d "$(date +%F)" pamuser
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
}

@test "access denied by pam_access: -ERR [AUTH], reason=access denied" {
	printf '%s\n' "-:pamuser:ALL" "+:ALL:ALL" >"$T/access.conf"
	ns_pam_service "@include common-auth" "account required pam_access.so accessfile=$T/access.conf" \
		"@include common-account"
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_log "notice: failed login user=pamuser mechanism=USER client=local reason=access denied"
}

@test "the conversation: the user name to echo-on, the password to echo-off, messages to the log, other prompts refused; the items" {
	ns_pam_service "auth required $PROBE record=$T/probe" "account required pam_permit.so"
	REMOTE_ADDR=192.0.2.7 session -o plaintext_auth=yes -- "USER pamuser" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	run cat "$T/probe"
	[[ "$output" == *"echo_on=pamuser"* ]]
	[[ "$output" == *"echo_off=password"* ]]
	[[ "$output" == *"binary=refused"* ]]
	[[ "$output" == *"rhost=192.0.2.7"* ]]
	[[ "$output" == *"ruser=pamuser"* ]]
	[[ "$output" == *"tty=pop3-handler"* ]]
	expect_log "info: PAM says to pamuser: probe error message"
	expect_log "info: PAM says to pamuser: probe information"
	expect_log "warning: PAM asked pamuser for a message of kind 7: refused"
	refute_logged "secret"
}

@test "PAM runs in the root parent: the jailed child never maps libpam" {
	ns_pam_service "auth required $PROBE record=$T/probe" "account required pam_permit.so"
	session -- "USER pamuser" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	run cat "$T/probe"
	[[ "$output" == *"uid=0"$'\n'* ]]
	# the network child: nobody's, without PAM
	[[ "$output" == *"child="*" uid=$(id -u nobody) pam=absent"* ]]
	[[ "$output" != *"pam=mapped"* ]]
}

@test "no PAM session is opened: a session line never runs" {
	ns_pam_service "@include common-auth" "@include common-account" \
		"session required pam_exec.so /usr/bin/touch $T/session-opened"
	session -- "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	[ ! -e "$T/session-opened" ]
}

@test "PAM's own failure delay is not slept: with auth_fail_delay=0 a wrong password answers at once" {
	ns_pam_service "auth required pam_unix.so" "account required pam_unix.so"
	local start end
	start=$(now_ns)
	session -- "USER pamuser" "PASS wrong" "QUIT"
	end=$(now_ns)
	expect_line 2 "-ERR [AUTH] Authentication failed"
	# pam_unix asks for two seconds (no nodelay here)
	[ $(((end - start) / 1000000)) -lt 1500 ]
	start=$(now_ns)
	session -o auth_fail_delay=1 -- "USER pamuser" "PASS wrong" "QUIT"
	end=$(now_ns)
	[ $(((end - start) / 1000000)) -ge 1000 ]
	[ $(((end - start) / 1000000)) -lt 2500 ]
}

@test "a PAM stack that is broken or whose directory is down: -ERR [SYS/TEMP], logged, never [AUTH]" {
	ns_pam_service "auth required $PROBE unavail" "account required pam_permit.so"
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	expect_log "error: PAM service pop3-handler: pam_authenticate for pamuser: Authentication service cannot retrieve authentication info"
	refute_logged "failed login"
	ns_pam_service "auth required pam_no_such_module.so"
	session -- "USER pamuser" "PASS Pam-Pw 42" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
}

@test "a PAM module that hangs ends the session at the authorization timer; one that crashes ends it; the mail stays" {
	ns_pam_service "auth required $PROBE hang"
	local start end
	start=$(now_ns)
	session -o timeout_unauth=2 -- "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	end=$(now_ns)
	[ $(((end - start) / 1000000)) -lt 5000 ]
	[ "${lines[2]:-}" = "" ]
	ns_pam_service "auth required $PROBE crash"
	session -- "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	[ "${lines[2]:-}" = "" ]
	[ -f "$T/home/pamuser/Maildir/new/1700000000.M1P1.host" ]
}

@test "names NSS or PAM would take apart never reach PAM: a leading '-', '\\', '/', control octets, too long" {
	ns_pam_service "auth required $PROBE record=$T/probe" "account required pam_permit.so"
	local name
	for name in -pamuser 'DOMAIN\pamuser' a/b "$(printf 'a\001b')" "$(printf 'x%.0s' {1..65})"; do
		session -- "USER $name" "PASS secret" "QUIT"
		expect_line 2 "-ERR [AUTH] Authentication failed"
		[ ! -e "$T/probe" ]
	done
}

@test "run as the account's own user: passwd_file = pam serves that user alone" {
	ns_add_user otheruser 'Other-Pw 7'
	chmod 644 "$T/conf"
	local uid
	uid=$(ns id -u pamuser)
	WRAPPER=(nsenter -t "$NS_PID" -m -- setpriv --reuid="$uid" --regid="$(ns id -g pamuser)" --clear-groups --)
	session -- "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	session -- "USER otheruser" "PASS Other-Pw 7" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
}

@test "pop3@.service's SystemCallFilter allows every system call of a PAM login (pam_unix)" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
	# a sanitizer build makes system calls of its own
	[ -z "${POP3_HANDLER:-}" ] || skip "POP3_HANDLER is another build"
	WRAPPER=(nsenter -t "$NS_PID" -m -- strace -f -qq -o "$T/trace")
	session -o log=syslog -- "USER pamuser" "PASS wrong" "USER pamuser" "PASS Pam-Pw 42" "STAT" "QUIT"
	expect_line 4 "+OK Logged in, 1 message (22 octets)"
	systemd-analyze syscall-filter >"$T/groups" 2>/dev/null
	"$BATS_TEST_DIRNAME/unit-filter-allows" "$BATS_TEST_DIRNAME/../contrib/systemd/pop3@.service" "$T/groups" "$T/trace"
}

@test "ntlm = yes with passwd_file = pam is refused at start: PAM's accounts have no NT hash" {
	conf ntlm yes
	session -- "QUIT"
	expect_startup_error "ntlm = yes needs a passwd_file with NT hashes: the accounts PAM checks have none"
}

# ns_listen_krb5: listen (lib/helpers.bash), each connection's handler run inside the
# namespace with the test realm's settings.
ns_listen_krb5() {
	printf '#!/bin/sh\nexec nsenter -t %s -m -- %s "$@"\n' "$NS_PID" "$HANDLER" >"$T/in-ns"
	chmod 755 "$T/in-ns"
	HANDLER="$T/in-ns" listen -E KRB5_CONFIG -E KRB5RCACHEDIR
}

@test "GSSAPI with passwd_file = pam: the principal's user comes from NSS, and pam_acct_mgmt still refuses an expired account" {
	ns_add_user "$KRB5_TEST_USER" 'Alice-Pw 1'
	deliver_owned "$KRB5_TEST_USER" 1700000002.M1P1.host "$MSG"
	conf keytab "$KRB5_TEST_KEYTAB"
	ns_listen_krb5
	rc=0
	curl -sS --max-time 10 --login-options AUTH=GSSAPI -u : "pop3://localhost:$PORT/" >"$T/out" 2>"$T/trace" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$T/trace" "$T/ssa.log"; return 1; }
	[ "$(tr -d "\r" <"$T/out")" = "1 22" ] || { od -c "$T/out" | head; return 1; }
	expect_server_logged "info: login user=$KRB5_TEST_USER mechanism=GSSAPI client=127.0.0.1 messages=1 octets=22"
	ns chage -E 1 "$KRB5_TEST_USER"
	rc=0
	curl -sS --max-time 10 --login-options AUTH=GSSAPI -u : "pop3://localhost:$PORT/" >"$T/out" 2>"$T/trace" || rc=$?
	[ "$rc" -ne 0 ]
	expect_server_logged "notice: user $KRB5_TEST_USER: account expired"
	expect_server_logged "notice: failed login user=$KRB5_TEST_USER mechanism=GSSAPI client=127.0.0.1"
}

# median_ms USER PASSWORD N: the median time of N failed sessions in milliseconds.
median_ms() {
	local i start times=()
	for ((i = 0; i < $3; i++)); do
		start=$(now_ns)
		session -- "USER $1" "PASS $2" "QUIT"
		times+=($((($(now_ns) - start) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(($3 / 2 + 1))p"
}

@test "timing through pam_unix: an unknown user costs what a wrong password costs (30 each, medians within 20%)" {
	local known unknown round
	for round in 1 2 3; do
		known=$(median_ms pamuser wrong-password 30)
		unknown=$(median_ms nosuchuser wrong-password 30)
		echo "# round $round: wrong password median $known us, unknown user median $unknown us" >&3
		[ $((unknown * 100)) -ge $((known * 80)) ] && [ $((unknown * 100)) -le $((known * 120)) ] && return 0
	done
	return 1
}
