#!/usr/bin/env bats
# The user database decides who may log in with which password: passwd
# entries and their hash methods, locked, malformed and over-long entries,
# a passwd file that is unsafe or missing, the host's own accounts
# (passwd_file = system, with a user this file creates and removes, as
# root; locked and expired ones), and the hash tool pop3-handler -H that
# makes the entries.

load lib/helpers

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

# --- passwd entries and the passwd file ---------------------------------------

# make_hash PREFIX PASSWORD: prints a libxcrypt hash of the method PREFIX
# names ('$y$', '$2b$', ...), made with mkpasswd or python3 and libcrypt;
# prints nothing when no tool here can make one.
make_hash() {
	local prefix=$1 pw=$2 h="" method=""
	case $prefix in
	'$y$') method=yescrypt ;;
	'$2b$') method=bcrypt ;;
	'$6$') method=sha512crypt ;;
	'$5$') method=sha256crypt ;;
	esac
	if [ -n "$method" ] && command -v mkpasswd >/dev/null 2>&1; then
		h=$(mkpasswd -m "$method" "$pw" 2>/dev/null) || h=""
	fi
	if [[ $h != "$prefix"* ]] && command -v python3 >/dev/null 2>&1; then
		h=$(python3 - "$prefix" "$pw" 2>/dev/null <<'PY'
import ctypes, sys
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
salt = lib.crypt_gensalt(sys.argv[1].encode(), 0, None, 0)
out = lib.crypt(sys.argv[2].encode(), salt) if salt else None
if out and not out.startswith(b"*"):
    print(out.decode())
PY
		) || h=""
	fi
	[[ $h == "$prefix"* ]] && printf '%s' "$h"
	return 0
}

@test "locked accounts (empty hash, '!' or '*' prefix) never log in" {
	local h
	h=$(hash_password secret)
	add_user_hash empty ""
	add_user_hash bang "!$h"
	add_user_hash star "*$h"
	add_user_hash bare '!'
	add_user_hash bare2 '*'
	session -o max_auth_failures=10 -- "USER empty" "PASS secret" "USER bang" "PASS secret" \
		"USER star" "PASS secret" "USER bare" "PASS secret" "USER bare2" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "$FAILED"
	expect_line 8 "$FAILED"
	expect_line 10 "$FAILED"
	expect_line 11 "$NOT_NOW"
}

@test "hash method: sha512crypt \$6\$ (openssl passwd -6)" {
	local h
	h=$(openssl passwd -6 'pw 6')
	[[ $h == '$6$'* ]]
	add_user_hash u6 "$h"
	session -- "USER u6" "PASS pw 6" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_line 3 "+OK Bye, 0 messages deleted"
}

@test "hash method: sha256crypt \$5\$ (openssl passwd -5)" {
	local h
	h=$(openssl passwd -5 'pw 5')
	[[ $h == '$5$'* ]]
	add_user_hash u5 "$h"
	session -- "USER u5" "PASS pw 5" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	expect_line 3 "+OK Bye, 0 messages deleted"
}

@test "hash method: yescrypt \$y\$" {
	local h
	h=$(make_hash '$y$' 'pw y')
	[ -n "$h" ] || skip "neither mkpasswd nor python3 with libcrypt can make a yescrypt hash here"
	add_user_hash uy "$h"
	session -o max_auth_failures=5 -- "USER uy" "PASS pw Y" "USER uy" "PASS pw y" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "hash method: bcrypt \$2b\$" {
	local h
	h=$(make_hash '$2b$' 'pw b')
	[ -n "$h" ] || skip "neither mkpasswd nor python3 with libcrypt can make a bcrypt hash here"
	add_user_hash ub "$h"
	session -o max_auth_failures=5 -- "USER ub" "PASS pw B" "USER ub" "PASS pw b" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	expect_line 5 "+OK Bye, 0 messages deleted"
}

@test "a hash of an unknown method never matches" {
	add_user_hash odd '$9$abc$def'
	add_user_hash plain 'secret'
	session -o max_auth_failures=5 -- "USER odd" "PASS secret" "USER plain" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 5 "$NOT_NOW"
}

@test "malformed passwd lines are logged and skipped; other users still log in" {
	local h
	h=$(hash_password secret)
	{
		echo "# a comment"
		echo ""
		echo "short:$h:4242:4242:only six fields"
		echo "nonnum:$h:42x:4242:g:$T/home/nonnum:/bin/sh"
		echo "relhome:$h:4242:4242:g:home/relhome:/bin/sh"
		echo "eight:$h:4242:4242:g:$T/home/eight:/bin/sh:extra"
		echo "bigid:$h:4294967295:4242:g:$T/home/bigid:/bin/sh"
	} >>"$T/passwd"
	add_user alice secret
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "+OK Logged in, 0 messages (0 octets)"
	[ "$(grep -c 'malformed entry skipped' "$T/log")" -eq 5 ]
	for n in 3 4 5 6 7; do
		grep -q "$T/passwd line $n: malformed entry skipped" "$T/log"
	done
	# comment and blank lines are no warnings
	refute_grep "line [12]:" "$T/log"

	# the malformed entries themselves never log in
	session -o max_auth_failures=10 -- "USER short" "PASS secret" "USER nonnum" "PASS secret" \
		"USER relhome" "PASS secret" "USER eight" "PASS secret" "USER bigid" "PASS secret" "STAT"
	expect_line 2 "$FAILED"
	expect_line 4 "$FAILED"
	expect_line 6 "$FAILED"
	expect_line 8 "$FAILED"
	expect_line 10 "$FAILED"
	expect_line 11 "$NOT_NOW"
}

@test "a passwd line longer than 4096 octets is logged and skipped; the next user logs in" {
	local h long
	h=$(hash_password secret)
	long=$(printf 'g%.0s' {1..5000})
	echo "huge:$h:4242:4242:$long:$T/home/huge:/bin/sh" >>"$T/passwd"
	add_user alice secret
	session -o max_auth_failures=5 -- "USER huge" "PASS secret" "USER alice" "PASS secret" "QUIT"
	expect_line 2 "$FAILED"
	expect_line 4 "+OK Logged in, 0 messages (0 octets)"
	grep -q "$T/passwd line 1: too long, skipped" "$T/log"
}

@test "a world-writable passwd file is refused with -ERR [SYS/TEMP] and logged" {
	add_user alice secret
	chmod 666 "$T/passwd"
	session -- "USER alice" "PASS secret" "STAT" "QUIT"
	expect_line 1 "+OK Send your password"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	expect_line 3 "$NOT_NOW"
	grep -q "refusing $T/passwd: writable by group or others" "$T/log"
}

@test "a group-writable passwd file is refused too" {
	add_user alice secret
	chmod 620 "$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "refusing $T/passwd" "$T/log"
}

@test "a missing passwd file gives -ERR [SYS/TEMP] and is logged" {
	rm -f "$T/passwd"
	session -- "USER alice" "PASS secret" "QUIT"
	expect_line 2 "-ERR [SYS/TEMP] Authentication is temporarily unavailable"
	grep -q "cannot open user database $T/passwd" "$T/log"
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
