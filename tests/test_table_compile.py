"""table-compile: text table in, cdb out, checked with tinycdb's own cdb
tool and with our table_lookup() (build/unit/table_lookup_test)."""
import os
import re
import resource
import signal
import subprocess
import unittest

import harness

COMPILE = os.path.join(harness.BIN, "table-compile")
LOOKUP = os.path.join(harness.UNIT, "table_lookup_test")
KEY_MAX, VALUE_MAX, LINE_MAX = 1024, 4096, 6144

TABLE = (b"# domains we accept mail for\n"
         b"\n"
         b"example.org\n"
         b"  Mail.Example.ORG\n"
         b"\t# an indented comment\n"
         b"partner.example   relay via  mx.partner.example \t \n"
         b"tabbed\tvalue\twith\ttabs\n"
         b"hash value # is not a comment\n"
         b"utf8.example caf\xc3\xa9\n"
         b"LAST.example no final newline")

EXPECTED = {
    b"example.org": b"",
    b"mail.example.org": b"",
    b"partner.example": b"relay via  mx.partner.example",
    b"tabbed": b"value\twith\ttabs",
    b"hash": b"value # is not a comment",
    b"utf8.example": b"caf\xc3\xa9",
    b"last.example": b"no final newline",
}


def cdb_dump(path):
    """every record of the cdb, in file order, as read by tinycdb's cdb -d"""
    out = subprocess.run(["cdb", "-d", path], check=True, stdout=subprocess.PIPE).stdout
    records, i = [], 0
    while out[i:i + 1] == b"+":
        m = re.compile(rb"\+(\d+),(\d+):").match(out, i)
        klen, dlen = int(m.group(1)), int(m.group(2))
        k = m.end()
        assert out[k + klen:k + klen + 2] == b"->", out
        records.append((out[k:k + klen], out[k + klen + 2:k + klen + 2 + dlen]))
        i = k + klen + 2 + dlen
        assert out[i:i + 1] == b"\n", out
        i += 1
    assert out[i:] == b"\n", out
    return records


class TableCompile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for p in (COMPILE, LOOKUP):
            if not os.access(p, os.X_OK):
                raise AssertionError(f"{p} missing: run make check")

    def setUp(self):
        self.home = harness.Home()
        self.addCleanup(self.home.cleanup)
        self.table = self.home.path("control", "rcpthosts")
        self.cdb = self.table + ".cdb"

    def write(self, data):
        with open(self.table, "wb") as f:
            f.write(data)

    def compile(self, *args, path=None, **kw):
        return subprocess.run([COMPILE, path or self.table, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, **kw)

    def compiled(self, data):
        self.write(data)
        p = self.compile()
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))

    def lookup(self, key):
        p = subprocess.run([LOOKUP, self.cdb, key], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        return p.returncode, p.stdout

    def control_files(self):
        return sorted(os.listdir(self.home.path("control")))

    # -- well-formed tables

    def test_every_entry_round_trips_through_cdb(self):
        self.compiled(TABLE)
        self.assertEqual(sorted(cdb_dump(self.cdb)), sorted(EXPECTED.items()))
        for k, v in EXPECTED.items():
            p = subprocess.run(["cdb", "-q", self.cdb, k], stdout=subprocess.PIPE)
            self.assertEqual((p.returncode, p.stdout), (0, v), k)
        self.assertEqual(self.control_files(), ["rcpthosts", "rcpthosts.cdb"])

    def test_keys_lowercased_comments_not_stored(self):
        self.compiled(TABLE)
        keys = [k for k, _ in cdb_dump(self.cdb)]
        self.assertEqual([k for k in keys if k != k.lower()], [])
        self.assertFalse([k for k in keys if k.startswith(b"#")], keys)
        self.assertEqual(subprocess.run(["cdb", "-q", self.cdb, "Mail.Example.ORG"]).returncode,
                         100)

    def test_table_lookup_finds_values(self):
        self.compiled(TABLE)
        self.assertEqual(self.lookup("partner.example"), (0, b"relay via  mx.partner.example\n"))
        self.assertEqual(self.lookup("example.org"), (0, b"\n"))

    def test_table_lookup_ignores_case(self):
        self.compiled(TABLE)
        self.assertEqual(self.lookup("PARTNER.Example"), (0, b"relay via  mx.partner.example\n"))
        self.assertEqual(self.lookup("mail.example.org"), (0, b"\n"))

    def test_table_lookup_not_found(self):
        self.compiled(TABLE)
        self.assertEqual(self.lookup("other.example"), (1, b""))
        self.assertEqual(self.lookup("example"), (1, b""))
        # a comment's text is no key
        self.assertEqual(self.lookup("#"), (1, b""))

    def test_comments_only_makes_empty_table(self):
        self.compiled(b"# nothing yet\n\n   \n")
        self.assertEqual(cdb_dump(self.cdb), [])
        self.assertEqual(self.lookup("example.org"), (1, b""))

    def test_limits_are_inclusive(self):
        key = b"k" * KEY_MAX
        value = b"v" * VALUE_MAX
        # exactly LINE_MAX bytes: indentation, longest key, blank, value
        line = b" " * (LINE_MAX - KEY_MAX - 1 - (VALUE_MAX - 1)) + key + b" " + value[1:]
        self.assertEqual(len(line), LINE_MAX)
        self.compiled(line + b"\n" + b"big " + value + b"\n")
        self.assertEqual(sorted(cdb_dump(self.cdb)), [(b"big", value), (key, value[1:])])
        self.assertEqual(self.lookup(key.upper().decode()), (0, value[1:] + b"\n"))

    def test_table_takes_the_texts_mode_and_group(self):
        """control/users and aliases are private (uids and homes): their
        tables too, whatever the umask"""
        self.write(b"alice alice:1:1:/home/alice\n")
        os.chmod(self.table, 0o640)
        gid = os.getgid()
        if os.getuid() == 0:
            import pwd
            gid = pwd.getpwnam(harness.users()["smtpd"]).pw_gid
            os.chown(self.table, 0, gid)
        old = os.umask(0)
        try:
            p = self.compile()
        finally:
            os.umask(old)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(self.cdb)
        self.assertEqual((st.st_mode & 0o777, st.st_gid), (0o640, gid))
        os.chmod(self.table, 0o644)
        self.assertEqual(self.compile().returncode, 0)
        self.assertEqual(os.stat(self.cdb).st_mode & 0o777, 0o644)

    def test_relative_path(self):
        self.write(b"Example.ORG\n")
        p = self.compile(path="rcpthosts", cwd=self.home.path("control"))
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual(cdb_dump(self.cdb), [(b"example.org", b"")])

    # -- malformed tables: 100, file:line:, old table kept, no temp file

    def assertRefused(self, data, *lines):
        """data is refused with a file:line: message for each of lines,
        leaving the old table byte for byte and no temporary file"""
        self.compiled(b"old.example\n")
        with open(self.cdb, "rb") as f:
            old = f.read()
        ino = os.stat(self.cdb).st_ino
        self.write(data)
        p = self.compile()
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 100, err)
        reported = [int(n) for n in re.findall(r"^" + re.escape(self.table) + r":(\d+): ", err,
                                               re.M)]
        self.assertEqual(reported, list(lines), err)
        with open(self.cdb, "rb") as f:
            self.assertEqual(f.read(), old)
        self.assertEqual(os.stat(self.cdb).st_ino, ino)
        self.assertEqual(self.control_files(), ["rcpthosts", "rcpthosts.cdb"])
        self.assertEqual(self.lookup("old.example"), (0, b"\n"))
        return err

    def test_duplicate_key_names_first_line(self):
        err = self.assertRefused(b"a.example\n# c\nb.example x\nA.Example y\n", 4)
        self.assertIn(":4: duplicate key, first at line 1", err)

    def test_key_too_long(self):
        err = self.assertRefused(b"ok\n" + b"k" * (KEY_MAX + 1) + b" v\n", 2)
        self.assertIn(":2: key longer than 1024 bytes", err)

    def test_value_too_long(self):
        self.assertRefused(b"k " + b"v" * (VALUE_MAX + 1) + b"\n", 1)

    def test_control_characters(self):
        err = self.assertRefused(b"a\x00b\nok\nc\r\nd \x7f\n#\x01 comment\ne\tf\n", 1, 3, 4, 5)
        self.assertIn(":3: control character at column 2", err)

    def test_line_too_long_then_lines_still_counted(self):
        # one byte over, a line getlnmax takes whole, then a huge one
        over = b" " * (LINE_MAX - 1) + b"kk"
        huge = b"x" * 50000
        self.assertRefused(b"a\n" + over + b"\nb\n" + huge + b"\nb\na\n" + huge, 2, 4, 5, 6, 7)

    def test_reports_at_most_ten(self):
        err = self.assertRefused(b"".join(b"k\x01\n" for _ in range(15)), *range(1, 11))
        self.assertIn("too many malformed lines", err)

    def test_bad_entry_after_good_ones(self):
        # entries already written to the temporary file are thrown away
        self.assertRefused(b"".join(b"d%d.example v\n" % i for i in range(5000)) + b"d7.example\n",
                           5001)

    # -- errors of the system and of the caller

    def test_missing_file_is_temporary(self):
        p = self.compile(path=self.home.path("control", "nosuch"))
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"unable to open", p.stderr)
        self.assertEqual(self.control_files(), [])

    def test_unreadable_input_is_temporary(self):
        os.mkdir(self.table)  # open(2) works, read(2) fails: EISDIR
        p = self.compile()
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b"unable to read", p.stderr)
        self.assertEqual(self.control_files(), ["rcpthosts"])

    def test_full_disk_is_temporary_and_keeps_old(self):
        self.compiled(b"old.example\n")
        with open(self.cdb, "rb") as f:
            old = f.read()
        self.write(b"".join(b"d%d.example some value\n" % i for i in range(2000)))

        def small_files():
            # a write past 8 KiB fails with EFBIG, as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        p = self.compile(preexec_fn=small_files)
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b"unable to write", p.stderr)
        with open(self.cdb, "rb") as f:
            self.assertEqual(f.read(), old)
        self.assertEqual(self.control_files(), ["rcpthosts", "rcpthosts.cdb"])

    def test_usage(self):
        for args in ([], [self.table, "extra"], [""]):
            p = subprocess.run([COMPILE, *args], stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 100, args)
            self.assertIn(b"usage: table-compile file", p.stderr)

    # -- replacing the table

    def test_rebuild_replaces_atomically(self):
        self.compiled(b"one.example 1\n")
        ino = os.stat(self.cdb).st_ino
        with open(self.cdb, "rb") as reader:  # a lookup in progress
            self.compiled(b"two.example 2\n")
            self.assertNotEqual(os.stat(self.cdb).st_ino, ino)
            self.assertEqual(self.lookup("two.example"), (0, b"2\n"))
            self.assertEqual(self.lookup("one.example"), (1, b""))
            # the old reader still sees the whole old table
            p = subprocess.run(["cdb", "-d"], stdin=reader, stdout=subprocess.PIPE, check=True)
            self.assertEqual(p.stdout, b"+11,1:one.example->1\n\n")
        self.assertEqual(self.control_files(), ["rcpthosts", "rcpthosts.cdb"])

    def test_fsync_before_rename_and_directory_after(self):
        self.write(TABLE)
        log = self.home.path("strace.log")
        subprocess.run(["strace", "-f", "-o", log, "-e",
                        "trace=openat,open,fsync,fdatasync,rename,renameat,renameat2,close",
                        COMPILE, self.table], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        # "pid call(args)   = result" -> "call(args) = result"
        calls = [re.sub(r"\s+= ", " = ", re.sub(r"^\d+ +", "", x))
                 for x in open(log).read().splitlines()]
        tmp = re.escape(self.cdb) + r"\.tmp\.\d+"
        opened = [i for i, c in enumerate(calls)
                  if re.match(r'openat\(AT_FDCWD, "' + tmp + r'", .*O_EXCL.* = \d+$', c)]
        self.assertEqual(len(opened), 1, calls)
        fd = calls[opened[0]].rsplit("= ", 1)[1]
        renamed = [i for i, c in enumerate(calls)
                   if re.match(r'rename(at2?)?\(.*"' + tmp + r'",.*"' + re.escape(self.cdb)
                               + r'"', c) and c.endswith("= 0")]
        self.assertEqual(len(renamed), 1, calls)
        r = renamed[0]
        # fsync of the temporary file while its descriptor is still open
        closed = [i for i in range(opened[0], len(calls)) if calls[i].startswith(f"close({fd})")]
        end = min(closed + [r])
        self.assertIn(f"fsync({fd}) = 0", calls[opened[0]:end], calls)
        dirs = [i for i in range(r, len(calls))
                if re.match(r'openat\(AT_FDCWD, "' + re.escape(self.home.path("control"))
                            + r'", .*O_DIRECTORY.* = \d+$', calls[i])]
        self.assertEqual(len(dirs), 1, calls)
        dfd = calls[dirs[0]].rsplit("= ", 1)[1]
        self.assertIn(f"fsync({dfd}) = 0", calls[dirs[0]:], calls)


if __name__ == "__main__":
    unittest.main()
