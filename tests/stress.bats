#!/usr/bin/env bats
# Stress: many concurrent sessions on one Maildir while a delivery process
# adds messages, sessions are killed with SIGKILL at random moments (during
# QUIT too) and the UID list is removed or truncated between sessions.
# tests/stress-maildir.py does the work and the checks; STRESS_SECONDS
# (default 20) sets how long the load runs.

load lib/helpers

@test "stress: deliveries, concurrent and killed sessions, a damaged UID list: no mail lost, no UID changed or reused, the list parses" {
	add_user alice secret
	status=0
	timeout 120 python3 "$BATS_TEST_DIRNAME/stress-maildir.py" \
		--handler "$HANDLER" --conf "$T/conf" --maildir "$T/home/alice/Maildir" \
		--user alice --password secret --uid "$TEST_UID" --gid "$TEST_GID" \
		--duration "${STRESS_SECONDS:-20}" --log "$T/stress.log" >"$T/stress.out" 2>&1 || status=$?
	if [ "$status" -eq 0 ]; then
		# The figures go to the TAP stream as comments.
		sed 's/^/# /' "$T/stress.out" >&3
	else
		cat "$T/stress.out"
		echo "--- last lines of the handlers' log ($(wc -l <"$T/stress.log") lines) ---"
		grep -v ': info: ' "$T/stress.log" | tail -n 40
	fi
	[ "$status" -eq 0 ]
}
