#!/usr/bin/env python3
"""Stress test of the Maildir store: concurrent POP3 sessions, a delivery
process, sessions killed with SIGKILL at random moments (during QUIT too),
and the UID list removed or truncated between sessions.

For a bounded time (--duration, default 20 s) this runs:
  * one delivery process (running as the mailbox owner) that writes
    messages into tmp/ and renames them into new/, named
    "<time>.<counter>.stress"; every body holds its own name as a token
    ("X-Stress-Token: NAME") and is a pure function of the name, so any
    RETR or TOP tells which message a UID belongs to, and RETR must give
    back exactly the octets delivered;
  * --sessions workers, each running handler sessions one after another
    over pipes: login, UIDL, LIST, RETR (or TOP) of every message whose UID
    has not been tied to a message yet plus a few others, sometimes DELE
    of some of them, then QUIT, or a hang-up without QUIT; some sessions
    are killed with SIGKILL at a random moment, some right after QUIT was
    sent, some a few milliseconds after it;
  * now and then, while no session runs, the UID list file is removed or
    truncated (each such damage starts a new "epoch").
Then one last session maps whatever is still unmapped, and the checks run:
  1. every delivered message is still in cur/ or new/ (by base name), unless
     a QUIT that answered +OK deleted it, or it was DELE'd in a session
     killed after sending QUIT (an interrupted UPDATE: either outcome is
     allowed, and counted); a message a QUIT +OK deleted is gone;
  2. no UID ever named two different messages (whole run);
  3. a message's UID never changed within an epoch; after a damage, the UIDs
     issued are above every UID seen before it (so none is reused);
  4. LIST sizes and RETR "+OK N octets" are the message's exact (CRLF) size,
     and RETR gives back the delivered content;
  5. a message retrieved with RETR in a session that ended with QUIT +OK or
     a hang-up (not killed), and not deleted, carries the Seen flag;
  6. the final UID list parses under the rules of uidlist.c (header,
     increasing entries, END with count and FNV-1a 64 checksum), names every
     message present with the UID the last session listed, and the lock
     file's high-water mark is not below its next UID;
  7. no session hung, no handler died on its own, no protocol error.
It prints a summary and exits 1 on any violation (each with a precise
message), 2 when it could not run.

Only the standard library is used.  Run as root, give --uid/--gid of the
mailbox owner: the delivery process switches to them, as the handler does.
"""

import argparse
import collections
import functools
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import zlib

UID_LIMIT = (2 ** 64 - 1) // 2
UINT64_MAX = 2 ** 64 - 1
INT64_MAX = 2 ** 63 - 1
LIST_FILE = "pop3-handler-uidlist"
LOCK_FILE = "pop3-handler-uidlist.lock"
MAGIC = b"POP3-HANDLER-UIDLIST 3 "
HANG_LIMIT = 15.0          # a session taking longer than this has hung
RETR_PER_SESSION = 60      # unmapped messages a session retrieves at most
VERIFY_PER_SESSION = 3     # already mapped messages it retrieves again
MAILBOX_TARGET = 200       # above this many messages, sessions delete more


# --------------------------------------------------------------------------
# Messages: content is a function of the name.

def message_content(name):
    """The octets delivered for a message name (LF line ends)."""
    h = zlib.crc32(name.encode())
    lines = [
        "Return-Path: <stress@example.invalid>",
        "From: Stress <stress@example.invalid>",
        "To: alice@example.invalid",
        "Subject: stress message " + name,
        "X-Stress-Token: " + name,
        "",
    ]
    for i in range(h % 48):
        kind = (h >> (i % 28)) % 7
        if kind == 0:
            lines.append("." * (1 + i % 3) + " dot-stuffed line %d" % i)
        elif kind == 1:
            lines.append("")
        else:
            lines.append("line %d of %s %s" % (i, name, "x" * ((h >> (i % 20)) % 70)))
    return ("\n".join(lines) + "\n").encode()


def crlf(data):
    return data.replace(b"\n", b"\r\n")


@functools.lru_cache(maxsize=None)
def exact_size(name):
    return len(crlf(message_content(name)))


TOKEN_RE = re.compile(rb"^X-Stress-Token: (\S+)\r?$", re.M)


# --------------------------------------------------------------------------
# The UID list, parsed with the rules of uidlist.c.

def fnv1a64(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def _number(field, maximum):
    if not field or not all(0x30 <= c <= 0x39 for c in field):
        return None
    v = int(field)
    return v if v <= maximum else None


def _base_name_ok(name):
    return 1 <= len(name) <= 255 and all(c > 0x20 and c != 0x7F and c not in b"/:" for c in name)


def parse_uidlist(data):
    """Returns (error, next_uid, {base name: uid}); error is None when valid."""
    if b"\n" not in data:
        return "no complete header line", None, {}
    header, rest = data.split(b"\n", 1)
    if not header.startswith(MAGIC):
        return "header %r lacks the magic %r" % (header[:60], MAGIC), None, {}
    header_fields = header[len(MAGIC):].split(b" ")
    next_uid = _number(header_fields[0], UID_LIMIT)
    if next_uid is None or next_uid < 1:
        return "header next UID %r is not a number from 1 to %d" % (header_fields[0], UID_LIMIT), None, {}
    if len(header_fields) != 9 or None in [_number(f, UINT64_MAX) for f in header_fields[1:]]:
        return "header stamps %r are not eight numbers" % header[len(MAGIC):], None, {}
    entries = {}
    last = None
    pos = len(header) + 1
    lineno = 1
    while True:
        lf = data.find(b"\n", pos)
        if lf < 0:
            return "line %d (offset %d) has no LF: no END line" % (lineno + 1, pos), next_uid, entries
        line = data[pos:lf]
        lineno += 1
        if line.startswith(b"END "):
            want = b"END %d %016x" % (len(entries), fnv1a64(data[:pos]))
            if line != want:
                return "END line %r, expected %r" % (line, want), next_uid, entries
            if lf + 1 != len(data):
                return "%d octets after the END line" % (len(data) - lf - 1), next_uid, entries
            return None, next_uid, entries
        fields = line.split(b" ", 5)
        if len(fields) != 6:
            return "line %d %r: not 6 fields" % (lineno, line[:80]), next_uid, entries
        # the UIDL taken over from another server: "-" for none, or "=" and 1 to 70 printable octets
        if fields[4] != b"-" and not (fields[4][:1] == b"=" and 2 <= len(fields[4]) <= 71 and
                                     all(0x21 <= c <= 0x7E for c in fields[4][1:])):
            return "line %d %r: bad UIDL field" % (lineno, line[:80]), next_uid, entries
        uid = _number(fields[0], UID_LIMIT)
        nums = [_number(fields[1], UINT64_MAX), _number(fields[2], UINT64_MAX), _number(fields[3], INT64_MAX)]
        if uid is None or None in nums:
            return "line %d %r: bad number" % (lineno, line[:80]), next_uid, entries
        if uid >= next_uid:
            return "line %d: UID %d not below the header's next UID %d" % (lineno, uid, next_uid), next_uid, entries
        if last is not None and uid <= last:
            return "line %d: UID %d not above the previous %d" % (lineno, uid, last), next_uid, entries
        # the file name as last seen; the base name before its ':' is the key
        name = fields[5].split(b":", 1)[0]
        if not _base_name_ok(name):
            return "line %d: bad base name %r" % (lineno, name[:80]), next_uid, entries
        if name in entries:
            return "line %d: base name %r listed twice" % (lineno, name), next_uid, entries
        entries[name] = uid
        last = uid
        pos = lf + 1


# --------------------------------------------------------------------------
# Delivery process.

def delivery_main(maildir, deadline, wfd, seed, uid, gid):
    """Runs in a forked child; writes "NAME TIME" per delivered message to wfd."""
    try:
        if uid is not None and os.geteuid() == 0:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        rnd = random.Random(seed)
        out = os.fdopen(wfd, "w", buffering=1)
        counter = 0
        while time.time() < deadline:
            counter += 1
            name = "%d.%06d.stress" % (int(time.time()), counter)
            tmp = os.path.join(maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(message_content(name))
            os.rename(tmp, os.path.join(maildir, "new", name))
            out.write("%s %.6f\n" % (name, time.time()))
            time.sleep(rnd.uniform(0.002, 0.04))
        out.close()
        os._exit(0)
    except BaseException as e:  # noqa: B902 - a child must never return
        try:
            sys.stderr.write("delivery process: %r\n" % (e,))
        finally:
            os._exit(3)


# --------------------------------------------------------------------------
# A gate that lets sessions run together, and damage run alone.

class Gate:
    def __init__(self):
        self.cv = threading.Condition()
        self.active = 0
        self.closed = False
        self.epoch = 0

    def enter(self):
        with self.cv:
            while self.closed:
                self.cv.wait()
            self.active += 1
            return self.epoch

    def leave(self):
        with self.cv:
            self.active -= 1
            self.cv.notify_all()

    def run_alone(self, fn):
        """Waits until no session runs, runs fn (True: it damaged the list, new epoch)."""
        with self.cv:
            self.closed = True
            while self.active:
                self.cv.wait()
            try:
                if fn():
                    self.epoch += 1
            finally:
                self.closed = False
                self.cv.notify_all()


class Ended(Exception):
    """The handler's output ended or its input closed (killed, or it quit)."""


class Session:
    def __init__(self, sid, epoch, mode):
        self.sid = sid
        self.epoch = epoch
        self.mode = mode
        self.lock = threading.Lock()
        self.killed = False          # we sent SIGKILL
        self.hung = False
        self.started = time.time()
        self.ended = None
        self.listing = None          # {num: uid}, from a complete UIDL
        self.sizes = None            # {num: size}, from a complete LIST
        self.mapped = {}             # {num: name}, from RETR/TOP
        self.retrieved = set()       # names sent whole by RETR
        self.deleted = set()         # names DELE answered +OK for
        self.quit_sent = False
        self.quit_reply = None
        self.returncode = None
        self.gone = 0                # RETR/TOP answered -ERR (removed meanwhile)
        self.pid = None

    def as_json(self):
        return json.dumps({
            "sid": self.sid, "pid": self.pid, "epoch": self.epoch, "mode": self.mode,
            "started": self.started, "ended": self.ended, "killed": self.killed,
            "listing": self.listing, "sizes": self.sizes, "mapped": self.mapped,
            "retrieved": sorted(self.retrieved), "deleted": sorted(self.deleted),
            "quit_sent": self.quit_sent, "returncode": self.returncode,
            "quit_reply": None if self.quit_reply is None else self.quit_reply.decode("latin-1"),
        })


# --------------------------------------------------------------------------

class Stress:
    def __init__(self, args):
        self.a = args
        self.rnd = random.Random(args.seed)
        self.mu = threading.Lock()
        self.violations = []
        self.sessions = []
        self.next_sid = 0
        self.uid_name = {}           # uid -> name, as first learnt (drives RETR choice)
        self.delivered = {}          # name -> delivery time
        self.damages = []            # (epoch it starts, description, time)
        self.gate = Gate()
        self.retr = self.top = 0
        self.max_listing = 0
        self.longest = 0.0
        self.avg_session = 0.05
        self.log = open(args.log, "ab")

    def violation(self, kind, text):
        """Records a violation; kind groups the report (one cause may repeat)."""
        with self.mu:
            self.violations.append((kind, text))

    # ---- one session ----

    def run_session(self, epoch, final=False):
        with self.mu:
            self.next_sid += 1
            sid = self.next_sid
            r = self.rnd.random()
        if final:
            mode = "final"
        elif r < 0.52:
            mode = "normal"
        elif r < 0.77:
            mode = "kill-timer"
        elif r < 0.87:
            mode = "kill-after-quit"
        elif r < 0.94:
            mode = "kill-during-quit"
        else:
            mode = "hangup"
        s = Session(sid, epoch, mode)
        p = subprocess.Popen([self.a.handler, "-c", self.a.conf], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=self.log)
        s.pid = p.pid

        def kill(hung=False):
            with s.lock:
                if s.returncode is None:
                    s.killed = True
                    s.hung = s.hung or hung
                    try:
                        p.kill()
                    except OSError:
                        pass

        timers = [threading.Timer(HANG_LIMIT, kill, kwargs={"hung": True})]
        if mode == "kill-timer":
            with self.mu:
                delay = self.rnd.uniform(0, 1.5 * self.avg_session)
            timers.append(threading.Timer(delay, kill))
        for t in timers:
            t.daemon = True
            t.start()
        try:
            self.dialogue(s, p, kill)
        except Ended:
            pass
        finally:
            for t in timers:
                t.cancel()
            for t in timers:
                if t.is_alive() and t is not threading.current_thread():
                    t.join()
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            try:
                rc = p.wait(timeout=HANG_LIMIT)
            except subprocess.TimeoutExpired:
                kill(hung=True)
                rc = p.wait()
            with s.lock:
                s.returncode = rc
            s.ended = time.time()
        if s.hung:
            self.violation("session hung", "session %d (%s) hung: no answer or no exit within %.0f s; killed"
                           % (sid, mode, HANG_LIMIT))
        elif not s.killed and rc != 0:
            self.violation("handler died", "session %d (%s): the handler exited with status %s without being killed"
                           % (sid, mode, rc))
        with self.mu:
            self.sessions.append(s)
            d = s.ended - s.started
            self.longest = max(self.longest, d)
            if not s.killed:
                self.avg_session = 0.9 * self.avg_session + 0.1 * d
        return s

    @staticmethod
    def send(p, line):
        try:
            p.stdin.write(line.encode() + b"\r\n")
            p.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise Ended()

    @staticmethod
    def read_line(p):
        try:
            line = p.stdout.readline()
        except (OSError, ValueError):
            raise Ended()
        if not line.endswith(b"\r\n"):
            raise Ended()
        return line[:-2]

    def read_body(self, p):
        """A multi-line response body, dot-unstuffed, CRLF kept on each line."""
        out = []
        while True:
            line = self.read_line(p)
            if line == b".":
                return out
            out.append(line[1:] if line.startswith(b".") else line)

    def command(self, s, p, line, expect_ok=True):
        self.send(p, line)
        reply = self.read_line(p)
        if expect_ok and not reply.startswith(b"+OK"):
            self.violation("command refused", "session %d: %s answered %r" % (s.sid, line.split()[0], reply))
            raise Ended()
        return reply

    def dialogue(self, s, p, kill):
        greeting = self.read_line(p)
        if not greeting.startswith(b"+OK"):
            self.violation("bad greeting", "session %d: greeting %r" % (s.sid, greeting))
            raise Ended()
        self.command(s, p, "USER " + self.a.user)
        self.command(s, p, "PASS " + self.a.password)

        self.command(s, p, "UIDL")
        listing, numbers = {}, {}
        for line in self.read_body(p):
            m = re.match(rb"^(\d+) (\d+)$", line)
            if not m:
                self.violation("protocol error", "session %d: UIDL line %r is not 'n uid'" % (s.sid, line))
                raise Ended()
            num, uid = int(m.group(1)), int(m.group(2))
            if uid in numbers:
                self.violation("UID named two messages", "session %d: UIDL gives UID %d to messages %d and %d"
                               % (s.sid, uid, numbers[uid], num))
            listing[num] = uid
            numbers[uid] = num
        s.listing = listing
        self.command(s, p, "LIST")
        sizes = {}
        for line in self.read_body(p):
            m = re.match(rb"^(\d+) (\d+)$", line)
            if not m:
                self.violation("protocol error", "session %d: LIST line %r is not 'n size'" % (s.sid, line))
                raise Ended()
            sizes[int(m.group(1))] = int(m.group(2))
        s.sizes = sizes
        if set(sizes) != set(listing):
            self.violation("protocol error", "session %d: LIST numbers %s differ from UIDL numbers"
                           % (s.sid, sorted(set(sizes) ^ set(listing))[:10]))
        with self.mu:
            self.max_listing = max(self.max_listing, len(listing))
            unmapped = [n for n, u in listing.items() if u not in self.uid_name]
            mapped = [n for n, u in listing.items() if u in self.uid_name]
            self.rnd.shuffle(unmapped)
            verify = self.rnd.sample(mapped, min(VERIFY_PER_SESSION, len(mapped)))
            # Deletions keep the mailbox around MAILBOX_TARGET messages.
            want_dele = self.rnd.random() < (0.5 if len(listing) > MAILBOX_TARGET else 0.03)
            top_share = self.rnd.random() * 0.3
            dele_count = self.rnd.randint(1, 6)
        if s.mode != "final":
            unmapped = unmapped[:RETR_PER_SESSION]
        for num in unmapped + verify:
            self.fetch(s, p, num, use_top=s.mode != "final" and self.rnd.random() < top_share)

        if want_dele and s.mode != "final" and s.mapped:
            for num in self.rnd.sample(sorted(s.mapped), min(dele_count, len(s.mapped))):
                reply = self.command(s, p, "DELE %d" % num)
                if reply.startswith(b"+OK"):
                    s.deleted.add(s.mapped[num])

        if s.mode == "hangup":
            return
        self.send(p, "QUIT")
        s.quit_sent = True
        if s.mode == "kill-after-quit":
            kill()
        elif s.mode == "kill-during-quit":
            time.sleep(self.rnd.uniform(0, 0.008))
            kill()
        s.quit_reply = self.read_line(p)
        if not s.quit_reply.startswith(b"+OK"):
            self.violation("QUIT failed", "session %d: QUIT answered %r (deleted %d)"
                           % (s.sid, s.quit_reply, len(s.deleted)))

    def fetch(self, s, p, num, use_top):
        uid = s.listing[num]
        cmd = "TOP %d 0" % num if use_top else "RETR %d" % num
        self.send(p, cmd)
        reply = self.read_line(p)
        if reply.startswith(b"-ERR") and b"removed" in reply:
            s.gone += 1     # removed by another session's QUIT since our snapshot
            return
        m = re.match(rb"^\+OK (\d+) octets$", reply)
        if not m:
            self.violation("protocol error", "session %d: %s answered %r" % (s.sid, cmd, reply))
            raise Ended()
        body = self.read_body(p)
        data = b"".join(line + b"\r\n" for line in body)
        tok = TOKEN_RE.search(data)
        if not tok:
            self.violation("wrong content", "session %d: %s (UID %d) gave no X-Stress-Token: %r"
                           % (s.sid, cmd, uid, data[:200]))
            return
        name = tok.group(1).decode()
        expected = crlf(message_content(name))
        if int(m.group(1)) != len(expected):
            self.violation("wrong size", "session %d: %s (UID %d, message %s) announced %s octets, the message has %d"
                           % (s.sid, cmd, uid, name, m.group(1).decode(), len(expected)))
        want = expected[:expected.index(b"\r\n\r\n") + 4] if use_top else expected
        if data != want:
            self.violation("wrong content", "session %d: %s (UID %d) gave %d octets that differ from message %s"
                           " (%d octets)" % (s.sid, cmd, uid, len(data), name, len(want)))
        s.mapped[num] = name
        with self.mu:
            self.uid_name.setdefault(uid, name)
            if use_top:
                self.top += 1
            else:
                self.retr += 1
        if not use_top:
            s.retrieved.add(name)

    # ---- threads ----

    def worker(self, deadline):
        while time.monotonic() < deadline:
            epoch = self.gate.enter()
            try:
                self.run_session(epoch)
            except Exception as e:  # a bug in this script: report it, stop the worker
                self.violation("test script error", "internal error in a session worker: %r" % (e,))
                return
            finally:
                self.gate.leave()

    def damage(self):
        path = os.path.join(self.a.maildir, LIST_FILE)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            return False
        epoch = self.gate.epoch + 1
        if self.rnd.random() < 0.5:
            os.unlink(path)
            what = "list removed (%d octets)" % size
        else:
            keep = self.rnd.choice([0, self.rnd.randrange(max(size, 1))])
            os.truncate(path, keep)
            what = "list truncated from %d to %d octets" % (size, keep)
        self.damages.append((epoch, what, time.time()))
        return True

    def damager(self, start, deadline):
        t = start + self.rnd.uniform(0.1, 0.25) * self.a.duration
        while t < deadline - 1.0:
            time.sleep(max(0.0, t - time.monotonic()))
            self.gate.run_alone(self.damage)
            t += self.rnd.uniform(0.12, 0.28) * self.a.duration

    def delivery_reader(self, rfd):
        with os.fdopen(rfd, "r") as f:
            for line in f:
                name, t = line.split()
                with self.mu:
                    self.delivered[name] = float(t)

    # ---- the run ----

    def run(self):
        a = self.a
        for d in ("cur", "new", "tmp"):
            if not os.path.isdir(os.path.join(a.maildir, d)):
                print("stress: %s/%s is not a directory" % (a.maildir, d), file=sys.stderr)
                return 2
        start = time.monotonic()
        deadline = start + a.duration
        rfd, wfd = os.pipe()
        child = os.fork()   # before any thread exists
        if child == 0:
            os.close(rfd)
            delivery_main(a.maildir, time.time() + a.duration, wfd, self.rnd.randrange(2 ** 32), a.uid, a.gid)
        os.close(wfd)
        reader = threading.Thread(target=self.delivery_reader, args=(rfd,), daemon=True)
        reader.start()
        threads = [threading.Thread(target=self.worker, args=(deadline,), daemon=True) for _ in range(a.sessions)]
        threads.append(threading.Thread(target=self.damager, args=(start, deadline), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _, status = os.waitpid(child, 0)
        reader.join()
        if status != 0:
            self.violation("test script error", "the delivery process failed (wait status %d)" % status)
        final = self.run_session(self.gate.epoch, final=True)
        self.check(final)
        self.report(final)
        if a.dump:
            with open(a.dump, "w") as f:
                for s in sorted(self.sessions, key=lambda x: x.sid):
                    f.write(s.as_json() + "\n")
                for e, what, t in self.damages:
                    f.write(json.dumps({"damage": e, "what": what, "time": t}) + "\n")
                for name, t in sorted(self.delivered.items()):
                    f.write(json.dumps({"delivered": name, "time": t}) + "\n")
        return 1 if self.violations else 0

    # ---- checks ----

    def observations(self):
        """(uid, name, session) for every UID tied to a message by RETR or TOP."""
        for s in self.sessions:
            for num, name in s.mapped.items():
                yield s.listing[num], name, s

    def check(self, final):
        present = collections.defaultdict(list)   # base name -> ["cur/NAME:2,S", ...]
        for d in ("cur", "new"):
            for f in os.listdir(os.path.join(self.a.maildir, d)):
                present[f.split(":", 1)[0]].append(d + "/" + f)
        for base, files in present.items():
            if len(files) > 1:
                self.violation("message duplicated", "message %s is present %d times: %s"
                               % (base, len(files), ", ".join(files)))
            if base not in self.delivered:
                self.violation("unknown file", "file %s was never delivered" % files[0])

        # 1. nothing lost, deletions done
        confirmed, doubtful, dele_no_quit = {}, collections.defaultdict(list), collections.defaultdict(list)
        for s in self.sessions:
            for name in s.deleted:
                if s.quit_reply is not None and s.quit_reply.startswith(b"+OK"):
                    confirmed[name] = s.sid
                elif s.quit_sent:
                    doubtful[name].append(s.sid)
                else:
                    dele_no_quit[name].append(s.sid)
        self.in_doubt_gone = self.in_doubt_kept = 0
        for name in sorted(self.delivered):
            if name in confirmed:
                if name in present:
                    self.violation("deleted message still there", "message %s was deleted by session %d (QUIT"
                                   " answered +OK) but is still there as %s"
                                   % (name, confirmed[name], present[name][0]))
            elif name in doubtful:
                if name in present:
                    self.in_doubt_kept += 1
                else:
                    self.in_doubt_gone += 1
            elif name not in present:
                why = ""
                if name in dele_no_quit:
                    why = "; DELE'd only in sessions %s, which never sent QUIT" % dele_no_quit[name]
                uids = sorted({uid for uid, n, _ in self.observations() if n == name})
                self.violation("message lost", "message %s (delivered at %.3f, UIDs seen %s) is lost: no QUIT +OK"
                               " deleted it%s" % (name, self.delivered[name], uids or "none", why))
        self.confirmed = len(confirmed)

        # 2. one message per UID; 3. one UID per message and epoch
        by_uid = collections.defaultdict(dict)          # uid -> {name: [sids]}
        by_name_epoch = collections.defaultdict(dict)   # (name, epoch) -> {uid: [sids]}
        for uid, name, s in self.observations():
            by_uid[uid].setdefault(name, []).append(s.sid)
            by_name_epoch[(name, s.epoch)].setdefault(uid, []).append(s.sid)
            if name not in self.delivered:
                self.violation("unknown file", "session %d: UID %d gave message %s, which was never delivered"
                               % (s.sid, uid, name))
        for uid, names in sorted(by_uid.items()):
            if len(names) > 1:
                self.violation("UID named two messages", "UID %d named %d messages: %s" % (uid, len(names), "; ".join(
                    "%s (sessions %s)" % (n, sids[:5]) for n, sids in sorted(names.items()))))
        for (name, epoch), uids in sorted(by_name_epoch.items()):
            if len(uids) > 1:
                history = sorted(uids.items(), key=lambda x: min(x[1]))
                self.violation("UID changed", "message %s changed its UID in epoch %d (no list damage in between): %s"
                               % (name, epoch, "; ".join("UID %d in sessions %s" % (u, sids[:5])
                                                         for u, sids in history)))
        epochs = collections.defaultdict(set)
        for s in self.sessions:
            if s.listing:
                epochs[s.epoch].update(s.listing.values())
        before = 0
        for e in sorted(epochs):
            low = min(epochs[e])
            if e > 0 and before and low <= before:
                damage = [d for d in self.damages if d[0] == e]
                self.violation("UID reused after damage", "after damage #%d (%s), UID %d was issued though UID %d had"
                               " been seen before it" % (e, damage[0][1] if damage else "?", low, before))
            before = max(before, max(epochs[e]))
        self.uids_seen = len({u for uids in epochs.values() for u in uids})
        self.unmapped = len({u for uids in epochs.values() for u in uids} - set(by_uid))

        # 4. sizes
        single = {uid: next(iter(names)) for uid, names in by_uid.items() if len(names) == 1}
        bad_sizes = 0
        for s in self.sessions:
            if not s.listing or not s.sizes:
                continue
            for num, uid in s.listing.items():
                name = s.mapped.get(num) or single.get(uid)
                if name is not None and num in s.sizes and s.sizes[num] != exact_size(name):
                    bad_sizes += 1
                    if bad_sizes <= 10:
                        self.violation("wrong size", "session %d: LIST %d (UID %d, message %s) gave %d octets, the"
                                       " message has %d" % (s.sid, num, uid, name, s.sizes[num], exact_size(name)))

        # 5. Seen flags
        for s in self.sessions:
            clean_end = not s.killed and ((s.quit_reply or b"").startswith(b"+OK") or s.mode == "hangup")
            if not clean_end:
                continue
            for name in s.retrieved - s.deleted:
                files = present.get(name)
                if files and not re.search(r":2,[A-Z]*S", files[0]):
                    self.violation("Seen flag missing", "message %s was retrieved by session %d (%s, ended cleanly)"
                                   " but has no Seen flag: %s" % (name, s.sid, s.mode, files[0]))

        # 6. the final list
        try:
            with open(os.path.join(self.a.maildir, LIST_FILE), "rb") as f:
                data = f.read()
        except OSError as e:
            self.violation("final list", "the final UID list cannot be read: %s" % e)
            return
        err, next_uid, entries = parse_uidlist(data)
        self.list_entries = len(entries)
        if err:
            self.violation("final list", "the final UID list (%d octets) does not parse: %s" % (len(data), err))
            return
        if final.listing is None:
            self.violation("final list", "the final session gave no UIDL listing")
            return
        final_names = {}
        for num, uid in final.listing.items():
            name = final.mapped.get(num) or single.get(uid)
            if name is not None:
                final_names[name] = uid
        for base in present:
            uid = entries.get(base.encode())
            if uid is None:
                self.violation("final list", "message %s is in the Maildir but not in the final UID list" % base)
            elif base in final_names and final_names[base] != uid:
                self.violation("final list", "message %s: the final UID list says UID %d, the final session listed %d"
                               % (base, uid, final_names[base]))
        if len(final.listing) != len(present):
            self.violation("final list", "the final session listed %d messages, the Maildir holds %d"
                           % (len(final.listing), len(present)))
        try:
            with open(os.path.join(self.a.maildir, LOCK_FILE), "rb") as f:
                mark = f.read()
            # The record: the mark (20 digits), the checksum of the list
            # last written (16 hex digits, as on its END line), a newline.
            m = re.match(rb"^(\d{20}) ([0-9a-f]{16})\n$", mark)
            if not m or int(m.group(1)) < next_uid:
                self.violation("final list", "the lock file's record %r is not a mark of 20 digits >= the list's "
                               "next UID %d and a checksum" % (mark, next_uid))
        except OSError as e:
            self.violation("final list", "the lock file cannot be read: %s" % e)

    def report(self, final):
        modes = collections.Counter(s.mode for s in self.sessions)
        killed = sum(1 for s in self.sessions if s.killed)
        killed_quit = sum(1 for s in self.sessions if s.killed and s.quit_sent)
        quit_ok = sum(1 for s in self.sessions if (s.quit_reply or b"").startswith(b"+OK"))
        dele = sum(len(s.deleted) for s in self.sessions)
        print("stress summary: %.0f s, %d parallel sessions, seed %d" % (self.a.duration, self.a.sessions, self.a.seed))
        print("  sessions %d (%s); killed %d (%d after sending QUIT); QUIT +OK %d; RETR %d, TOP %d, gone meanwhile %d"
              % (len(self.sessions), ", ".join("%s %d" % kv for kv in sorted(modes.items())), killed, killed_quit,
                 quit_ok, self.retr, self.top, sum(s.gone for s in self.sessions)))
        print("  deliveries %d; DELE +OK %d; deleted by QUIT +OK %d; in doubt (QUIT sent, killed): %d gone, %d kept;"
              " left %d" % (len(self.delivered), dele, getattr(self, "confirmed", 0), getattr(self, "in_doubt_gone", 0),
                           getattr(self, "in_doubt_kept", 0), len(final.listing or {})))
        print("  UIDs seen %d (%d never tied to a message); largest listing %d; longest session %.2f s;"
              " final list %s entries" % (getattr(self, "uids_seen", 0), getattr(self, "unmapped", 0),
                                               self.max_listing, self.longest, getattr(self, "list_entries", "?")))
        print("  list damage %d: %s" % (len(self.damages),
                                         "; ".join("#%d %s" % (e, w) for e, w, _ in self.damages) or "none"))
        if self.violations:
            kinds = collections.OrderedDict()
            for kind, text in self.violations:
                kinds.setdefault(kind, []).append(text)
            print("VIOLATIONS: %d, of %d kinds" % (len(self.violations), len(kinds)))
            for kind, texts in kinds.items():
                print("  %s: %d" % (kind, len(texts)))
                for text in texts[:5]:
                    print("    - " + text)
        else:
            print("no violation")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--handler", required=True, help="the pop3-handler binary")
    ap.add_argument("--conf", required=True, help="its configuration file")
    ap.add_argument("--maildir", required=True, help="the user's Maildir (cur/, new/, tmp/ exist)")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--uid", type=int, help="owner of the Maildir: the delivery process runs as it (when root)")
    ap.add_argument("--gid", type=int)
    ap.add_argument("--duration", "-d", type=float, default=20.0, help="seconds of load (default 20)")
    ap.add_argument("--sessions", type=int, default=6, help="concurrent session workers (default 6)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    ap.add_argument("--log", default=os.devnull, help="file the handlers' standard error is appended to")
    ap.add_argument("--dump", help="file to write every session's record to (JSON lines), for analysis")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1000000
    if (args.uid is None) != (args.gid is None):
        ap.error("--uid and --gid go together")
    return Stress(args).run()


if __name__ == "__main__":
    sys.exit(main())
