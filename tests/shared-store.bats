#!/usr/bin/env bats
# A Maildir on a file system that several hosts may share (here a FUSE
# mount, bindfs, which the handler takes for one): a session reads the UID
# list again until it is the list the lock file's record names, as it must
# when its host's cache still holds a list another host replaced.  The
# stale cache is played by putting an older list in place behind the
# record.  make check-scaleout (tests/scaleout) runs the real thing:
# GlusterFS, two front ends and HAProxy.  Needs root (FUSE mounts).

load lib/helpers
load lib/maildir

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: FUSE mounts"
	command -v bindfs >/dev/null || skip "bindfs is not installed (tests/install-deps installs it)"
	setup_world
	add_user alice secret
	mkdir "$T/real"
	mv "$(MD)"/* "$T/real"
	chown "$TEST_UID:$TEST_GID" "$T/real"
	bindfs -f -o allow_other "$T/real" "$(MD)" &
	BINDFS_PID=$!
	wait_for 5 mountpoint -q "$(MD)"
}

teardown() {
	if [ -n "${RESTORER_PID:-}" ]; then
		stop_process "$RESTORER_PID"
	fi
	if [ -n "${BINDFS_PID:-}" ]; then
		umount "$(MD)" 2>/dev/null || umount -l "$(MD)" 2>/dev/null || true
		stop_process "$BINDFS_PID"
	fi
	cleanup_world
}

# two_lists: alice gets two messages and a list (kept as $T/list-old), then a
# third and the list that names it (kept as $T/list-new), whose UIDs are in
# UIDS.
two_lists() {
	deliver alice 1700000001.M1P1.host "$M1"
	deliver alice 1700000002.M2P2.host "$M2"
	uidl_session
	cp "$(MD)/$LIST_FILE" "$T/list-old"
	deliver alice 1700000003.M3P3.host "$M3"
	uidl_session
	cp "$(MD)/$LIST_FILE" "$T/list-new"
}

# checksum_link: the name the list is also linked under on a shared file
# system: the list's name, a dot and the checksum its END line carries.
checksum_link() { printf '%s/%s.%s' "$(MD)" "$LIST_FILE" "$(tail -n 1 "$(MD)/$LIST_FILE" | cut -d ' ' -f 3)"; }

# put_list FILE: replaces the list with a copy of FILE, as another host does.
put_list() {
	cp "$1" "$(MD)/$LIST_FILE.put"
	chown "$TEST_UID:$TEST_GID" "$(MD)/$LIST_FILE.put"
	mv "$(MD)/$LIST_FILE.put" "$(MD)/$LIST_FILE"
}

# timed_uidl_session: uidl_session, its duration in ELAPSED_MS.
timed_uidl_session() {
	local start
	start=$(now_ns)
	uidl_session
	ELAPSED_MS=$((($(now_ns) - start) / 1000000))
}

@test "the handler takes a FUSE mount for a shared file system and reads the lock file past its caches" {
	# A sanitizer build cannot run under strace (LeakSanitizer refuses ptrace).
	[ -z "${POP3_HANDLER:-}" ] || skip "POP3_HANDLER is another build"
	two_lists
	[ "$(stat -f -c %t "$(MD)")" = 65735546 ] || { stat -f "$(MD)"; return 1; }	# FUSE_SUPER_MAGIC
	strace -f -e trace=openat,ftruncate -o "$T/trace" "$HANDLER" -c "$T/conf" -o confine=no \
		<<<$'USER alice\r\nPASS secret\r\nQUIT\r' >/dev/null 2>"$T/log"
	# The lock file: truncated to its own size (its record's), then read with O_DIRECT.
	grep -Eq "ftruncate\([0-9]+, 38\) += 0" "$T/trace" || { cat "$T/trace"; return 1; }
	grep -q "\"$LOCK_FILE\", O_RDONLY|.*O_DIRECT" "$T/trace" || { cat "$T/trace"; return 1; }
	refute_logged "refuses O_DIRECT"
}

@test "on a shared file system, a session reads the list the record names under its checksum name" {
	two_lists
	local want=("${UIDS[@]}") link
	link=$(checksum_link)
	[ -f "$link" ] && [ "$link" -ef "$(MD)/$LIST_FILE" ] || { ls -li "$(MD)"; return 1; }
	# Whatever this host's cache shows under the plain name.
	put_list "$T/list-old"
	timed_uidl_session
	[ "${UIDS[*]}" = "${want[*]}" ] || { echo "UIDs ${UIDS[*]}, expected ${want[*]}"; cat "$T/log"; return 1; }
	[ "$ELAPSED_MS" -lt 1000 ] || { echo "the session took $ELAPSED_MS ms"; return 1; }
	# The list the session wrote is linked under its own checksum name, and
	# the name of the list it replaced is gone.
	[ ! -e "$link" ] || cmp -s "$link" "$(MD)/$LIST_FILE"
	[ "$(checksum_link)" -ef "$(MD)/$LIST_FILE" ]
	[ "$(ls "$(MD)" | grep -c "^$LIST_FILE\.[0-9a-f]\{16\}\$")" -eq 1 ] || { ls "$(MD)"; return 1; }
}

@test "on a shared file system, a list older than the lock file's record is read again until the recorded one comes" {
	two_lists
	local want=("${UIDS[@]}")
	# This host's cache still shows the old list, and no checksum name (as
	# when an older version wrote it); the new list shows up 1 s later.
	rm "$(checksum_link)"
	put_list "$T/list-old"
	(sleep 1 && put_list "$T/list-new") &
	RESTORER_PID=$!
	timed_uidl_session
	wait "$RESTORER_PID"
	RESTORER_PID=
	[ "${UIDS[*]}" = "${want[*]}" ] || { echo "UIDs ${UIDS[*]}, expected ${want[*]}"; cat "$T/log"; return 1; }
	[ "$ELAPSED_MS" -ge 800 ] || { echo "the session took $ELAPSED_MS ms: it did not wait for the recorded list"; return 1; }
	refute_logged "still not the list"
}

@test "on a shared file system, a list that never becomes the recorded one is taken after 3 s, and logged" {
	two_lists
	rm "$(checksum_link)"
	put_list "$T/list-old"
	timed_uidl_session
	[ "${#UIDS[@]}" -eq 3 ]
	[ "$ELAPSED_MS" -ge 2900 ] && [ "$ELAPSED_MS" -lt 8000 ] || { echo "the session took $ELAPSED_MS ms"; return 1; }
	expect_logged "warning: $LIST_FILE is still not the list $LOCK_FILE records after 3000 ms: taken as it is"
}

@test "on a local file system, a list that is not the recorded one is taken at once: no read there can be stale" {
	umount "$(MD)"
	stop_process "$BINDFS_PID"
	BINDFS_PID=
	rmdir "$(MD)"
	mv "$T/real" "$(MD)"
	two_lists
	put_list "$T/list-old"
	timed_uidl_session
	[ "$ELAPSED_MS" -lt 1000 ] || { echo "the session took $ELAPSED_MS ms"; return 1; }
	refute_logged "still not the list"
}
