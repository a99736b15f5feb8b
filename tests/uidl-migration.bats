#!/usr/bin/env bats
# Taking over a previous server's UIDLs, so that clients which keep mail on
# the server download nothing twice: Maildirs served by the real Dovecot
# pop3 and Courier courierpop3d (deletions leaving gaps, flags changed,
# site formats), then by pop3-handler, which must show the same UIDLs and
# never change their files; qmail-style base names and X-UIDL headers; a
# real client (fetchmail, mpop) moved from Dovecot to pop3-handler on the
# same port; and hostile files in place of the previous server's lists.

load lib/helpers
load lib/maildir
load lib/clients
load lib/migration

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	# a session that hangs (a FIFO read, a huge file) fails instead
	WRAPPER=(timeout 30 ${WRAPPER[@]+"${WRAPPER[@]}"})
	add_user alice secret
	BASES=('' 1700000001.M1P1.host 1700000002.M2P2.host 1700000003.M3P3.host 1700000004.M4P4.host
		1700000005.M5P5.host 1700000006.M6P6.host 1700000007.M7P7.host 1700000008.M8P8.host)
}

teardown() {
	stop_servers
	cleanup_world
}

# message N [new|cur [INFO]]: delivers message N (base name ${BASES[N]}) to
# alice's new/ (by default) or to cur/ with the info part INFO (":2,S").
message() {
	local name=${BASES[$1]}
	[ "${2:-new}" = cur ] && name+=${3:-:2,}
	deliver alice "$name" "Subject: message $1\n\nbody of message $1\n" "${2:-new}"
}

# flags N INFO: renames message N in cur/ to the info part INFO, as an IMAP
# client setting flags would.
flags() {
	local f
	f=$(maildir_file "$1") || return 1
	[[ $f == */cur/* ]] || { echo "message $1 is not in cur/: $f"; return 1; }
	mv "$f" "$(MD)/cur/${BASES[$1]}$2"
}

# took_over SOURCE TAKEN NOT_FOUND REFUSED: the log line of an import.
took_over() {
	expect_log "info: took over the UIDLs of the previous server ($1): $2 taken over, $3 not found, $4 refused"
}

# refused N WHY: the log has the notice refusing message N the UIDL the
# previous server gave it, for the reason WHY (one of those below); the
# notice names the file in new/, or in cur/ as it is now.
refused() {
	local now
	now=$(maildir_file "$1") || return 1
	now=${now#"$(MD)/"}
	if ! sed 's/^pop3-handler\[[0-9]*\]: //' "$T/log" | grep -qxF \
		-e "notice: new/${BASES[$1]}: not taking over its UIDL: $2" -e "notice: $now: not taking over its UIDL: $2"; then
		echo "the log lacks the notice refusing $now: $2"
		echo "--- log ---"
		cat "$T/log"
		return 1
	fi
}
NOT_UNIQUE_ID="not an RFC 1939 unique-id (1 to 70 octets from 0x21 to 0x7e)"
SHARED_IN_FILE="the previous server's file gives the same UIDL to another message"
NAMED_TWICE="the previous server's file gives the message two UIDLs"
SHARED_HERE="another message would show the same UIDL"
NUMBER_CLASH="an all-digit UIDL that one of our decimal UIDs could equal"

# files_of PREFIX: the sha256 of each file of alice's Maildir root whose
# name starts with PREFIX (the previous server's), to prove they stay.
files_of() {
	(cd "$(MD)" && sha256sum "$1"*)
}

# --- Dovecot ---------------------------------------------------------------

# dovecot_history [-o SETTING=VALUE]...: alice's Maildir as a site served it
# with Dovecot's pop3 (the settings given to each session): messages 1-3
# arrive in new/, 4-6 are in cur/ with flags; a session lists them and
# deletes 2 and 5; an IMAP client marks 3 seen and 4 answered; 7 arrives and
# is retrieved (Dovecot marks it seen); a last session lists them:
# $T/dovecot.uidl holds its reply.  Then the IMAP client marks 1 seen.
# Message 6 has the size tags Dovecot's deliver writes in its name.
dovecot_history() {
	BASES[6]=1700000006.M6P6.host,S=38,W=41
	message 1
	message 2
	message 3
	message 4 cur :2,S
	message 5 cur :2,
	message 6 cur :2,FS
	dovecot_session "$@" -- UIDL "DELE 2" "DELE 5" QUIT
	flags 3 :2,S
	flags 4 :2,RS
	message 7
	dovecot_session "$@" -- "RETR 5" QUIT
	[[ "$(maildir_file 7)" == */cur/*:2,S ]] || { echo "Dovecot did not mark 7 seen: $(maildir_file 7)"; return 1; }
	dovecot_session "$@" -- UIDL QUIT
	uidl_reply >"$T/dovecot.uidl"
	[ "$(wc -l <"$T/dovecot.uidl")" -eq 5 ] || { echo "Dovecot listed:"; cat "$T/dovecot.uidl"; return 1; }
	flags 1 :2,S
	files_of dovecot >"$T/dovecot.files"
}

# expect_switched UIDL_REPLY SOURCE COUNT N: pop3-handler's first session
# shows the previous server's UIDL_REPLY line for line and logs COUNT taken
# over from SOURCE; message N, delivered after the switch, gets a decimal
# UID while the others keep theirs, and nothing is taken over again.
expect_switched() {
	uidl_session
	uidl_reply >"$T/ours.uidl"
	expect_same_file "$1" "$T/ours.uidl"
	took_over "$2" "$3" 0 0
	message "$4"
	local want=()
	mapfile -t want < <(cut -d' ' -f2 "$1")
	session -- "${LOGIN[@]}" UIDL QUIT
	expect_uidls "${want[@]}" decimal
	refute_log "took over"
}

@test "Dovecot: after deletions and flag changes, pop3-handler shows Dovecot's UIDLs line for line and never changes its files" {
	need_dovecot
	dovecot_history
	# Dovecot's own UIDs (pop3_uidl_format %08Xu%08Xv) have the gaps of 2 and 5
	[ "$(cut -c 3-10 "$T/dovecot.uidl" | tr '\n' ' ')" = "00000001 00000003 00000004 00000006 00000007 " ]
	expect_switched "$T/dovecot.uidl" dovecot-uidlist 5 8
	local want=()
	mapfile -t want < <(cut -d' ' -f2 "$T/dovecot.uidl")
	session -- "${LOGIN[@]}" UIDL QUIT
	expect_uidls "${want[@]}" decimal
	# Dovecot's files are only read
	files_of dovecot >"$T/files.now"
	expect_same_file "$T/dovecot.files" "$T/files.now"
}

@test "Dovecot: a lost or corrupt UID list is made again with Dovecot's UIDLs; later messages get new decimal UIDs" {
	need_dovecot
	dovecot_history
	local want=() old
	mapfile -t want < <(cut -d' ' -f2 "$T/dovecot.uidl")
	message 8
	session -- "${LOGIN[@]}" UIDL QUIT
	expect_uidls "${want[@]}" decimal
	took_over dovecot-uidlist 5 1 0
	old=${lines[9]#6 }
	rm "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" UIDL QUIT
	expect_uidls "${want[@]}" decimal
	took_over dovecot-uidlist 5 1 0
	# never a UID given before: the new one is above the old
	expect_increasing "$old" "${lines[9]#6 }"
	old=${lines[9]#6 }
	truncate -s 60 "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" UIDL QUIT
	grep -qF "$LIST_FILE is corrupt" "$T/log" || { cat "$T/log"; return 1; }
	expect_uidls "${want[@]}" decimal
	took_over dovecot-uidlist 5 1 0
	expect_increasing "$old" "${lines[9]#6 }"
	files_of dovecot >"$T/files.now"
	expect_same_file "$T/dovecot.files" "$T/files.now"
}

@test "Dovecot: a site's pop3_uidl_format (%f, %u-%v) given as uidl_migrate_format gives Dovecot's UIDLs" {
	need_dovecot
	local format
	for format in %f %u-%v; do
		rm -rf "${T:?}/home/alice/Maildir"/*
		mkdir "$(MD)/new" "$(MD)/cur" "$(MD)/tmp"
		chown -R "$TEST_UID:$TEST_GID" "$(MD)"
		dovecot_history -o "pop3_uidl_format=$format"
		# %f is the base name, %u-%v the UID and the UIDVALIDITY in decimal
		if [ "$format" = %f ]; then
			[ "$(sed -n 1p "$T/dovecot.uidl")" = "1 ${BASES[1]}" ]
		else
			[ "$(sed -n 1p "$T/dovecot.uidl")" = "1 1-$(sed -n '1s/^3 V\([0-9]*\) .*/\1/p' "$(MD)/dovecot-uidlist")" ]
		fi
		uidl_session -o "uidl_migrate_format=$format"
		uidl_reply >"$T/ours.uidl"
		expect_same_file "$T/dovecot.uidl" "$T/ours.uidl"
		took_over dovecot-uidlist 5 0 0
	done
	# the format counts only when the list is made
	uidl_session -o "uidl_migrate_format=%f"
	uidl_reply >"$T/ours.uidl"
	expect_same_file "$T/dovecot.uidl" "$T/ours.uidl"
}

@test "Dovecot: UIDLs it saved (pop3_save_uidl, P fields) win over the format, as Dovecot shows them" {
	need_dovecot
	dovecot_history -o pop3_uidl_format=%u-%v -o pop3_save_uidl=yes
	grep -q ' P1-[0-9]* :' "$(MD)/dovecot-uidlist" || { cat "$(MD)/dovecot-uidlist"; return 1; }
	# the site then changed its format: Dovecot still shows what it saved
	dovecot_session -o pop3_uidl_format=%f -o pop3_save_uidl=yes -- UIDL QUIT
	uidl_reply >"$T/dovecot.again"
	expect_same_file "$T/dovecot.uidl" "$T/dovecot.again"
	uidl_session
	uidl_reply >"$T/ours.uidl"
	expect_same_file "$T/dovecot.uidl" "$T/ours.uidl"
	took_over dovecot-uidlist 5 0 0
}

# --- Courier -----------------------------------------------------------------

@test "Courier: after deletions and flag changes, pop3-handler shows courierpop3d's UIDLs line for line and never changes its file" {
	need_courier
	message 1
	message 2
	message 3
	message 4 cur :2,S
	message 5 cur :2,
	courier_session UIDL "DELE 2" "DELE 4" QUIT
	flags 3 :2,S
	message 6
	courier_session UIDL QUIT
	uidl_reply >"$T/courier.uidl"
	# Courier's UIDLs, UID<uid>-<uidvalidity>, with the gaps of 2 and 4
	[ "$(sed 's/^[0-9]* \(UID[0-9]*\)-[0-9]*$/\1/' "$T/courier.uidl" | tr '\n' ' ')" = "UID1 UID3 UID5 UID6 " ] ||
		{ cat "$T/courier.uidl"; return 1; }
	flags 1 :2,RS
	files_of courier >"$T/courier.files"
	expect_switched "$T/courier.uidl" courierpop3dsizelist 4 7
	local want=()
	mapfile -t want < <(cut -d' ' -f2 "$T/courier.uidl")
	files_of courier >"$T/files.now"
	expect_same_file "$T/courier.files" "$T/files.now"
	# the list lost, the same again
	rm "$(MD)/$LIST_FILE"
	session -- "${LOGIN[@]}" UIDL QUIT
	expect_uidls "${want[@]}" decimal
	took_over courierpop3dsizelist 4 1 0
}

# --- a client moved from Dovecot to pop3-handler ----------------------------

# need_dovecot_master: skips unless a whole Dovecot can run (it needs root).
need_dovecot_master() {
	need_dovecot
	[ "$(id -u)" -eq 0 ] || skip "a Dovecot master (user switching, chroot) needs root"
	[ -x "$DOVECOT" ] || skip "$DOVECOT is missing (Debian package dovecot-core)"
}

# fetchmail_run STATUS: runs fetchmail (uidl, keep) for alice on
# 127.0.0.1:$PORT, its MDA storing messages in $T/fetched/N; it must exit
# with STATUS (0: mail fetched, 1: no new mail, fetchmail(1) EXIT CODES).
fetchmail_run() {
	if [ ! -e "$T/fetchmailrc" ]; then
		mkdir "$T/fetched" "$T/fetchmail"
		chmod 700 "$T/fetchmail"
		cat >"$T/fetchmailrc" <<RC
set no bouncemail
set invisible
poll 127.0.0.1 protocol pop3 port $PORT uidl timeout 20
	user "alice" password "secret" is "$(id -un)" here
	sslproto '' keep no rewrite
	mda "$CLIENTS/mda-file $T/fetched"
RC
		chmod 600 "$T/fetchmailrc"
	fi
	status=0
	FETCHMAILHOME=$T/fetchmail fetchmail -f "$T/fetchmailrc" --idfile "$T/idfile" \
		--pidfile "$T/fetchmail/pid" --nodetach --nosyslog -v >"$T/fetchmail.out" 2>&1 || status=$?
	if [ "$status" -ne "$1" ]; then
		echo "fetchmail exited with $status, expected $1"
		cat "$T/fetchmail.out" "$T/server.log"
		return 1
	fi
}

# expect_fetchmail_said LINE: fetchmail's output has the line LINE.
expect_fetchmail_said() {
	grep -qxF -- "$1" "$T/fetchmail.out" || { echo "fetchmail did not say: $1"; cat "$T/fetchmail.out"; return 1; }
}

# expect_files DIR N OUTPUT: DIR holds exactly N messages; else shows the
# client's OUTPUT.
expect_files() {
	local n
	n=$(find "$1" -type f | wc -l)
	[ "$n" -eq "$2" ] || { echo "$1 holds $n messages, expected $2:"; cat "$3"; return 1; }
}

# expect_fetched N: $T/fetched holds exactly N messages.
expect_fetched() { expect_files "$T/fetched" "$1" "$T/fetchmail.out"; }

@test "fetchmail (uidl, keep) moved from Dovecot to pop3-handler on the same port fetches nothing again, then just the new message" {
	need_dovecot_master
	command -v fetchmail >/dev/null 2>&1 || skip "fetchmail is not installed"
	message 1
	message 2 cur :2,S
	message 3
	serve start_dovecot
	fetchmail_run 0
	expect_fetched 3
	# each message is 41 octets with CRLF line ends
	expect_fetchmail_said "3 messages for alice at 127.0.0.1 (123 octets)."
	stop_servers
	serve_port "$PORT" start_socket_activate
	fetchmail_run 1
	expect_fetched 3
	expect_fetchmail_said "3 messages (3 seen) for alice at 127.0.0.1 (123 octets)."
	expect_logged "took over the UIDLs of the previous server (dovecot-uidlist): 3 taken over, 0 not found, 0 refused"
	message 4
	fetchmail_run 0
	expect_fetched 4
	expect_fetchmail_said "4 messages (3 seen) for alice at 127.0.0.1 (164 octets)."
	expect_converted "$(maildir_file 4)" "$T/fetched/4" lf
}

# mpop_run: runs mpop (keep, USER/PASS without TLS) for alice on
# 127.0.0.1:$PORT, delivering to the Maildir $T/out; its output in $T/mpop.out.
mpop_run() {
	mkdir -p "$T/out/cur" "$T/out/new" "$T/out/tmp"
	mpop --host=127.0.0.1 "--port=$PORT" --timeout=20 --tls=off --auth=user --user=alice \
		"--passwordeval=echo secret" "--delivery=maildir,$T/out" --keep=on \
		"--uidls-file=$T/uidls" --received-header=off >"$T/mpop.out" 2>&1 || {
		echo "mpop failed:"
		cat "$T/mpop.out" "$T/server.log"
		return 1
	}
}

# expect_mpop TEXT N: mpop's output holds TEXT, and its Maildir exactly N messages.
expect_mpop() {
	grep -qF -- "$1" "$T/mpop.out" || { echo "mpop did not say: $1"; cat "$T/mpop.out"; return 1; }
	expect_files "$T/out" "$2" "$T/mpop.out"
}

@test "mpop (keep) moved from Dovecot to pop3-handler on the same port retrieves nothing again, then just the new message" {
	need_dovecot_master
	command -v mpop >/dev/null 2>&1 || skip "mpop is not installed"
	message 1
	message 2 cur :2,S
	message 3
	serve start_dovecot
	mpop_run
	expect_mpop "new: 3 messages in 123 bytes, total: 3 messages in 123 bytes" 3
	stop_servers
	serve_port "$PORT" start_socket_activate
	mpop_run
	expect_mpop "new: no messages, total: 3 messages in 123 bytes" 3
	expect_logged "took over the UIDLs of the previous server (dovecot-uidlist): 3 taken over, 0 not found, 0 refused"
	message 4
	find "$T/out" -type f | sort >"$T/before"
	mpop_run
	expect_mpop "new: 1 message in 41 bytes, total: 4 messages in 164 bytes" 4
	# the one it delivered is message 4
	expect_converted "$(maildir_file 4)" "$(find "$T/out" -type f | sort | comm -13 "$T/before" -)" lf
}

# --- qmail's base names, X-UIDL headers, no migration -----------------------

@test "uidl_migrate = maildir-name shows base names, as qmail-pop3d did; one longer than 70 octets gets a decimal UID" {
	local long
	long=1700000003.M3P3.$(printf 'x%.0s' $(seq 55))
	[ ${#long} -eq 71 ]
	BASES[3]=$long
	message 1
	message 2 cur :2,S
	message 3
	message 4 cur :2,RS
	# a dovecot-uidlist is not read in this mode
	printf '3 V1234 N9\n1 :%s\n' "${BASES[1]}" >"$(MD)/dovecot-uidlist"
	uidl_session -o uidl_migrate=maildir-name
	expect_uidls "${BASES[1]}" "${BASES[2]}" decimal "${BASES[4]}"
	took_over "file names" 3 0 1
	expect_log "notice: new/$long: not taking over its UIDL: $NOT_UNIQUE_ID"
	# a base name of exactly 70 octets is one
	BASES[5]=1700000005.M5P5.$(printf 'y%.0s' $(seq 54))
	[ ${#BASES[5]} -eq 70 ]
	rm "$(MD)/$LIST_FILE"
	message 5
	uidl_session -o uidl_migrate=maildir-name
	expect_uidls "${BASES[1]}" "${BASES[2]}" decimal "${BASES[4]}" "${BASES[5]}"
	took_over "file names" 4 0 1
}

@test "uidl_migrate = no: decimal UIDs though Dovecot's list is there" {
	need_dovecot
	message 1
	message 2 cur :2,S
	message 3
	dovecot_session -- UIDL QUIT
	[ "$(uidl_reply | wc -l)" -eq 3 ]
	uidl_session -o uidl_migrate=no
	expect_uidls decimal decimal decimal
	refute_log "took over" "not taking over"
	# the setting counts when the list is made: it is not made again
	uidl_session
	expect_uidls "${UIDS[@]}"
	refute_log "took over"
}

@test "uidl_from_header = yes: an X-UIDL header wins; shared, blank or malformed ones and later messages get decimal UIDs" {
	deliver alice "${BASES[1]}" 'Subject: one\nX-UIDL: abc123\n\nbody\n'
	deliver alice "${BASES[2]}" 'Subject: two, blank\nX-UIDL: \t\n\nbody\n'
	deliver alice "${BASES[3]}" 'X-UIDL: shared\nSubject: three\n\nbody\n'
	deliver alice "${BASES[4]}" 'Subject: four\nx-uidl:   shared \t\n\nbody\n'
	deliver alice "${BASES[5]}" 'Subject: five\nX-UIDL: has space\n\nbody\n'
	deliver alice "${BASES[6]}" 'Subject: six, in the body\n\nX-UIDL: body\n'
	deliver alice "${BASES[7]}" 'Subject: seven, CRLF\r\nX-UIDL: <seven@example.org>\r\n\r\nbody\r\n'
	uidl_session -o uidl_from_header=yes
	expect_uidls abc123 decimal decimal decimal decimal decimal "<seven@example.org>"
	took_over "X-UIDL headers" 2 0 3
	refused 3 "$SHARED_HERE"
	refused 4 "$SHARED_HERE"
	refused 5 "$NOT_UNIQUE_ID"
	# only when the list is made: a later message's header is not read
	deliver alice "${BASES[8]}" 'Subject: eight\nX-UIDL: later\n\nbody\n'
	local before=("${UIDS[@]}")
	uidl_session -o uidl_from_header=yes
	expect_uidls "${before[@]}" decimal
}

@test "uidl_from_header = yes with Dovecot's list: a header wins, Dovecot's UIDLs give the rest, a header and a saved UIDL alike give neither" {
	deliver alice "${BASES[1]}" 'Subject: one\nX-UIDL: from-header\n\nbody\n'
	message 2
	deliver alice "${BASES[3]}" 'Subject: three\nX-UIDL: clash\n\nbody\n'
	message 4
	message 5
	printf '3 V1234 N5\n1 :%s\n2 :%s\n3 :%s\n4 Pclash :%s\n' "${BASES[@]:1:4}" >"$(MD)/dovecot-uidlist"
	uidl_session -o uidl_from_header=yes
	expect_uidls from-header 00000002000004d2 decimal decimal decimal
	took_over dovecot-uidlist 2 1 2
	refused 3 "$SHARED_HERE"
	refused 4 "$SHARED_HERE"
}

# --- hostile files in the previous server's place -----------------------------

# four_messages: alice's messages 1-4, in new/.
four_messages() {
	local n
	for n in 1 2 3 4; do message "$n"; done
}

# dv N: the UIDL Dovecot shows for UID N of a list with UIDVALIDITY 1234
# (pop3_uidl_format %08Xu%08Xv).
dv() { printf '%08x000004d2' "$1"; }

# dovecot_list LINE...: alice's dovecot-uidlist, a version 3 header with
# UIDVALIDITY 1234 and the LINEs (printf %b), each ended by LF.
dovecot_list() {
	{ printf '3 V1234 N99\n'; printf '%b\n' "$@"; } >"$(MD)/dovecot-uidlist"
}

# courier_list LINE...: alice's courierpop3dsizelist, a version 3 header with
# UIDVALIDITY 1234 and the LINEs (printf %b), each ended by LF.
courier_list() {
	{ printf '/3 99 1234\n'; printf '%b\n' "$@"; } >"$(MD)/courierpop3dsizelist"
}

# fresh_list: removes alice's UID list and the previous servers' files, so
# that the next session makes the list again from what a test puts there.
fresh_list() {
	local md
	md=$(MD)
	rm -rf "${md:?}/$LIST_FILE" "${md:?}/$LOCK_FILE" "${md:?}/dovecot-uidlist" "${md:?}/courierpop3dsizelist"
}

@test "Dovecot's version 1 list (Dovecot 1.0) is read too" {
	four_messages
	printf '1 1234 5\n1 %s\n2 %s:2,S\n4 %s\n' "${BASES[1]}" "${BASES[2]}" "${BASES[4]}" >"$(MD)/dovecot-uidlist"
	uidl_session
	expect_uidls "$(dv 1)" "$(dv 2)" decimal "$(dv 4)"
	took_over dovecot-uidlist 3 1 0
}

@test "hostile: a list larger than 512 MiB (sparse) is not read; the session opens with decimal UIDs" {
	four_messages
	local name
	for name in dovecot-uidlist courierpop3dsizelist; do
		fresh_list
		if [ $name = dovecot-uidlist ]; then dovecot_list "1 :${BASES[1]}"; else courier_list "${BASES[1]} 41 1:1234"; fi
		truncate -s 600M "$(MD)/$name"
		uidl_session
		expect_uidls decimal decimal decimal decimal
		expect_log "warning: not taking over UIDLs from $name: too large"
		refute_log "took over"
	done
}

# junk_list NAME: alice's NAME (dovecot-uidlist or courierpop3dsizelist),
# some 33 MB: its header, a million junk lines (numbers out of range, names
# missing or empty, NULs, CRs, a 1 MB line, other servers' lines), then the
# entries of messages 1-4 (UIDs 1-4).
junk_list() {
	python3 - "$(MD)/$1" "$1" "${BASES[@]:1:4}" <<'PY'
import random, sys
path, kind, bases = sys.argv[1], sys.argv[2], sys.argv[3:]
random.seed(17)
dovecot = kind == "dovecot-uidlist"
junk = [b"0 :" + bases[0].encode(), b"4294967296 :" + bases[1].encode(), b"-1 :" + bases[2].encode(),
        b"5 W41", b"6 :", b"7 P", b"", b" ", b"\r", b"\0\0\0", b"8 :\0" + bases[3].encode(),
        b"3 V1234 N9", b"/3 9 1234", bases[0].encode() + b" 41", bases[1].encode() + b" x 2:1234",
        bases[2].encode() + b" 41 3", bases[3].encode() + b" 41 4:99999999999", b":" * 300]
with open(path, "wb") as f:
    f.write(b"3 V1234 N99\n" if dovecot else b"/3 99 1234\n")
    for i in range(1000000):
        f.write(random.choice(junk) + b" %d\n" % i if i % 7 == 0 else random.choice(junk) + b"\n")
    f.write(b"z" * 1000000 + b"\n")
    for n, b in enumerate(bases, 1):
        f.write((b"%d W41 :%s\n" % (n, b.encode())) if dovecot else (b"%s:2, 41 %d:1234\n" % (b.encode(), n)))
PY
}

@test "hostile: a large list full of junk lines gives the entries that parse, and only those" {
	four_messages
	junk_list dovecot-uidlist
	[ "$(stat -c %s "$(MD)/dovecot-uidlist")" -gt 30000000 ]
	uidl_session
	expect_uidls "$(dv 1)" "$(dv 2)" "$(dv 3)" "$(dv 4)"
	took_over dovecot-uidlist 4 0 0
	fresh_list
	junk_list courierpop3dsizelist
	uidl_session
	expect_uidls UID1-1234 UID2-1234 UID3-1234 UID4-1234
	took_over courierpop3dsizelist 4 0 0
}

@test "hostile: a list with more entries than a mailbox may hold does not keep the mailbox from opening" {
	four_messages
	python3 -c 'import sys; f = open(sys.argv[1], "w"); f.write("3 V1234 N9\n"); f.write("1 :x\n" * 4000001)' \
		"$(MD)/dovecot-uidlist"
	uidl_session
	expect_uidls decimal decimal decimal decimal
}

@test "hostile: a list cut short mid-line: its last entry is not taken" {
	four_messages
	dovecot_list "1 :${BASES[1]}" "2 :${BASES[2]}" "3 :${BASES[3]}"
	printf '4 :%s' "${BASES[4]%.host}" >>"$(MD)/dovecot-uidlist"
	uidl_session
	expect_uidls "$(dv 1)" "$(dv 2)" "$(dv 3)" decimal
	took_over dovecot-uidlist 3 1 0
	fresh_list
	courier_list "${BASES[1]} 41 1:1234" "${BASES[2]} 41 2:1234" "${BASES[3]} 41 3:1234"
	printf '%s 41 4:12' "${BASES[4]}" >>"$(MD)/courierpop3dsizelist"
	uidl_session
	expect_uidls UID1-1234 UID2-1234 UID3-1234 decimal
	took_over courierpop3dsizelist 3 1 0
	# cut in its header: nothing
	fresh_list
	printf '3 V12' >"$(MD)/dovecot-uidlist"
	uidl_session
	expect_uidls decimal decimal decimal decimal
	took_over dovecot-uidlist 0 4 0
}

@test "hostile: random bytes as a list give nothing; random bytes between entries are skipped" {
	four_messages
	local name
	for name in dovecot-uidlist courierpop3dsizelist; do
		fresh_list
		head -c 1048576 /dev/urandom >"$(MD)/$name"
		uidl_session
		expect_uidls decimal decimal decimal decimal
	done
	fresh_list
	{
		printf '3 V1234 N99\n1 :%s\n' "${BASES[1]}"
		head -c 1048576 /dev/urandom
		printf '\n4 :%s\n' "${BASES[4]}"
	} >"$(MD)/dovecot-uidlist"
	uidl_session
	expect_uidls "$(dv 1)" decimal decimal "$(dv 4)"
	took_over dovecot-uidlist 2 2 0
}

@test "hostile: a message named twice with different UIDLs gets a decimal UID; named twice alike, it keeps its UIDL" {
	four_messages
	dovecot_list "1 :${BASES[1]}" "2 :${BASES[2]}" "5 :${BASES[1]}:2,S" "3 :${BASES[3]}" "3 :${BASES[3]}" "4 W41 :${BASES[4]}:2,"
	uidl_session
	expect_uidls decimal "$(dv 2)" "$(dv 3)" "$(dv 4)"
	took_over dovecot-uidlist 3 0 1
	refused 1 "$NAMED_TWICE"
	fresh_list
	courier_list "${BASES[1]} 41 1:1234" "${BASES[2]}:2,S 41 2:1234" "${BASES[2]}:2, 41 6:1234" "${BASES[3]} 41 3:1234" "${BASES[4]} 41 4:1234"
	uidl_session
	expect_uidls UID1-1234 decimal UID3-1234 UID4-1234
	took_over courierpop3dsizelist 3 0 1
	refused 2 "$NAMED_TWICE"
}

@test "hostile: one UIDL given to two messages goes to neither" {
	four_messages
	dovecot_list "1 Pshared :${BASES[1]}" "2 Pshared :${BASES[2]}" "3 :${BASES[3]}" "4 :${BASES[4]}"
	uidl_session
	expect_uidls decimal decimal "$(dv 3)" "$(dv 4)"
	took_over dovecot-uidlist 2 0 2
	refused 1 "$SHARED_IN_FILE"
	refused 2 "$SHARED_IN_FILE"
	# a P field equal to what the format gives another message
	fresh_list
	dovecot_list "1 :${BASES[1]}" "2 P$(dv 1) :${BASES[2]}" "3 :${BASES[3]}" "4 :${BASES[4]}"
	uidl_session
	expect_uidls decimal decimal "$(dv 3)" "$(dv 4)"
	# a format that gives every message here the same UIDL (the first 4
	# octets of the base name, as Dovecot's %4f would)
	local n
	fresh_list
	dovecot_list "1 :${BASES[1]}" "2 :${BASES[2]}" "3 :${BASES[3]}" "4 :${BASES[4]}"
	uidl_session -o uidl_migrate_format=%4f
	expect_uidls decimal decimal decimal decimal
	took_over dovecot-uidlist 0 0 4
	for n in 1 2 3 4; do refused "$n" "$SHARED_IN_FILE"; done
	fresh_list
	courier_list "${BASES[1]} 41 1:1234" "${BASES[2]} 41 1:1234" "${BASES[3]} 41 3:1234" "${BASES[4]} 41 4:1234"
	uidl_session
	expect_uidls decimal decimal UID3-1234 UID4-1234
	took_over courierpop3dsizelist 2 0 2
	refused 1 "$SHARED_IN_FILE"
}

@test "hostile: a UIDL that is not an RFC 1939 unique-id (71 octets, a space, 8-bit, DEL) gets a decimal UID; 70 octets pass" {
	four_messages
	local u70 u71
	u70=$(printf 'a%.0s' $(seq 70))
	u71=${u70}b
	dovecot_list "1 P$u70 :${BASES[1]}" "2 P$u71 :${BASES[2]}" "3 Pcaf\xc3\xa9 :${BASES[3]}" "4 Pa\x7fb :${BASES[4]}"
	uidl_session
	expect_uidls "$u70" decimal decimal decimal
	local n
	for n in 2 3 4; do
		refused "$n" "$NOT_UNIQUE_ID"
	done
	took_over dovecot-uidlist 1 0 3
	# a message named with a 71-octet UIDL and with a valid one: which one
	# the client saw cannot be known
	fresh_list
	dovecot_list "1 :${BASES[1]}" "2 P$u71 :${BASES[2]}" "5 :${BASES[2]}" "3 :${BASES[3]}" "4 :${BASES[4]}"
	uidl_session
	expect_uidls "$(dv 1)" decimal "$(dv 3)" "$(dv 4)"
	took_over dovecot-uidlist 3 0 1
	# a format giving a space
	fresh_list
	dovecot_list "1 :${BASES[1]}" "2 :${BASES[2]}" "3 :${BASES[3]}" "4 :${BASES[4]}"
	uidl_session -o "uidl_migrate_format=%u %v"
	expect_uidls decimal decimal decimal decimal
	took_over dovecot-uidlist 0 0 4
}

@test "hostile: all-digit UIDLs: a small one is taken, one of 10^15 or more (where our UIDs lie) is refused, leading zeros pass" {
	four_messages
	dovecot_list "1 P7 :${BASES[1]}" "2 P9999999999999999 :${BASES[2]}" "3 P999999999999999 :${BASES[3]}" "4 P0123 :${BASES[4]}"
	uidl_session
	expect_uidls 7 decimal 999999999999999 0123
	took_over dovecot-uidlist 3 0 1
	refused 2 "$NUMBER_CLASH"
	message 5
	uidl_session
	expect_uidls 7 "${UIDS[1]}" 999999999999999 0123 decimal
	expect_increasing "${UIDS[1]}" "${UIDS[4]}"
}

@test "hostile: an all-digit UIDL near the top of the UID range (an X-UIDL any sender can write) keeps no message out" {
	deliver alice "${BASES[1]}" 'Subject: one\nX-UIDL: 9223372036854775806\n\nbody\n'
	message 2
	message 3
	session -o uidl_from_header=yes -- "${LOGIN[@]}" UIDL QUIT
	[[ "${lines[2]}" == "+OK Logged in, 3 messages"* ]] || { echo "$output"; cat "$T/log"; return 1; }
	[ "$(uidl_reply | wc -l)" -eq 3 ] || { echo "$output"; return 1; }
	expect_distinct
	# nor later ones
	message 4
	session -- "${LOGIN[@]}" UIDL QUIT
	[[ "${lines[2]}" == "+OK Logged in, 4 messages"* ]] || { echo "$output"; cat "$T/log"; return 1; }
	[ "$(uidl_reply | wc -l)" -eq 4 ] || { echo "$output"; return 1; }
	expect_distinct
}

@test "hostile: a list that is a symbolic link, a FIFO, a directory or unreadable is not read; the session opens at once" {
	four_messages
	# valid lists, elsewhere
	mkdir "$T/elsewhere"
	dovecot_list "1 :${BASES[1]}"
	courier_list "${BASES[1]} 41 1:1234"
	mv "$(MD)/dovecot-uidlist" "$(MD)/courierpop3dsizelist" "$T/elsewhere/"
	local name kind start
	for name in dovecot-uidlist courierpop3dsizelist; do
		for kind in symlink fifo directory unreadable; do
			fresh_list
			case $kind in
			symlink) ln -s "$T/elsewhere/$name" "$(MD)/$name" ;;
			fifo) mkfifo "$(MD)/$name" ;;
			directory) mkdir "$(MD)/$name" ;;
			unreadable)
				# as root, the session runs as the owner: root's file
				cp "$T/elsewhere/$name" "$(MD)/$name"
				chmod 000 "$(MD)/$name"
				;;
			esac
			start=$(now_ns)
			uidl_session
			expect_uidls decimal decimal decimal decimal
			# no wait for a writer, nor for anything else
			[ $(($(now_ns) - start)) -lt 5000000000 ] || { echo "$kind $name: the session took $(($(now_ns) - start)) ns"; return 1; }
			refute_log "took over"
			case $kind in
			symlink) expect_log "warning: not taking over UIDLs from $name: Too many levels of symbolic links" ;;
			fifo | directory) expect_log "warning: not taking over UIDLs from $name: not a regular file" ;;
			unreadable) expect_log "warning: not taking over UIDLs from $name: Permission denied" ;;
			esac
		done
	done
}
