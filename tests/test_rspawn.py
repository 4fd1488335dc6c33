"""rspawn's answers to jobs it refuses (rspawn(8)): the job protocol
parsing it shares with lspawn through src/lib/spawner.h. rspawn runs
as an account that is not root; nothing here reaches remote."""
import os
import pwd
import select
import subprocess
import time
import unittest

import harness
from harness import Home

RSPAWN = os.environ.get("RSPAWN_UNDER_TEST", os.path.join(harness.BIN, "rspawn"))
MSGID = "0000000100000002.4242"


class RspawnTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        os.chmod(self.home.dir, 0o755)
        kw = {}
        if os.getuid() == 0:
            pw = pwd.getpwnam("nobody")
            kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.p = subprocess.Popen([RSPAWN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.home.env, **kw)
        self.buf = b""

    def tearDown(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except BrokenPipeError:
                pass
        self.home.cleanup()

    def send(self, fields):
        self.p.stdin.write(b"".join(f + b"\0" for f in fields) + b"\0")
        self.p.stdin.flush()

    def result(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\0\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise AssertionError(f"no result: {self.buf!r}")
            data = os.read(self.p.stdout.fileno(), 65536)
            if not data:
                raise AssertionError(f"rspawn closed fd 1: {self.buf!r} {self.p.stderr.read()!r}")
            self.buf += data
        rec, self.buf = self.buf.split(b"\0\0", 1)
        f = rec.split(b"\0")
        return f[0].decode(), [x.decode() for x in f[1:]]

    def job(self, jobid, *rest, msgid=MSGID):
        return [b"J" + jobid.encode(), b"M" + msgid.encode(), b"Fs@example.org"] + [r.encode() for r in rest]

    def test_recipients_at_two_domains(self):
        self.send(self.job("1", "Ta@x.test", "Tb@y.test"))
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: recipients at more than one domain"] * 2))

    def test_domain_compared_without_case(self):
        self.send(self.job("1", "Ta@X.test", "Tb@x.TEST", msgid="bad"))
        # same domain: what is wrong is the message id
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: malformed job"] * 2))

    def test_recipient_without_a_domain(self):
        self.send(self.job("1", "Ta@x.test", "Tb", "Tc@"))
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: recipient without a domain"] * 3))

    def test_no_recipient_is_malformed_with_no_field(self):
        self.send(self.job("1"))
        self.assertEqual(self.result(), ("J1", []))

    def test_more_than_100_recipients(self):
        self.send(self.job("1", *[f"T{i}@x.test" for i in range(101)]))
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: more than 100 recipients in one job"] * 101))

    def test_fields_out_of_order(self):
        self.send([b"J1", b"Fs@example.org", b"M" + MSGID.encode(), b"Ta@x.test"])
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: malformed job"]))

    def test_first_fault_in_record_order_wins(self):
        # a domain fault before a malformed field is the one told
        self.send(self.job("1", "Ta@x.test", "Tb", "Xjunk", "Tc@x.test"))
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: recipient without a domain"] * 3))
        # a malformed field before a domain fault: malformed
        self.send(self.job("2", "Ta@x.test", "Xjunk", "Tb"))
        self.assertEqual(self.result(), ("J2", ["Z4.3.0 rspawn: malformed job"] * 2))

    def test_field_too_long(self):
        self.send(self.job("1", "T" + "a" * 250 + "@x.test"))
        self.assertEqual(self.result(), ("J1", ["Z4.3.0 rspawn: malformed job"]))

    def test_missing_body(self):
        self.send(self.job("7", "Ta@x.test", "Tb@x.test"))
        self.assertEqual(self.result(), ("J7", ["Z4.3.0 rspawn: unable to open the message"] * 2))

    def test_record_without_j_is_fatal(self):
        self.send([b"M" + MSGID.encode()])
        self.assertEqual(self.p.wait(10), 101)

    def test_eof_exits_0(self):
        self.p.stdin.close()
        self.assertEqual(self.p.wait(10), 0)


if __name__ == "__main__":
    unittest.main()
