# Shared by tests/deploy.bats and tests/clients-tls.bats (load lib/clients after
# helpers): a mailbox with awkward messages, a self-signed certificate,
# launchers on free 127.0.0.1 ports stopped by PID, and byte-for-byte
# comparison of what a client fetched with the Maildir.

CLIENTS="$BATS_TEST_DIRNAME/clients"
PASSWORD='open sesame'		# a space: PASS takes the rest of the line
SERVER_PIDS=()

# make_cert DIR: a self-signed certificate for CN=localhost with the
# subjectAltName DNS:localhost and IP:127.0.0.1, valid 2 days: DIR/cert.pem
# (what clients trust), DIR/key.pem, and DIR/pop3.pem (key and certificate
# in one file, as contrib/stunnel/ expects /etc/stunnel/pop3.pem).
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
		-keyout "$1/key.pem" -out "$1/cert.pem" 2>"$1/openssl.log" || {
		cat "$1/openssl.log"
		return 1
	}
	cat "$1/key.pem" "$1/cert.pem" >"$1/pop3.pem"
	chmod 600 "$1/key.pem" "$1/pop3.pem"
}

# --- the mailbox ---------------------------------------------------------

# setup_mailbox: user alice (password $PASSWORD) with four messages, in
# delivery order: LF line ends with dot-stuffing cases; CRLF line ends; no
# final newline, already in cur/ with flags; 110 kB.  Their base names are
# ${BASES[1..4]}; $T/orig/N keeps a copy of each file to check the Maildir
# keeps them untouched.
setup_mailbox() {
	add_user alice "$PASSWORD"
	BASES=('' 1700000001.M1P101.host 1700000002.M2P102.host 1700000003.M3P103.host 1700000004.M4P104.host)
	deliver alice "${BASES[1]}" 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: one\n\nhello\n.a line starting with a dot\n..two dots\n.\nlast line\n'
	deliver alice "${BASES[2]}" 'From: Bob <bob@example.org>\r\nSubject: two, CRLF\r\n\r\nline one\r\n.\r\nline three\r\n'
	deliver alice "${BASES[3]}:2,S" 'Subject: three\n\nno final newline' cur
	python3 - "$T/home/alice/Maildir/new/${BASES[4]}" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: Carol <carol@example.org>\nSubject: four, 110 kB\n\n")
    for i in range(2400):
        f.write((".dotted" if i % 97 == 0 else "From " if i % 89 == 0 else "line")
                + " %05d " % i + "x" * (i % 70) + "\n")
PY
	chown "$TEST_UID:$TEST_GID" "$T/home/alice/Maildir/new/${BASES[4]}" 2>/dev/null || true
	mkdir -p "$T/orig"
	local n
	for n in 1 2 3 4; do
		cp "$(maildir_file "$n")" "$T/orig/$n"
	done
}

# maildir_file N: the path of message N of alice's Maildir, found by its
# base name in cur/ or new/ (logins move files and change their flags).
maildir_file() {
	local found
	found=$(find "$T/home/alice/Maildir/cur" "$T/home/alice/Maildir/new" -type f \
		\( -name "${BASES[$1]}" -o -name "${BASES[$1]}:*" \))
	if [ -z "$found" ] || [ "$(printf '%s\n' "$found" | wc -l)" -ne 1 ]; then
		echo "message $1 (${BASES[$1]}) is not exactly once in the Maildir: '$found'" >&2
		return 1
	fi
	printf '%s\n' "$found"
}

# gone N: message N is no longer in the Maildir.
gone() {
	if [ -n "$(find "$T/home/alice/Maildir" -name "${BASES[$1]}*")" ]; then
		echo "message $1 (${BASES[$1]}) is still in the Maildir"
		return 1
	fi
}

# exact_size N: message N's size with CRLF line ends, as LIST says (the
# CRLF the server adds after a last line without newline not counted).
exact_size() {
	local f=$T/orig/$1
	echo $(($(wc -c <"$f") + $(tr -cd '\n' <"$f" | wc -c) - $(grep -c $'\r$' "$f")))
}

# total_size N...: the sum of their exact sizes.
total_size() {
	local n sum=0
	for n in "$@"; do sum=$((sum + $(exact_size "$n"))); done
	echo "$sum"
}

# expect_message N FILE crlf|lf: FILE, what a client fetched or stored, is
# message N of the Maildir byte for byte (expect_converted), and the
# Maildir file itself is still what was delivered.
expect_message() {
	local src
	src=$(maildir_file "$1") || return 1
	if ! cmp -s "$T/orig/$1" "$src"; then
		echo "the Maildir file of message $1 changed: $src"
		return 1
	fi
	expect_converted "$src" "$2" "$3"
}

# expect_converted SOURCE FILE crlf|lf: FILE is the message file SOURCE with
# every line ending in CRLF (crlf: POP3's form, dot-stuffing undone) or LF
# (lf: clients that store Unix text), and a line end added after a last
# line without one (the server sends one before the terminating dot).
expect_converted() {
	local src=$1 got=$2 form=$3 want
	want=$T/want.$form
	if [ "$form" = crlf ]; then
		LC_ALL=C awk '{ sub(/\r$/, ""); printf "%s\r\n", $0 }' "$src" >"$want"
	else
		LC_ALL=C awk '{ sub(/\r$/, ""); print }' "$src" >"$want"
	fi
	if ! cmp "$want" "$got"; then
		echo "$got (what the client got) is not $src with $form line ends:"
		diff <(od -An -c "$want") <(od -An -c "$got") | head -20
		return 1
	fi
}

# expect_logged TEXT: the server log ($T/server.log) has a line
# "pop3-handler[PID]: info: TEXT..." (waits up to 3 s: a handler may still
# be ending when its client is done).
expect_logged() {
	local _i
	for _i in $(seq 60); do
		sed -n 's/^pop3-handler\[[0-9]*\]: [a-z]*: //p' "$T/server.log" | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "the log lacks: $1"
	echo "--- log ---"
	cat "$T/server.log"
	return 1
}

# --- launchers -------------------------------------------------------------

# free_port: a TCP port of 127.0.0.1 that nothing listened on a moment ago.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
PY
}

# start_listening PORT START: calls START PORT, which starts one launcher in
# the background (output to $T/server.log) and sets SERVER_PID, and waits up
# to 10 s for 127.0.0.1:PORT to accept connections; a launcher that exits or
# does not listen is stopped, and the status is 1.
start_listening() {
	local _i
	SERVER_PID=
	: >"$T/server.log"
	"$2" "$1"
	SERVER_PIDS+=("$SERVER_PID")
	for _i in $(seq 200); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		port_open "$1" && return 0
		sleep 0.05
	done
	stop_process "$SERVER_PID"
	return 1
}

# serve START: picks a free port and starts START on it (start_listening).
# A launcher that exits (the port was taken meanwhile) is retried on another
# port.  Sets PORT; stop_servers (teardown) stops every launcher by its PID.
serve() {
	local _try
	for _try in 1 2 3; do
		PORT=$(free_port)
		start_listening "$PORT" "$1" && return 0
	done
	echo "$1 did not listen on 127.0.0.1:$PORT; its log:"
	cat "$T/server.log"
	return 1
}

stop_servers() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		stop_process "$p"
	done
	SERVER_PIDS=()
}

# start_socket_activate PORT: systemd-socket-activate as inetd would run the
# handler, one process per connection (for serve).
start_socket_activate() {
	systemd-socket-activate --inetd -a -l "127.0.0.1:$1" "$HANDLER" -c "$T/conf" \
		</dev/null >>"$T/server.log" 2>&1 3>&- &
	SERVER_PID=$!
}

# stunnel_conf CONTRIB PORT: a contrib/stunnel/ file adapted to the test:
# accept on 127.0.0.1:PORT, the test's certificate, the built handler with
# -c $T/conf before the contrib's own arguments (-o tls=yes); written to
# $T/stunnel.conf.  setuid = root goes when the tests do not run as root.
stunnel_conf() {
	local src="$BATS_TEST_DIRNAME/../contrib/stunnel/$1"
	sed -e "s|^accept *=.*|accept = 127.0.0.1:$2|" \
		-e "s|^cert *=.*|cert = $CERT_DIR/pop3.pem|" \
		-e "s|^exec *=.*|exec = $HANDLER|" \
		-e "s|^execArgs *= *pop3-handler |execArgs = pop3-handler -c $T/conf |" "$src" >"$T/stunnel.conf"
	[ "$(id -u)" -eq 0 ] || sed -i '/^setuid *=/d' "$T/stunnel.conf"
	local want
	for want in "accept = 127.0.0.1:$2" "cert = $CERT_DIR/pop3.pem" "exec = $HANDLER" \
		"execArgs = pop3-handler -c $T/conf -o tls=yes" "foreground = yes"; do
		if ! grep -qxF -- "$want" "$T/stunnel.conf"; then
			echo "$src could not be adapted: no line '$want' in:"
			cat "$T/stunnel.conf"
			return 1
		fi
	done
}

start_stunnel_pop3s() {
	stunnel_conf pop3s.conf "$1" || return 1
	stunnel "$T/stunnel.conf" </dev/null >>"$T/server.log" 2>&1 3>&- &
	SERVER_PID=$!
}

start_stunnel_starttls() {
	stunnel_conf pop3-starttls.conf "$1" || return 1
	grep -qx 'protocol = pop3' "$T/stunnel.conf"
	stunnel "$T/stunnel.conf" </dev/null >>"$T/server.log" 2>&1 3>&- &
	SERVER_PID=$!
}
