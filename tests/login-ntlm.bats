#!/usr/bin/env bats
# Logging in with AUTH NTLM as MS-OXPOP3 carries it (NEGOTIATE, our
# CHALLENGE, AUTHENTICATE, each a base64 line), NTLMv2 only, against the NT
# hash in the passwd file's eighth field.  curl logs in over TCP through
# systemd-socket-activate (as inetd would start us); hand-made messages over
# pipes show the refusals: NTLMv1, malformed messages, users without an NT
# hash, NTLM not configured, too many exchanges.

load lib/helpers

M1='Subject: one\n\nbody one\n'		# 26 octets with CRLF

setup() {
	unset REMOTE_ADDR REMOTE_HOST TCPREMOTEIP
	setup_world
	add_user alice secret
	add_nt_hash alice secret
	add_user bob hunter2
	deliver alice 1700000001.M1P1.host "$M1"
	conf ntlm yes
	conf ntlm_domain Example	# sent in capitals
	SSA_PID=
}

teardown() {
	stop_listener
	cleanup_world
}

# curl_ntlm USER:PASSWORD [CURL-OPTION]...: lists the mailbox with AUTH
# NTLM; the listing in $T/out, curl's trace in $T/trace, its exit status
# in $rc.
curl_ntlm() {
	rc=0
	curl -sS -v --max-time 10 --login-options AUTH=NTLM -u "$1" "${@:2}" "pop3://127.0.0.1:$PORT/" \
		>"$T/out" 2>"$T/trace" || rc=$?
}

# ntlm_message KIND [ARG]: a base64 NTLMSSP message made by hand:
#   negotiate           a NEGOTIATE asking for Unicode and NTLM
#   v1 USER             an AUTHENTICATE with 24-octet (NTLMv1) responses
#   past-end            an AUTHENTICATE whose user name lies past its end
#   odd-user            an AUTHENTICATE with a 5-octet UTF-16 user name
#   empty-user          an AUTHENTICATE with an NTLMv2-sized response and no user name
ntlm_message() {
	python3 - "$@" <<'PY'
import base64, struct, sys
kind = sys.argv[1]
sig = b"NTLMSSP\0"
UNICODE, NTLM = 0x1, 0x200
def authenticate(fields, flags=UNICODE | NTLM):
    # fields: lm, nt, domain, user, workstation, session key, as (data, offset or None)
    header = sig + struct.pack("<I", 3)
    payload = b""
    bufs = b""
    base = 8 + 4 + 6 * 8 + 4
    for data, offset in fields:
        off = base + len(payload) if offset is None else offset
        bufs += struct.pack("<HHI", len(data), len(data), off)
        if offset is None:
            payload += data
    return header + bufs + struct.pack("<I", flags) + payload
if kind == "negotiate":
    msg = sig + struct.pack("<II", 1, UNICODE | NTLM | 0x4) + bytes(16)
elif kind == "v1":
    user = sys.argv[2].encode("utf-16-le")
    msg = authenticate([(bytes(24), None), (bytes(range(24)), None), (b"", None), (user, None), (b"", None), (b"", None)])
elif kind == "past-end":
    msg = authenticate([(b"", None), (bytes(48), None), (b"", None), (b"x" * 10, 4000), (b"", None), (b"", None)])
elif kind == "empty-user":
    msg = authenticate([(b"", None), (bytes(48), None), (b"", None), (b"", None), (b"", None), (b"", None)])
elif kind == "odd-user":
    msg = authenticate([(b"", None), (bytes(48), None), (b"", None), (b"alice", None), (b"", None), (b"", None)])
print(base64.b64encode(msg).decode())
PY
}

@test "CAPA and AUTH list NTLM only with ntlm = yes" {
	session -- CAPA AUTH QUIT
	[ "$status" -eq 0 ]
	expect_line 10 "SASL NTLM PLAIN"
	expect_lines 12 "+OK Supported mechanisms follow" NTLM PLAIN "." "+OK Bye"
	session -o ntlm=no -- CAPA AUTH "AUTH NTLM" QUIT
	expect_line 10 "SASL PLAIN"
	expect_lines 12 "+OK Supported mechanisms follow" PLAIN "." "-ERR Unsupported authentication mechanism" "+OK Bye"
}

@test "a passwd file with NT hashes that group or others can read is refused, logged; chmod 600 makes it work" {
	chmod 644 "$T/passwd"
	listen
	curl_ntlm alice:secret
	[ "$rc" -ne 0 ]
	expect_server_logged "error: refusing $T/passwd: it holds NT hashes, which log in as the passwords do, and group or others can read it (chmod 600)"
	session -- "USER bob" "PASS hunter2" "QUIT"
	expect_lines 1 "+OK Send your password" "-ERR [SYS/TEMP] Authentication is temporarily unavailable" "+OK Bye"
	chmod 640 "$T/passwd"
	session -- "USER bob" "PASS hunter2" "QUIT"
	expect_lines 1 "+OK Send your password" "-ERR [SYS/TEMP] Authentication is temporarily unavailable" "+OK Bye"
	chmod 600 "$T/passwd"
	curl_ntlm alice:secret
	[ "$rc" -eq 0 ]
}

@test "curl logs in with AUTH NTLM and the right password, through a CHALLENGE naming our domain" {
	listen
	curl_ntlm alice:secret
	[ "$rc" -eq 0 ] || { cat "$T/trace"; false; }
	printf '1 26\r\n' >"$T/want"
	cmp "$T/want" "$T/out"
	tr -d '\r' <"$T/trace" | grep -qx '> AUTH NTLM'
	# The CHALLENGE: type 2, and the target name EXAMPLE in UTF-16LE.
	tr -d '\r' <"$T/trace" | sed -n 's/^< + \(TlRMTVNTUAACAAAA.*\)$/\1/p' | base64 -d >"$T/challenge"
	grep -q "$(printf 'E\0X\0A\0M\0P\0L\0E\0')" "$T/challenge"
	expect_server_logged "info: login user=alice mechanism=NTLM client=127.0.0.1 messages=1 octets=26"
}

@test "curl with AUTH NTLM: our domain may be named, another may not" {
	listen
	curl_ntlm 'EXAMPLE\alice:secret'
	[ "$rc" -eq 0 ]
	expect_server_logged "info: login user=alice mechanism=NTLM client=127.0.0.1 messages=1 octets=26"
	curl_ntlm 'example\alice:secret'
	[ "$rc" -eq 0 ]
	curl_ntlm 'OTHER\alice:secret'
	[ "$rc" -eq 67 ]	# CURLE_LOGIN_DENIED
	expect_server_logged "notice: user alice: NTLM login names a domain other than EXAMPLE"
}

@test "curl with AUTH NTLM and a wrong password or an unknown user is denied and the failure counted" {
	listen
	curl_ntlm alice:Secret
	[ "$rc" -eq 67 ]
	[ ! -s "$T/out" ]
	expect_server_logged "notice: failed login user=alice mechanism=NTLM client=127.0.0.1"
	curl_ntlm carol:secret
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: failed login: unknown user, mechanism=NTLM client=127.0.0.1"
}

@test "curl --sasl-ir sends the NEGOTIATE on the AUTH line" {
	listen
	curl_ntlm alice:secret --sasl-ir
	[ "$rc" -eq 0 ]
	tr -d '\r' <"$T/trace" | grep -q '^> AUTH NTLM TlRMTVNTUAABAAAA'
	expect_server_logged "info: login user=alice mechanism=NTLM client=127.0.0.1 messages=1 octets=26"
}

@test "NTLM is allowed where the plaintext policy refuses passwords in the clear" {
	conf plaintext_auth no
	listen
	curl_ntlm alice:secret
	[ "$rc" -eq 0 ]
	expect_server_logged "info: login user=alice mechanism=NTLM client=127.0.0.1 messages=1 octets=26"
	curl -sS --max-time 10 --login-options AUTH=PLAIN -u alice:secret "pop3://127.0.0.1:$PORT/" >"$T/out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ]
}

# capa_sasl: the SASL line of the session's CAPA reply ("" when none).
capa_sasl() {
	local l
	for l in "${lines[@]}"; do
		[[ "$l" == "SASL"* ]] && { echo "$l"; return; }
	done
	echo ""
}

@test "NTLM without TLS from a remote client: not offered, refused with -ERR [AUTH], unless ntlm_plaintext = yes or tls = yes" {
	REMOTE_ADDR=203.0.113.7 session -- "CAPA" "AUTH" "AUTH NTLM" "QUIT"
	[ "$(capa_sasl)" = "" ]
	expect_lines 10 "+OK Supported mechanisms follow" "." "-ERR [AUTH] NTLM is not allowed without TLS" "+OK Bye"
	expect_log "notice: failed login: not allowed on this connection, mechanism=NTLM client=203.0.113.7"
	REMOTE_ADDR=203.0.113.7 session -o ntlm_plaintext=yes -- "CAPA" "AUTH NTLM" "QUIT"
	[ "$(capa_sasl)" = "SASL NTLM" ]
	expect_lines 11 "+ " "-ERR Malformed NTLM message"
	REMOTE_ADDR=203.0.113.7 session -o tls=yes -- "CAPA" "QUIT"
	[ "$(capa_sasl)" = "SASL NTLM PLAIN" ]
	REMOTE_ADDR=203.0.113.7 session -o plaintext_auth=yes -- "CAPA" "QUIT"
	[ "$(capa_sasl)" = "SASL NTLM PLAIN" ]
	# a local client is protected: NTLM without PLAIN where plaintext_auth = no
	REMOTE_ADDR=127.0.0.1 session -o plaintext_auth=no -- "CAPA" "QUIT"
	[ "$(capa_sasl)" = "SASL NTLM" ]
}

@test "an account with no crypt password (hash *) logs in with its NT hash; a locked one (hash !...) does not" {
	sed -i 's/^alice:[^:]*:/alice:*:/' "$T/passwd"
	listen
	curl_ntlm alice:secret
	[ "$rc" -eq 0 ]
	expect_server_logged "info: login user=alice mechanism=NTLM client=127.0.0.1 messages=1 octets=26"
	sed -i 's/^alice:[^:]*:/alice:!locked:/' "$T/passwd"
	curl_ntlm alice:secret
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: user alice: the account is locked"
	expect_server_logged "notice: failed login user=alice mechanism=NTLM client=127.0.0.1"
}

@test "ntlm = yes with passwd_file = system is refused at start: the host's accounts have no NT hash" {
	session -o passwd_file=system -- QUIT
	expect_startup_error "ntlm = yes needs a passwd_file with NT hashes: the host's accounts have none"
}

@test "a user without an NT hash cannot log in with NTLM, and the log says why" {
	listen
	curl_ntlm bob:hunter2
	[ "$rc" -eq 67 ]
	expect_server_logged "notice: user bob has no NT hash in the user database: NTLM cannot log in"
	expect_server_logged "notice: failed login user=bob mechanism=NTLM client=127.0.0.1"
}

@test "an NTLMv1 response is refused with -ERR [AUTH], without a login attempt" {
	session -- "AUTH NTLM" "$(ntlm_message negotiate)" "$(ntlm_message v1 alice)" QUIT
	[ "$status" -eq 0 ]
	expect_line 1 "+ "
	expect_match 2 '+ TlRMTVNTUAACAAAA*'
	expect_line 3 "-ERR [AUTH] Only NTLMv2 responses are accepted"
	expect_line 4 "+OK Bye"
	refute_logged "failed login"
}

@test "malformed NTLM messages get -ERR, and the session goes on" {
	session -- "AUTH NTLM" "bm90IE5UTE0=" \
		"AUTH NTLM" "not base64!" \
		"AUTH NTLM $(ntlm_message negotiate)" "$(ntlm_message past-end)" \
		"AUTH NTLM $(ntlm_message negotiate)" "$(ntlm_message odd-user)" \
		"AUTH NTLM $(ntlm_message v1 alice)" \
		"AUTH NTLM $(ntlm_message negotiate)" "$(ntlm_message empty-user)" \
		QUIT
	[ "$status" -eq 0 ]
	expect_line 1 "+ "
	expect_line 2 "-ERR Malformed NTLM message"
	expect_line 3 "+ "
	expect_line 4 "-ERR Invalid base64 in the SASL response"
	expect_match 5 '+ TlRMTVNTUAACAAAA*'
	expect_line 6 "-ERR Malformed NTLM message"
	expect_match 7 '+ TlRMTVNTUAACAAAA*'
	expect_line 8 "-ERR Malformed NTLM message"
	# An AUTHENTICATE where a NEGOTIATE belongs.
	expect_line 9 "-ERR Malformed NTLM message"
	expect_match 10 '+ TlRMTVNTUAACAAAA*'
	expect_line 11 "-ERR Invalid authentication identity"
	expect_line 12 "+OK Bye"
	refute_logged "failed login"
}

@test "an NTLM exchange may be cancelled with *; too many exchanges close the session" {
	local negotiate args=()
	negotiate=$(ntlm_message negotiate)
	for _ in $(seq 8); do args+=("AUTH NTLM $negotiate" "*"); done
	session -- "${args[@]}" "AUTH NTLM $negotiate" QUIT
	[ "$status" -eq 0 ]
	expect_match 1 '+ TlRMTVNTUAACAAAA*'
	expect_line 2 "-ERR Authentication cancelled"
	# max_auth_failures (3) + 5 exchanges, then the session ends.
	expect_match 15 '+ TlRMTVNTUAACAAAA*'
	expect_line 16 "-ERR Authentication cancelled"
	expect_line 17 "-ERR [AUTH] Too many authentication attempts, closing connection"
	[ "${#lines[@]}" -eq 18 ]
	expect_log "notice: failed login: too many login exchanges (8), closing the session, client=local"
}

@test "each CHALLENGE carries a fresh server challenge" {
	local negotiate
	negotiate=$(ntlm_message negotiate)
	session -- "AUTH NTLM $negotiate" "*" "AUTH NTLM $negotiate" "*" QUIT
	[ "$status" -eq 0 ]
	local a b
	a=$(printf '%s' "${lines[1]#+ }" | base64 -d | od -An -tx1 -j24 -N8 | tr -d ' ')
	b=$(printf '%s' "${lines[3]#+ }" | base64 -d | od -An -tx1 -j24 -N8 | tr -d ' ')
	[ ${#a} -eq 16 ]
	[ "$a" != "$b" ]
}

@test "pop3-handler -H -N prints the crypt hash and the NT hash (MS-NLMP's \"Password\")" {
	run bash -c 'printf "Password\n" | "$0" -H -N' "$HANDLER"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '$'* ]]
	[ "${lines[1]}" = a4f49c406510bdcab6824ee7c30fd852 ]
	run bash -c 'printf "secret\n" | "$0" -N | tr -d "\r"' "$HANDLER"
	[ "$output" = "-ERR [SYS/PERM] Server configuration error: -N goes with -H; see pop3-handler -h" ]
	run "$HANDLER" -N
	[ "$status" -eq 1 ]
}

@test "a malformed NT hash field makes the entry malformed (logged, skipped)" {
	sed -i 's|^\(bob:.*\)$|\1:not-a-hash|' "$T/passwd"
	session -- "USER bob" "PASS hunter2" QUIT
	expect_line 2 "-ERR [AUTH] Authentication failed"
	expect_logged "line 2: malformed entry skipped"
}
