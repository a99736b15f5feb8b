#!/usr/bin/env python3
"""Generates a benchmark Maildir: genmaildir.py DIR COUNT SIZE [SEED].

DIR/cur, DIR/new and DIR/tmp are made; COUNT messages of about SIZE octets
(+-20 %, LF line ends, as Maildirs store them) are written, the newest tenth
in new/ (no info), the rest in cur/ (":2,S", every fifth ":2,").  File names
are Dovecot's "<time>.M<usec>P<pid>.<host>" WITHOUT ",S=" or ",W=", so every
server must find the sizes itself.  About one message in six has body lines
starting with a dot (one of them a lone "."), which RETR must dot-stuff.
The same arguments give the same Maildir (a seeded generator).
"""
import os
import random
import sys

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud "
         "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure "
         "in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
         "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est "
         "laborum").split()


def body_lines(rng, count):
    lines = []
    for _ in range(count):
        n = rng.randint(6, 13)
        lines.append(" ".join(rng.choice(WORDS) for _ in range(n)))
    return lines


def main():
    root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rng = random.Random(seed)
    pool = body_lines(rng, 4096)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    first_new = count - count // 10
    t0 = 1700000000
    for i in range(count):
        t = t0 + i // 4
        usec = rng.randrange(1000000)
        pid = 1000 + rng.randrange(60000)
        base = "%d.M%dP%d.mx%d.example.net" % (t, usec, pid, i % 3)
        if i >= first_new:
            sub, name = "new", base
        else:
            sub, name = "cur", base + (":2," if i % 5 == 0 else ":2,S")
        date = "Tue, 14 Nov 2023 %02d:%02d:%02d +0000" % ((t // 3600) % 24, (t // 60) % 60, t % 60)
        head = ("Return-Path: <sender%d@example.org>\n"
                "Delivered-To: pop3bench@example.net\n"
                "Received: from mx.example.org (mx.example.org [192.0.2.%d])\n"
                "\tby mail.example.net with ESMTP id %08X\n"
                "\tfor <pop3bench@example.net>; %s\n"
                "Message-ID: <%d.%d@example.org>\n"
                "Date: %s\n"
                "From: Sender %d <sender%d@example.org>\n"
                "To: Bench User <pop3bench@example.net>\n"
                "Subject: Benchmark message %d\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=us-ascii\n"
                "\n") % (i % 997, i % 250 + 1, usec, date, i, usec, date, i % 997, i % 997, i)
        target = int(size * rng.uniform(0.8, 1.2)) - len(head)
        parts, length = [], 0
        dotted = i % 6 == 0
        while length < target:
            line = pool[rng.randrange(len(pool))]
            if dotted and rng.randrange(8) == 0:
                line = rng.choice((".", ".." + line, "." + line))
            parts.append(line)
            length += len(line) + 1
        data = (head + "\n".join(parts) + "\n").encode()
        with open(os.path.join(root, sub, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
