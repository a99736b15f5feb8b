#!/usr/bin/env bats
# client_workarounds (Dovecot's pop3_client_workarounds): outlook-no-nuls
# sends NUL octets as 0x80 in RETR and TOP; oe-ns-eoh ends a header that no
# blank line ends (a message that is only a header, the empty message) with
# one.  Each on and off, and both together: LIST's sizes against what RETR
# sends octet for octet (between the +OK line and the terminating dot, dot-
# stuffing undone), the exact octets sent, TOP, the sizes the UID list
# keeps across a change of the key, sizes from ,S= and ,W= names,
# exact_size = no, many messages (read by threads), and bad values.

load lib/helpers
load lib/maildir

# The messages, in delivery order:
#  1  NULs in the body, a dot line                         LF
#  2  a header alone, a NUL in it                          CRLF
#  3  a header alone, no final newline                     LF
#  4  a header alone                                       LF
#  5  the empty message
#  6  a body without final newline                        CRLF
#  7  the blank line first, then a body                    LF
#  8  a header alone whose last line is a dot
M=(
	''
	'Subject: one\n\nbody\0with a NUL\n\0\n.dot\n'
	'Subject: two\r\nX-Nul: a\0b\r\n'
	'Subject: three\nFrom: x'
	'Subject: four\n'
	''
	'Subject: six\r\n\r\nbody\r\nlast, no newline'
	'\nbody seven\n'
	'Subject: eight\n.\n'
)
COUNT=8

base() { printf '17000000%02d.M%dP1.host' "$1" "$1"; }

# eight_messages: alice (password secret) with the eight messages in new/.
eight_messages() {
	local i
	add_user alice secret
	for ((i = 1; i <= COUNT; i++)); do
		deliver alice "$(base "$i")" "${M[$i]}"
	done
}

# fetch_all [-o key=value]...: a session that lists, then fetches every
# message with RETR and TOP n 0; the replies are taken apart into $T/got:
# LIST (one "N SIZE" a line), RETR.N and TOP.N (what came between the +OK
# line and the terminating dot, dot-stuffing undone) and ANNOUNCED.N (the
# size RETR's +OK line gave).
fetch_all() {
	local cmds=("USER alice" "PASS secret" "LIST") i
	for ((i = 1; i <= COUNT; i++)); do cmds+=("RETR $i" "TOP $i 0"); done
	cmds+=("QUIT")
	session "$@" -- "${cmds[@]}"
	[ "$status" -eq 0 ]
	split_replies "${cmds[@]}"
}

# split_replies COMMAND...: takes $T/raw, the replies to COMMANDs, apart into $T/got (fetch_all).
split_replies() {
	rm -rf "$T/got"
	mkdir "$T/got"
	python3 - "$T/raw" "$T/got" "$@" <<'PY'
import os, sys
raw, out, cmds = open(sys.argv[1], "rb").read(), sys.argv[2], sys.argv[3:]
pos = 0
def line():
    global pos
    end = raw.index(b"\r\n", pos)
    text, pos = raw[pos:end], end + 2
    return text
def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
line()  # the greeting
for cmd in cmds:
    status = line()
    words = cmd.split()
    if not status.startswith(b"+OK") or words[0] not in ("LIST", "RETR", "TOP"):
        continue
    body = b""
    while True:
        text = line()
        if text == b".":
            break
        body += (text[1:] if text.startswith(b".") else text) + b"\r\n"
    if words[0] == "LIST":
        put("LIST", body.replace(b"\r\n", b"\n"))
    else:
        put("%s.%s" % (words[0], words[1]), body)
        if words[0] == "RETR":
            put("ANNOUNCED." + words[1], status.split()[1] + b"\n")
PY
}

# listed N: message N's size as LIST gave it.
listed() { awk -v n="$1" '$1 == n { print $2 }' "$T/got/LIST"; }

# sent N: the octets RETR sent of message N.
sent() { wc -c <"$T/got/RETR.$1"; }

# expect_sizes EXTRA...: for every message, RETR's +OK line gives LIST's
# size, and RETR sent exactly that many octets plus EXTRA[N] (2 where the
# CRLF after a last line without newline is the terminator's, else 0).
expect_sizes() {
	local extra=(0 "$@") i
	for ((i = 1; i <= COUNT; i++)); do
		if [ "$(listed "$i")" != "$(cat "$T/got/ANNOUNCED.$i")" ] ||
			[ "$(sent "$i")" -ne $(($(listed "$i") + extra[i])) ]; then
			echo "message $i: LIST $(listed "$i"), RETR announced $(cat "$T/got/ANNOUNCED.$i"), sent $(sent "$i") (expected LIST + ${extra[i]})"
			od -c "$T/got/RETR.$i" | head -20
			return 1
		fi
	done
}

# expect_got FILE BYTES: $T/got/FILE is exactly BYTES (printf %b).
expect_got() {
	printf '%b' "$2" >"$T/want"
	if ! cmp -s "$T/want" "$T/got/$1"; then
		echo "$1: expected"
		od -c "$T/want"
		echo "got"
		od -c "$T/got/$1"
		return 1
	fi
}

# The octets RETR and TOP n 0 send of each message, without workarounds
# and with oe-ns-eoh (outlook-no-nuls only turns each \0 into \x80).
PLAIN_SENT=(
	''
	'Subject: one\r\n\r\nbody\0with a NUL\r\n\0\r\n.dot\r\n'
	'Subject: two\r\nX-Nul: a\0b\r\n'
	'Subject: three\r\nFrom: x\r\n'
	'Subject: four\r\n'
	''
	'Subject: six\r\n\r\nbody\r\nlast, no newline\r\n'
	'\r\nbody seven\r\n'
	'Subject: eight\r\n.\r\n'
)
EOH_SENT=(
	''
	"${PLAIN_SENT[1]}"
	'Subject: two\r\nX-Nul: a\0b\r\n\r\n'
	'Subject: three\r\nFrom: x\r\n\r\n'
	'Subject: four\r\n\r\n'
	'\r\n'
	"${PLAIN_SENT[6]}"
	"${PLAIN_SENT[7]}"
	'Subject: eight\r\n.\r\n\r\n'
)
TOP_PLAIN=('' 'Subject: one\r\n\r\n' "${PLAIN_SENT[@]:2:3}" '' 'Subject: six\r\n\r\n' '\r\n' "${PLAIN_SENT[8]}")
TOP_EOH=('' 'Subject: one\r\n\r\n' "${EOH_SENT[@]:2:4}" 'Subject: six\r\n\r\n' '\r\n' "${EOH_SENT[8]}")

# The sizes LIST gives, without workarounds (the CRLF sizes) and with
# oe-ns-eoh; and the octets RETR sends beyond them: without workarounds the
# CRLF after a last line without newline is the terminator's (as Dovecot
# counts), with oe-ns-eoh too unless the blank line follows it (3: a header
# alone; 6: a body).
SIZES_PLAIN=$'1 42\n2 26\n3 23\n4 15\n5 0\n6 38\n7 14\n8 19'
SIZES_EOH=$'1 42\n2 28\n3 27\n4 17\n5 2\n6 38\n7 14\n8 21'
BEYOND_PLAIN=(0 0 2 0 0 2 0 0)
BEYOND_EOH=(0 0 0 0 0 2 0 0)

# expect_all RETR|TOP [0x80] -- TEXT...: RETR.N or TOP.N is TEXT number N
# for every N, with each NUL as 0x80 when 0x80 is given.
expect_all() {
	local kind=$1 nul=$2 i=1 text
	shift 3
	for text in "$@"; do
		[ "$nul" = 0x80 ] && text=${text//\\0/\\x80}
		expect_got "$kind.$i" "$text"
		i=$((i + 1))
	done
}

# expect_fetched PLAIN|EOH [0x80]: what fetch_all got is, message by
# message, what the tables above give without workarounds (PLAIN) or with
# oe-ns-eoh (EOH), each NUL as 0x80 when 0x80 is given.
expect_fetched() {
	local -n sent=${1}_SENT tops=TOP_$1 sizes=SIZES_$1 beyond=BEYOND_$1
	expect_all RETR "${2:--}" -- "${sent[@]:1}"
	expect_all TOP "${2:--}" -- "${tops[@]:1}"
	expect_sizes "${beyond[@]}"
	[ "$(cat "$T/got/LIST")" = "$sizes" ]
}

@test "off (the default): NULs are sent as they are, no blank line is added, LIST gives the CRLF sizes" {
	eight_messages
	fetch_all
	expect_fetched PLAIN
	expect_line 2 "+OK Logged in, 8 messages (177 octets)"
}

@test "outlook-no-nuls: every NUL is sent as 0x80 by RETR and TOP, and no size changes" {
	eight_messages
	fetch_all -o client_workarounds=outlook-no-nuls
	expect_fetched PLAIN 0x80
	[ "$(tr -cd '\0' <"$T/raw" | wc -c)" -eq 0 ]
	# the Maildir files keep their NULs
	[ "$(cat "$(MD)/cur/$(base 1)":2,* | tr -cd '\0' | wc -c)" -eq 2 ]
}

@test "oe-ns-eoh: a header alone (CRLF, LF, no final newline, a dot line) and the empty message get the blank line, counted; LIST equals RETR octet for octet; TOP n 0 ends with it" {
	eight_messages
	fetch_all -o client_workarounds=oe-ns-eoh
	expect_fetched EOH
	expect_line 2 "+OK Logged in, 8 messages (189 octets)"
}

@test "both workarounds, from the configuration file, comma-separated: each applies, sizes exact" {
	eight_messages
	conf client_workarounds "oe-ns-eoh, outlook-no-nuls"
	fetch_all
	expect_fetched EOH 0x80
	# -o replaces the file's list whole: an empty value turns both off
	fetch_all -o client_workarounds=
	expect_fetched PLAIN
}

@test "the UID list keeps the files' sizes, without the blank line: turning oe-ns-eoh on and off gives exact sizes each time" {
	eight_messages
	fetch_all -o client_workarounds=oe-ns-eoh
	expect_fetched EOH
	[ "$(list_field "$(base 4)" 2)" = 15 ] && [ "$(list_field "$(base 5)" 2)" = 0 ]
	fetch_all
	expect_fetched PLAIN
	fetch_all -o client_workarounds=oe-ns-eoh
	expect_fetched EOH
	[ "$(list_field "$(base 4)" 2)" = 15 ] && [ "$(list_field "$(base 3)" 2)" = 23 ]
}

@test "oe-ns-eoh with the sizes from ,S= and ,W= names: the header is read all the same" {
	add_user alice secret
	deliver alice "1700000001.M1P1.host,S=13,W=14" 'Subject: one\n'
	deliver alice "1700000002.M2P2.host,S=17,W=19" 'Subject: two\n\nb\n'
	session -o client_workarounds=oe-ns-eoh -- "USER alice" "PASS secret" "LIST" "RETR 1" "QUIT"
	expect_lines 0 "+OK POP3 server ready" "+OK Send your password" "+OK Logged in, 2 messages (35 octets)" \
		"+OK 2 messages (35 octets)" "1 16" "2 19" "." "+OK 16 octets" "Subject: one" "" "." \
		"+OK Bye, 0 messages deleted"
}

@test "exact_size = no: the files' sizes, the blank line sent but not counted" {
	eight_messages
	fetch_all -o exact_size=no -o client_workarounds=oe-ns-eoh
	expect_got RETR.4 'Subject: four\r\n\r\n'
	expect_got RETR.5 '\r\n'
	[ "$(listed 4)" = 14 ] && [ "$(listed 5)" = 0 ] && [ "$(listed 2)" = 26 ]
}

@test "oe-ns-eoh: STAT, DELE and RSET count the blank line" {
	eight_messages
	session -o client_workarounds=oe-ns-eoh -- "USER alice" "PASS secret" "STAT" "DELE 4" "STAT" "RSET" "QUIT"
	expect_lines 2 "+OK Logged in, 8 messages (189 octets)" "+OK 8 189" "+OK Message 4 deleted" "+OK 7 172" \
		"+OK 8 messages (189 octets)" "+OK Bye, 0 messages deleted"
}

@test "oe-ns-eoh: a header larger than every read block, without blank line, with NULs: LIST equals RETR" {
	add_user alice secret
	python3 - "$(MD)/new/1700000001.M1P1.host" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(12000):
        f.write(b"X-Header-%d: value\0%s" % (i, b"\r\n" if i % 2 else b"\n"))
    f.write(b"X-Last: no newline")
PY
	chown -R "$TEST_UID:$TEST_GID" "$(MD)"
	COUNT=1
	fetch_all -o client_workarounds="outlook-no-nuls oe-ns-eoh"
	expect_sizes 0
	[ "$(tail -c 22 "$T/got/RETR.1" | od -An -c | tr -s ' ')" = "$(printf 'X-Last: no newline\r\n\r\n' | od -An -c | tr -s ' ')" ]
	[ "$(tr -cd '\0' <"$T/raw" | wc -c)" -eq 0 ]
}

@test "oe-ns-eoh on 1,200 messages (their headers read by threads): every LIST size equals what RETR sends" {
	add_user alice secret
	python3 - "$(MD)/cur" <<'PY'
import sys
shapes = [b"Subject: %d\n\nbody\n", b"Subject: %d\r\n", b"Subject: %d", b"", b"Subject: %d\n\n", b"\n%d"]
for i in range(1200):
    shape = shapes[i % len(shapes)]
    with open("%s/%d.M%dP1.host:2,S" % (sys.argv[1], 1700000000 + i, i), "wb") as f:
        f.write(shape % i if b"%d" in shape else shape)
PY
	chown -R "$TEST_UID:$TEST_GID" "$(MD)"
	COUNT=1200
	fetch_all -o client_workarounds=oe-ns-eoh
	local extra=() i
	# the shapes whose last line lacks a newline and is not a header's: "\n%d"
	for ((i = 1; i <= COUNT; i++)); do extra+=($(((i - 1) % 6 == 5 ? 2 : 0))); done
	expect_sizes "${extra[@]}"
	[ "$(listed 4)" = 2 ] && [ "$(listed 3)" = 14 ] && [ "$(listed 2)" = 14 ]
}

@test "oe-ns-eoh: a message that cannot be read is logged and listed with its file's size; RETR refuses it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: the session must run as another user than the file's owner"
	eight_messages
	session -- "USER alice" "PASS secret" "QUIT"
	chown root:root "$(MD)/cur/$(base 4):2,"
	chmod 600 "$(MD)/cur/$(base 4):2,"
	session -o client_workarounds=oe-ns-eoh -- "USER alice" "PASS secret" "LIST 4" "LIST 3" "RETR 4" "QUIT"
	expect_lines 2 "+OK Logged in, 8 messages (187 octets)" "+OK 4 15" "+OK 3 27" \
		"-ERR [SYS/TEMP] Cannot read message 4" "+OK Bye, 0 messages deleted"
	expect_logged "cannot read the header of cur/$(base 4):2,: Permission denied"
}

# --- bad values ---

# expect_exit_1 REASON: exit status 1 and the one configuration error line.
expect_exit_1() {
	expect_startup_error "$1"
	[ "$status" -eq 1 ]
	expect_logged "configuration error: $1"
}

WORDS='(expected outlook-no-nuls or oe-ns-eoh)'

@test "bad values with -o: an unknown workaround, a malformed list, Dovecot's IMAP-only word, case, control octets" {
	add_user alice secret
	session -o client_workarounds=outlook -- "QUIT"
	expect_exit_1 "client_workarounds: unknown workaround 'outlook' $WORDS"
	session -o "client_workarounds=oe-ns-eoh delay-newmail" -- "QUIT"
	expect_exit_1 "client_workarounds: unknown workaround 'delay-newmail' $WORDS"
	session -o client_workarounds=OE-NS-EOH -- "QUIT"
	expect_exit_1 "client_workarounds: unknown workaround 'OE-NS-EOH' $WORDS"
	session -o "client_workarounds=oe-ns-eoh,,outlook-no-nuls" -- "QUIT"
	expect_exit_1 "client_workarounds: a comma needs a word on both sides $WORDS"
	session -o "client_workarounds=oe-ns-eoh," -- "QUIT"
	expect_exit_1 "client_workarounds: a comma needs a word on both sides $WORDS"
	session -o "client_workarounds=oe-ns-eoh;outlook-no-nuls" -- "QUIT"
	expect_exit_1 "client_workarounds: unknown workaround 'oe-ns-eoh;outlook-no-nuls' $WORDS"
	# a control octet is never echoed to the client
	session -o "client_workarounds=oe"$'\e'"[2J" -- "QUIT"
	expect_startup_error "client_workarounds: unknown workaround 'oe?[2J' $WORDS"
	[ "$status" -eq 1 ]
	# a word of 1000 octets is cut to 64 in the message
	session -o "client_workarounds=$(head -c 1000 /dev/zero | tr '\0' w)" -- "QUIT"
	expect_exit_1 "client_workarounds: unknown workaround '$(head -c 64 /dev/zero | tr '\0' w)' $WORDS"
}

@test "bad values in the configuration file name the file and line; duplicates and repeats are harmless" {
	add_user alice secret
	cp "$T/conf" "$T/conf.base"
	conf client_workarounds "outlook-no-nuls oe-ns-eoh x"
	session -- "QUIT"
	expect_exit_1 "$T/conf line 6: client_workarounds: unknown workaround 'x' $WORDS"
	cp "$T/conf.base" "$T/conf"
	conf client_workarounds ", oe-ns-eoh"
	session -- "QUIT"
	expect_exit_1 "$T/conf line 6: client_workarounds: a comma needs a word on both sides $WORDS"
	cp "$T/conf.base" "$T/conf"
	conf client_workarounds "oe-ns-eoh oe-ns-eoh,oe-ns-eoh"
	conf client_workarounds "outlook-no-nuls"
	deliver alice 1700000001.M1P1.host 'Subject: a\0\n'
	session -- "USER alice" "PASS secret" "LIST" "RETR 1" "QUIT"
	# the last line for a key wins, as for every key
	expect_lines 2 "+OK Logged in, 1 message (13 octets)" "+OK 1 message (13 octets)" "1 13" "." \
		"+OK 13 octets" "Subject: a"$'\x80' "." "+OK Bye, 0 messages deleted"
}
