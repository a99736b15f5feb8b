#!/usr/bin/env bats
# A hostile configuration or passwd file is refused or skipped, never
# misread: unknown keys, values out of range, duplicate keys, malformed,
# over-long and NUL-bearing passwd lines, a passwd file that is missing or
# not a file, over-long configuration lines, a configuration that is a
# directory, a device or missing, CRLF line ends, and Maildir templates with
# unknown or oversized expansions.  configuration.bats and accounts.bats
# cover the plain cases; these extend them.  Every handler run is bounded by
# timeout.

load lib/helpers

UNAVAILABLE='-ERR [SYS/TEMP] Authentication is temporarily unavailable'
NONROOT_ID=4243	# a user who is neither root nor the one running the tests

setup() {
	setup_world
	# a hang fails the test instead of blocking the suite
	WRAPPER=(timeout -k 5 30 "${WRAPPER[@]}")
	cp "$T/conf" "$T/conf.base"
}

# base_conf: the configuration setup_world wrote (5 lines), again.
base_conf() {
	cp "$T/conf.base" "$T/conf"
}

# with_conf_line LINE: the base configuration plus LINE (as line 6), then a session that only quits.
with_conf_line() {
	base_conf
	printf '%s\n' "$1" >>"$T/conf"
	session -- "QUIT"
}

# run_conf FILE [-o key=value]...: a session with -c FILE that only quits.
run_conf() {
	local file=$1
	shift
	status=0
	"${WRAPPER[@]}" "$HANDLER" -c "$file" "$@" <<<$'QUIT\r' >"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# chars C N: N copies of the character C.
chars() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# passwd_line NAME PASSWORD [HOME]: an entry for the test ids.
passwd_line() {
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$1" "$(hash_password "$2")" "$TEST_UID" "$TEST_GID" \
		"${3:-$T/home/$1}"
}

# --- keys and values -----------------------------------------------------------------

@test "unknown keys: case differs, inner space, empty key, 8-bit and control octets, a 100-octet key cut to 64" {
	with_conf_line "Exact_Size = no"
	expect_startup_error "$T/conf line 6: unknown key 'Exact_Size'"
	with_conf_line "exact size = no"
	expect_startup_error "$T/conf line 6: unknown key 'exact size'"
	with_conf_line "= no"
	expect_startup_error "$T/conf line 6: unknown key ''"
	with_conf_line "   =   "
	expect_startup_error "$T/conf line 6: unknown key ''"
	with_conf_line $'exact_siz\xc3\xa9 = no'
	expect_startup_error "$T/conf line 6: unknown key 'exact_siz"$'\xc3\xa9'"'"
	# a control octet is never echoed to the client
	with_conf_line $'exact\x1b[2Jsize = no'
	expect_startup_error "$T/conf line 6: unknown key 'exact?[2Jsize'"
	local k100
	k100=$(chars k 100)
	with_conf_line "$k100 = 1"
	expect_startup_error "$T/conf line 6: unknown key '$(chars k 64)'"
	# the file is checked before -o: a good -o does not save it
	base_conf
	printf 'no_such_key = 1\n' >>"$T/conf"
	session -o exact_size=no -- "QUIT"
	expect_startup_error "$T/conf line 6: unknown key 'no_such_key'"
}

@test "numbers out of range or malformed in the file: overflow, signs, hex, inner spaces, inline comments, fullwidth digits" {
	local v
	for v in 18446744073709551617 4294967296 4294967297 +5 -0 0x10 "1 0" "5 # five" "５" "1e3" "86400.0"; do
		with_conf_line "timeout_auth = $v"
		echo "(timeout_auth = $v)"
		expect_startup_error "$T/conf line 6: timeout_auth: expected a number from 1 to 86400"
	done
	for v in Never NEVER 36501 -1 "never # forever"; do
		with_conf_line "expire_days = $v"
		echo "(expire_days = $v)"
		expect_startup_error "$T/conf line 6: expire_days: expected a number from 0 to 36500 or never"
	done
	with_conf_line "exact_size = yes # the default"
	expect_startup_error "$T/conf line 6: exact_size: expected no or yes"
}

@test "numbers with leading zeros and blanks around them are taken" {
	add_user alice secret
	base_conf
	printf 'max_command_length = %s512\n\tmax_auth_failures\t=\t0001\t\nexpire_days=00\n' "$(chars 0 40)" >>"$T/conf"
	# max_command_length = 512: a USER line of 512 octets with its CRLF is taken
	session -- "CAPA" "USER alice$(printf '%*s' 500 '')" "PASS wrong" "QUIT"
	[ "$status" -eq 0 ]
	[[ $output == *$'\nEXPIRE 0\n'* ]]
	# max_auth_failures = 1: the first failure closes
	[ "${lines[-2]}" = "+OK Send your password" ]
	[ "${lines[-1]}" = "$FAILED; too many failures, closing connection" ]
}

@test "duplicate keys: the last one in the file wins, and -o wins over both" {
	add_user alice secret
	printf 'Subject: hi\n\nhello\n' >"$T/home/alice/Maildir/new/1700000000.M1P1.host"
	chown "$TEST_UID:$TEST_GID" "$T/home/alice/Maildir/new/1700000000.M1P1.host"
	base_conf
	printf 'exact_size = no\nexact_size = yes\n' >>"$T/conf"
	session -- "USER alice" "PASS secret" "LIST 1" "QUIT"
	expect_line 3 "+OK 1 22"
	base_conf
	printf 'exact_size = yes\nexact_size = no\n' >>"$T/conf"
	session -- "USER alice" "PASS secret" "LIST 1" "QUIT"
	expect_line 3 "+OK 1 19"
	session -o exact_size=yes -- "USER alice" "PASS secret" "LIST 1" "QUIT"
	expect_line 3 "+OK 1 22"
	# a later passwd_file replaces a missing one
	base_conf
	printf 'passwd_file = %s\npasswd_file = %s\n' "$T/no-such-passwd" "$T/passwd" >>"$T/conf"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 1 message (22 octets)"
	# but a bad value is an error even when a good one follows
	base_conf
	printf 'exact_size = maybe\nexact_size = yes\n' >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: exact_size: expected no or yes"
}

# --- the passwd file ---------------------------------------------------------------------

@test "malformed passwd lines of every kind are logged with their line numbers; the entry after them logs in; the whole file is read" {
	local h
	h=$(hash_password secret)
	{
		echo "::::::"
		echo ".hidden:$h:4242:4242:g:$T/home/h:/bin/sh"
		echo "two words:$h:4242:4242:g:$T/home/t:/bin/sh"
		echo "$(chars n 65):$h:4242:4242:g:$T/home/n:/bin/sh"
		echo "neg:$h:-1:4242:g:$T/home/neg:/bin/sh"
		echo "plus:$h:+5:4242:g:$T/home/plus:/bin/sh"
		echo "nogid:$h:4242::g:$T/home/nogid:/bin/sh"
		echo "nohome:$h:4242:4242:g::/bin/sh"
		echo "hexuid:$h:0x10:4242:g:$T/home/hex:/bin/sh"
		echo " alice:$h:4242:4242:g:$T/home/alice:/bin/sh"
	} >>"$T/passwd"
	add_user alice secret
	echo "after:the:entry" >>"$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	local n
	for n in 1 2 3 4 5 6 7 8 9 10 12; do
		expect_logged ": warning: $T/passwd line $n: malformed entry skipped"
	done
	# a known user's lookup reads on after its entry, as an unknown
	# user's does: the two cost the same
	[ "$(grep -c 'malformed entry skipped' "$T/log")" -eq 11 ]
	session -- "USER nobody" "PASS secret" "QUIT"
	expect_line 2 "$FAILED"
	expect_logged ": warning: $T/passwd line 12: malformed entry skipped"
	[ "$(grep -c 'malformed entry skipped' "$T/log")" -eq 11 ]
}

@test "a passwd file with CRLF line ends works" {
	add_user alice secret
	add_user bob other
	sed -i 's/$/\r/' "$T/passwd"
	session -- "USER bob" "PASS other" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	refute_logged "malformed"
}

@test "passwd lines of 1 MiB, one with a valid entry and one at the end without a newline: skipped and logged by line number" {
	local h
	h=$(hash_password secret)
	{
		echo "# users"
		printf 'alice:%s:%s:%s:%s:%s:/bin/sh\n' "$h" "$TEST_UID" "$TEST_GID" "$(chars g 1048576)" "$T/home/alice"
		chars x 1048576
		echo
	} >>"$T/passwd"
	add_user bob other
	chars y 1048576 >>"$T/passwd"
	# alice's only entry is too long: she is unknown
	session -- "USER alice" "PASS secret" "USER bob" "PASS other" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_logged ": warning: $T/passwd line 2: too long, skipped"
	expect_logged ": warning: $T/passwd line 3: too long, skipped"
	expect_logged ": warning: $T/passwd line 5: too long, skipped"
	expect_logged "failed login: unknown user"
}

@test "a NUL byte in a passwd line: that line is skipped and logged, the next line still logs in" {
	local h
	h=$(hash_password secret)
	printf 'carol:%s:%s:%s:gecos\0junk:%s:/bin/sh\n' "$h" "$TEST_UID" "$TEST_GID" "$T/home/carol" >>"$T/passwd"
	add_user alice secret
	echo "bad line" >>"$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	grep -q ": warning: $T/passwd line 1: .*skipped" "$T/log"
	# and the lines after it keep their numbers
	session -- "USER nobody" "PASS secret" "QUIT"
	expect_line 2 "$FAILED"
	expect_logged ": warning: $T/passwd line 3: malformed entry skipped"
}

@test "a passwd_file that is a directory or a dangling symlink: login answers -ERR [SYS/TEMP], logged" {
	add_user alice secret
	mkdir "$T/pwdir"
	session -o passwd_file="$T/pwdir" -- "USER alice" "PASS secret" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$UNAVAILABLE" "+OK Bye"
	expect_logged ": error: cannot open user database $T/pwdir: not a regular file"
	ln -s "$T/gone" "$T/pwlink"
	session -o passwd_file="$T/pwlink" -- "USER alice" "PASS secret" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$UNAVAILABLE" "+OK Bye"
	expect_logged ": error: cannot open user database $T/pwlink: No such file or directory"
}

@test "a passwd_file that is a FIFO nobody writes: refused at once as not a regular file (-ERR [SYS/TEMP]), no hang" {
	add_user alice secret
	mkfifo "$T/pwfifo"
	local t0 t1
	t0=$(date +%s%N)
	session -o passwd_file="$T/pwfifo" -o timeout_unauth=1 -- "USER alice" "PASS secret" "QUIT"
	t1=$(date +%s%N)
	[ "$status" -eq 0 ]
	[ $((t1 - t0)) -lt 900000000 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$UNAVAILABLE" "+OK Bye"
	expect_logged ": error: cannot open user database $T/pwfifo: not a regular file"
}

# --- the configuration file itself ------------------------------------------------------

@test "over-long configuration lines: a 1 MiB comment, a 1 MiB last line without newline, a 100 KiB -o" {
	base_conf
	printf '# %s\nexact_size = no\n' "$(chars c 1048576)" >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: line too long"
	base_conf
	chars ' ' 1048576 >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: line too long"
	base_conf
	session -o "timeout_auth=$(chars 9 102400)" -- "QUIT"
	expect_startup_error "line too long"
}

@test "a NUL byte in a configuration line: refused at start with that line's number" {
	base_conf
	printf 'exact_size = no\0 junk\nmax_auth_failures = 1\n' >>"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 6: NUL octet in the line"
}

@test "a configuration that is a directory (through a symlink) or /dev/null" {
	add_user alice secret
	ln -s "$T/home" "$T/conf-link"
	run_conf "$T/conf-link"
	expect_startup_error "cannot read $T/conf-link: not a regular file"
	# /dev/null: all defaults (the default passwd file does not exist here)
	[ -e /etc/pop3-handler/passwd ] && skip "/etc/pop3-handler/passwd exists"
	status=0
	"${WRAPPER[@]}" "$HANDLER" -c /dev/null -o log=stderr <<<$'USER alice\r\nPASS secret\r\nQUIT\r' \
		>"$T/raw" 2>"$T/log" || status=$?
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "$UNAVAILABLE" "+OK Bye"
	expect_logged ": error: cannot open user database /etc/pop3-handler/passwd: No such file or directory"
}

@test "a configuration another user owns, or group or others may write, is refused at start (StrictModes)" {
	chown "$NONROOT_ID:$NONROOT_ID" "$T/conf"
	run_conf "$T/conf"
	if [ "$(id -u)" -eq 0 ]; then
		expect_startup_error "refusing $T/conf: owned by another user"
	fi
	chown "$(id -u):$(id -g)" "$T/conf"
	chmod 664 "$T/conf"
	run_conf "$T/conf"
	expect_startup_error "refusing $T/conf: writable by group or others"
	chmod 602 "$T/conf"
	run_conf "$T/conf"
	expect_startup_error "refusing $T/conf: writable by group or others"
	# readable by all is fine: it holds no secret
	chmod 644 "$T/conf"
	run_conf "$T/conf"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "+OK Bye" ]
}

@test "a configuration that is an endless device (/dev/zero) is refused at start, not read forever" {
	local t0 t1
	t0=$(date +%s)
	status=0
	timeout -k 2 5 "$HANDLER" -c /dev/zero <<<$'QUIT\r' >"$T/raw" 2>"$T/log" || status=$?
	t1=$(date +%s)
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || {
		echo "still reading /dev/zero after $((t1 - t0)) s (killed by timeout)"
		return 1
	}
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "$CONF_ERR cannot read /dev/zero: not a regular file" ]
}

@test "a missing configuration: an empty path, a dangling symlink, a path through a file" {
	run_conf ""
	expect_startup_error "cannot read : No such file or directory"
	ln -s "$T/gone" "$T/conf-dangling"
	run_conf "$T/conf-dangling"
	expect_startup_error "cannot read $T/conf-dangling: No such file or directory"
	run_conf "$T/conf/x"
	expect_startup_error "cannot read $T/conf/x: Not a directory"
}

@test "CRLF line ends: the CR before each newline is dropped, so every key works" {
	add_user alice secret
	deliver alice 1700000001.a.host 'Subject: a\n\nbody\n'
	printf '# CRLF\r\npasswd_file = %s\r\nmaildir = %%h/Maildir\r\nlog = stderr\r\nauth_fail_delay = 0\r\nmax_auth_failures = 1\r\n' \
		"$T/passwd" >"$T/conf"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 1 message (20 octets)" \
		"+OK 1 20" "+OK Bye, 0 messages deleted"
	printf 'max_auth_failures = 0\r\n' >"$T/conf"
	session -- "QUIT"
	expect_startup_error "$T/conf line 1: max_auth_failures: expected a number from 1 to 100"
}

# --- the Maildir template ------------------------------------------------------------------

@test "maildir templates with an unknown or cut escape are refused at start with the line number" {
	local why="maildir: must start with / or %h and use only %u, %h and %%" t
	for t in "%h/%x" "%h/%U" "%h/%%%x" "%h/Maildir%" "/var/mail/%u%" "%H/Maildir" "%h/%"; do
		with_conf_line "maildir = $t"
		echo "(maildir = $t)"
		expect_startup_error "$T/conf line 6: $why"
	done
}

@test "a template whose %% stands before u or h is a literal: %h/%%u is the directory '%u'" {
	add_user alice secret
	mkdir -p "$T/home/alice/%u/new"
	printf 'Subject: x\n\nbody\n' >"$T/home/alice/%u/new/1700000001.M1P1.host"
	chown -R "$TEST_UID:$TEST_GID" "$T/home/alice/%u"
	session -o "maildir=%h/%%u" -- "USER alice" "PASS secret" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 2 "+OK Logged in, 1 message (20 octets)" "+OK 1 20" "+OK Bye, 0 messages deleted"
}

@test "a template that expands beyond PATH_MAX: login answers -ERR [SYS/PERM] and closes, logged" {
	local home="$T/home/$(chars d 1500)"
	passwd_line alice secret "$home" >>"$T/passwd"
	session -o "maildir=%h/%h/%h" -- "USER alice" "PASS secret" "STAT" "QUIT"
	[ "$status" -eq 0 ]
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "-ERR [SYS/PERM] Mailbox unavailable"
	expect_logged ": error: user alice: the maildir template does not give an absolute path"
}
