#!/usr/bin/env bats
# Real clients against pop3-handler behind stunnel, with the contrib files
# adapted to the test (contrib/stunnel/pop3s.conf: implicit TLS, as on port
# 995; contrib/stunnel/pop3-starttls.conf: STLS made mandatory by stunnel,
# as on port 110): Python's poplib, curl, fetchmail, mpop and openssl
# s_client, each verifying a certificate made for this run, each with the
# handler's default CAPA.  What they fetch is compared with the Maildir byte
# for byte (tests/lib/clients.bash, expect_message).

load lib/helpers
load lib/clients

setup_file() {
	export CERT_DIR="$BATS_FILE_TMPDIR"
	make_cert "$CERT_DIR"
}

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	command -v stunnel >/dev/null 2>&1 || skip "stunnel is not installed"
	setup_world
	setup_mailbox
	CERT=$CERT_DIR/cert.pem
}

teardown() {
	stop_servers
	cleanup_world
}

# s_client_session [OPTION]...: openssl s_client to 127.0.0.1:$PORT,
# verifying the certificate (CA file, host name localhost), fed CAPA, USER,
# PASS, STAT and QUIT, a short pause between CAPA and the rest; sets
# $output and $lines (CRs removed) with what the handler said.
s_client_session() {
	{
		sleep 0.2
		printf 'CAPA\r\n'
		sleep 0.2
		printf 'USER alice\r\nPASS %s\r\nSTAT\r\nQUIT\r\n' "$PASSWORD"
	} | timeout 20 openssl s_client "$@" -connect "127.0.0.1:$PORT" -quiet \
		-CAfile "$CERT" -verify_return_error -verify_hostname localhost \
		>"$T/raw" 2>"$T/s_client.err" || {
		echo "openssl s_client failed:"
		cat "$T/s_client.err" "$T/raw"
		return 1
	}
	output=$(tr -d '\r' <"$T/raw")
	mapfile -t lines <<<"$output"
}

# expect_capa_session FIRST: from line FIRST on, the replies to CAPA (with
# USER and SASL PLAIN, without STLS), USER, PASS, STAT (4 messages) and QUIT.
expect_capa_session() {
	local i=$1 capa=()
	expect_line "$i" "+OK Capability list follows"
	i=$((i + 1))
	while [ "$i" -lt "${#lines[@]}" ] && [ "${lines[$i]}" != "." ]; do
		capa+=("${lines[$i]}")
		i=$((i + 1))
	done
	expect_line "$i" "."
	printf '%s\n' "${capa[@]}" >"$T/capa"
	grep -qx 'USER' "$T/capa" || { echo "CAPA lacks USER:"; cat "$T/capa"; return 1; }
	grep -qx 'SASL PLAIN' "$T/capa" || { echo "CAPA lacks SASL PLAIN:"; cat "$T/capa"; return 1; }
	if grep -qi '^STLS' "$T/capa"; then
		echo "the handler advertises STLS:"
		cat "$T/capa"
		return 1
	fi
	expect_match $((i + 1)) "+OK *"
	expect_line $((i + 2)) "+OK Logged in, 4 messages ($(total_size 1 2 3 4) octets)"
	expect_line $((i + 3)) "+OK 4 $(total_size 1 2 3 4)"
	expect_match $((i + 4)) "+OK Bye*"
	expect_lines $((i + 5))
}

# --- implicit TLS (contrib/stunnel/pop3s.conf) -----------------------------

@test "poplib.POP3_SSL: login, STAT, LIST, UIDL, RETR each message byte for byte, QUIT" {
	serve start_stunnel_pop3s
	mkdir "$T/got"
	run "$CLIENTS/poplib-fetch" --ssl "$CERT" localhost "$PORT" alice "$PASSWORD" "$T/got"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "welcome +OK POP3 server ready" ]
	[[ "${lines[1]}" == "capa "*"SASL PLAIN"* ]]
	[[ "${lines[1]}" == *" USER"* ]]
	[[ "${lines[1]}" != *STLS* ]]
	[[ "${lines[3]}" == "pass +OK "* ]]
	[ "${lines[4]}" = "stat 4 $(total_size 1 2 3 4)" ]
	local n
	for n in 1 2 3 4; do
		[ "${lines[$((4 + n))]}" = "list $n $(exact_size $n)" ]
		[ "${lines[$((8 + n))]}" = "uidl $n $(list_uid alice "${BASES[$n]}")" ]
		[ "${lines[$((12 + n))]}" = "retr $n +OK $(exact_size $n) octets" ]
		expect_message "$n" "$T/got/$n" crlf
	done
	[[ "${lines[17]}" == "quit +OK Bye"* ]]
	expect_logged "login user=alice mechanism=USER client=127.0.0.1 messages=4"
}

@test "curl pop3s://: LIST, RETR each message byte for byte, then DELE removes the file" {
	serve start_stunnel_pop3s
	local url="pop3s://localhost:$PORT"
	curl -sS --max-time 20 --cacert "$CERT" -u "alice:$PASSWORD" "$url/" >"$T/list"
	printf '%s %s\r\n' 1 "$(exact_size 1)" 2 "$(exact_size 2)" 3 "$(exact_size 3)" 4 "$(exact_size 4)" >"$T/want.list"
	cmp "$T/want.list" "$T/list"
	local n
	for n in 1 2 3 4; do
		curl -sS --max-time 20 --cacert "$CERT" -u "alice:$PASSWORD" "$url/$n" >"$T/got.$n"
		expect_message "$n" "$T/got.$n" crlf
	done
	# DELE answers one line: curl needs -I (no body) not to wait for a
	# multi-line reply (libcurl: CURLOPT_CUSTOMREQUEST with CURLOPT_NOBODY).
	curl -sS --max-time 20 --cacert "$CERT" -u "alice:$PASSWORD" "$url/2" -X DELE -I >"$T/dele"
	gone 2
	expect_message 1 "$T/got.1" crlf
	expect_message 3 "$T/got.3" crlf
	expect_message 4 "$T/got.4" crlf
	expect_logged "logout user=alice retrieved=0 octets=0 deleted=1 octets=$(exact_size 2)"
	# the other messages are left and were marked seen by RETR
	[[ "$(maildir_file 1)" == */cur/*:2,S ]]
	[[ "$(maildir_file 4)" == */cur/*:2,S ]]
}

@test "fetchmail (ssl sslcertck, keep, uidl) fetches every message; a second run fetches nothing new" {
	command -v fetchmail >/dev/null 2>&1 || skip "fetchmail is not installed"
	serve start_stunnel_pop3s
	mkdir "$T/fetched" "$T/fetchmail"
	chmod 700 "$T/fetchmail"
	# invisible: no Received header; no rewrite: headers left alone.
	cat >"$T/fetchmailrc" <<RC
set no bouncemail
set invisible
poll localhost protocol pop3 port $PORT uidl timeout 20
	user "alice" password "$PASSWORD" is "$(id -un)" here
	ssl sslcertck sslcertfile "$CERT"
	keep no rewrite
	mda "$CLIENTS/mda-file $T/fetched"
RC
	chmod 600 "$T/fetchmailrc"
	local fm=(fetchmail -f "$T/fetchmailrc" --idfile "$T/idfile" --pidfile "$T/fetchmail/pid"
		--nodetach --nosyslog -v)
	status=0
	FETCHMAILHOME=$T/fetchmail "${fm[@]}" >"$T/fetchmail.out" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		echo "fetchmail exited with $status"
		cat "$T/fetchmail.out" "$T/server.log"
		return 1
	fi
	# fetchmail hands the MDA Unix text (LF line ends)
	local n
	for n in 1 2 3 4; do
		expect_message "$n" "$T/fetched/$n" lf
	done
	[ "$(find "$T/fetched" -type f | wc -l)" -eq 4 ]
	# the UIDs fetchmail keeps are the handler's
	for n in 1 2 3 4; do
		grep -qx "alice@localhost $(list_uid alice "${BASES[$n]}")" "$T/idfile"
	done
	# second run: no new mail is exit status 1 (fetchmail(1), EXIT CODES)
	status=0
	FETCHMAILHOME=$T/fetchmail "${fm[@]}" >"$T/fetchmail.out" 2>&1 || status=$?
	if [ "$status" -ne 1 ]; then
		echo "second fetchmail run exited with $status, expected 1 (no new mail)"
		cat "$T/fetchmail.out"
		return 1
	fi
	[ "$(find "$T/fetched" -type f | wc -l)" -eq 4 ]
	# keep: every message is still on the server, unchanged
	for n in 1 2 3 4; do
		cmp "$T/orig/$n" "$(maildir_file "$n")"
	done
}

@test "mpop (TLS, AUTH PLAIN, pipelining) fetches every message; a second run fetches nothing new" {
	command -v mpop >/dev/null 2>&1 || skip "mpop is not installed"
	serve start_stunnel_pop3s
	mkdir -p "$T/out/cur" "$T/out/new" "$T/out/tmp"
	local mp=(mpop --host=127.0.0.1 "--port=$PORT" --timeout=20 --tls=on --tls-starttls=off
		"--tls-trust-file=$CERT" --auth=plain --user=alice "--passwordeval=echo '$PASSWORD'"
		"--delivery=maildir,$T/out" --keep=on "--uidls-file=$T/uidls" --received-header=off)
	status=0
	"${mp[@]}" --debug >"$T/mpop.out" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		echo "mpop exited with $status"
		cat "$T/mpop.out" "$T/server.log"
		return 1
	fi
	# mpop delivers Unix text (LF) into the Maildir; its file names count
	# up (Q1, Q2, ...) in the order it retrieved the messages
	local files=() n
	mapfile -t files < <(find "$T/out/new" -type f | sed 's/.*Q\([0-9]*\)\..*/\1 &/' | sort -n | cut -d' ' -f2-)
	[ "${#files[@]}" -eq 4 ]
	for n in 1 2 3 4; do
		expect_message "$n" "${files[$((n - 1))]}" lf
	done
	tr -d '\r' <"$T/mpop.out" >"$T/trace"
	grep -qx -- '--> AUTH PLAIN' "$T/trace"
	expect_logged "login user=alice mechanism=PLAIN client=127.0.0.1 messages=4"
	# pipelining: RETR 2 went out before the reply to RETR 1 came back
	awk '/^--> RETR 1$/ { r1 = NR } /^--> RETR 2$/ { r2 = NR }
		r1 && !reply && NR > r1 && /^<-- \+OK/ { reply = NR }
		END { exit !(r1 && r2 && reply && r2 < reply) }' "$T/trace" || {
		echo "mpop did not pipeline its RETRs:"
		grep -E '^(-->|<-- [+-])' "$T/trace"
		return 1
	}
	# second run: nothing new, nothing delivered
	"${mp[@]}" >"$T/mpop.out" 2>&1 || { cat "$T/mpop.out"; return 1; }
	grep -q 'new: no messages' "$T/mpop.out" || { cat "$T/mpop.out"; return 1; }
	[ "$(find "$T/out" -type f | wc -l)" -eq 4 ]
	for n in 1 2 3 4; do
		cmp "$T/orig/$n" "$(maildir_file "$n")"
	done
}

@test "openssl s_client: CAPA (SASL PLAIN and USER, no STLS), USER, PASS, STAT, QUIT" {
	serve start_stunnel_pop3s
	s_client_session
	expect_line 0 "+OK POP3 server ready"
	expect_capa_session 1
}

# --- STLS made mandatory by stunnel (contrib/stunnel/pop3-starttls.conf) ---

@test "STLS: curl --ssl-reqd pop3:// lists the messages" {
	serve start_stunnel_starttls
	curl -sS -v --max-time 20 --ssl-reqd --cacert "$CERT" -u "alice:$PASSWORD" \
		"pop3://localhost:$PORT/" >"$T/list" 2>"$T/trace"
	printf '%s %s\r\n' 1 "$(exact_size 1)" 2 "$(exact_size 2)" 3 "$(exact_size 3)" 4 "$(exact_size 4)" >"$T/want.list"
	cmp "$T/want.list" "$T/list"
	tr -d '\r' <"$T/trace" | grep -qx '> STLS'
	curl -sS --max-time 20 --ssl-reqd --cacert "$CERT" -u "alice:$PASSWORD" "pop3://localhost:$PORT/4" >"$T/got.4"
	expect_message 4 "$T/got.4" crlf
	expect_logged "login user=alice mechanism=PLAIN client=127.0.0.1 messages=4"
}

@test "STLS: openssl s_client -starttls pop3, then CAPA, USER, PASS, STAT, QUIT" {
	serve start_stunnel_starttls
	s_client_session -starttls pop3
	# s_client read the greeting itself, before STLS
	expect_capa_session 0
}

@test "STLS: plain curl pop3:// without TLS cannot log in" {
	serve start_stunnel_starttls
	status=0
	curl -sS -v --max-time 20 -u "alice:$PASSWORD" "pop3://127.0.0.1:$PORT/" >"$T/list" 2>"$T/trace" || status=$?
	if [ "$status" -eq 0 ]; then
		echo "curl logged in without TLS:"
		cat "$T/trace" "$T/list"
		return 1
	fi
	[ ! -s "$T/list" ]
	# stunnel offers only STLS; the handler never saw a login
	tr -d '\r' <"$T/trace" | grep -qx '< STLS'
	sleep 0.2
	if grep -q 'login user=' "$T/server.log"; then
		cat "$T/server.log"
		return 1
	fi
}
