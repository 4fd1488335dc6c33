"""SPF (RFC 7208) check_host() of src/lib/spf_check.c, through
build/unit/spf_test, against TXT, A and MX records served by dnsmasq:
each result of RFC 7208 2.6, the lookup and void-lookup limits, macros,
and temperror from a server that never answers."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import dnsserver
from dnsserver import DNSServer
from harness import UNIT

SPF_TEST = os.path.join(UNIT, "spf_test")


def txt_rdata(*strings):
    """TXT RDATA (RFC 1035 3.3.14): each string after its length"""
    out = b""
    for s in strings:
        s = s.encode()
        out += bytes([len(s)]) + s
    return out.hex()


RECORDS = {
    "pass.test": ["v=spf1 ip4:127.0.0.0/8 -all"],
    "fail.test": ["v=spf1 ip4:10.0.0.0/8 -all"],
    "soft.test": ["v=spf1 ~all"],
    "neutral.test": ["v=spf1 ?all"],
    "nospf.test": ["hello world"],
    "a.test": ["v=spf1 a -all"],
    "mx.test": ["v=spf1 mx/24 -all"],
    "inc.test": ["v=spf1 include:fail.test include:pass.test -all"],
    "redir.test": ["v=spf1 redirect=fail.test"],
    "redirnone.test": ["v=spf1 redirect=nothing.test"],
    "loop.test": ["v=spf1 include:loop.test -all"],
    "many.test": ["v=spf1 " + " ".join(f"a:h{i}.many.test" for i in range(11)) + " ip4:127.0.0.5 -all"],
    "ten.test": ["v=spf1 " + " ".join(f"a:h{i}.many.test" for i in range(10)) + " ip4:127.0.0.5 -all"],
    "voids.test": ["v=spf1 a:v1.test a:v2.test a:v3.test ip4:127.0.0.5 -all"],
    "twovoids.test": ["v=spf1 a:v1.test a:v2.test ip4:127.0.0.5 -all"],
    "two.test": ["v=spf1 -all", "v=spf1 +all"],
    "syntax.test": ["v=spf1 ip4:127.0.0.300 +all"],
    "badmech.test": ["v=spf1 frobnicate +all"],
    "ip6.test": ["v=spf1 ip6:2001:db8::/32 -all"],
    "macro.test": ["v=spf1 exists:%{i}.%{l}.ex.test -all"],
    "split.test": ["v=spf1 ip4:10.1.1.1 ", "ip4:127.0.0.5 -all"],
    "helo.test": ["v=spf1 ip4:127.0.0.6 -all"],
}


class Spf(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not dnsserver.available():
            raise unittest.SkipTest("dnsmasq is not installed")
        dns = DNSServer()
        for name, recs in RECORDS.items():
            for r in recs:
                # a record given as several strings: split where the test says
                parts = [r] if name != "split.test" else RECORDS[name]
                if name == "split.test":
                    dns.rr(name, dnsserver.TXT, txt_rdata(*parts))
                    break
                dns.rr(name, dnsserver.TXT, txt_rdata(r))
        dns.host("a.test", "127.0.0.9")
        dns.mx("mx.test", "mx1.mx.test", 10)
        dns.host("mx1.mx.test", "127.0.1.1")
        for i in range(11):
            dns.host(f"h{i}.many.test", "10.9.9.9")
        dns.host("127.0.0.5.bob.ex.test", "127.0.0.2")
        dns.start()
        cls.dns = dns
        cls.dir = tempfile.mkdtemp(prefix="postern-spf-")
        os.mkdir(os.path.join(cls.dir, "control"))
        dns.write_dnsservers(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        cls.dns.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def spf(self, domain, ip="127.0.0.5", sender=None, helo="client.test", secs=20, cwd=None):
        sender = sender or "bob@" + domain
        out = subprocess.run([SPF_TEST, ip, sender, helo, domain, str(secs)], cwd=cwd or self.dir,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.split()

    def result(self, *args, **kw):
        return self.spf(*args, **kw)[0]

    def test_results(self):
        self.assertEqual(self.result("pass.test"), "pass")
        self.assertEqual(self.result("fail.test"), "fail")
        self.assertEqual(self.result("soft.test"), "softfail")
        self.assertEqual(self.result("neutral.test"), "neutral")

    def test_none(self):
        self.assertEqual(self.result("nothing.test"), "none")
        self.assertEqual(self.result("nospf.test"), "none")
        self.assertEqual(self.result("single-label"), "none")

    def test_a_and_mx(self):
        self.assertEqual(self.result("a.test", ip="127.0.0.9"), "pass")
        self.assertEqual(self.result("a.test", ip="127.0.0.5"), "fail")
        self.assertEqual(self.result("mx.test", ip="127.0.1.200"), "pass")
        self.assertEqual(self.result("mx.test", ip="127.0.2.1"), "fail")

    def test_include_and_redirect(self):
        self.assertEqual(self.spf("inc.test"), ["pass", "2"])
        self.assertEqual(self.result("inc.test", ip="192.0.2.1"), "fail")
        self.assertEqual(self.result("redir.test"), "fail")
        # a redirect to a domain with no record is permerror (RFC 7208 6.1)
        self.assertEqual(self.result("redirnone.test"), "permerror")

    def test_lookup_limit(self):
        self.assertEqual(self.spf("ten.test"), ["pass", "10"])
        self.assertEqual(self.result("many.test"), "permerror")
        self.assertEqual(self.result("loop.test"), "permerror")

    def test_void_limit(self):
        self.assertEqual(self.result("twovoids.test"), "pass")
        self.assertEqual(self.result("voids.test"), "permerror")

    def test_permerror_syntax(self):
        self.assertEqual(self.result("two.test"), "permerror")
        self.assertEqual(self.result("syntax.test"), "permerror")
        self.assertEqual(self.result("badmech.test"), "permerror")

    def test_ip6(self):
        self.assertEqual(self.result("ip6.test", ip="2001:db8::1"), "pass")
        self.assertEqual(self.result("ip6.test", ip="2001:db9::1"), "fail")
        self.assertEqual(self.result("ip6.test", ip="127.0.0.5"), "fail")

    def test_macro_exists(self):
        self.assertEqual(self.result("macro.test", sender="bob@macro.test"), "pass")
        self.assertEqual(self.result("macro.test", sender="eve@macro.test"), "fail")

    def test_record_of_several_strings(self):
        self.assertEqual(self.result("split.test"), "pass")

    def test_temperror_unanswered(self):
        """a server that never answers: temperror once the check's
        deadline (2 s here) has passed, not a hang"""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            d = tempfile.mkdtemp(prefix="postern-spf-")
            try:
                os.mkdir(os.path.join(d, "control"))
                with open(os.path.join(d, "control", "dnsservers"), "w") as f:
                    f.write(f"127.0.0.1:{u.getsockname()[1]}\n")
                self.assertEqual(self.result("pass.test", secs=2, cwd=d), "temperror")
            finally:
                shutil.rmtree(d, ignore_errors=True)

    def test_dnsservers_read_as_remote_reads_them(self):
        """control/dnsservers through the same reader as remote(8):
        comments, blank lines and indentation ignored; a port out of range
        refused (c-ares alone took 99999 and asked another port)"""
        d = tempfile.mkdtemp(prefix="postern-spf-")
        self.addCleanup(shutil.rmtree, d, True)
        os.mkdir(os.path.join(d, "control"))
        path = os.path.join(d, "control", "dnsservers")
        with open(path, "w") as f:
            f.write(f"# the test server\n\n  {self.dns.address()}  \n")
        self.assertEqual(self.result("pass.test", cwd=d), "pass")
        with open(path, "w") as f:
            f.write(f"{self.dns.address()}\n127.0.0.1:99999\n")
        out = subprocess.run([SPF_TEST, "127.0.0.5", "bob@pass.test", "client.test", "pass.test", "5"],
                             cwd=d, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 111, out)
        self.assertIn("set up c-ares", out.stderr)


if __name__ == "__main__":
    unittest.main()
