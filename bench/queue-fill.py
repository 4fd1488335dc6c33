#!/usr/bin/python3
"""Puts N messages in a postern queue without queue-inject: for the
queue-size benchmark, where 10^6 runs of queue-inject would take hours.

    bench/queue-fill.py [-s size] [-f sender] home N rcpt [rcpt ...]

Writes, for each message, what queue-inject would leave (postern-queue(5)):
a body in queue/body/N/ID and a todo file in queue/todo/N/ID
("u" uid, "p" pid, "F" sender, a "T" per recipient, a final NUL), with
ids of the queue-inject form (8 hex digits of seconds, 8 of a counter
standing for the nanoseconds, "." and this program's pid), hashed into
the conf-split subdirectories with the same FNV-1a. send's record then
sorts them as any new mail. What differs from queue-inject, honestly:
- bodies are hard links to one file per 60,000 messages (ext4 allows
  65,000 links): a 4 KiB body each would fill 4 GB at 10^6, and bodies
  are only read at delivery, which a dead destination never reaches;
  the body holds no Received line of its own;
- nothing is fsynced, one sync(1) at the end; no trigger per message
  (one poke at the end: send's todo scan also runs every 60 s);
- as root, files get the queue account as owner (conf-users), their
  directory's group as queue-inject's do (the trees are setgid).
Prints "N queued, X.XX s". The home's conf-split is read from
../conf-split beside this script (the build's)."""
import getopt
import os
import pwd
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LINKS_MAX = 60000


def die(code, text):
    sys.stderr.write("queue-fill: fatal: " + text + "\n")
    sys.exit(code)


def fnv(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def conf(name):
    with open(os.path.join(HERE, "..", name)) as f:
        return f.readline().split()


def main():
    try:
        opts, args = getopt.getopt(sys.argv[1:], "s:f:")
        o = dict(opts)
        size = int(o.get("-s", 4096))
        sender = o.get("-f", "bench@bench.test")
        home, n, rcpts = args[0], int(args[1]), args[2:]
        if n < 0 or not rcpts:
            raise ValueError
    except (getopt.GetoptError, ValueError, IndexError):
        die(100, "usage: queue-fill.py [-s size] [-f sender] home N rcpt [rcpt ...]")
    split = int(conf("conf-split")[0])
    uid = -1
    if os.getuid() == 0:
        users = {}
        with open(os.path.join(HERE, "..", "conf-users")) as f:
            for line in f:
                w = line.split()
                if len(w) >= 2:
                    users.setdefault(w[0], w[1])
        try:
            uid = pwd.getpwnam(users["queue"]).pw_uid
        except KeyError:
            uid = -1
    q = os.path.join(home, "queue")
    body = (b"From: " + sender.encode() + b"\nTo: " + ", ".join(rcpts).encode()
            + b"\nSubject: queue-size bench\n\n")
    while len(body) + 72 <= size:
        body += b"x" * 71 + b"\n"
    todo = (b"u" + str(os.getuid()).encode() + b"\0p" + str(os.getpid()).encode() + b"\0"
            + b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0")
    secs = int(time.time())
    pid = os.getpid()
    master = None
    t0 = time.monotonic()
    for k in range(n):
        # a fresh second every 10^9 ids, as nanoseconds would wrap
        mid = "%08x%08x.%d" % (secs + k // 1000000000, k % 1000000000, pid)
        sub = str(fnv(mid) % split)
        bpath = os.path.join(q, "body", sub, mid)
        if k % LINKS_MAX == 0:
            fd = os.open(bpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, body)
            os.close(fd)
            if uid >= 0:
                os.chown(bpath, uid, -1)
            master = bpath
        else:
            os.link(master, bpath)
        tpath = os.path.join(q, "todo", sub, mid)
        fd = os.open(tpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, todo)
        os.close(fd)
        if uid >= 0:
            os.chown(tpath, uid, -1)
    os.sync()
    try:
        fd = os.open(os.path.join(q, "trigger"), os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"x")
        os.close(fd)
    except OSError:
        pass
    print(f"{n} queued, {time.monotonic() - t0:.2f} s")


if __name__ == "__main__":
    main()
