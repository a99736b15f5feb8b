#!/usr/bin/env python3
"""The load driver of `make bench-load` (bench/load.py starts it, in a session
and a cgroup of its own): N POP3 clients on 127.0.0.1, each running sessions
back to back for a fixed time, and a deliverer writing new mail meanwhile.

It reads one JSON job on stdin and writes one JSON result on stdout:

  mode "poll"      connect, USER/PASS, STAT, UIDL, QUIT
  mode "download"  connect, USER/PASS, STAT, then for the first `retr`
                   messages UIDL n, RETR n, DELE n, and QUIT; after each login
                   one new message is delivered to that user (mail arriving
                   during a session), and after each QUIT +OK as many as were
                   deleted (so the mailboxes never run dry)
  mode "tiny"      connect, USER/PASS, STAT, QUIT (bench/tiny.py)
  mode "floor"     connect and read until the server closes (a launcher
                   running /bin/true)
  mode "idle"      `connections` clients log in and stay: the driver prints
                   {"ready": ...} and waits for a line on stdin before QUIT

Job keys: mode, port, clients, seconds, timeout (seconds for one session),
users ([name, password, maildir, uid, gid], ...), retr, tag (unique per run:
names delivered messages), once (each client serves each of its users once,
untimed), connections and ramp (idle mode).  Client c works
on users c, c+N, c+2N, ... in turn, so no two clients share a mailbox.

Nothing is hidden: every failed session is counted under its kind (refused,
timeout, closed: the server hung up early, err: a -ERR answer, proto: an
answer that breaks POP3 or the mailbox's consistency), with a few samples.
"""
import asyncio
import json
import os
import re
import resource
import sys
import time

MSGID = re.compile(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]*>)")
STAT = re.compile(rb"\+OK (\d+) (\d+)")
ERROR_SAMPLES = 5
BODY_LINE = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
             "incididunt ut labore.\n")


class SessionError(Exception):
    """A session failed: kind is refused, timeout, closed, err or proto."""

    def __init__(self, kind, text):
        super().__init__(text)
        self.kind = kind


class Conn:
    """A POP3 client connection with its own buffer: a 1,000-line UIDL is one search, not 1,000 reads."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.buf = bytearray()

    @classmethod
    async def open(cls, port):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        except ConnectionRefusedError as e:
            raise SessionError("refused", str(e))
        except OSError as e:
            raise SessionError("closed", "connect: %s" % e)
        return cls(reader, writer)

    async def fill(self, waiting_for):
        try:
            data = await self.reader.read(65536)
        except OSError as e:
            raise SessionError("closed", "%s while waiting for %s" % (e, waiting_for))
        if not data:
            raise SessionError("closed", "connection closed while waiting for %s" % waiting_for)
        self.buf += data

    async def line(self, what):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                out = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return out
            await self.fill(what)

    async def multi(self, what):
        """The body of a multi-line answer after its +OK line, dot-stuffing left in place."""
        while True:
            if len(self.buf) >= 3 and self.buf[:3] == b".\r\n":
                del self.buf[:3]
                return b""
            if len(self.buf) >= 3:
                end = self.buf.find(b"\r\n.\r\n")
                if end >= 0:
                    out = bytes(self.buf[:end + 2])
                    del self.buf[:end + 5]
                    return out
            await self.fill(what)

    def send(self, command):
        self.writer.write(command.encode() + b"\r\n")

    async def ok(self, command, what=None):
        """Sends command (None: only reads, the greeting) and returns its +OK line; -ERR raises."""
        if command is not None:
            self.send(command)
        what = what or command.split()[0]
        status = await self.line(what)
        if not status.startswith(b"+OK"):
            raise SessionError("err", "%s: %s" % (what, status[:120].decode("latin-1")))
        return status

    async def eof(self):
        """Reads until the server closes (the floor: /bin/true says nothing)."""
        while await self.reader.read(65536):
            pass

    def close(self):
        self.writer.close()


class Run:
    def __init__(self, job):
        self.job = job
        self.port = job["port"]
        self.users = job["users"]
        self.timeout = job["timeout"]
        self.latencies = []
        self.ok = 0
        self.errors = {}
        self.samples = []
        self.deleted = {}       # user: [[msgid, uidl], ...] deleted by a QUIT that answered +OK
        self.uncertain = {}     # user: [msgid, ...] DELEd, QUIT sent, no answer
        self.seen = {}          # user: [[msgid, uidl], ...] every message a RETR showed
        self.delivered = {}     # user: [[base name, msgid], ...]
        self.uidls = {}         # user: the sorted UIDL list of its first poll session
        self.uidl_body = {}     # user: that session's UIDL answer as it came
        self.deficit = {}
        self.seq = 0

    def fail(self, user, e):
        self.errors[e.kind] = self.errors.get(e.kind, 0) + 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append("%s %s: %s" % (user, e.kind, e))

    async def login(self, conn, user, password):
        await conn.ok(None, "greeting")
        await conn.ok("USER " + user)
        conn.send("PASS " + password)
        status = await conn.line("PASS")
        if not status.startswith(b"+OK"):
            raise SessionError("err", "PASS: %s" % status[:120].decode("latin-1"))

    async def stat(self, conn):
        m = STAT.match(await conn.ok("STAT"))
        if not m:
            raise SessionError("proto", "STAT answer without count and size")
        return int(m.group(1))

    async def poll(self, conn, user, password):
        await self.login(conn, user, password)
        count = await self.stat(conn)
        await conn.ok("UIDL")
        body = await conn.multi("UIDL")
        if body != self.uidl_body.get(user):            # parsed once per user: the driver's CPU is measured
            self.check_uidls(user, count, body)
        elif body.count(b"\r\n") != count:
            raise SessionError("proto", "STAT says %d messages, UIDL lists %d" % (count, body.count(b"\r\n")))
        await conn.ok("QUIT")

    def check_uidls(self, user, count, body):
        uidls = sorted(x.split(b" ", 1)[1].decode("latin-1") for x in body.split(b"\r\n")[:-1])
        if len(uidls) != count:
            raise SessionError("proto", "STAT says %d messages, UIDL lists %d" % (count, len(uidls)))
        if len(set(uidls)) != count:
            raise SessionError("proto", "UIDL gives %d messages only %d distinct UIDLs" % (count, len(set(uidls))))
        if self.uidls.setdefault(user, uidls) != uidls:
            raise SessionError("proto", "the UIDL list changed between sessions (no mail arrived)")
        self.uidl_body[user] = body

    async def download(self, conn, user, password):
        await self.login(conn, user, password)
        self.deliver(user, 1)                        # arrives during the session: not in its listing
        count = await self.stat(conn)
        got = []
        for n in range(1, min(count, self.job["retr"]) + 1):
            parts = (await conn.ok("UIDL %d" % n)).split()
            if len(parts) != 3 or parts[1] != str(n).encode():
                raise SessionError("proto", "UIDL %d answered %r" % (n, b" ".join(parts)[:80]))
            await conn.ok("RETR %d" % n)
            body = await conn.multi("RETR")
            m = MSGID.search(body, 0, body.find(b"\r\n\r\n") + 2)
            if not m:
                raise SessionError("proto", "RETR %d: a message without Message-ID" % n)
            pair = [m.group(1).decode("latin-1"), parts[2].decode("latin-1")]
            self.seen.setdefault(user, []).append(pair)
            got.append(pair)
            await conn.ok("DELE %d" % n)
        conn.send("QUIT")
        try:
            status = await conn.line("QUIT")
        except BaseException:           # a timeout cancels this task: CancelledError
            self.uncertain.setdefault(user, []).extend(p[0] for p in got)
            raise
        if not status.startswith(b"+OK"):
            raise SessionError("err", "QUIT: %s" % status[:120].decode("latin-1"))
        self.deleted.setdefault(user, []).extend(got)
        self.deficit[user] = self.deficit.get(user, 0) + len(got)

    async def tiny(self, conn, user, password):
        await self.login(conn, user, password)
        await self.stat(conn)
        await conn.ok("QUIT")

    async def floor(self, conn, user, password):
        await conn.eof()

    def deliver(self, user, count):
        """Delivers like an MDA: written in tmp/, owned by the user, renamed into new/."""
        name, _, maildir, uid, gid = self.users_by_name[user]
        for _ in range(count):
            self.seq += 1
            now = time.time()
            base = "%d.M%dP%dQ%d.%s.loadbench" % (now, int(now * 1e6) % 1000000, os.getpid(), self.seq, self.job["tag"])
            msgid = "<load.%s.%d@bench.example>" % (self.job["tag"], self.seq)
            data = ("Return-Path: <load@bench.example>\nDelivered-To: %s@bench.example\n"
                    "Message-ID: %s\nDate: %s\nFrom: Load <load@bench.example>\nTo: %s@bench.example\n"
                    "Subject: delivered during the load run %s\n\n" % (
                        name, msgid, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(now)),
                        name, self.job["tag"]) + BODY_LINE * 18).encode()
            tmp = os.path.join(maildir, "tmp", base)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
            os.rename(tmp, os.path.join(maildir, "new", base))
            self.delivered.setdefault(user, []).append([base, msgid])

    async def deliverer(self, stop):
        while not stop.is_set():
            pending, self.deficit = self.deficit, {}
            for user, n in pending.items():
                self.deliver(user, n)
            try:
                await asyncio.wait_for(stop.wait(), 0.02)
            except TimeoutError:
                pass
        for user, n in self.deficit.items():
            self.deliver(user, n)

    async def one(self, scenario, user, password):
        t0 = time.perf_counter()
        conn = None
        try:
            async with asyncio.timeout(self.timeout):
                conn = await Conn.open(self.port)
                await scenario(conn, user, password)
        except TimeoutError:
            self.fail(user, SessionError("timeout", "no answer within %g s" % self.timeout))
            return
        except SessionError as e:
            self.fail(user, e)
            return
        finally:
            if conn:
                conn.close()
        self.latencies.append(round((time.perf_counter() - t0) * 1000, 3))
        self.ok += 1

    async def client(self, c, scenario, deadline):
        mine = self.users[c::self.job["clients"]] or self.users[:1]     # the floor logs in nobody
        if self.job.get("once"):
            for user in mine:
                await self.one(scenario, user[0], user[1])
            return
        k = 0
        while time.perf_counter() < deadline:
            user = mine[k % len(mine)]
            k += 1
            await self.one(scenario, user[0], user[1])

    async def timed(self):
        if self.job["mode"] != "floor" and not 0 < self.job["clients"] <= len(self.users):
            raise SystemExit("loaddriver: %d clients for %d users (each client needs a mailbox of its own)" % (
                self.job["clients"], len(self.users)))
        self.users_by_name = {u[0]: u for u in self.users}
        scenario = getattr(self, self.job["mode"])
        stop = asyncio.Event()
        feeder = asyncio.create_task(self.deliverer(stop))
        t0 = time.perf_counter()
        deadline = t0 + self.job["seconds"]
        await asyncio.gather(*(self.client(c, scenario, deadline) for c in range(self.job["clients"])))
        elapsed = time.perf_counter() - t0
        stop.set()
        await feeder
        return self.result(elapsed)

    def result(self, elapsed):
        return {"ok": self.ok, "elapsed": elapsed, "latencies": self.latencies, "errors": self.errors,
                "samples": self.samples, "deleted": self.deleted, "uncertain": self.uncertain,
                "seen": self.seen, "delivered": self.delivered, "uidls": self.uidls}

    async def idle(self):
        """`connections` clients logged in at once; QUIT after a line on stdin."""
        gate = asyncio.Semaphore(self.job["ramp"])
        conns = []

        async def open_one(i):
            user = self.users[i % len(self.users)]
            async with gate:
                conn = None
                try:
                    async with asyncio.timeout(self.timeout):
                        conn = await Conn.open(self.port)
                        await self.login(conn, user[0], user[1])
                    conns.append(conn)
                    self.ok += 1
                except TimeoutError:
                    self.fail(user[0], SessionError("timeout", "login took over %g s" % self.timeout))
                    conn and conn.close()
                except SessionError as e:
                    self.fail(user[0], e)
                    conn and conn.close()

        t0 = time.perf_counter()
        await asyncio.gather(*(open_one(i) for i in range(self.job["connections"])))
        print(json.dumps({"ready": self.ok, "errors": self.errors, "samples": self.samples,
                          "seconds": time.perf_counter() - t0}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        quits = {"ok": 0}

        async def quit_one(conn):
            async with gate:
                try:
                    async with asyncio.timeout(self.timeout):
                        await conn.ok("QUIT")
                    quits["ok"] += 1
                except (TimeoutError, SessionError) as e:
                    self.fail("idle", e if isinstance(e, SessionError) else SessionError("timeout", "QUIT"))
                finally:
                    conn.close()

        await asyncio.gather(*(quit_one(c) for c in conns))
        return {"ok": self.ok, "quit_ok": quits["ok"], "errors": self.errors, "samples": self.samples}


def main():
    job = json.loads(sys.stdin.readline())
    want = job.get("connections", job["clients"]) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        if hard < want:
            sys.exit("loaddriver: %d clients need %d open files; the hard limit is %d" % (
                job.get("connections", job["clients"]), want, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    run = Run(job)
    result = asyncio.run(run.idle() if job["mode"] == "idle" else run.timed())
    result["cpu"] = time.process_time()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
