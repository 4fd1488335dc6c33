#!/usr/bin/python3
"""queue-variants.py: device flushes and fsync calls per message of three
ways to write a message into a hashed queue, one message at a time (no
group): what queue-inject does (body + intake files, rename into todo),
O_TMPFILE + linkat for both files (no intake name, nothing left by a
crash), and one file holding envelope and body (not postern's format).
Usage: queue-variants.py [N [dir]] (default 500 and /var/tmp; a file
system of its own, e.g. on a loop device, keeps others out of the count)."""
import os
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
DIR = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp"
SPLIT = 64
BODY = b"x" * 4096
ENV = b"Fa@b\0Tc@d\0\0"


def flushes(dev):
    with open(f"/sys/block/{dev}/stat") as f:
        return int(f.read().split()[15])


def device():
    st = os.stat(DIR)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    for d in os.listdir("/sys/block"):
        with open(f"/sys/block/{d}/dev") as f:
            if f.read().strip() == f"{major}:{minor}":
                return d
    raise SystemExit(f"no block device for {DIR}")


def fsync_path(p):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)


def rename_way(q, i):
    h = str(i % SPLIT)
    b = os.open(f"{q}/body/{h}/{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(b, BODY)
    e = os.open(f"{q}/intake/{h}/{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(e, ENV)
    os.fsync(b); os.fsync(e); os.close(b); os.close(e)
    fsync_path(f"{q}/body/{h}")
    os.rename(f"{q}/intake/{h}/{i}", f"{q}/todo/{h}/{i}")
    fsync_path(f"{q}/todo/{h}")
    return 4


def link_fd(fd, dst):
    """linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N: os.link calls plain
    link(2), which does not follow, unless a directory fd is given"""
    root = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(f"/proc/self/fd/{fd}", dst, src_dir_fd=root, follow_symlinks=True)
    finally:
        os.close(root)


def tmpfile_way(q, i):
    # a link must come before the file's fsync: the inode's link count is
    # metadata the file's fsync writes, the directory's does not. The
    # envelope's link is the step that makes the message visible, so its
    # data must be durable before (one fsync) and its link count after
    # (another): 5 fsyncs, where a rename needs 4
    h = str(i % SPLIT)
    b = os.open(f"{q}/body/{h}", os.O_WRONLY | os.O_TMPFILE, 0o640)
    os.write(b, BODY)
    link_fd(b, f"{q}/body/{h}/{i}")
    e = os.open(f"{q}/todo/{h}", os.O_WRONLY | os.O_TMPFILE, 0o640)
    os.write(e, ENV)
    os.fsync(b); os.fsync(e); os.close(b)
    fsync_path(f"{q}/body/{h}")
    link_fd(e, f"{q}/todo/{h}/{i}")
    os.fsync(e); os.close(e)
    fsync_path(f"{q}/todo/{h}")
    return 5


def onefile_way(q, i):
    h = str(i % SPLIT)
    f = os.open(f"{q}/intake/{h}/{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(f, ENV + BODY)
    os.fsync(f); os.close(f)
    os.rename(f"{q}/intake/{h}/{i}", f"{q}/todo/{h}/{i}")
    fsync_path(f"{q}/todo/{h}")
    return 2


def main():
    dev = device()
    print(f"device {dev}, {N} messages of {len(BODY)} bytes each, one at a time")
    print("| way | fsync/msg | flushes/msg | msg/s |")
    print("|---|---|---|---|")
    for name, way in (("body+intake, rename (queue-inject)", rename_way),
                      ("O_TMPFILE + linkat", tmpfile_way),
                      ("one file, rename", onefile_way)):
        with tempfile.TemporaryDirectory(dir=DIR) as q:
            for t in ("body", "intake", "todo"):
                for h in range(SPLIT):
                    os.makedirs(f"{q}/{t}/{h}")
            f0, t0 = flushes(dev), time.monotonic()
            calls = sum(way(q, i) for i in range(N))
            f1, t1 = flushes(dev), time.monotonic()
        print(f"| {name} | {calls / N:.0f} | {(f1 - f0) / N:.2f} | {N / (t1 - t0):.0f} |")


main()
