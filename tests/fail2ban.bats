#!/usr/bin/env bats
# fail2ban (contrib/fail2ban): Debian's fail2ban reads what real sessions
# logged through syslog.  Each test runs the handler in a private mount
# namespace (lib/namespace.bash) whose /dev/log is a socket the test owns:
# a syslog daemon of its own (tests/clients/syslog-file, writing rsyslog's
# traditional file format) or a systemd-journald of its own.  Every kind of
# failed login (unknown user, wrong password, locked and expired accounts,
# failed GSSAPI against a test KDC, failed NTLM, too many failures or
# exchanges, a password where plaintext is refused) comes from its own
# client address, which the launcher gives as systemd does (REMOTE_ADDR);
# successful logins, a session through a pipe (client=local) and other
# programs' lines must never match.  fail2ban-regex checks the filter line
# by line, and a fail2ban server of the test's own (its socket, pid file and
# database in the test's directory, a ban action that only writes a file)
# bans with the jail.  Needs root.

load lib/helpers
load lib/krb5
load lib/namespace

CONTRIB="$BATS_TEST_DIRNAME/../contrib/fail2ban"
NEGOTIATE=TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=	# an NTLM NEGOTIATE
# A line no session writes, sent last: the log is complete once it is there.
END_MARK="end of the test's sessions"

# What each kind of failure logs (after "pop3-handler[PID]: "), and the
# address fail2ban must take from it: "ADDRESS|TEXT".
FAILURES=(
	"203.0.113.1|failed login: unknown user, mechanism=USER client=203.0.113.1"
	"203.0.113.2|failed login user=alice mechanism=USER client=203.0.113.2"
	"2001:db8::2|failed login user=alice mechanism=PLAIN client=2001:db8::2"
	"203.0.113.3|failed login user=locked mechanism=USER client=203.0.113.3"
	"203.0.113.4|failed login user=pamuser mechanism=USER client=203.0.113.4 reason=account expired"
	"203.0.113.5|failed login: GSSAPI exchange failed, client=203.0.113.5"
	"203.0.113.6|failed login: unknown user, mechanism=GSSAPI client=203.0.113.6"
	"203.0.113.7|failed login user=alice mechanism=NTLM client=203.0.113.7"
	"203.0.113.8|failed login: too many failures (3), closing the session, client=203.0.113.8"
	"203.0.113.9|failed login: too many login exchanges (8), closing the session, client=203.0.113.9"
	"198.51.100.10|failed login: not allowed on this connection, mechanism=USER client=198.51.100.10"
)
# Addresses that logged in, and that other programs named: never a match.
NEVER=(192.0.2.20 192.0.2.21 192.0.2.22 192.0.2.23 198.51.100.66 198.51.100.67 198.51.100.68)

setup_file() {
	if [ "$(id -u)" -eq 0 ] && command -v fail2ban-regex >/dev/null; then
		krb5_realm_start "$BATS_FILE_TMPDIR/krb5"
		export TEST_CCACHE_BOB=FILE:$KRB5_TEST_DIR/bob.ccache
		KRB5CCNAME=$TEST_CCACHE_BOB krb5_kinit "$KRB5_TEST_USER2" "$KRB5_TEST_PASSWORD2"
	fi
}

teardown_file() {
	if [ -n "${KRB5_TEST_DIR:-}" ]; then
		krb5_realm_stop
	fi
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (a private mount namespace, useradd)"
	command -v fail2ban-regex >/dev/null || skip "fail2ban is not installed (tests/install-deps installs it)"
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	SYSLOG_PID='' JOURNALD_PID='' F2B_PID=''
	SSA_PID=''
	setup_world
	sed -i '/^log = /d' "$T/conf"	# syslog, the default
	conf plaintext_auth yes
	conf ntlm yes
	conf keytab "$KRB5_TEST_KEYTAB"
	add_user alice secret
	add_nt_hash alice secret
	add_user_hash locked "!$(hash_password secret)"
	deliver alice 1700000001.M1P1.host "$MSG"
	ns_start
	ns cp "$BATS_TEST_DIRNAME/../contrib/pam.d/pop3-handler" /etc/pam.d/pop3-handler
	ns_add_user pamuser 'Pam-Pw 42'
	ns chage -E 1 pamuser
	# Sessions a launcher starts (listen) enter the namespace too.
	printf '#!/bin/sh\nexec nsenter -t %s -m -- %s "$@"\n' "$NS_PID" "$HANDLER" >"$T/ns-handler"
	chmod 755 "$T/ns-handler"
	f2b_config
}

teardown() {
	stop_process "$F2B_PID"
	stop_listener
	stop_process "$JOURNALD_PID"
	ns_stop
	stop_process "$SYSLOG_PID"
	cleanup_world
}

# f2b_config: $T/f2b, Debian's /etc/fail2ban with our filter and jail and
# without Debian's own jails, for a server of the test's own: its socket,
# pid file and log in $T/f2b, its database in memory.
f2b_config() {
	cp -r /etc/fail2ban "$T/f2b"
	rm -f "$T/f2b/jail.d/"* "$T/f2b/"*.local
	cp "$CONTRIB/filter.d/pop3-handler.conf" "$T/f2b/filter.d/"
	cp "$CONTRIB/jail.d/pop3-handler.conf" "$T/f2b/jail.d/"
	cat >"$T/f2b/fail2ban.local" <<EOF
[DEFAULT]
logtarget = $T/f2b/server.log
socket = $T/f2b/server.sock
pidfile = $T/f2b/server.pid
dbfile = :memory:
EOF
}

# syslog_start: the test's syslog daemon, writing $T/mail.log, on /dev/log.
syslog_start() {
	"$BATS_TEST_DIRNAME/clients/syslog-file" "$T/syslog.sock" "$T/mail.log" &
	SYSLOG_PID=$!
	wait_for 5 test -S "$T/syslog.sock" || { echo "the syslog daemon did not start"; return 1; }
	ns_dev_log "$T/syslog.sock"
}

# journald_start: a systemd-journald of the test's own in the namespace
# (volatile: its journal in the namespace's /run/log/journal), on /dev/log.
# Its own PID and network namespaces keep it from the host's kernel log
# and audit; it logs about itself to $T/journald.log.
journald_start() {
	ns mkdir -p /etc/systemd/journald.conf.d
	printf '%s\n' "[Journal]" "Storage=volatile" "ReadKMsg=no" "ForwardToSyslog=no" "ForwardToKMsg=no" \
		"ForwardToConsole=no" "ForwardToWall=no" | ns tee /etc/systemd/journald.conf.d/test.conf >/dev/null
	SYSTEMD_LOG_TARGET=console ns unshare --pid --net --fork --kill-child \
		/lib/systemd/systemd-journald 2>"$T/journald.log" &
	JOURNALD_PID=$!
	wait_for 5 ns test -S /run/systemd/journal/dev-log || {
		echo "systemd-journald did not start:"
		cat "$T/journald.log"
		return 1
	}
	ns_dev_log /run/systemd/journal/dev-log
}

# journal_short: the test's journal as `journalctl -o short` shows it, in
# $T/journal.log; fails until it holds END_MARK.
journal_short() {
	ns journalctl -D /run/log/journal -o short --no-pager >"$T/journal.log" && grep -qF "$END_MARK" "$T/journal.log"
}

# from ADDRESS SESSION-ARGUMENT...: a session (over pipes) whose launcher
# says the client is ADDRESS.
from() {
	REMOTE_ADDR=$1 session "${@:2}"
}

# listen_from ADDRESS: the handler behind systemd-socket-activate, in the
# namespace, its launcher saying the client is ADDRESS.
listen_from() {
	stop_listener
	HANDLER=$T/ns-handler listen -E "REMOTE_ADDR=$1" -E KRB5_CONFIG -E KRB5RCACHEDIR
}

# curl_auth MECHANISM [CURL-OPTION]...: lists the mailbox through the
# listener with AUTH MECHANISM; curl's exit status in $rc.
curl_auth() {
	rc=0
	curl -sS --max-time 10 --login-options "AUTH=$1" "${@:2}" "pop3://localhost:$PORT/" \
		>"$T/curl.out" 2>&1 || rc=$?
}

# all_sessions: a failed login of every kind (FAILURES), successful logins
# and a failure through a pipe, other programs' lines, then END_MARK.
all_sessions() {
	local cancels=()
	from 203.0.113.1 -- "USER nosuchuser" "PASS secret" QUIT
	expect_line 2 "$FAILED"
	from 203.0.113.2 -- "USER alice" "PASS wrong" QUIT
	expect_line 2 "$FAILED"
	from 2001:db8::2 -- "AUTH PLAIN $(plain_b64 '' alice wrong)" QUIT
	expect_line 1 "$FAILED"
	from 203.0.113.3 -- "USER locked" "PASS secret" QUIT
	expect_line 2 "$FAILED"
	from 203.0.113.4 -o passwd_file=pam -o ntlm=no -- "USER pamuser" "PASS Pam-Pw 42" QUIT
	expect_line 2 "$FAILED"
	from 203.0.113.5 -- "AUTH GSSAPI" "$(printf 'not a kerberos token' | base64)" QUIT
	expect_line 2 "$FAILED"
	from 203.0.113.8 -- "USER alice" "PASS wrong1" "USER alice" "PASS wrong2" "USER alice" "PASS wrong3"
	expect_line 6 "-ERR [AUTH] Authentication failed; too many failures, closing connection"
	for _ in $(seq 8); do cancels+=("AUTH NTLM $NEGOTIATE" "*"); done
	from 203.0.113.9 -o max_auth_failures=3 -- "${cancels[@]}" "AUTH NTLM $NEGOTIATE"
	expect_line 17 "-ERR [AUTH] Too many authentication attempts, closing connection"
	from 198.51.100.10 -o plaintext_auth=secure -- "USER alice" "PASS secret" "AUTH PLAIN $ALICE" QUIT
	expect_lines 1 "$NO_PLAINTEXT" "$NO_PLAINTEXT" "$NO_PLAINTEXT" "+OK Bye"
	# what must never be banned: logins, and a client without an address
	from 192.0.2.20 -- "USER alice" "PASS secret" QUIT
	expect_line 2 "$LOGGED_IN"
	from 192.0.2.21 -- "AUTH PLAIN $ALICE" QUIT
	expect_match 1 "+OK Logged in, 1 message*"
	session -- "USER alice" "PASS wrong" QUIT
	expect_line 2 "$FAILED"
	# GSSAPI with the test realm's tickets, NTLM from curl
	listen_from 203.0.113.6
	KRB5CCNAME=$TEST_CCACHE_BOB curl_auth GSSAPI -u :	# bob is no user here
	[ "$rc" -eq 67 ] || { cat "$T/curl.out" "$T/ssa.log"; return 1; }
	listen_from 192.0.2.22
	curl_auth GSSAPI -u :
	[ "$rc" -eq 0 ] || { cat "$T/curl.out" "$T/ssa.log"; return 1; }
	listen_from 203.0.113.7
	curl_auth NTLM -u alice:wrong
	[ "$rc" -eq 67 ] || { cat "$T/curl.out" "$T/ssa.log"; return 1; }
	listen_from 192.0.2.23
	curl_auth NTLM -u alice:secret
	[ "$rc" -eq 0 ] || { cat "$T/curl.out" "$T/ssa.log"; return 1; }
	stop_listener
	# other programs, with our words
	ns logger -p mail.notice -t otherd --id=4711 "failed login user=alice mechanism=USER client=198.51.100.66"
	ns logger -p mail.notice -t dovecot "failed login: unknown user, mechanism=USER client=198.51.100.67"
	ns logger -p mail.notice -t pop3-handlerd --id=4712 "failed login: GSSAPI exchange failed, client=198.51.100.68"
	ns logger -p mail.info -t f2b-test "$END_MARK"
}

# regex LOG MATCHED FILTER-ARGUMENT...: fail2ban-regex (run in the namespace),
# one "ADDRESS LINE" per match into MATCHED; what it printed besides in
# $T/regex.out.
regex() {
	local matched=$1
	shift
	ns fail2ban-regex -o '<ip> <matches>' "$@" >"$matched" 2>"$T/regex.out" || {
		echo "fail2ban-regex $* failed:"
		cat "$T/regex.out" "$matched"
		return 1
	}
}

# expect_matched LOG MATCHED: MATCHED (regex's) holds the line of each of
# FAILURES, from LOG, with its address; each match's address is the
# client= of its own line; it matches exactly as many lines as LOG has
# pop3-handler failure lines with an address; no address of NEVER.
expect_matched() {
	local log=$1 matched=$2 f ip want failures n
	for f in "${FAILURES[@]}"; do
		ip=${f%%|*} want="]: ${f#*|}"
		grep -F -- "$want" "$log" | grep -qF "pop3-handler[" || { echo "the log lacks: ${f#*|}"; cat "$log"; return 1; }
		awk -v ip="$ip" -v want="$want" '$1 == ip && substr($0, length($0) - length(want) + 1) == want { found = 1 }
			END { exit !found }' "$matched" || {
			echo "not matched with host $ip: ${f#*|}"
			cat "$matched"
			return 1
		}
	done
	awk '{ n = split($0, part, "client="); split(part[n], word, " ")
		if ($1 != word[1]) { print "host " $1 " from: " $0; bad = 1 } } END { exit bad }' "$matched"
	refute_grep -Fx -f <(printf '%s\n' "${NEVER[@]}") <(awk '{ print $1 }' "$matched")
	failures=$(grep -cE 'pop3-handler\[[0-9]+\]: failed login.* client=[0-9a-fA-F:.]+( reason=.*)?$' "$log")
	n=$(wc -l <"$matched")
	[ "$failures" -ge "${#FAILURES[@]}" ]
	[ "$n" -eq "$failures" ] || {
		echo "$n lines matched, but the log has $failures failures with an address:"
		cat "$matched"
		return 1
	}
	# the pipe's failure is in the log, without an address
	grep -qF "]: failed login user=alice mechanism=USER client=local" "$log"
}

@test "syslog's file format: every kind of failed login matches with its client's address; logins, local sessions and other programs never" {
	syslog_start
	all_sessions
	wait_for 5 grep -qF "$END_MARK" "$T/mail.log"
	regex "$T/matched" "$T/mail.log" "$T/f2b/filter.d/pop3-handler.conf"
	expect_matched "$T/mail.log" "$T/matched"
	# nothing went to standard error: the log is syslog's alone
	[ ! -s "$T/log" ]
}

@test "journald: journalctl -o short lines and the systemd backend (journalmatch) match the same" {
	[ -x /lib/systemd/systemd-journald ] || skip "systemd-journald is not installed (the systemd package)"
	/usr/bin/python3 -c 'import systemd.journal' 2>/dev/null || skip "python3-systemd is not installed (tests/install-deps installs it)"
	journald_start
	all_sessions
	wait_for 5 journal_short
	regex "$T/matched" "$T/journal.log" "$T/f2b/filter.d/pop3-handler.conf"
	expect_matched "$T/journal.log" "$T/matched"
	# fail2ban's systemd backend reads the journal itself, only our entries
	regex "$T/matched-journal" "systemd-journal[journalpath=/run/log/journal]" "$T/f2b/filter.d/pop3-handler.conf"
	expect_matched "$T/journal.log" "$T/matched-journal"
	# the journalmatch gave it pop3-handler's entries and no others
	ns fail2ban-regex "systemd-journal[journalpath=/run/log/journal]" "$T/f2b/filter.d/pop3-handler.conf" \
		>"$T/summary"
	[ "$(sed -n 's/^Lines: \([0-9]*\) lines,.*/\1/p' "$T/summary")" -eq "$(grep -c ' pop3-handler\[' "$T/journal.log")" ] || {
		cat "$T/summary"
		return 1
	}
}

@test "the jail parses with the filter (fail2ban-client -t), and a fail2ban server of the test's own bans exactly the failing clients" {
	syslog_start
	from 203.0.113.2 -- "USER alice" "PASS wrong" QUIT
	from 198.51.100.10 -o plaintext_auth=secure -- "USER alice" QUIT
	from 192.0.2.20 -- "USER alice" "PASS secret" QUIT
	session -- "USER alice" "PASS wrong" QUIT
	ns logger -p mail.notice -t otherd "failed login user=alice mechanism=USER client=198.51.100.66"
	ns logger -p mail.info -t f2b-test "$END_MARK"
	wait_for 5 grep -qF "$END_MARK" "$T/mail.log"
	# as shipped: off; on, it reads Debian's mail log (syslog_mail, here
	# moved to the test's file) and bans on ports 110 and 995
	fail2ban-client -c "$T/f2b" -t >"$T/t.out" 2>&1 || { cat "$T/t.out"; return 1; }
	printf '%s\n' "[DEFAULT]" "syslog_mail = $T/mail.log" >"$T/f2b/paths-overrides.local"
	printf '%s\n' "[pop3-handler]" "enabled = true" >"$T/f2b/jail.d/pop3-handler.local"
	fail2ban-client -c "$T/f2b" -d >"$T/dump" 2>&1 || { cat "$T/dump"; return 1; }
	grep -qF "['set', 'pop3-handler', 'addlogpath', '$T/mail.log', 'head']" "$T/dump"
	grep -qF -- "--dports pop3,pop3s " "$T/dump"
	grep -qF "['set', 'pop3-handler', 'addjournalmatch', 'SYSLOG_IDENTIFIER=pop3-handler']" "$T/dump"
	# the site's .local: one failure bans, a ban action that writes a file
	printf '%s\n' "[pop3-handler]" "enabled = true" "backend = polling" "maxretry = 1" \
		"action = dummy[target=$T/f2b/bans]" >"$T/f2b/jail.d/pop3-handler.local"
	fail2ban-client -c "$T/f2b" -t >"$T/t.out" 2>&1 || { cat "$T/t.out"; return 1; }
	fail2ban-client -c "$T/f2b" -f -x start >"$T/f2b/client.out" 2>&1 &
	F2B_PID=$!
	banned() { grep -qxF "+$1" "$T/f2b/bans" 2>/dev/null; }
	wait_for 20 banned 203.0.113.2 && wait_for 5 banned 198.51.100.10 || {
		echo "not banned:"
		cat "$T/f2b/bans" "$T/f2b/server.log" "$T/f2b/client.out"
		return 1
	}
	fail2ban-client -c "$T/f2b" status pop3-handler >"$T/status"
	grep -q "Currently banned:.2$" "$T/status" || { cat "$T/status"; return 1; }
	[ "$(grep -c '^+' "$T/f2b/bans")" -eq 2 ]
	fail2ban-client -c "$T/f2b" stop >/dev/null
	wait "$F2B_PID"
	F2B_PID=
	[ ! -e "$T/f2b/server.sock" ]
}
