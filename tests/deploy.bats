#!/usr/bin/env bats
# Deployment: make install/uninstall into a DESTDIR, the man pages, the
# contrib files (systemd units checked by systemd-analyze, headers, the
# example configuration), and the handler started by real launchers on
# 127.0.0.1: xinetd with contrib/xinetd.d/pop3 adapted, and
# systemd-socket-activate as inetd would run it, with curl and Python's
# poplib as clients.

load lib/helpers
load lib/clients

SRC="$BATS_TEST_DIRNAME/.."

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
}

teardown() {
	stop_servers
	# the demo's namespace (lib/namespace, loaded by its test)
	if declare -F ns_stop >/dev/null; then
		ns_stop
	fi
	cleanup_world
}

# make_install TARGET: make TARGET with DESTDIR=$T/inst PREFIX=/usr.
make_install() {
	make -s --no-print-directory -C "$SRC" "$1" DESTDIR="$T/inst" PREFIX=/usr >"$T/make.out" 2>&1 || {
		echo "make $1 failed:"
		cat "$T/make.out"
		return 1
	}
}

# The tree make install must produce under DESTDIR (PREFIX=/usr).
INSTALLED_FILES="usr/sbin/pop3-handler
usr/share/doc/pop3-handler/README
usr/share/doc/pop3-handler/fail2ban/filter.d/pop3-handler.conf
usr/share/doc/pop3-handler/fail2ban/jail.d/pop3-handler.conf
usr/share/doc/pop3-handler/haproxy.cfg
usr/share/doc/pop3-handler/inetd.conf
usr/share/doc/pop3-handler/pam.d/pop3-handler
usr/share/doc/pop3-handler/pop3-handler.conf
usr/share/doc/pop3-handler/stunnel/pop3-starttls.conf
usr/share/doc/pop3-handler/stunnel/pop3s.conf
usr/share/doc/pop3-handler/systemd/pop3.socket
usr/share/doc/pop3-handler/systemd/pop3@.service
usr/share/doc/pop3-handler/systemd/stunnel-pop3s.service
usr/share/doc/pop3-handler/xinetd.d/pop3
usr/share/man/man5/pop3-handler.conf.5
usr/share/man/man8/pop3-handler.8"

# source_of PATH: the file of the source tree PATH (installed) comes from.
source_of() {
	case $1 in
	usr/sbin/pop3-handler) echo "$SRC/pop3-handler" ;;
	usr/share/man/*/*) echo "$SRC/man/${1##*/}" ;;
	usr/share/doc/pop3-handler/README) echo "$SRC/README" ;;
	usr/share/doc/pop3-handler/*) echo "$SRC/contrib/${1#usr/share/doc/pop3-handler/}" ;;
	esac
}

# --- make install / uninstall, man pages -----------------------------------

@test "make install DESTDIR= PREFIX=/usr installs exactly the binary, the man pages and the documentation" {
	make_install install
	(cd "$T/inst" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort) >"$T/got"
	if ! diff <(printf '%s\n' "$INSTALLED_FILES" | LC_ALL=C sort) "$T/got"; then
		echo "the installed tree differs from the expected one (< expected, > installed)"
		return 1
	fi
	local f mode
	while IFS= read -r f; do
		mode=644
		[ "$f" = usr/sbin/pop3-handler ] && mode=755
		[ "$(stat -c %a "$T/inst/$f")" = "$mode" ] || { echo "$f: mode $(stat -c %a "$T/inst/$f"), expected $mode"; return 1; }
		cmp "$(source_of "$f")" "$T/inst/$f"
	done <<<"$INSTALLED_FILES"
	run "$T/inst/usr/sbin/pop3-handler" -V
	[ "$status" -eq 0 ]
	[[ "$output" == "pop3-handler "[0-9]* ]]
	[ "$output" = "$("$SRC/pop3-handler" -V)" ]
}

@test "make install makes var/empty, the default privsep_dir (mode 755, empty), and leaves an existing one alone" {
	make_install install
	[ -d "$T/inst/var/empty" ] && [ ! -L "$T/inst/var/empty" ]
	[ "$(stat -c %a "$T/inst/var/empty")" = 755 ]
	[ -z "$(ls -A "$T/inst/var/empty")" ]
	if [ "$(id -u)" -eq 0 ]; then
		[ "$(stat -c %u "$T/inst/var/empty")" = 0 ]
	fi
	chmod 711 "$T/inst/var/empty"
	make_install install
	[ "$(stat -c %a "$T/inst/var/empty")" = 711 ]
	make_install uninstall
	[ -d "$T/inst/var/empty" ]
}

@test "man renders both installed pages without warnings" {
	command -v man >/dev/null 2>&1 || skip "man is not installed"
	make_install install
	local page
	for page in usr/share/man/man8/pop3-handler.8 usr/share/man/man5/pop3-handler.conf.5; do
		MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$T/inst/$page" >"$T/man.out" 2>"$T/man.err" || {
			echo "man -l $page failed:"
			cat "$T/man.err"
			return 1
		}
		if [ -s "$T/man.err" ]; then
			echo "man --warnings on $page:"
			cat "$T/man.err"
			return 1
		fi
		grep -q '^NAME' "$T/man.out"
		grep -q 'pop3-handler' "$T/man.out"
	done
}

@test "make uninstall with the same DESTDIR and PREFIX leaves no file behind" {
	make_install install
	make_install uninstall
	local left
	left=$(cd "$T/inst" && find . -type f -o -type l)
	if [ -n "$left" ]; then
		echo "left behind: $left"
		return 1
	fi
	[ ! -e "$T/inst/usr/share/doc/pop3-handler" ]
}

# --- contrib ---------------------------------------------------------------

@test "the contrib systemd units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
	mkdir "$T/units"
	cp "$SRC"/contrib/systemd/pop3.socket "$SRC"/contrib/systemd/pop3@.service \
		"$SRC"/contrib/systemd/stunnel-pop3s.service "$T/units/"
	local handler
	handler=$(realpath "$HANDLER")
	# ExecStart must name an executable that exists here
	sed -i "s|^ExecStart=/usr/local/sbin/pop3-handler|ExecStart=$handler|" "$T/units/pop3@.service"
	grep -q "^ExecStart=$handler\( \|$\)" "$T/units/pop3@.service"
	grep -q '^ExecStart=/usr/bin/stunnel4 ' "$T/units/stunnel-pop3s.service"
	local opts=()
	if command -v man >/dev/null 2>&1; then
		# Documentation=man:pop3-handler(8) ... must resolve: the pages in
		# a man tree, then the system's (the trailing colon)
		mkdir -p "$T/man/man5" "$T/man/man8"
		cp "$SRC/man/pop3-handler.8" "$T/man/man8/"
		cp "$SRC/man/pop3-handler.conf.5" "$T/man/man5/"
		export MANPATH="$T/man:"
	else
		opts=(--man=no)
	fi
	status=0
	(cd "$T/units" && systemd-analyze verify "${opts[@]}" ./pop3.socket ./pop3@.service ./stunnel-pop3s.service) \
		>"$T/verify.out" 2>&1 || status=$?
	if [ "$status" -ne 0 ] || grep -Eq 'pop3|stunnel' "$T/verify.out"; then
		echo "systemd-analyze verify exited with $status:"
		cat "$T/verify.out"
		return 1
	fi
}

@test "pop3@.service's SystemCallFilter allows every system call a session makes" {
	command -v strace >/dev/null 2>&1 || skip "strace is not installed"
	# a sanitizer build makes system calls of its own
	[ -z "${POP3_HANDLER:-}" ] || skip "POP3_HANDLER is another build"
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
	setup_mailbox
	# an NTLM challenge, a failed login, AUTH PLAIN, every command, new/ ->
	# cur/ moves, a new UID list under its lock, Seen flags and a removal at
	# QUIT; then a session on the now current list; both logging to syslog
	# (GSSAPI: tests/login-gssapi.bats)
	printf 'AUTH NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=\r\n*\r\nUSER alice\r\nPASS wrong\r\nAUTH PLAIN %s\r\nCAPA\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 0\r\nRETR 2\r\nNOOP\r\nDELE 3\r\nRSET\r\nDELE 1\r\nQUIT\r\n' \
		"$(plain_b64 '' alice "$PASSWORD")" >"$T/in1"
	printf 'USER alice\r\nPASS %s\r\nSTAT\r\nRETR 1\r\nQUIT\r\n' "$PASSWORD" >"$T/in2"
	strace -f -qq -o "$T/trace1" "$HANDLER" -c "$T/conf" -o log=syslog -o ntlm=yes <"$T/in1" >"$T/out1" 2>&1
	strace -f -qq -o "$T/trace2" "$HANDLER" -c "$T/conf" -o log=syslog <"$T/in2" >"$T/out2" 2>&1
	grep -q '^+OK Bye, 1 message deleted' "$T/out1" || { cat "$T/out1"; return 1; }
	grep -q '^+ TlRMTVNTUAACAAAA' "$T/out1" || { cat "$T/out1"; return 1; }
	grep -q '^+OK Bye' "$T/out2" || { cat "$T/out2"; return 1; }
	gone 1
	systemd-analyze syscall-filter >"$T/groups" 2>/dev/null
	"$SRC/tests/unit-filter-allows" "$SRC/contrib/systemd/pop3@.service" "$T/groups" "$T/trace1" "$T/trace2"
}

@test "every contrib file starts with a comment saying what it is for" {
	local f first block n=0 re='^[#;] *[^ ].*[[:alpha:]]+ [[:alpha:]]+'
	while IFS= read -r f; do
		n=$((n + 1))
		first=$(sed -n '1{/^#!/d;p};2{p;q}' "$f" | head -1)
		# the comment block at the top (after a #! line)
		block=$(sed '1{/^#!/d}' "$f" | sed -n '/^[#;]/!q;p')
		if ! [[ $first =~ $re ]]; then
			echo "$f does not start with a comment: '$first'"
			return 1
		fi
		if ! grep -qi 'pop3' <<<"$block"; then
			echo "the opening comment of $f does not say what it is for:"
			echo "$block"
			return 1
		fi
	done < <(find "$SRC/contrib" -type f | LC_ALL=C sort)
	[ "$n" -ge 9 ]
}

# readme_keys: "KEY DEFAULT" for each row of the README's configuration table.
readme_keys() {
	awk '/^Configuration reference/ { t = 1 } t && /^Behaviour/ { t = 0 }
		t && /^  [a-z_]+  +[^ ]/ && $1 != "key" { print $1, $2 }' "$SRC/README"
}

@test "contrib/pop3-handler.conf sets every key of the README's table to its default; pop3-handler.conf(5) documents each" {
	readme_keys >"$T/keys"
	[ "$(wc -l <"$T/keys")" -ge 10 ]
	local key def re
	while read -r key def; do
		# "(none)": the empty value, which the example sets.
		if [ "$def" = "(none)" ]; then
			grep -qx "$key =" "$SRC/contrib/pop3-handler.conf" || { echo "contrib/pop3-handler.conf lacks '$key ='"; return 1; }
			grep -Eq "^\.BR $key \" \(default: none\)\"" "$SRC/man/pop3-handler.conf.5" || {
				echo "pop3-handler.conf(5) does not document $key with the default none"
				return 1
			}
			continue
		fi
		# A default in parentheses is found at run time (the host name,
		# krb5.conf's realm): the example shows the key commented out.
		if [[ "$def" == "("* ]]; then
			grep -Eq "^#$key = " "$SRC/contrib/pop3-handler.conf" || { echo "contrib/pop3-handler.conf lacks #$key"; return 1; }
			grep -Eq "^\.BR $key \" \(default: " "$SRC/man/pop3-handler.conf.5" || {
				echo "pop3-handler.conf(5) does not document $key with its default"
				return 1
			}
			continue
		fi
		grep -Eq "^$key = " "$SRC/contrib/pop3-handler.conf" || { echo "contrib/pop3-handler.conf lacks $key"; return 1; }
		grep -qxF "$key = $def" "$SRC/contrib/pop3-handler.conf" || {
			echo "contrib/pop3-handler.conf: $(grep -E "^$key = " "$SRC/contrib/pop3-handler.conf"), the README's default is $def"
			return 1
		}
		re=$(printf '%s' "$def" | sed 's/[].[*^$()+?{|\\/]/\\&/g')
		grep -Eq "^\.BR? $key \" \(default (\" )?${re}[ ,)\"]" "$SRC/man/pop3-handler.conf.5" || {
			echo "pop3-handler.conf(5) does not document $key with the default $def:"
			grep -n "$key" "$SRC/man/pop3-handler.conf.5" | head -3
			return 1
		}
	done <"$T/keys"
	# and the example sets no key the README does not list
	local k
	for k in $(sed -n 's/^\([a-z_]*\) *=.*/\1/p' "$SRC/contrib/pop3-handler.conf"); do
		grep -q "^$k " "$T/keys" || { echo "contrib/pop3-handler.conf sets $k, missing from the README's table"; return 1; }
	done
}

@test "the handler accepts contrib/pop3-handler.conf (passwd_file pointed at the test's)" {
	setup_mailbox
	sed "s|^passwd_file = .*|passwd_file = $T/passwd|" "$SRC/contrib/pop3-handler.conf" >"$T/conf"
	grep -qx "passwd_file = $T/passwd" "$T/conf"
	session -- "USER alice" "PASS $PASSWORD" "STAT" "QUIT"
	if [ "$status" -ne 0 ]; then
		echo "the handler exited with $status:"
		echo "$output"
		cat "$T/log"
		return 1
	fi
	expect_line 0 "+OK POP3 server ready"
	expect_match 1 "+OK *"
	expect_line 2 "+OK Logged in, 4 messages ($(total_size 1 2 3 4) octets)"
	expect_line 3 "+OK 4 $(total_size 1 2 3 4)"
	expect_match 4 "+OK Bye*"
	expect_lines 5
}

# --- xinetd ----------------------------------------------------------------

# xinetd_conf PORT SERVER SERVER_ARGS: contrib/xinetd.d/pop3 adapted to the
# test ($T/xinetd.conf): bound to 127.0.0.1:PORT, SERVER with SERVER_ARGS;
# the rest (user, instances, per_source, cps...) as shipped.
xinetd_conf() {
	sed -e "s|^\([[:space:]]*\)port\([[:space:]]*\)=.*|\1port\2= $1\n\1bind\2= 127.0.0.1|" \
		-e "s|^\([[:space:]]*\)server\([[:space:]]*\)=.*|\1server\2= $2\n\1server_args\t= $3|" \
		"$SRC/contrib/xinetd.d/pop3" >"$T/xinetd.conf"
	local want
	for want in "port = $1" "bind = 127.0.0.1" "server = $2" "server_args = $3" "user = root" \
		"instances = 50" "per_source = 5" "cps = 20 10"; do
		if ! tr -s ' \t' ' ' <"$T/xinetd.conf" | sed 's/^ //' | grep -qxF -- "$want"; then
			echo "contrib/xinetd.d/pop3 could not be adapted: no '$want' in:"
			cat "$T/xinetd.conf"
			return 1
		fi
	done
}

start_xinetd() {
	xinetd_conf "$1" "$XINETD_SERVER" "$XINETD_ARGS" || return 1
	xinetd -dontfork -stayalive -f "$T/xinetd.conf" -pidfile "$T/xinetd.pid" -filelog "$T/server.log" \
		</dev/null >>"$T/server.log" 2>&1 3>&- &
	SERVER_PID=$!
}

xinetd_setup() {
	command -v xinetd >/dev/null 2>&1 || skip "xinetd is not installed"
	[ "$(id -u)" -eq 0 ] || skip "xinetd runs services as root (user = root) only when it is root"
	setup_mailbox
}

@test "xinetd (contrib/xinetd.d/pop3): curl lists and retrieves every message byte for byte" {
	xinetd_setup
	# log = syslog as in production: xinetd puts fd 2 on the client's socket
	XINETD_SERVER=$(realpath "$HANDLER")
	XINETD_ARGS="-c $T/conf -o log=syslog"
	serve start_xinetd
	curl -sS --max-time 20 -u "alice:$PASSWORD" "pop3://127.0.0.1:$PORT/" >"$T/list"
	printf '%s %s\r\n' 1 "$(exact_size 1)" 2 "$(exact_size 2)" 3 "$(exact_size 3)" 4 "$(exact_size 4)" >"$T/want.list"
	cmp "$T/want.list" "$T/list"
	local n
	for n in 1 2 3 4; do
		curl -sS --max-time 20 -u "alice:$PASSWORD" "pop3://127.0.0.1:$PORT/$n" >"$T/got.$n"
		expect_message "$n" "$T/got.$n" crlf
	done
	# xinetd is still the process we started, and stops by its PID
	[ "$(cat "$T/xinetd.pid")" = "$SERVER_PID" ]
	stop_servers
	run kill -0 "$(cat "$T/xinetd.pid")"
	[ "$status" -ne 0 ]
}

@test "xinetd: the handler gets the client's address (REMOTE_HOST) and logs it" {
	xinetd_setup
	# tests/clients/log-to keeps the handler's stderr (log = stderr in
	# $T/conf) off the socket, and notes the launcher's variables
	XINETD_SERVER=$CLIENTS/log-to
	XINETD_ARGS="$T/server.log $(realpath "$HANDLER") -c $T/conf"
	serve start_xinetd
	curl -sS --max-time 20 -u "alice:$PASSWORD" "pop3://127.0.0.1:$PORT/" >"$T/list"
	[ "$(wc -l <"$T/list")" -eq 4 ]
	grep -q '^launcher environment: REMOTE_ADDR=unset REMOTE_HOST=127.0.0.1 ' "$T/server.log" || {
		cat "$T/server.log"
		return 1
	}
	expect_logged "login user=alice mechanism=PLAIN client=127.0.0.1 messages=4"
}

# --- systemd-socket-activate as inetd --------------------------------------

@test "systemd-socket-activate --inetd: curl lists, retrieves each message byte for byte, and DELE removes one" {
	command -v systemd-socket-activate >/dev/null 2>&1 || skip "systemd-socket-activate is not installed"
	setup_mailbox
	serve start_socket_activate
	local url="pop3://127.0.0.1:$PORT"
	curl -sS --max-time 20 -u "alice:$PASSWORD" "$url/" >"$T/list"
	printf '%s %s\r\n' 1 "$(exact_size 1)" 2 "$(exact_size 2)" 3 "$(exact_size 3)" 4 "$(exact_size 4)" >"$T/want.list"
	cmp "$T/want.list" "$T/list"
	local n
	for n in 1 2 3 4; do
		curl -sS --max-time 20 -u "alice:$PASSWORD" "$url/$n" >"$T/got.$n"
		expect_message "$n" "$T/got.$n" crlf
	done
	# DELE answers one line: -I (no body) keeps curl from waiting for a
	# multi-line reply
	curl -sS --max-time 20 -u "alice:$PASSWORD" "$url/1" -X DELE -I >/dev/null
	gone 1
	curl -sS --max-time 20 -u "alice:$PASSWORD" "$url/" >"$T/list"
	printf '%s %s\r\n' 1 "$(exact_size 2)" 2 "$(exact_size 3)" 3 "$(exact_size 4)" >"$T/want.list"
	cmp "$T/want.list" "$T/list"
	expect_logged "login user=alice mechanism=PLAIN client=127.0.0.1 messages=4"
	expect_logged "logout user=alice retrieved=0 octets=0 deleted=1 octets=$(exact_size 1)"
}

@test "systemd-socket-activate --inetd: poplib from loopback (USER/PASS, STAT, UIDL, RETR, DELE, QUIT); the Maildir afterwards" {
	command -v systemd-socket-activate >/dev/null 2>&1 || skip "systemd-socket-activate is not installed"
	setup_mailbox
	serve start_socket_activate
	local uids=() n
	mkdir "$T/got"
	for n in 1 2 3 4; do
		cmp "$T/orig/$n" "$(maildir_file "$n")"
	done
	run "$CLIENTS/poplib-fetch" 127.0.0.1 "$PORT" alice "$PASSWORD" "$T/got" 3
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "welcome +OK POP3 server ready" ]
	[[ "${lines[1]}" == "capa "*" USER"* ]]
	[[ "${lines[3]}" == "pass +OK "* ]]
	[ "${lines[4]}" = "stat 4 $(total_size 1 2 3 4)" ]
	for n in 1 2 4; do
		uids[n]=$(list_uid alice "${BASES[$n]}")
		[ "${lines[$((8 + n))]}" = "uidl $n ${uids[n]}" ]
	done
	# message 3 was removed by QUIT, and with it its UID list entry
	[[ "${lines[11]}" =~ ^"uidl 3 "[0-9]+$ ]]
	[ -z "$(list_uid alice "${BASES[3]}")" ]
	# message 3 is gone now: compare it with the file as delivered
	for n in 1 2 4; do
		expect_message "$n" "$T/got/$n" crlf
	done
	expect_converted "$T/orig/3" "$T/got/3" crlf
	[[ "${lines[17]}" == "dele 3 +OK"* ]]
	[[ "${lines[18]}" == "quit +OK Bye, 1 message"* ]]
	# after QUIT: message 3 removed; the others in cur/, seen, same UIDs
	gone 3
	for n in 1 2 4; do
		[[ "$(maildir_file "$n")" == "$T/home/alice/Maildir/cur/${BASES[$n]}:2,S" ]]
		cmp "$T/orig/$n" "$(maildir_file "$n")"
		[ "$(list_uid alice "${BASES[$n]}")" = "${uids[n]}" ]
	done
	[ -z "$(find "$T/home/alice/Maildir/new" "$T/home/alice/Maildir/tmp" -type f)" ]
	expect_logged "login user=alice mechanism=USER client=127.0.0.1 messages=4"
	expect_logged "logout user=alice retrieved=4 "
}

@test "make demo's script (contrib/demo) as root: its session, curl in the clear and with NTLM, and curl through stunnel all log in" {
	[ "$(id -u)" -eq 0 ] || skip "run as root, the demo makes its own system user"
	load lib/namespace
	# Its system user pop3demo is made in a private namespace, not on the machine.
	ns_start
	status=0
	ns env DEMO_DIR="$T/demo" DEMO_PLAIN_PORT="$(free_port)" DEMO_TLS_PORT="$(free_port)" \
		timeout -k 5 120 bash -c 'cd "$1" && ./contrib/demo' demo "$SRC" </dev/null >"$T/demo.out" 2>&1 || status=$?
	ns_stop
	[ "$status" -eq 0 ] || { echo "contrib/demo ended with status $status:"; cat "$T/demo.out"; return 1; }
	grep -qx '+OK Logged in, 3 messages (449 octets)' "$T/demo.out" || { cat "$T/demo.out"; return 1; }
	# LIST in the session, and through the socket in the clear and with NTLM
	[ "$(tr -d '\r' <"$T/demo.out" | grep -cx '1 211')" -eq 3 ]
	# RETR 1 in the session and through stunnel
	[ "$(tr -d '\r' <"$T/demo.out" | grep -cx 'Subject: Welcome')" -eq 2 ]
}
