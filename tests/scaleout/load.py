#!/usr/bin/env python3
"""Load driver and checker for the scale-out rig (issue 19): POP3 sessions through
a balancer (HAProxy) to several front ends that share one Maildir, while a
deliverer writes new mail into it.

What runs:
  * a deliverer, a forked process running as the mailbox owner (--uid/--gid):
    it writes each message into tmp/, fsyncs it and renames it into new/,
    named "<time>.M<usec>P<pid>Q<n>.loadgen"; the header "X-Load-Token: NAME"
    carries the name, and the whole content is a function of the name, so a
    TOP tells which message a UID is and can be compared octet for octet.
    An initial batch is written before the sessions start; the rest is paced
    by the sessions finished, so --deliveries are spread over the run and
    stop with it;
  * --concurrency workers running --sessions sessions through --server:
    greeting, USER/PASS, UIDL, TOP of every message whose UID is not tied to
    a message yet and of 2-3 others, DELE of 0-3 of those, QUIT.  About 5%
    hang up without QUIT (their DELEs must not take effect).  A session
    refused with [IN-USE] is counted and run again later;
  * after the load, with the deliverer stopped, one session to each
    --frontend directly, which lists and TOPs every message.

Checks (each printed PASS or FAIL with every violation):
  1. every session ran: greeting, login, every command answered as expected;
     completed sessions == --sessions ([IN-USE] retries aside);
  2. every delivered message is present at the end (base name, in new/ or
     cur/ of --maildir and of every --check-maildir) or was deleted by a DELE
     in a session whose QUIT answered +OK; a message a TOP found removed was
     deleted by such a session that had sent QUIT by then;
  3. a message deleted that way is gone from every Maildir path, and no
     session that sent PASS after that QUIT's +OK arrived listed its UID or
     read it;
  4. no UID given to two messages (nor twice in one listing);
  5. no message's UID changed: none tied to two UIDs, and no UID that no
     session could tie whose message a TOP found removed (sessions delete
     only what they TOPped, so that was a second UID of a deleted message);
  6. no -ERR [SYS/TEMP] anywhere;
  7. every front end lists the same UIDs, each tied to the same message, and
     that set is the final content of every Maildir path.
A "run" line says whether the run itself held: not interrupted, within
--time-limit, the deliverer sound.  Exit status: 0 all passed, 1 a check or
the run failed, 2 the run could not start.

Times are printed as t=SECONDS since the driver started (one monotonic clock,
shared with the deliverer).  Python 3.11 standard library only.
"""

import argparse
import collections
import dataclasses
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback

# ---------------------------------------------------------------------------
# Parameters, with their reasons.

SOCKET_TIMEOUT = 30.0       # one reply slower than this is a hung session
INITIAL_BATCH = 50          # messages in the Maildir before the first session
HANGUP_SHARE = 0.05         # sessions that hang up without QUIT
EXTRA_TOPS = (2, 3)         # already tied messages each session TOPs again
DELE_MAX = 3                # DELEs per session: 0 to this many
# Below this many messages a session (other than a hang-up) deletes nothing:
# 0-3 DELEs a session would otherwise drain the mailbox within a few dozen
# sessions and later listings would be nearly empty, testing little.
MAILBOX_FLOOR = 25
TOP_BODY_LINES = 60         # TOP n L of a re-read message: L up to this (dot-stuffed lines)
IN_USE_BACKOFF = (0.05, 0.25)   # seconds before an [IN-USE] session runs again
IN_USE_MAX_TRIES = 50       # a session refused this often fails
MAX_LINE = 8192             # longest reply line accepted (ours are < 1000)
MAX_RESPONSE = 32 << 20     # octets of one multi-line reply accepted
PREFLIGHT_TIMEOUT = 10.0    # the greeting of the pre-run probe
DELIVERER_STOP_WAIT = 10.0  # the deliverer's last deliveries and exit
SCAN_TIMEOUT = 30.0         # one Maildir scan (a hung mount must not hang us)
TOKEN_HEADER = b"X-Load-Token"
NAME_SUFFIX = ".loadgen"

T0 = time.monotonic()       # the origin of every t= printed


def at(t):
    """A monotonic time as printed: seconds since the driver started."""
    return "t=%.3f" % (t - T0) if t is not None else "t=?"


# ---------------------------------------------------------------------------
# Command line.

def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("%r is not HOST:PORT" % text)
    return host.strip("[]"), int(port)


def positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("%r is not a positive integer" % text)
    return int(text)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", type=host_port, required=True, help="the balancer: sessions go here")
    ap.add_argument("--frontend", type=host_port, action="append", required=True,
                    help="a front end, directly (repeat): the final cross-check")
    ap.add_argument("--maildir", required=True, help="the Maildir the deliverer writes through")
    ap.add_argument("--check-maildir", action="append", default=[],
                    help="the same Maildir through another mount (repeat): the final file check runs through each")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--uid", type=int, required=True, help="the deliverer writes as this owner")
    ap.add_argument("--gid", type=int, required=True)
    ap.add_argument("--sessions", type=positive, default=2000, help="total sessions (default 2000)")
    ap.add_argument("--concurrency", type=positive, default=8, help="sessions at once (default 8)")
    ap.add_argument("--deliveries", type=positive, default=600, help="messages delivered over the run (default 600)")
    ap.add_argument("--time-limit", type=float, default=240.0,
                    help="seconds: everything stops, and the run fails, beyond this (default 240)")
    ap.add_argument("--report", help="JSON file for the figures and the checks")
    args = ap.parse_args(argv)
    if args.time_limit <= 0:
        ap.error("--time-limit must be positive")
    return args


# ---------------------------------------------------------------------------
# Messages: the content is a function of the name.

def message_content(name):
    """The octets delivered under name (LF line ends, as in a Maildir)."""
    rnd = random.Random(name)   # str seeds hash with SHA-512: the same in every process
    lines = [
        "Return-Path: <load@example.invalid>",
        "From: Load <load@example.invalid>",
        "To: user@example.invalid",
        "Subject: load message %s" % name,
        "Message-ID: <%s@load.invalid>" % name,
        "%s: %s" % (TOKEN_HEADER.decode(), name),
        "",
    ]
    for i in range(rnd.randint(1, 40)):
        kind = rnd.randrange(8)
        if kind == 0:
            lines.append(".")                       # unstuffed, it would end the reply
        elif kind == 1:
            lines.append("." * rnd.randint(2, 3) + " dotted line %d" % i)
        elif kind == 2:
            lines.append("")
        elif kind == 3:                             # beyond 76 octets, up to RFC 5322's 998
            lines.append(("long line %d " % i).ljust(rnd.randint(77, 998), "x"))
        else:
            lines.append("line %d of %s %s" % (i, name, "y" * rnd.randrange(60)))
    text = "\n".join(lines)
    # One in ten lacks the final newline: the server must still end the last line with CRLF.
    return (text if rnd.random() < 0.1 else text + "\n").encode()


def wire_lines(content):
    """The lines a POP3 server sends for content, without CRLF, once dot-unstuffed."""
    lines = content.split(b"\n")
    if content.endswith(b"\n"):
        lines.pop()
    return lines


def expected_top(name, body_lines):
    """What TOP n body_lines must give for the message named name."""
    lines = wire_lines(message_content(name))
    header_end = lines.index(b"")
    return lines[:header_end + 1 + body_lines]


def token_of(lines):
    """The X-Load-Token of a message's header lines, or None."""
    for line in lines:
        if line == b"":
            break
        field, sep, value = line.partition(b":")
        if sep and field.strip().lower() == TOKEN_HEADER.lower() and value.strip():
            return value.strip().decode("latin-1")
    return None


# ---------------------------------------------------------------------------
# The deliverer: a forked child, so it can take the owner's ids.

def drop_privileges(uid, gid):
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    elif (os.geteuid(), os.getegid()) != (uid, gid):
        raise PermissionError("not root: cannot write as uid %d gid %d" % (uid, gid))


def deliver_one(maildir, counter):
    """Writes one message the Maildir way; returns its name."""
    now = time.time()
    name = "%d.M%06dP%dQ%d%s" % (int(now), int(now * 1e6) % 1000000, os.getpid(), counter, NAME_SUFFIX)
    tmp = os.path.join(maildir, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        data = message_content(name)
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(maildir, "new", name))
    return name


def deliverer_child(args, initial, control_fd, report_fd, deadline):
    """The child's whole life: the initial batch, "READY", then deliveries paced by the
    sessions finished (one byte each on control_fd) until EOF or the deadline.  Reports
    "D NAME TIME" per message on report_fd; never returns."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent stops us, in order
        drop_privileges(args.uid, args.gid)
        count, finished = 0, 0
        for _ in range(initial):
            count += 1
            name = deliver_one(args.maildir, count)
            os.write(report_fd, b"D %s %.6f\n" % (name.encode(), time.monotonic()))
        os.write(report_fd, b"READY\n")
        while True:
            target = initial + (args.deliveries - initial) * finished // args.sessions
            while count < target and time.monotonic() < deadline:
                count += 1
                name = deliver_one(args.maildir, count)
                os.write(report_fd, b"D %s %.6f\n" % (name.encode(), time.monotonic()))
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([control_fd], [], [], wait)[0]:
                break
            data = os.read(control_fd, 4096)
            if not data:                                # the parent is done (or gone)
                break
            finished += len(data)
        os._exit(0)
    except BaseException as e:  # noqa: B902 - a forked child must never return
        try:
            os.write(report_fd, b"ERR %s\n" % repr(e).encode(errors="replace"))
        finally:
            os._exit(3)


class Deliverer:
    """The parent's side of the deliverer: start, pace, collect, stop."""

    def __init__(self, args, deadline):
        self.args = args
        self.deadline = deadline
        self.initial = min(INITIAL_BATCH, args.deliveries)
        self.delivered = {}         # name -> delivery time
        self.errors = []
        self.ready = threading.Event()
        self.pid = None
        self.status = None          # wait status once reaped
        self.control = None
        self.control_lock = threading.Lock()    # a late worker must not write to a reused fd
        self.reader = None

    def start(self):
        """Forks the child; call before any other thread exists."""
        control_r, self.control = os.pipe()
        report_r, report_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.control)
            os.close(report_r)
            deliverer_child(self.args, self.initial, control_r, report_w, self.deadline)
        os.close(control_r)
        os.close(report_w)
        self.reader = threading.Thread(target=self._read, args=(report_r,), daemon=True)
        self.reader.start()

    def _read(self, fd):
        with os.fdopen(fd, "rb") as f:
            for line in f:
                kind, _, rest = line.rstrip(b"\n").partition(b" ")
                if kind == b"D":
                    name, t = rest.split()
                    self.delivered[name.decode()] = float(t)
                elif kind == b"READY":
                    self.ready.set()
                else:
                    self.errors.append(line.decode(errors="replace").strip())
        self.ready.set()    # EOF: whoever waits for READY must look again

    def wait_ready(self):
        """True once the initial batch is in; false when the child failed or time ran out."""
        self.ready.wait(max(0.0, self.deadline - time.monotonic()))
        return len(self.delivered) >= self.initial and not self.errors

    def session_finished(self):
        """One byte per finished session paces the deliveries."""
        with self.control_lock:
            if self.control is None:
                return
            try:
                os.write(self.control, b"s")
            except OSError:
                pass    # the child has gone: its status says why

    def finish(self, deadline):
        """Lets the child deliver what the finished sessions asked for, then reaps it."""
        self._close_control()
        self._reap(min(deadline, time.monotonic() + DELIVERER_STOP_WAIT))
        if self.status is None:
            self.kill()
        if self.reader is not None:
            self.reader.join(max(0.0, min(2.0, deadline - time.monotonic())))

    def kill(self):
        """Stops the child now (SIGTERM, then SIGKILL); idempotent."""
        self._close_control()
        for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            if self.pid is None or self.status is not None:
                return
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            self._reap(time.monotonic() + wait)

    def _close_control(self):
        with self.control_lock:
            if self.control is not None:
                os.close(self.control)
                self.control = None

    def _reap(self, until):
        while self.pid is not None and self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return
            if time.monotonic() >= until:
                return
            time.sleep(0.02)

    def problem(self):
        """Why the deliverer is not sound, or None."""
        if self.errors:
            return "the deliverer failed: %s" % "; ".join(self.errors)
        if self.status is None:
            return "the deliverer did not exit (pid %s)" % self.pid
        if self.status != 0:
            return "the deliverer exited with wait status %d" % self.status
        return None


# ---------------------------------------------------------------------------
# A POP3 connection.

class Failure(Exception):
    """A session step that did not go as expected; kind is the error figure it counts under
    (SYS/TEMP, IN-USE, ERR, connect, connection, timeout, protocol, content, aborted,
    internal)."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class ErrReply(Failure):
    """An -ERR answer."""

    def __init__(self, reply):
        text = reply.decode("latin-1")
        kind = "SYS/TEMP" if "[SYS/TEMP]" in text else "IN-USE" if "[IN-USE]" in text else "ERR"
        super().__init__(kind, "answered %r" % text)
        self.reply = reply
        self.coded = reply.startswith(b"-ERR [")     # carries an RFC 2449 response code


class Sockets:
    """The sockets open now, so an abort can unblock every worker at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open = set()
        self.closed = False

    def add(self, sock):
        with self.lock:
            if self.closed:
                sock.close()
                raise Failure("aborted", "the run was stopped")
            self.open.add(sock)

    def discard(self, sock):
        with self.lock:
            self.open.discard(sock)

    def shutdown_all(self):
        with self.lock:
            self.closed = True
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Pop3:
    """One connection: CRLF lines, status replies, multi-line bodies.  Every wait is bounded
    by SOCKET_TIMEOUT and by the run's deadline."""

    def __init__(self, addr, deadline, sockets):
        self.deadline = deadline
        self.sockets = sockets
        self.buf = bytearray()
        self.pos = 0
        try:
            self.sock = socket.create_connection(addr, timeout=self._timeout())
        except TimeoutError:
            raise Failure("connect", "no connection to %s:%d within the timeout" % addr) from None
        except OSError as e:
            raise Failure("connect", "cannot connect to %s:%d: %s" % (addr + (e,))) from None
        sockets.add(self.sock)

    def close(self):
        self.sockets.discard(self.sock)
        self.sock.close()

    def _timeout(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failure("timeout", "the time limit was reached")
        self.waited = min(SOCKET_TIMEOUT, left)
        return self.waited

    def send(self, line):
        try:
            self.sock.settimeout(self._timeout())
            self.sock.sendall(line.encode() + b"\r\n")
        except TimeoutError:
            raise Failure("timeout", "could not send %r within %.1f s" % (line, self.waited)) from None
        except OSError as e:
            raise Failure("connection", "sending %r: %s" % (line, e)) from None

    def line(self):
        """The next line, without its CRLF."""
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos:end])
                self.pos = end + 2
                if b"\n" in line:
                    raise Failure("protocol", "a line ended by a bare LF: %r" % line[:120])
                return line
            if len(self.buf) - self.pos > MAX_LINE:
                raise Failure("protocol", "a line longer than %d octets" % MAX_LINE)
            del self.buf[:self.pos]
            self.pos = 0
            self.buf += self._recv()

    def _recv(self):
        try:
            self.sock.settimeout(self._timeout())
            data = self.sock.recv(65536)
        except TimeoutError:
            raise Failure("timeout", "no answer within %.1f s" % self.waited) from None
        except OSError as e:
            raise Failure("connection", str(e)) from None
        if not data:
            raise Failure("connection", "the server closed the connection")
        return data

    def reply(self, what):
        """A status line: +OK returns it, -ERR raises ErrReply, anything else is a protocol error."""
        line = self.line()
        if line.startswith(b"+OK"):
            return line
        if line.startswith(b"-ERR"):
            raise ErrReply(line)
        raise Failure("protocol", "%s answered %r" % (what, line[:200]))

    def command(self, line):
        self.send(line)
        return self.reply(line.split(" ", 1)[0])

    def body(self):
        """A multi-line body, dot-unstuffed, up to its "." line."""
        lines, size = [], 0
        while True:
            line = self.line()
            if line == b".":
                return lines
            size += len(line) + 2
            if size > MAX_RESPONSE:
                raise Failure("protocol", "a multi-line reply longer than %d octets" % MAX_RESPONSE)
            lines.append(line[1:] if line.startswith(b".") else line)


# ---------------------------------------------------------------------------
# One session attempt and what it observed.

@dataclasses.dataclass
class Attempt:
    sid: object                 # session number, or "final via HOST:PORT"
    attempt: int                # 1, or more after [IN-USE]
    hangup: bool                # ends without QUIT, on purpose
    started: float
    ended: float = None
    pass_sent: float = None     # PASS written: the snapshot comes after this
    login_at: float = None      # PASS's +OK arrived
    listing: dict = None        # message number -> UID, from UIDL
    dup_uids: list = dataclasses.field(default_factory=list)   # (uid, num, num) in one listing
    tokens: dict = dataclasses.field(default_factory=dict)     # number -> token, by TOP
    gone: dict = dataclasses.field(default_factory=dict)       # number -> time TOP said removed
    tops: int = 0
    deleted: dict = dataclasses.field(default_factory=dict)    # number -> token, DELE +OK
    quit_sent: float = None
    quit_at: float = None       # QUIT's reply arrived
    quit_ok: bool = False
    outcome: str = "running"    # completed, in-use, failed
    error: Failure = None
    error_cmd: str = None
    error_at: float = None

    def label(self):
        text = "session %s" % self.sid
        return text + (" (attempt %d)" % self.attempt if self.attempt > 1 else "")

    def uid_set(self):
        return set(self.listing.values()) if self.listing else set()


class Shared:
    """What sessions share while they run: the UIDs already tied to a message (to choose
    what to TOP) and every attempt (for the checks)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.uid_token = {}
        self.attempts = []

    def untied(self, listing):
        with self.lock:
            return [n for n, uid in listing.items() if uid not in self.uid_token]

    def tie(self, uid, token):
        with self.lock:
            self.uid_token.setdefault(uid, token)

    def record(self, att):
        with self.lock:
            self.attempts.append(att)


def step_login(conn, att, args):
    att.error_cmd = "greeting"
    conn.reply("greeting")
    att.error_cmd = "USER"
    conn.command("USER " + args.user)
    att.error_cmd = "PASS"
    att.pass_sent = time.monotonic()
    conn.command("PASS " + args.password)
    att.login_at = time.monotonic()


UIDL_LINE = re.compile(rb"^(\d+) ([\x21-\x7e]{1,70})$")


def step_uidl(conn, att):
    att.error_cmd = "UIDL"
    conn.command("UIDL")
    listing, first = {}, {}
    for line in conn.body():
        m = UIDL_LINE.match(line)
        if not m:
            raise Failure("protocol", "UIDL line %r is not 'number unique-id'" % line[:120])
        num, uid = int(m.group(1)), m.group(2).decode()
        if uid in first:
            att.dup_uids.append((uid, first[uid], num))
        first.setdefault(uid, num)
        listing[num] = uid
    if list(listing) != list(range(1, len(listing) + 1)):
        raise Failure("protocol", "UIDL numbers %s are not 1..%d in order" % (list(listing)[:20], len(listing)))
    att.listing = listing


def step_top(conn, att, num, body_lines, shared):
    """TOP num body_lines: ties the UID to the message's token and compares the content."""
    cmd = "TOP %d %d" % (num, body_lines)
    att.error_cmd = cmd
    att.tops += 1
    try:
        conn.command(cmd)
    except ErrReply as e:
        if e.coded:
            raise
        # Removed by another session's QUIT since our snapshot: allowed (the list is a
        # snapshot); check 2 then wants a QUIT +OK that deleted it.
        att.gone[num] = time.monotonic()
        return
    lines = conn.body()
    token = token_of(lines)
    uid = att.listing[num]
    if token is None:
        raise Failure("content", "%s (UID %s) has no %s header: %r" % (cmd, uid, TOKEN_HEADER.decode(), lines[:8]))
    want = expected_top(token, body_lines)
    if lines != want:
        diff = next((i for i, (a, b) in enumerate(zip(lines, want)) if a != b), min(len(lines), len(want)))
        raise Failure("content", "%s (UID %s, message %s): %d lines where %d were written; line %d is %r, not %r"
                      % (cmd, uid, token, len(lines), len(want), diff + 1,
                         lines[diff][:80] if diff < len(lines) else None, want[diff][:80] if diff < len(want) else None))
    att.tokens[num] = token
    shared.tie(uid, token)


def choose_tops(rnd, att, shared):
    """(number, body lines) to TOP: every untied message, then 2-3 tied ones, some with body
    lines so dot-stuffed lines cross the wire."""
    untied = shared.untied(att.listing)
    untied_set = set(untied)
    others = [n for n in att.listing if n not in untied_set]
    again = rnd.sample(others, min(rnd.randint(*EXTRA_TOPS), len(others)))
    picks = [(n, 0) for n in untied]
    picks += [(n, rnd.choice((0, rnd.randint(1, TOP_BODY_LINES)))) for n in again]
    return picks


def choose_deletions(rnd, att):
    """Numbers to DELE, among those this session tied itself (so it knows what it deletes)."""
    if att.hangup:
        count = rnd.randint(1, DELE_MAX)    # hang-ups must show their DELEs are not applied
    elif len(att.listing) < MAILBOX_FLOOR:
        count = 0
    else:
        count = rnd.randint(0, DELE_MAX)
    candidates = sorted(att.tokens)
    return rnd.sample(candidates, min(count, len(candidates)))


def step_quit(conn, att):
    att.error_cmd = "QUIT"
    att.quit_sent = time.monotonic()
    conn.send("QUIT")
    reply = conn.line()
    att.quit_at = time.monotonic()
    if reply.startswith(b"-ERR"):
        raise ErrReply(reply)
    if not reply.startswith(b"+OK"):
        raise Failure("protocol", "QUIT answered %r" % reply[:200])
    att.quit_ok = True


def load_dialogue(conn, att, args, shared, rnd):
    """A load session: login, UIDL, TOPs, DELEs, then QUIT or a hang-up."""
    step_login(conn, att, args)
    step_uidl(conn, att)
    for num, body_lines in choose_tops(rnd, att, shared):
        step_top(conn, att, num, body_lines, shared)
    for num in choose_deletions(rnd, att):
        att.error_cmd = "DELE %d" % num
        conn.command("DELE %d" % num)
        att.deleted[num] = att.tokens[num]
    if not att.hangup:
        step_quit(conn, att)


def final_dialogue(conn, att, args, shared, rnd):
    """The cross-check session: every message listed and TOPped, nothing deleted."""
    del rnd
    step_login(conn, att, args)
    step_uidl(conn, att)
    for num in att.listing:
        step_top(conn, att, num, 0, shared)
    step_quit(conn, att)


def run_attempt(att, addr, dialogue, args, shared, sockets, deadline):
    """Runs one attempt to its end and records its outcome; never raises Failure."""
    rnd = random.Random()
    conn = None
    try:
        att.error_cmd = "connect"
        conn = Pop3(addr, deadline, sockets)
        dialogue(conn, att, args, shared, rnd)
        att.outcome = "completed"
    except Failure as e:
        if sockets.closed and e.kind in ("connection", "timeout"):
            e = Failure("aborted", "the run was stopped (%s)" % e.detail)
        att.error, att.error_at = e, time.monotonic()
        att.outcome = "in-use" if e.kind == "IN-USE" else "failed"
    except Exception as e:  # noqa: B902 - a bug here must fail this session, not hang the run
        att.error = Failure("internal", "load.py error: %s" % "".join(traceback.format_exception_only(e)).strip())
        att.error_at, att.outcome = time.monotonic(), "failed"
    finally:
        if conn is not None:
            conn.close()    # for a hang-up, this is the hang-up
        att.ended = time.monotonic()
        shared.record(att)
    return att


# ---------------------------------------------------------------------------
# The load: workers taking session numbers from a queue.

class Load:
    def __init__(self, args, shared, deliverer, deadline):
        self.args = args
        self.shared = shared
        self.deliverer = deliverer
        self.deadline = deadline
        self.sockets = Sockets()
        self.cv = threading.Condition()
        self.queue = collections.deque((sid, 1) for sid in range(1, args.sessions + 1))
        self.finished = 0           # sessions completed or failed for good
        self.completed = 0
        self.stop = threading.Event()
        self.workers = []
        self.started = self.ended = None
        self.plan = random.Random()

    def run(self):
        """Runs every session; True when all finished before the deadline."""
        self.started = time.monotonic()
        self.workers = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.args.concurrency)]
        for w in self.workers:
            w.start()
        with self.cv:
            while self.finished < self.args.sessions:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(min(left, 1.0))
            done = self.finished >= self.args.sessions
        self.ended = time.monotonic()
        self.abort()
        return done

    def abort(self):
        """Stops the workers: no new session, open connections shut down."""
        self.stop.set()
        self.sockets.shutdown_all()
        for w in self.workers:
            w.join(max(0.0, min(5.0, self.deadline + 5.0 - time.monotonic())))

    def _take(self):
        with self.cv:
            return self.queue.popleft() if self.queue and not self.stop.is_set() else None

    def _worker(self):
        while not self.stop.is_set():
            item = self._take()
            if item is None:
                if self.stop.wait(0.05):
                    return
                continue
            sid, tries = item
            with self.cv:
                hangup = self.plan.random() < HANGUP_SHARE
            att = Attempt(sid=sid, attempt=tries, hangup=hangup, started=time.monotonic())
            run_attempt(att, self.args.server, load_dialogue, self.args, self.shared, self.sockets, self.deadline)
            if att.outcome == "in-use" and tries < IN_USE_MAX_TRIES and not self.stop.is_set():
                # Another session holds the mailbox: allowed; this session runs again later.
                self.stop.wait(random.uniform(*IN_USE_BACKOFF))
                with self.cv:
                    self.queue.append((sid, tries + 1))
                continue
            with self.cv:
                self.finished += 1
                self.completed += att.outcome == "completed"
                self.cv.notify_all()
            self.deliverer.session_finished()


def run_final(addr, args, shared, sockets, deadline):
    """One session to a front end directly, [IN-USE] retried; its last attempt."""
    label = "final via %s:%d" % addr
    for tries in range(1, IN_USE_MAX_TRIES + 1):
        att = Attempt(sid=label, attempt=tries, hangup=False, started=time.monotonic())
        run_attempt(att, addr, final_dialogue, args, shared, sockets, deadline)
        if att.outcome != "in-use" or time.monotonic() >= deadline:
            break
        time.sleep(random.uniform(*IN_USE_BACKOFF))
    return att


def run_finals(args, shared, deadline):
    """The final sessions, one thread per front end so a hung one does not starve the
    others; {front end: last attempt} of those that returned."""
    sockets, finals = Sockets(), {}

    def one(addr):
        finals["%s:%d" % addr] = run_final(addr, args, shared, sockets, deadline)

    threads = [threading.Thread(target=one, args=(addr,), daemon=True) for addr in args.frontend]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 1.0)
    sockets.shutdown_all()
    return dict(finals)     # a copy: a thread still ending must not change what is judged


# ---------------------------------------------------------------------------
# The Maildir as the files show it.

def scan_maildir(path):
    """{base name: ["new/NAME", "cur/NAME:2,S", ...]} of the messages in new/ and cur/."""
    present = collections.defaultdict(list)
    for sub in ("new", "cur"):
        with os.scandir(os.path.join(path, sub)) as it:
            for entry in it:
                if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                    present[entry.name.split(":", 1)[0]].append(sub + "/" + entry.name)
    return dict(present)


def bounded(fn, timeout, *fnargs):
    """fn(*fnargs) in a thread, so a hung mount cannot hang us: its result, or raises
    TimeoutError (the thread is left behind, a daemon) or what fn raised."""
    box = {}

    def target():
        try:
            box["value"] = fn(*fnargs)
        except BaseException as e:  # noqa: B902 - handed to the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(max(0.0, timeout))
    if t.is_alive():
        raise TimeoutError("%s did not return within %.0f s" % (fn.__name__, timeout))
    if "error" in box:
        raise box["error"]
    return box["value"]


def scan_all(paths, deadline):
    """{path: scan} for every Maildir path, or {path: error text}."""
    scans = {}
    for path in paths:
        if time.monotonic() >= deadline:
            scans[path] = "cannot scan %s: no time left" % path
            continue
        try:
            scans[path] = bounded(scan_maildir, min(SCAN_TIMEOUT, deadline - time.monotonic()), path)
        except (OSError, TimeoutError) as e:
            scans[path] = "cannot scan %s: %s" % (path, e)
    return scans


# ---------------------------------------------------------------------------
# The evidence the checks read, gathered once.

class Evidence:
    def __init__(self, args, attempts, delivered, preexisting, scans, finals):
        self.args = args
        self.attempts = sorted(attempts, key=lambda a: a.started)
        self.delivered = delivered          # token -> delivery time (pre-existing: T0)
        self.preexisting = preexisting
        self.scans = scans                  # path -> {base: files} or an error text
        self.finals = finals
        self.load = [a for a in self.attempts if isinstance(a.sid, int)]
        self.observations = [(a.listing[n], tok, a) for a in self.attempts for n, tok in a.tokens.items()]
        self.confirmed = collections.defaultdict(list)  # token -> [attempt] whose QUIT +OK deleted it
        self.in_doubt = collections.defaultdict(list)   # QUIT sent, no +OK
        self.unapplied = collections.defaultdict(list)  # DELE'd, no QUIT sent (hang-up, failure)
        for a in self.attempts:
            for token in a.deleted.values():
                if a.quit_ok:
                    self.confirmed[token].append(a)
                elif a.quit_sent is not None:
                    self.in_doubt[token].append(a)
                else:
                    self.unapplied[token].append(a)
        self.uids_of = collections.defaultdict(set)     # token -> UIDs seen tied to it
        self.tokens_of = collections.defaultdict(set)   # UID -> tokens
        self.tied_in = collections.defaultdict(list)    # token -> [(uid, attempt)] that tied it
        for uid, token, a in self.observations:
            self.uids_of[token].add(uid)
            self.tokens_of[uid].add(token)
            self.tied_in[token].append((uid, a))
        self.listed_by = collections.defaultdict(list)  # uid -> [attempt] that listed it
        for a in self.attempts:
            for uid in a.uid_set():
                self.listed_by[uid].append(a)

    def good_scans(self):
        return {p: s for p, s in self.scans.items() if isinstance(s, dict)}

    def first_deletion(self, token):
        """The attempt whose QUIT +OK deleting token arrived first."""
        return min(self.confirmed[token], key=lambda a: a.quit_at)


def sessions_list(atts, limit=8):
    text = ", ".join("%s (%s)" % (a.label(), at(a.login_at or a.started)) for a in atts[:limit])
    return text + (" and %d more" % (len(atts) - limit) if len(atts) > limit else "")


# ---------------------------------------------------------------------------
# The checks: each returns its violations (one precise line each).

def number_ranges(numbers):
    """"1-3, 7" for [1, 2, 3, 7] (sorted)."""
    runs = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join("%d" % a if a == b else "%d-%d" % (a, b) for a, b in runs)


def check_sessions_ran(ev):
    """1. Every session ran to its end; [IN-USE] retries are allowed."""
    out = []
    by_sid = collections.defaultdict(list)
    for a in ev.load:
        by_sid[a.sid].append(a)
    never = [sid for sid in range(1, ev.args.sessions + 1) if sid not in by_sid]
    if never:
        out.append("%d sessions never ran (or never ended): %s" % (len(never), number_ranges(never)))
    for sid in sorted(by_sid):
        atts = sorted(by_sid[sid], key=lambda a: a.attempt)
        if atts[-1].outcome != "completed":
            a = atts[-1]
            why = "%s: %s" % (a.error.kind, a.error.detail) if a.error else a.outcome
            out.append("%s via %s:%d (%s .. %s): %s failed at %s: %s"
                       % (a.label(), ev.args.server[0], ev.args.server[1], at(a.started), at(a.ended),
                          a.error_cmd, at(a.error_at), why))
    completed = sum(1 for atts in by_sid.values() if any(a.outcome == "completed" for a in atts))
    if completed != ev.args.sessions:
        out.append("%d sessions completed, %d were asked for" % (completed, ev.args.sessions))
    return out


def check_present_or_deleted(ev):
    """2. Every delivered message is still there, unless a QUIT +OK deleted it; what a TOP
    found removed was deleted by a session that had sent QUIT by then."""
    out = []
    for path, present in ev.good_scans().items():
        for token in sorted(ev.delivered):
            if token in ev.confirmed or token in ev.in_doubt or token in present:
                continue
            why = ""
            if token in ev.unapplied:
                why = "; DELE'd only in sessions that sent no QUIT: %s" % sessions_list(ev.unapplied[token])
            out.append("message %s (delivered %s, UIDs seen %s) is missing from %s: no session whose QUIT answered"
                       " +OK deleted it%s" % (token, at(ev.delivered[token]), sorted(ev.uids_of[token]) or "none",
                                              path, why))
        for base, files in sorted(present.items()):
            if len(files) > 1:
                out.append("message %s is in %s %d times: %s" % (base, path, len(files), ", ".join(files)))
    for path, error in ev.scans.items():
        if not isinstance(error, dict):
            out.append(error)
    for a in ev.attempts:
        for num, t in sorted(a.gone.items()):
            out.extend(check_gone(ev, a, num, t))
    return out


def check_gone(ev, a, num, t):
    """A TOP found message num removed at t: someone must have sent QUIT before t and
    deleted it (QUIT +OK, or in doubt)."""
    uid = a.listing[num]
    tokens = ev.tokens_of.get(uid, set())
    if len(tokens) != 1:
        return []   # never tied to a message (or check 4 reports it): nothing to hold it to
    token = next(iter(tokens))
    deleters = [d for d in ev.confirmed.get(token, []) + ev.in_doubt.get(token, []) if d.quit_sent < t]
    if deleters:
        return []
    return ["%s: TOP %d (UID %s, message %s) at %s answered that it was removed, but no session had sent QUIT"
            " after DELE'ing it by then%s" % (a.label(), num, uid, token, at(t),
                                              "; it was deleted later by %s" % sessions_list(ev.confirmed[token])
                                              if token in ev.confirmed else "")]


def check_deleted_gone(ev):
    """3. A message a QUIT +OK deleted is gone everywhere, and no session that sent PASS after
    that +OK arrived listed it or read it.  (PASS sent, not its +OK, is the bound: the
    server takes its snapshot in between, so a login whose +OK merely came later may
    rightly list it; those are counted, not failed.)"""
    out = []
    ev.racing = 0
    for token in sorted(ev.confirmed):
        first = ev.first_deletion(token)
        for path, present in ev.good_scans().items():
            if token in present:
                out.append("message %s was deleted by %s (QUIT +OK %s) but is still in %s as %s"
                           % (token, first.label(), at(first.quit_at), path, ", ".join(present[token])))
        later = []
        for a, seen in showings(ev, token):
            if a.pass_sent is None:
                continue
            if a.pass_sent > first.quit_at:
                later.append("%s (PASS sent %s, %s UID %s)" % (a.label(), at(a.pass_sent),
                                                              "read" if token in a.tokens.values() else "listed",
                                                              ", ".join(sorted(seen))))
            elif a.login_at is not None and a.login_at > first.quit_at:
                ev.racing += 1
        if later:
            out.append("message %s, deleted by %s (QUIT +OK %s, UID %s), was shown afterwards by %d sessions: %s"
                       % (token, first.label(), at(first.quit_at), ", ".join(sorted(deleted_uids(first, token))),
                          len(later), "; ".join(later)))
    return out


def deleted_uids(a, token):
    """The UIDs under which attempt a DELE'd token."""
    return {a.listing[n] for n, t in a.deleted.items() if t == token}


def showings(ev, token):
    """[(attempt, UIDs)] of the attempts that showed token: tied it by TOP, or listed a UID
    under which a session deleted it; in the order they started."""
    shown = {}      # id(attempt) -> (attempt, uids)
    for uid, a in ev.tied_in.get(token, []):
        shown.setdefault(id(a), (a, set()))[1].add(uid)
    for uid in set().union(*(deleted_uids(d, token) for d in ev.confirmed.get(token, []))):
        for a in ev.listed_by.get(uid, []):
            shown.setdefault(id(a), (a, set()))[1].add(uid)
    return sorted(shown.values(), key=lambda pair: pair[0].started)


def grouped(triples):
    """first -> second -> [attempts] from (first, second, attempt) triples: the UID observations
    seen from either side (checks 4 and 5)."""
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for first, second, a in triples:
        out[first][second].append(a)
    return out


def check_uid_unique(ev):
    """4. No UID named two messages: across sessions, nor twice in one listing."""
    out = []
    seen = grouped((uid, token, a) for uid, token, a in ev.observations)   # uid -> token -> [attempts]
    for uid, tokens in sorted(seen.items()):
        if len(tokens) > 1:
            out.append("UID %s was given to %d messages: %s" % (uid, len(tokens), "; ".join(
                "%s in %s" % (tok, sessions_list(atts)) for tok, atts in sorted(tokens.items()))))
    for a in ev.attempts:
        for uid, n1, n2 in a.dup_uids:
            out.append("%s (login %s): UIDL gave UID %s to messages %d and %d" % (a.label(), at(a.login_at), uid, n1, n2))
    return out


def check_uid_stable(ev):
    """5. No message's UID changed: no message tied to two UIDs, and no UID that only ever
    named a message already deleted under another UID."""
    out = []
    seen = grouped((token, uid, a) for uid, token, a in ev.observations)   # token -> uid -> [attempts]
    for token, uids in sorted(seen.items()):
        if len(uids) > 1:
            history = sorted(uids.items(), key=lambda kv: min(a.login_at for a in kv[1]))
            out.append("message %s changed its UID: %s" % (token, "; then ".join(
                "UID %s in %s" % (uid, sessions_list(sorted(atts, key=lambda a: a.login_at))) for uid, atts in history)))
    for a in ev.attempts:
        for num, t in sorted(a.gone.items()):
            if a.listing[num] not in ev.tokens_of:
                out.append(second_uid(ev, a, num, t))
    return out


def delivery_key(name):
    """Maildir delivery order (the leading timestamp, then the name), as servers list."""
    head = name.split(".", 1)[0]
    return (int(head) if head.isdigit() else 0, name)


def listing_neighbours(ev, a, num):
    """The delivery keys of the nearest tied messages before and after number num in a's
    listing: a hint for which message num was (only the hint relies on delivery order)."""
    def key(n):
        tokens = ev.tokens_of.get(a.listing[n], ())
        return delivery_key(next(iter(tokens))) if len(tokens) == 1 else None
    before = [k for k in (key(n) for n in range(num - 1, 0, -1)) if k is not None]
    after = [k for k in (key(n) for n in range(num + 1, len(a.listing) + 1)) if k is not None]
    return (before[0] if before else (-1, "")), (after[0] if after else (float("inf"), ""))


def second_uid(ev, a, num, t):
    """A UID no session could tie, whose message TOP found removed.  Sessions DELE only what
    they TOPped themselves, so whatever removed it had tied it under another UID: the
    message was listed under a second UID.  Names the messages it may have been: deleted by
    a QUIT sent between this session's PASS and that TOP, under UIDs it did not list."""
    listed = a.uid_set()
    low, high = listing_neighbours(ev, a, num)
    candidates = []
    for token, deleters in sorted(ev.confirmed.items()) + sorted(ev.in_doubt.items()):
        d = min(deleters, key=lambda x: x.quit_sent)
        if a.pass_sent <= d.quit_sent < t and not ev.uids_of[token] & listed and low < delivery_key(token) < high:
            candidates.append("%s (UID %s, QUIT of %s sent %s)" % (token, ", ".join(sorted(ev.uids_of[token])),
                                                                 d.label(), at(d.quit_sent)))
    return ("%s (PASS sent %s, login +OK %s) listed UID %s as message %d, which no session could ever tie to a"
            " message: TOP at %s said it was removed, and sessions delete only what they tied, so it was a second"
            " UID of a message deleted under another; it may have been %s"
            % (a.label(), at(a.pass_sent), at(a.login_at), a.listing[num], num, at(t),
               "; ".join(candidates[:5]) + (" (and %d more)" % (len(candidates) - 5) if len(candidates) > 5 else "")
               if candidates else "none of the messages deleted meanwhile"))


def check_no_sys_temp(ev):
    """6. No -ERR [SYS/TEMP] anywhere."""
    return ["%s: %s %s at %s" % (a.label(), a.error_cmd, a.error.detail, at(a.error_at))
            for a in ev.attempts if a.error is not None and a.error.kind == "SYS/TEMP"]


def check_frontends_agree(ev):
    """7. After the load each front end lists the same UIDs for the same messages, and
    that is what every Maildir path holds."""
    out, maps = [], {}
    for addr in ev.args.frontend:
        if "%s:%d" % addr not in ev.finals:
            out.append("front end %s:%d: the final session did not end within the time limit" % addr)
    for fe, a in ev.finals.items():
        if a.outcome != "completed":
            why = "%s: %s" % (a.error.kind, a.error.detail) if a.error else a.outcome
            out.append("%s: %s failed: %s" % (a.label(), a.error_cmd, why))
            continue
        for num in sorted(a.gone):
            out.append("%s: TOP %d (UID %s) says removed, with no load running" % (a.label(), num, a.listing[num]))
        maps[fe] = {a.listing[n]: tok for n, tok in a.tokens.items()}
    if len(maps) != len(ev.args.frontend):
        return out
    (base_fe, base), *rest = maps.items()
    for fe, other in rest:
        out.extend(compare_listings(base_fe, base, fe, other))
    for fe, m in maps.items():
        tokens = set(m.values())
        for path, present in ev.good_scans().items():
            for token in sorted(tokens - set(present)):
                out.append("%s lists message %s, which is not in %s" % (fe, token, path))
            for base_name in sorted(set(present) - tokens):
                out.append("%s does not list %s, which is in %s" % (fe, ", ".join(present[base_name]), path))
    return out


def compare_listings(fe_a, a, fe_b, b):
    out = []
    for uid in sorted(set(a) - set(b)):
        out.append("UID %s (message %s) is listed by %s, not by %s" % (uid, a[uid], fe_a, fe_b))
    for uid in sorted(set(b) - set(a)):
        out.append("UID %s (message %s) is listed by %s, not by %s" % (uid, b[uid], fe_b, fe_a))
    for uid in sorted(set(a) & set(b)):
        if a[uid] != b[uid]:
            out.append("UID %s is message %s on %s but %s on %s" % (uid, a[uid], fe_a, b[uid], fe_b))
    return out


CHECKS = [
    (1, "every session ran", check_sessions_ran),
    (2, "every delivered message present or deleted by a QUIT +OK", check_present_or_deleted),
    (3, "deleted messages gone, not listed by later logins", check_deleted_gone),
    (4, "no UID given to two messages", check_uid_unique),
    (5, "no message's UID changed", check_uid_stable),
    (6, "no -ERR [SYS/TEMP]", check_no_sys_temp),
    (7, "front ends agree with each other and the Maildir", check_frontends_agree),
]


# ---------------------------------------------------------------------------
# Figures.

def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 4)


def figures(args, ev, load, deliverer, elapsed):
    atts = ev.load
    errors = collections.Counter(a.error.kind for a in ev.attempts if a.error)
    by_cmd = collections.Counter("%s %s" % (a.error.kind, (a.error_cmd or "?").split()[0])
                                 for a in ev.attempts if a.error)
    load_seconds = (load.ended - load.started) if load and load.ended else None
    completed = {a.sid for a in atts if a.outcome == "completed"}
    uids = set().union(*(a.uid_set() for a in ev.attempts)) if ev.attempts else set()
    return {
        "sessions_requested": args.sessions,
        "sessions_run": len(atts),
        "sessions_completed": len(completed),
        "sessions_retried_in_use": sum(1 for a in atts if a.outcome == "in-use"),
        "sessions_hung_up": sum(1 for a in atts if a.hangup and a.outcome == "completed"),
        "sessions_failed": sum(1 for a in atts if a.outcome == "failed"),
        "messages_preexisting": len(ev.preexisting),
        "messages_delivered": len(deliverer.delivered),
        "messages_deleted": len(ev.confirmed),
        "dele_ok": sum(len(a.deleted) for a in atts),
        "dele_not_applied_hangup": sum(len(a.deleted) for a in atts if a.hangup),
        "deleted_in_doubt": len(set(ev.in_doubt) - set(ev.confirmed)),
        "top_commands": sum(a.tops for a in ev.attempts),
        "top_removed_meanwhile": sum(len(a.gone) for a in ev.attempts),
        "errors_by_kind": dict(errors),
        "errors_by_command": dict(by_cmd),
        "uids_seen": len(uids),
        "uids_tied": len({uid for uid, _, _ in ev.observations}),
        "uids_never_tied": len(uids - {uid for uid, _, _ in ev.observations}),
        "largest_listing": max((len(a.listing) for a in ev.attempts if a.listing), default=0),
        "final_messages": {fe: len(a.listing or {}) for fe, a in ev.finals.items()},
        "files_not_delivered": {p: sorted(set(scan) - set(ev.delivered)) for p, scan in ev.good_scans().items()
                                if set(scan) - set(ev.delivered)},
        "listed_by_overlapping_login": getattr(ev, "racing", 0),
        "elapsed_seconds": round(elapsed, 3),
        "load_seconds": round(load_seconds, 3) if load_seconds else None,
        "sessions_per_second": round(len(completed) / load_seconds, 2) if load_seconds else None,
        "session_seconds_p50_p95_max": [percentile([a.ended - a.started for a in atts], p) for p in (50, 95, 100)],
        "login_seconds_p50_p95_max": [percentile([a.login_at - a.started for a in atts if a.login_at], p)
                                      for p in (50, 95, 100)],
    }


def print_summary(fig, run_problems, results):
    print("load summary:")
    for key, value in fig.items():
        print("  %-32s %s" % (key, value))
    print("%s run%s" % ("FAIL" if run_problems else "PASS",
                        ": " + "; ".join(run_problems) if run_problems else ": complete, within the time limit"))
    for number, name, violations in results:
        print("%s %d %s%s" % ("FAIL" if violations else "PASS", number, name,
                              " (%d violations)" % len(violations) if violations else ""))
        for v in violations:
            print("    - " + v)


def write_report(path, args, fig, run_problems, results):
    report = {
        "config": {"server": "%s:%d" % args.server, "frontends": ["%s:%d" % f for f in args.frontend],
                   "maildir": args.maildir, "check_maildirs": args.check_maildir, "sessions": args.sessions,
                   "concurrency": args.concurrency, "deliveries": args.deliveries, "time_limit": args.time_limit},
        "figures": fig,
        "run": {"ok": not run_problems, "problems": run_problems},
        "checks": [{"number": n, "name": name, "ok": not v, "violations": v} for n, name, v in results],
        "passed": not run_problems and not any(v for _, _, v in results),
    }
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------
# Start-up checks: what makes a run impossible (exit 2).

def preflight(args, deadline):
    """Problems that keep the run from starting (no thread may exist yet: we fork next)."""
    problems = []
    for path in [args.maildir] + args.check_maildir:
        for sub in ("cur", "new") + (("tmp",) if path == args.maildir else ()):
            if not os.path.isdir(os.path.join(path, sub)):
                problems.append("%s/%s is not a directory" % (path, sub))
    if os.geteuid() != 0 and (os.geteuid(), os.getegid()) != (args.uid, args.gid):
        problems.append("not root: the deliverer cannot write as uid %d gid %d" % (args.uid, args.gid))
    for addr in [args.server] + args.frontend:
        problem = probe_greeting(addr, min(deadline, time.monotonic() + PREFLIGHT_TIMEOUT))
        if problem:
            problems.append(problem)
    return problems


def probe_greeting(addr, deadline):
    """Connects, reads the greeting, says QUIT: None when it greets with +OK."""
    try:
        conn = Pop3(addr, deadline, Sockets())
        try:
            conn.reply("greeting")
            conn.command("QUIT")
        finally:
            conn.close()
    except Failure as e:
        return "%s:%d does not greet with +OK: %s: %s" % (addr + (e.kind, e.detail))
    return None


def preexisting_messages(args, deadline):
    """Base names already in the Maildir: ours from an earlier run (kept as delivered at the
    start), or a reason to refuse the run (others have no token to check them by)."""
    present = bounded(scan_maildir, min(SCAN_TIMEOUT, deadline - time.monotonic()), args.maildir)
    foreign = sorted(b for b in present if not b.endswith(NAME_SUFFIX))
    if foreign:
        raise ValueError("%s holds %d messages not written by load.py (e.g. %s): start from an empty Maildir"
                         % (args.maildir, len(foreign), ", ".join(present[foreign[0]])))
    return set(present)


# ---------------------------------------------------------------------------
# The run.

class Interrupted(Exception):
    pass


def on_sigterm(signum, frame):
    raise Interrupted("signal %d" % signum)


def start(args, deadline, deliverer):
    """Everything before the sessions: the pre-existing names, or None after saying why
    the run cannot start."""
    try:
        problems = preflight(args, deadline)
        preexisting = preexisting_messages(args, deadline) if not problems else set()
    except (OSError, TimeoutError, ValueError) as e:
        problems = [str(e)]
    if not problems:
        deliverer.start()       # before the first session thread (fork)
        if not deliverer.wait_ready():
            problems.append("the initial batch of %d messages was not delivered: %s"
                            % (deliverer.initial, deliverer.problem() or "timeout"))
    for p in problems:
        print("load: cannot start: " + p, file=sys.stderr)
    return None if problems else preexisting


def run_phases(args, load, deliverer, shared, deadline):
    """The load, the deliverer's end, the front-end sessions, the scans: (problems of the
    run, final sessions, scans).  An interrupt ends it early, as a problem."""
    problems, finals, scans = [], {}, {}
    try:
        if not load.run():
            problems.append("time limit: %d of %d sessions completed by %s (the rest of --time-limit is kept"
                            " for the final checks)" % (load.completed, args.sessions, at(load.deadline)))
        deliverer.finish(deadline)
        if deliverer.problem():
            problems.append(deliverer.problem())
        # The Maildir is final once the deliverer stopped (the final sessions delete nothing):
        # scanned first, the file checks do not depend on the front ends answering.
        scans = scan_all([args.maildir] + args.check_maildir, deadline)
        finals = run_finals(args, shared, deadline)
    except KeyboardInterrupt:
        problems.append("interrupted (Ctrl-C)")
    except Interrupted as e:
        problems.append("interrupted (%s)" % e)
    if time.monotonic() > deadline:
        problems.append("time limit of %.0f s exceeded" % args.time_limit)
    return problems, finals, scans


def judge(args, shared, deliverer, preexisting, load, problems, finals, scans):
    """The checks (not after an interrupt: the evidence is partial), the figures, the
    summary and the report; the exit status."""
    delivered = dict.fromkeys(preexisting, T0)
    delivered.update(deliverer.delivered)
    ev = Evidence(args, list(shared.attempts), delivered, preexisting, scans, finals)
    interrupted = any(p.startswith("interrupted") for p in problems)
    results = [] if interrupted else [(n, name, fn(ev)) for n, name, fn in CHECKS]
    fig = figures(args, ev, load, deliverer, time.monotonic() - T0)
    print_summary(fig, problems, results)
    if args.report:
        write_report(args.report, args, fig, problems, results)
    return 1 if problems or any(v for _, _, v in results) else 0


def main(argv):
    args = parse_args(argv)
    deadline = T0 + args.time_limit
    # Ctrl-C must stop the run even where it was started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sigterm)
    deliverer = Deliverer(args, deadline)
    shared, load = Shared(), None
    try:
        try:
            preexisting = start(args, deadline, deliverer)
        except (KeyboardInterrupt, Interrupted):
            print("load: interrupted before the sessions started", file=sys.stderr)
            return 2
        if preexisting is None:
            return 2
        # The load stops early enough to leave the final checks time of their own.
        load = Load(args, shared, deliverer, deadline - min(30.0, max(5.0, 0.15 * args.time_limit)))
        problems, finals, scans = run_phases(args, load, deliverer, shared, deadline)
    finally:
        # Whatever happened: no worker, connection or deliverer outlives the run.
        if load is not None:
            load.abort()
        deliverer.kill()
    try:
        return judge(args, shared, deliverer, preexisting, load, problems, finals, scans)
    except (KeyboardInterrupt, Interrupted):
        print("load: interrupted while checking", file=sys.stderr)
        return 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # A worker or scan stuck in a hung mount must not hold the exit.
    os._exit(code)
