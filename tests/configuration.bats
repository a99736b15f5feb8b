#!/usr/bin/env bats
# The command line and the configuration are read strictly: -V and -h,
# every setting's range or words, one start-up error for anything wrong in
# the file or on the command line, -o overrides, comments, the defaults,
# the Maildir template and what exact_size changes.  Hostile files:
# hostile-config.bats.

load lib/helpers

# accepts KEY=VALUE...: a session with each -o starts, greets and quits.
accepts() {
	local kv
	for kv in "$@"; do
		session -o "$kv" -- "QUIT"
		if [ "$status" -ne 0 ] || [ "${lines[0]}" != "+OK POP3 server ready" ] || [ "${lines[1]}" != "+OK Bye" ]; then
			echo "-o $kv was not accepted: status $status"
			echo "$output"
			return 1
		fi
	done
}

# rejects REASON KEY=VALUE...: each -o is refused at start with REASON.
rejects() {
	local reason=$1 kv
	shift
	for kv in "$@"; do
		session -o "$kv" -- "QUIT"
		echo "(-o $kv)"
		expect_startup_error "$reason"
	done
}

@test "-V prints the version and exits 0" {
	local version
	version=$(sed -n 's/^#define POP3_HANDLER_VERSION "\(.*\)"$/\1/p' "$BATS_TEST_DIRNAME/../pop3-handler.h")
	[ -n "$version" ]
	run "$HANDLER" -V </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "pop3-handler $version" ]
}

@test "-h prints the usage and exits 0, without a greeting" {
	run "$HANDLER" -h </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: pop3-handler [-t] [-T] [-c FILE] [-o key=value]..." ]
	[[ $output == *"-c FILE"* ]]
	[[ $output == *"-o key=value"* ]]
	[[ $output == *"-V"* ]]
	[[ $output != *"+OK"* ]]
}

@test "-V and -h do not read the configuration" {
	run "$HANDLER" -c /nonexistent -V </dev/null
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "pop3-handler "* ]]
	run "$HANDLER" -c /nonexistent -h </dev/null
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: "* ]]
}

@test "an unknown option or a stray argument is refused at start" {
	session -x -- "QUIT"
	expect_startup_error "bad option -x; see pop3-handler -h"
	session stray -- "QUIT"
	expect_startup_error "unexpected argument; see pop3-handler -h"
}

@test "defaults: a file setting only passwd_file serves a session" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	printf 'passwd_file = %s\n' "$T/passwd" >"$T/conf"
	local n505
	n505=$(printf 'a%.0s' {1..505})
	session -- "CAPA" "USER ${n505}" "USER ${n505}b" "USER alice" "PASS secret" "LIST" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 0 "+OK POP3 server ready"
	# plaintext_auth = secure: allowed over a pipe
	expect_line 1 "+OK Capability list follows"
	[[ $output == *$'\nUSER\n'* ]]
	# expire_days = never
	[[ $output == *$'\nEXPIRE NEVER\n'* ]]
	expect_line 10 "SASL PLAIN"
	expect_line 11 "."
	# max_command_length = 512: 510 octets + CRLF pass, 511 + CRLF do not
	expect_line 12 "+OK Send your password"
	expect_line 13 "-ERR Command line too long"
	expect_line 14 "+OK Send your password"
	# maildir = %h/Maildir, exact_size = yes
	expect_line 15 "+OK Logged in, 1 message (22 octets)"
	expect_line 16 "+OK 1 message (22 octets)"
	expect_line 17 "1 22"
	expect_line 18 "."
	expect_line 19 "+OK Bye, 0 messages deleted"
	# log = syslog: nothing on fd 2
	[ ! -s "$T/log" ]
}

@test "defaults: auth_fail_delay is 2 s" {
	add_user alice secret
	printf 'passwd_file = %s\nlog = stderr\n' "$T/passwd" >"$T/conf"
	local t0 t1
	t0=$(now_ns)
	session -- "USER alice" "PASS wrong" "QUIT"
	t1=$(now_ns)
	expect_line 2 "-ERR [AUTH] Authentication failed"
	[ $((t1 - t0)) -ge 2000000000 ]
}

@test "max_command_length: 40 and 1024 accepted, 39 and 1025 rejected" {
	rejects "max_command_length: expected a number from 40 to 1024" \
		max_command_length=39 max_command_length=1025 max_command_length=0 \
		max_command_length= max_command_length=-40 max_command_length=512x max_command_length=4294967336
	accepts max_command_length=40 max_command_length=1024 max_command_length=512
}

@test "max_command_length=40 allows 38 octets + CRLF, not 39" {
	local n33
	n33=$(printf 'a%.0s' {1..33})
	session -o max_command_length=40 -- "USER $n33" "USER ${n33}a" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR Command line too long"
	expect_line 3 "+OK Bye"
}

@test "max_command_length=1024 allows 1022 octets + CRLF, not 1023" {
	local n
	n=$(printf 'a%.0s' {1..1017})
	session -o max_command_length=1024 -- "USER $n" "USER ${n}a" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR Command line too long"
	expect_line 3 "+OK Bye"
}

@test "timeout_unauth and timeout_auth: 1..86400" {
	rejects "timeout_unauth: expected a number from 1 to 86400" \
		timeout_unauth=0 timeout_unauth=86401 timeout_unauth=1s timeout_unauth=
	rejects "timeout_auth: expected a number from 1 to 86400" \
		timeout_auth=0 timeout_auth=86401 timeout_auth=-1 timeout_auth=4294967297
	accepts timeout_unauth=1 timeout_unauth=86400 timeout_auth=1 timeout_auth=86400
}

@test "max_auth_failures: 1..100" {
	rejects "max_auth_failures: expected a number from 1 to 100" \
		max_auth_failures=0 max_auth_failures=101 max_auth_failures=three max_auth_failures=
	accepts max_auth_failures=1 max_auth_failures=100
}

@test "max_auth_failures=100: four failures do not close" {
	add_user alice secret
	session -o max_auth_failures=100 -- "USER a" "PASS x" "USER a" "PASS x" "USER a" "PASS x" \
		"USER a" "PASS x" "USER alice" "PASS secret" "QUIT"
	for i in 2 4 6 8; do
		expect_line $i "-ERR [AUTH] Authentication failed"
	done
	expect_line 10 "+OK Logged in, 0 messages (0 octets)"
}

@test "auth_fail_delay: 0..60" {
	rejects "auth_fail_delay: expected a number from 0 to 60" \
		auth_fail_delay=61 auth_fail_delay=-1 auth_fail_delay=1.5 auth_fail_delay=
	accepts auth_fail_delay=0 auth_fail_delay=60
}

@test "exact_size: yes or no" {
	rejects "exact_size: expected no or yes" exact_size=maybe exact_size=YES exact_size=1 exact_size=
	accepts exact_size=yes exact_size=no
}

@test "plaintext_auth: yes, no or secure" {
	rejects "plaintext_auth: expected no, yes or secure" plaintext_auth=tls plaintext_auth=Secure plaintext_auth=
	accepts plaintext_auth=yes plaintext_auth=no plaintext_auth=secure
}

@test "tls: yes or no" {
	rejects "tls: expected no or yes" tls=on tls=true tls=
	accepts tls=yes tls=no
}

@test "ntlm: yes or no; ntlm_domain and krb5_realm: 1..255 letters, digits, '.', '-', '_'; keytab: an absolute path" {
	rejects "ntlm: expected no or yes" ntlm=on ntlm=
	accepts ntlm=yes ntlm=no
	local word="expected 1 to 255 letters, digits, '.', '-' or '_'"
	rejects "ntlm_domain: $word" ntlm_domain= "ntlm_domain=EX AMPLE" 'ntlm_domain=EX\AMPLE' \
		"ntlm_domain=$(printf 'D%.0s' $(seq 256))"
	rejects "krb5_realm: $word" krb5_realm= krb5_realm=EXAMPLE.COM@X krb5_realm=Ä
	accepts ntlm_domain=EXAMPLE ntlm_domain=ex-ample_1.corp "ntlm_domain=$(printf 'D%.0s' $(seq 255))" \
		krb5_realm=EXAMPLE.COM
	rejects "keytab: must be an absolute path" keytab=krb5.keytab keytab=
	accepts keytab=/nonexistent/krb5.keytab
}

@test "log: syslog or stderr" {
	rejects "log: expected syslog or stderr" log=file log=/dev/stderr log=
	accepts log=syslog log=stderr
}

@test "confine: yes or no" {
	for v in maybe YES 1 ""; do
		session -o "confine=$v" -- "QUIT"
		expect_startup_error "confine: expected no or yes"
	done
	for v in yes no; do
		session -o "confine=$v" -- "QUIT"
		[ "$status" -eq 0 ]
	done
}

@test "expire_days and expire_days_unread: ranges and words" {
	local kv
	for kv in expire_days=-1 expire_days=36501 expire_days=1x expire_days= expire_days=4294967295; do
		session -o "$kv" -- "QUIT"
		[ "$status" -ne 0 ]
		expect_lines 0 "-ERR [SYS/PERM] Server configuration error: expire_days: expected a number from 0 to 36500 or never"
	done
	for kv in expire_days_unread=maybe expire_days_unread=; do
		session -o "$kv" -- "QUIT"
		[ "$status" -ne 0 ]
		expect_lines 0 "-ERR [SYS/PERM] Server configuration error: expire_days_unread: expected no or yes"
	done
	for kv in expire_days=0 expire_days=36500 expire_days=never expire_days_unread=yes expire_days_unread=no; do
		session -o "$kv" -- "QUIT"
		[ "$status" -eq 0 ]
		expect_lines 0 "+OK POP3 server ready" "+OK Bye"
	done
}

@test "log=stderr logs to fd 2; log=syslog never writes to fd 2" {
	add_user alice secret
	session -o log=stderr -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_logged ": info: login user=alice mechanism=USER client=local messages=0 octets=0"
	session -o log=syslog -- "USER alice" "PASS wrong" "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	[ ! -s "$T/log" ]
}

@test "an unknown key in the file: one -ERR [SYS/PERM] line, non-zero exit, logged" {
	conf no_such_key 1
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: unknown key 'no_such_key'"
	expect_logged "configuration error: $T/conf line 6: unknown key 'no_such_key'"
}

@test "a bad value in the file: one -ERR [SYS/PERM] line, non-zero exit" {
	conf max_command_length 39
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: max_command_length: expected a number from 40 to 1024"
	expect_logged "configuration error:"
}

@test "a line without '=' in the file: one -ERR [SYS/PERM] line, non-zero exit" {
	echo "exact_size yes" >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: expected key = value"
}

@test "a missing configuration file: one -ERR [SYS/PERM] line, non-zero exit" {
	status=0
	"$HANDLER" -c /nonexistent <<<"QUIT" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	expect_startup_error "cannot read /nonexistent: No such file or directory"
}

@test "an unreadable configuration file: one -ERR [SYS/PERM] line, non-zero exit" {
	status=0
	"$HANDLER" -c "$T" <<<"QUIT" >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	expect_startup_error "cannot read $T: not a regular file"

	chmod 600 "$T/conf"
	if [ "$(id -u)" -eq 0 ]; then
		status=0
		setpriv --reuid=4243 --regid=4243 --clear-groups "$HANDLER" -c "$T/conf" <<<"QUIT" \
			>"$T/raw" 2>"$T/log" || status=$?
	else
		chmod 000 "$T/conf"
		status=0
		"$HANDLER" -c "$T/conf" <<<"QUIT" >"$T/raw" 2>"$T/log" || status=$?
	fi
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	expect_startup_error "cannot read $T/conf: Permission denied"
}

@test "a line of 1 MiB: one -ERR [SYS/PERM] line, non-zero exit" {
	head -c 1048576 /dev/zero | tr '\0' 'a' >>"$T/conf"
	echo >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: line too long"
}

@test "-o overrides the file and may repeat" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	conf max_auth_failures 1
	conf exact_size no
	session -o max_auth_failures=5 -o exact_size=no -o exact_size=yes -- \
		"USER alice" "PASS wrong" "USER alice" "PASS secret" "LIST 1" "QUIT"
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_line 4 "+OK Logged in, 1 message (22 octets)"
	expect_line 5 "+OK 1 22"
	session -o "exact_size = no" -- "USER alice" "PASS secret" "LIST 1" "QUIT"
	expect_line 3 "+OK 1 19"
}

@test "a bad -o is refused the same way" {
	rejects "unknown key 'no_such_key'" no_such_key=1
	rejects "expected key = value" exact_size
	rejects "max_command_length: expected a number from 40 to 1024" max_command_length=1025
	rejects "passwd_file: must be an absolute path, system or pam" passwd_file=passwd
	# a bad -o after good ones
	session -o exact_size=no -o tls=maybe -- "QUIT"
	expect_startup_error "tls: expected no or yes"
}

@test "comment lines and blank lines are ignored" {
	add_user alice secret
	{
		echo "# a comment = with an equals sign"
		echo "   # an indented comment"
		printf '\t#tab\n'
		echo ""
		echo "    "
		printf '\t\n'
		echo "  max_auth_failures   =   1  "
		echo "#unknown_key = 1"
	} >>"$T/conf"
	session -- "USER alice" "PASS wrong" "NOOP"
	[ "$status" -eq 0 ]
	expect_line 2 "-ERR [AUTH] Authentication failed; too many failures, closing connection"
	[ "${#lines[@]}" -eq 3 ]
}

@test "maildir template with %u and %% finds that directory" {
	add_user alice secret
	mkdir -p "$T/x/alice/Mail%dir/new" "$T/x/alice/Mail%dir/cur"
	printf 'Subject: x\n\nbody\n' >"$T/x/alice/Mail%dir/new/1700000001.M1P1.host"
	chown -R "$TEST_UID:$TEST_GID" "$T/x"
	session -o "maildir=$T/x/%u/Mail%%dir" -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (20 octets)"
	expect_line 3 "+OK 1 20"
}

@test "maildir template with %h finds that directory" {
	add_user alice secret
	mkdir -p "$T/home/alice/Other/new"
	printf 'Subject: x\n\nbody\n' >"$T/home/alice/Other/new/1700000001.M1P1.host"
	chown -R "$TEST_UID:$TEST_GID" "$T/home/alice/Other"
	session -o "maildir=%h/Other" -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (20 octets)"
}

@test "a maildir template that does not give an absolute path is refused at start" {
	local why="maildir: must start with / or %h and use only %u, %h and %%"
	rejects "$why" "maildir=%u/Maildir" "maildir=Maildir" "maildir=%%/x" "maildir=/x/%d" "maildir=/x/%" "maildir="
	conf maildir "%u/Maildir"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: $why"
}

@test "passwd_file must be an absolute path" {
	rejects "passwd_file: must be an absolute path, system or pam" passwd_file=etc/passwd passwd_file= "passwd_file=~/passwd"
	conf passwd_file "relative/passwd"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: passwd_file: must be an absolute path, system or pam"
}

@test "exact_size=no reports the stored file size, yes the CRLF size" {
	add_user alice secret
	deliver alice 1700000000.M1P1.host "$MSG"
	deliver alice 1700000001.M2P2.host 'a\nb\nc\n'
	local s1 s2
	s1=$(stat -c %s "$T/home/alice/Maildir/new/1700000000.M1P1.host")
	s2=$(stat -c %s "$T/home/alice/Maildir/new/1700000001.M2P2.host")
	[ "$s1" -eq 19 ]
	[ "$s2" -eq 6 ]
	session -o exact_size=no -- "USER alice" "PASS secret" "STAT" "LIST" "LIST 2" "RETR 2" "QUIT"
	expect_line 2 "+OK Logged in, 2 messages ($((s1 + s2)) octets)"
	expect_line 3 "+OK 2 $((s1 + s2))"
	expect_line 4 "+OK 2 messages ($((s1 + s2)) octets)"
	expect_line 5 "1 $s1"
	expect_line 6 "2 $s2"
	expect_line 7 "."
	expect_line 8 "+OK 2 $s2"
	expect_line 9 "+OK $s2 octets"
	session -o exact_size=yes -- "USER alice" "PASS secret" "STAT" "LIST" "QUIT"
	expect_line 2 "+OK Logged in, 2 messages (31 octets)"
	expect_line 3 "+OK 2 31"
	expect_line 5 "1 22"
	expect_line 6 "2 9"
}
