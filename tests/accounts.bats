#!/usr/bin/env bats
# Issue 4, accounts: passwd_file = system (the host's own accounts, with a
# user this test creates and removes, as root), the hash tool
# (pop3-handler -H), and the timing of unknown users against known ones.

load lib/helpers

MSG='Subject: hi\n\nhello\n'	# 22 octets with CRLF line ends
FAILED='-ERR [AUTH] Authentication failed'
CLOSING='-ERR [AUTH] Authentication failed; too many failures, closing connection'
LOGGED_IN='+OK Logged in, 1 message (22 octets)'
# a yescrypt hash as crypt(5) writes it: $y$, parameters, salt, 43 digits
YESCRYPT_RE='^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{43}$'

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	SYSUSER=
	setup_world
}

# Removes the host account a test created, whether the test passed or not.
teardown() {
	if [ -n "${SYSUSER:-}" ]; then
		userdel "$SYSUSER" >/dev/null 2>&1 || true
		if getent passwd "$SYSUSER" >/dev/null; then
			echo "could not remove the host account $SYSUSER"
			cleanup_world
			return 1
		fi
	fi
	cleanup_world
}

# add_hashed_user NAME HASH: a passwd entry with HASH as is, and an empty Maildir.
add_hashed_user() {
	local home="$T/home/$1"
	printf '%s:%s:%s:%s:Test user:%s:/bin/sh\n' "$1" "$2" "$TEST_UID" "$TEST_GID" "$home" >>"$T/passwd"
	mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
	chown -R "$TEST_UID:$TEST_GID" "$home"
}

# --- passwd_file = system -------------------------------------------------------

# need_system_user: skips unless this runs as root with the shadow tools.
need_system_user() {
	[ "$(id -u)" -eq 0 ] || skip "creating a host account needs root"
	local tool
	for tool in useradd userdel usermod chpasswd; do
		command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
	done
}

# add_system_user PASSWORD: a host account $SYSUSER (unique to this run and
# test) with home $T/home/sysuser holding a Maildir of one message, owned by
# it; passwd_file = system.
add_system_user() {
	local name="pop3sysu$$t${BATS_TEST_NUMBER}"
	if getent passwd "$name" >/dev/null; then
		echo "a host account $name exists already: not touching it"
		return 1
	fi
	SYSUSER=$name	# from here on, teardown removes it
	useradd -M -d "$T/home/sysuser" -s /usr/sbin/nologin "$SYSUSER"
	printf '%s:%s\n' "$SYSUSER" "$1" | chpasswd
	mkdir -p "$T/home/sysuser/Maildir/cur" "$T/home/sysuser/Maildir/new" "$T/home/sysuser/Maildir/tmp"
	printf '%b' "$MSG" >"$T/home/sysuser/Maildir/new/1700000000.M1P1.host"
	chown -R "$SYSUSER:" "$T/home/sysuser"
	conf passwd_file system
}

@test "passwd_file = system: a host account logs in with USER/PASS and AUTH PLAIN, and the session runs as it" {
	need_system_user
	add_system_user 'Sys-Pw 42'
	# the hash is in /etc/shadow, not /etc/passwd
	[ "$(getent passwd "$SYSUSER" | cut -d: -f2)" = x ]
	session -- "USER $SYSUSER" "PASS Sys-Pw 42" "STAT" "QUIT"
	expect_lines 1 "+OK Send your password" "$LOGGED_IN" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_log "info: login user=$SYSUSER mechanism=USER client=local messages=1 octets=22"
	# the UID list was written by the session, as the account
	[ "$(stat -c %U "$T/home/sysuser/Maildir/pop3-handler-uidlist")" = "$SYSUSER" ]
	session -- "AUTH PLAIN $(plain_b64 '' "$SYSUSER" 'Sys-Pw 42')" "STAT" "QUIT"
	expect_lines 1 "$LOGGED_IN" "+OK 1 22" "+OK Bye, 0 messages deleted"
	expect_log "info: login user=$SYSUSER mechanism=PLAIN client=local messages=1 octets=22"
	# a wrong password, and a name the host does not know
	session -o max_auth_failures=5 -- "USER $SYSUSER" "PASS Sys-Pw 43" "USER ${SYSUSER}x" "PASS Sys-Pw 42" "STAT"
	expect_lines 1 "+OK Send your password" "$FAILED" "+OK Send your password" "$FAILED" \
		"-ERR Command not valid in this state"
	expect_log "notice: failed login user=$SYSUSER mechanism=USER client=local"
	expect_log "notice: failed login: unknown user, mechanism=USER client=local"
}

@test "passwd_file = system: a locked account (usermod -L) is refused; unlocked, it logs in again" {
	need_system_user
	add_system_user 'Lock-Pw'
	usermod -L "$SYSUSER"
	session -- "USER $SYSUSER" "PASS Lock-Pw" "AUTH PLAIN $(plain_b64 '' "$SYSUSER" 'Lock-Pw')" "STAT" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "$FAILED" "-ERR Command not valid in this state" "+OK Bye"
	expect_log "notice: failed login user=$SYSUSER mechanism=USER client=local"
	expect_log "notice: failed login user=$SYSUSER mechanism=PLAIN client=local"
	usermod -U "$SYSUSER"
	session -- "USER $SYSUSER" "PASS Lock-Pw" "QUIT"
	expect_lines 1 "+OK Send your password" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
}

@test "passwd_file = system: an expired account (usermod -e 1970-01-02) is refused; without the expiry it logs in" {
	need_system_user
	add_system_user 'Exp-Pw'
	usermod -e 1970-01-02 "$SYSUSER"
	session -- "USER $SYSUSER" "PASS Exp-Pw" "AUTH PLAIN $(plain_b64 '' "$SYSUSER" 'Exp-Pw')" "STAT" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "$FAILED" "-ERR Command not valid in this state" "+OK Bye"
	# an expiry date still to come is no expiry
	usermod -e "$(date -d '+30 days' +%Y-%m-%d)" "$SYSUSER"
	session -- "USER $SYSUSER" "PASS Exp-Pw" "QUIT"
	expect_lines 1 "+OK Send your password" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
	# yesterday is past
	usermod -e "$(date -d '-1 day' +%Y-%m-%d)" "$SYSUSER"
	session -- "AUTH PLAIN $(plain_b64 '' "$SYSUSER" 'Exp-Pw')" "QUIT"
	expect_lines 1 "$FAILED" "+OK Bye"
	usermod -e '' "$SYSUSER"
	session -- "AUTH PLAIN $(plain_b64 '' "$SYSUSER" 'Exp-Pw')" "QUIT"
	expect_lines 1 "$LOGGED_IN" "+OK Bye, 0 messages deleted"
}

# --- the hash tool -----------------------------------------------------------------

@test "pop3-handler -H prints one yescrypt line, which logs in as that password" {
	local hash
	printf 'pw\n' | "$HANDLER" -H >"$T/out" 2>"$T/err"
	[ "$(wc -l <"$T/out")" -eq 1 ]
	[ ! -s "$T/err" ]	# no prompt when stdin is not a terminal
	hash=$(cat "$T/out")
	[[ $hash =~ $YESCRYPT_RE ]]
	add_hashed_user hashed "$hash"
	deliver hashed 1700000000.M1P1.host "$MSG"
	session -o max_auth_failures=5 -- "USER hashed" "PASS pw " "USER hashed" "PASS pw" "QUIT"
	expect_lines 1 "+OK Send your password" "$FAILED" "+OK Send your password" "$LOGGED_IN" "+OK Bye, 0 messages deleted"
	session -- "AUTH PLAIN $(plain_b64 '' hashed pw)" "QUIT"
	expect_lines 1 "$LOGGED_IN" "+OK Bye, 0 messages deleted"
}

@test "pop3-handler -H: two runs give different salts" {
	local h1 h2
	h1=$(printf 'pw\n' | "$HANDLER" -H)
	h2=$(printf 'pw\n' | "$HANDLER" -H)
	[[ $h1 =~ $YESCRYPT_RE ]]
	[[ $h2 =~ $YESCRYPT_RE ]]
	# $y$PARAMS$SALT$HASH: field 4 is the salt
	[ "$(cut -d'$' -f4 <<<"$h1")" != "$(cut -d'$' -f4 <<<"$h2")" ]
	[ "$h1" != "$h2" ]
}

@test "pop3-handler -H: the whole line is the password, blanks included; a last line without newline counts" {
	local hash
	hash=$(printf ' two words \n' | "$HANDLER" -H)
	add_hashed_user spaced "$hash"
	hash=$(printf 'no-newline' | "$HANDLER" -H)
	add_hashed_user nonl "$hash"
	session -o max_auth_failures=5 -- "USER spaced" "PASS two words" "USER spaced" $'PASS \t two words ' \
		"AUTH PLAIN $(plain_b64 '' spaced ' two words ')" "QUIT"
	# PASS drops the blanks after the keyword: " two words " logs in only via AUTH
	expect_lines 1 "+OK Send your password" "$FAILED" "+OK Send your password" "$FAILED" \
		"+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
	session -- "USER nonl" "PASS no-newline" "QUIT"
	expect_lines 1 "+OK Send your password" "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
}

@test "pop3-handler -H: no input exits non-zero with a message on stderr and nothing on stdout" {
	local rc=0
	"$HANDLER" -H </dev/null >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ]
	[ ! -s "$T/out" ]
	[ "$(cat "$T/err")" = "pop3-handler: no password read (one line of 1 to 511 octets)" ]
	# a line longer than that is refused the same way
	rc=0
	printf '%s\n' "$(printf 'x%.0s' {1..1100})" | "$HANDLER" -H >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ]
	[ ! -s "$T/out" ]
	[ "$(cat "$T/err")" = "pop3-handler: no password read (one line of 1 to 511 octets)" ]
}

@test "pop3-handler -H on a terminal: asks twice without echo; different answers are refused" {
	command -v python3 >/dev/null 2>&1 || skip "python3 is needed for a pseudo-terminal"
	python3 - "$HANDLER" >"$T/out" <<'PY'
import os, pty, select, sys, time

def run(first, second):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], [sys.argv[1], "-H"])
    out = b""

    def read_until(token):
        nonlocal out
        end = time.time() + 5
        while (token is None or token not in out) and time.time() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    data = os.read(fd, 1024)
                except OSError:
                    return
                if not data:
                    return
                out += data

    read_until(b"Password: ")
    # the tool prints the prompt, then turns echo off (flushing typeahead)
    time.sleep(0.3)
    os.write(fd, first + b"\n")
    read_until(b"Again: ")
    time.sleep(0.3)
    os.write(fd, second + b"\n")
    read_until(None)  # to the end of the output
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode().replace("\r\n", "\n")

for pair in ((b"Tty-Pw-8", b"Tty-Pw-8"), (b"Tty-Pw-8", b"Tty-Pw-9")):
    rc, out = run(*pair)
    print("status", rc)
    print(out, end="")
PY
	printf 'status 0\nPassword: \nAgain: \n' >"$T/want"
	sed -n 1,3p "$T/out" | diff "$T/want" -
	local hash
	hash=$(sed -n 4p "$T/out")
	[[ $hash =~ $YESCRYPT_RE ]]
	printf 'status 1\nPassword: \nAgain: \npop3-handler: the passwords differ\n' >"$T/want"
	sed -n '5,$p' "$T/out" | diff "$T/want" -
	# no echo: the password never showed on the terminal
	[ "$(grep -c Tty-Pw "$T/out")" -eq 0 ]
	add_hashed_user ttyuser "$hash"
	session -- "USER ttyuser" "PASS Tty-Pw-8" "QUIT"
	expect_lines 1 "+OK Send your password" "+OK Logged in, 0 messages (0 octets)" "+OK Bye, 0 messages deleted"
}

@test "pop3-handler -H needs no configuration file" {
	local hash
	[ ! -e /etc/pop3-handler.conf ] || skip "/etc/pop3-handler.conf exists on this host"
	hash=$(printf 'pw\n' | "$HANDLER" -H)
	[[ $hash =~ $YESCRYPT_RE ]]
	hash=$(printf 'pw\n' | "$HANDLER" -c "$T/no-such.conf" -H)
	[[ $hash =~ $YESCRYPT_RE ]]
}

# --- timing ---------------------------------------------------------------------------

# median N...: the middle of the numbers (N odd).
median() {
	printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}

# time_session INPUT-FILE: the wall time in microseconds of one handler run
# on that input (the handler alone, not the shell around it).
time_session() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$HANDLER" -c "$T/conf" -o max_auth_failures=1 <"$1" >"$T/out" 2>/dev/null
	t1=$EPOCHREALTIME
	echo $((${t1/./} - ${t0/./}))
}

@test "timing: an unknown user costs about what a known user with a wrong password costs" {
	# Both hashes are of libxcrypt's default method: the known user's made
	# by -H, the unknown user's check is the dummy hash of that method.
	local hash
	hash=$(printf 'right\n' | "$HANDLER" -H)
	[[ $hash =~ $YESCRYPT_RE ]]
	add_hashed_user known "$hash"
	add_hashed_user locked "!$hash"
	printf 'USER known\r\nPASS wrong\r\n' >"$T/known.in"
	printf 'USER nobody\r\nPASS wrong\r\n' >"$T/unknown.in"
	printf 'USER locked\r\nPASS right\r\n' >"$T/locked.in"
	# a session that checks no password at all: what an unknown user
	# would cost if the dummy check were missing
	printf 'USER nobody\r\nQUIT\r\n' >"$T/nocheck.in"
	session -o max_auth_failures=1 -- "USER nobody" "PASS wrong"
	expect_lines 1 "+OK Send your password" "$CLOSING"
	# A round: 7 tries of each, interleaved so that a slow spell of the
	# machine hits all alike, then the medians.  A loaded machine (other
	# suites running) can push one round out of the tolerance, so up to 3
	# rounds are run and one inside it suffices; a missing dummy check is
	# outside in every round (see below).
	local round k u l n
	for round in 1 2 3; do
		local -a known=() unknown=() locked=() nocheck=()
		for _ in 1 2 3 4 5 6 7; do
			known+=("$(time_session "$T/known.in")")
			unknown+=("$(time_session "$T/unknown.in")")
			locked+=("$(time_session "$T/locked.in")")
			nocheck+=("$(time_session "$T/nocheck.in")")
		done
		k=$(median "${known[@]}")
		u=$(median "${unknown[@]}")
		l=$(median "${locked[@]}")
		n=$(median "${nocheck[@]}")
		echo "round $round, medians (us): known $k, unknown $u, locked $l, no check $n"
		echo "  known:   ${known[*]}"
		echo "  unknown: ${unknown[*]}"
		echo "  locked:  ${locked[*]}"
		echo "  nocheck: ${nocheck[*]}"
		# 0.5 <= unknown / known <= 2, the same for a locked account, and
		# the gap to a session without any check (below)
		if [ $((2 * u)) -ge "$k" ] && [ "$u" -le $((2 * k)) ] &&
			[ $((2 * l)) -ge "$k" ] && [ "$l" -le $((2 * k)) ] &&
			[ $((2 * n)) -lt "$k" ]; then
			return 0
		fi
	done
	# The test can fail: a session with a yescrypt check takes some 20 ms,
	# one without any check some 2 ms (about 10x for whole processes here;
	# the lookup alone, without the process start, is thousands of times
	# cheaper than the hash).  Were the dummy check missing, an unknown user
	# (or a locked account) would cost what "no check" costs, and its ratio
	# above would be about 0.1, far below 0.5, in every round: a mutant of
	# auth.c that returns early for unknown users fails here with medians of
	# 22 ms (known) against 2.8 ms (unknown).  The last condition checks
	# that this gap holds on this machine, or the comparison would prove
	# nothing.
	echo "no round had unknown/known and locked/known within [0.5, 2] with no-check/known below 0.5"
	return 1
}
