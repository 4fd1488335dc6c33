"""Several messages per connection (rspawn(8), remote(8) -w): a whole
instance (send, rspawn, remote under the remote account) delivering to
aiosmtpd receivers that count connections and transactions. Jobs stay
one message and one domain; an idle remote keeps its connection for the
next job for its domain (control/remotereuse, remoteidle); a 421, a
connection closed while kept and a kill -9 lose nothing."""
import asyncio
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest

import receiver
from harness import wait_for
from receiver import Receiver
from test_remote_system import SENDER, RemoteSystemCase, message
from tlsfiles import make_tls_files


def mails(rx, conn=None):
    """MAIL commands the receiver got, on connection conn or all"""
    return [c for n, c in rx.commands if c.startswith("MAIL") and (conn is None or n == conn)]


def quits(rx, conn):
    return [c for n, c in rx.commands if n == conn and c == "QUIT"]


class Closing421(receiver._Handler):
    """answers 421 to a connection's third MAIL and closes it: a server
    that takes two transactions per connection"""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if len(mails(self.rx, server.conn)) >= 3:
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return "421 4.7.0 two messages per connection, closing"
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


class RemoteReuseTest(RemoteSystemCase):
    def setUp(self):
        super().setUp()
        self.inst.control("concurrencyremote", "2\n")

    def inject_all(self, n, domain="a.test", first=1):
        for i in range(first, first + n):
            self.inject(message(i, to=f"r{i}@{domain}"), [f"r{i}@{domain}", f"s{i}@{domain}"])

    def assertEachOnce(self, rx, numbers, domain="a.test"):
        got = sorted((m.header("Subject"), m.rcpts) for m in rx.messages)
        want = sorted((f"remote {i}", [f"r{i}@{domain}", f"s{i}@{domain}"]) for i in numbers)
        self.assertEqual(got, want, self.log()[-3000:])

    def test_20_messages_over_few_connections(self):
        rx = self.receivers(a_test={})["a.test"]
        self.inject_all(20)
        self.inst.start()
        self.assertTrue(rx.wait(20, 60), self.log()[-3000:])
        self.assertQueueEmpty()
        self.assertEachOnce(rx, range(1, 21))
        self.assertLessEqual(rx.connections, 3, rx.commands)
        # RSET between transactions on a connection
        conn = max(range(1, rx.connections + 1), key=lambda c: len(mails(rx, c)))
        names = [c.split()[0] for n, c in rx.commands if n == conn]
        self.assertGreater(len(mails(rx, conn)), 1)
        self.assertEqual(names.count("RSET"), len(mails(rx, conn)) - 1, names)
        self.assertRegex(self.log(), r"delivery \d+: success: mx\.a\.test\[[0-9.]+\] \(no TLS\) "
                                     r"\(reused, transaction \d+\) accepted: 250 ")

    def test_two_domains_never_share_a_connection(self):
        # one server is the MX of both domains: only what remote keeps a
        # connection for can keep their messages apart
        rx = Receiver(name="both").start()
        self.addCleanup(rx.stop)
        for d in ("a.test", "b.test"):
            self.dns.mx(d, "mx.both.test", 10)
        self.dns.host("mx.both.test", rx.ip)
        self.dns.start()
        self.dns.write_dnsservers(self.inst)
        for i in range(1, 11):
            d = "a.test" if i % 2 else "b.test"
            self.inject(message(i, to=f"r{i}@{d}"), [f"r{i}@{d}"])
        self.inst.start()
        self.assertTrue(rx.wait(10, 60), self.log()[-3000:])
        self.assertQueueEmpty()
        per_conn = {}
        for m in rx.messages:
            per_conn.setdefault(m.conn, set()).update(r.split("@")[1] for r in m.rcpts)
        self.assertTrue(all(len(v) == 1 for v in per_conn.values()), per_conn)
        self.assertLess(rx.connections, 10, per_conn)
        self.assertEqual(len(rx.messages), 10)

    def test_421_after_two_transactions_loses_nothing(self):
        rx = self.receivers(a_test={})["a.test"]
        rx.handler = Closing421(rx)
        self.inject_all(8)
        self.inst.start()
        self.assertTrue(rx.wait(8, 60), self.log()[-3000:])
        self.assertQueueEmpty()
        self.assertEachOnce(rx, range(1, 9))
        self.assertTrue(all(len([m for m in rx.messages if m.conn == c]) <= 2
                            for c in range(1, rx.connections + 1)))
        log = self.log()
        # the 421 came before anything of the job was taken: it went on a
        # new connection at once, nothing deferred
        self.assertNotIn(": deferral: ", log)
        self.assertRegex(log, r"accepted: 250 ")
        self.assertGreaterEqual(len(re.findall(r"\(reused, transaction 2\) accepted", log)), 1, log)

    def test_server_closing_a_kept_connection_loses_nothing(self):
        self.inst.control("remoteidle", "30\n")
        self.inst.control("concurrencyremote", "1\n")
        rx = self.receivers(a_test={})["a.test"]
        self.inst.start()
        self.inject_all(2)
        self.assertTrue(rx.wait(2, 30), self.log())
        self.assertEqual(rx.messages[0].conn, rx.messages[1].conn)
        # the server drops every connection (as at its idle timeout)
        receiver.call(self._abort_all(rx))
        time.sleep(0.5)
        self.inject_all(2, first=3)
        self.assertTrue(rx.wait(4, 30), self.log())
        self.assertQueueEmpty()
        self.assertEachOnce(rx, range(1, 5))
        self.assertNotIn(": deferral: ", self.log())
        self.assertEqual(rx.messages[2].conn, rx.messages[3].conn)
        self.assertNotEqual(rx.messages[2].conn, rx.messages[0].conn)

    async def _abort_all(self, rx):
        for t in list(rx.transports):
            t.abort()

    def remotes(self):
        ps = subprocess.run(["ps", "-o", "pid,args", "--no-headers", "-s", str(self.inst.send.pid)],
                            capture_output=True, text=True).stdout
        return [int(line.split()[0]) for line in ps.splitlines() if line.split()[1:] == ["remote", "-w"]]

    def test_kill9_of_a_remote_mid_session_loses_nothing(self):
        self.inst.control("remoteidle", "30\n")
        self.inst.control("concurrencyremote", "1\n")
        rx = self.receivers(a_test={})["a.test"]
        self.inst.start()
        self.inject_all(2)
        self.assertTrue(rx.wait(2, 30), self.log())
        self.assertTrue(wait_for(lambda: len(self.remotes()) == 1, 10), self.remotes())
        rx.data_delay = 30
        self.inject_all(1, first=3)
        self.assertTrue(wait_for(lambda: len([c for _, c in rx.commands if c == "DATA"]) >= 3, 20), rx.commands)
        [pid] = self.remotes()
        os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: "remote killed by signal 9 without results" in self.log(), 20), self.log())
        rx.data_delay = 0
        self.inject_all(2, first=4)
        self.assertTrue(wait_for(lambda: {f"remote {i}" for i in range(1, 6)}
                                 <= {m.header("Subject") for m in rx.messages}, 60), self.log()[-3000:])
        self.assertQueueEmpty(60)
        subjects = [m.header("Subject") for m in rx.messages]
        # the transactions finished before the kill are not repeated
        for i in (1, 2, 4, 5):
            self.assertEqual(subjects.count(f"remote {i}"), 1, subjects)
        self.assertEqual(rx.messages[0].conn, rx.messages[1].conn)

    def test_count_limit(self):
        self.inst.control("remotereuse", "5\n")
        rx = self.receivers(a_test={})["a.test"]
        self.inject_all(20)
        self.inst.start()
        self.assertTrue(rx.wait(20, 60), self.log()[-3000:])
        self.assertQueueEmpty()
        self.assertEachOnce(rx, range(1, 21))
        per_conn = [len(mails(rx, c)) for c in range(1, rx.connections + 1)]
        self.assertTrue(all(n <= 5 for n in per_conn), per_conn)
        self.assertGreaterEqual(rx.connections, 4, per_conn)
        self.assertLessEqual(rx.connections, 8, per_conn)

    def test_idle_limit(self):
        self.inst.control("remoteidle", "2\n")
        self.inst.control("concurrencyremote", "1\n")
        rx = self.receivers(a_test={})["a.test"]
        self.inst.start()
        self.inject_all(1)
        self.assertTrue(rx.wait(1, 30), self.log())
        self.inject_all(1, first=2)
        self.assertTrue(rx.wait(2, 30), self.log())
        # within the idle time: the same connection
        self.assertEqual(rx.messages[1].conn, rx.messages[0].conn)
        # past it: the kept connection was closed with QUIT, a new one made
        self.assertTrue(wait_for(lambda: quits(rx, rx.messages[0].conn), 10), rx.commands)
        self.inject_all(1, first=3)
        self.assertTrue(rx.wait(3, 30), self.log())
        self.assertNotEqual(rx.messages[2].conn, rx.messages[0].conn)
        self.assertQueueEmpty()


    @unittest.skipUnless(shutil.which("openssl"), "no openssl")
    def test_starttls_sessions_are_reused(self):
        pki = tempfile.mkdtemp(prefix="postern-pki-")
        self.addCleanup(shutil.rmtree, pki, True)
        ca = make_tls_files(pki, ["mx.a.test"], ca="testca")
        # remote runs as the remote account
        os.chmod(pki, 0o755)
        os.chmod(ca, 0o644)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(pki, "mx.a.test.crt"), os.path.join(pki, "mx.a.test.key"))
        self.inst.control("tlscafile", ca + "\n")
        self.inst.table("tlsroutes", "a.test verify\n")
        self.inst.control("concurrencyremote", "1\n")
        rx = self.receivers(a_test={"tls_context": ctx})["a.test"]
        self.inject_all(6)
        self.inst.start()
        self.assertTrue(rx.wait(6, 30), "\n".join(l for l in self.log().splitlines() if not l.startswith("status"))[-3000:])
        self.assertQueueEmpty()
        self.assertEachOnce(rx, range(1, 7))
        self.assertEqual(rx.connections, 1, rx.commands)
        self.assertTrue(all(m.tls for m in rx.messages))
        self.assertEqual([c for _, c in rx.commands].count("STARTTLS"), 1, rx.commands)
        self.assertRegex(self.log(), r"success: mx\.a\.test\[[0-9.]+\] \(TLSv1\.[23] \S+, verified\) "
                                     r"\(reused, transaction 6\) accepted: 250 ")


if __name__ == "__main__":
    unittest.main()
