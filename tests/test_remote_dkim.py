"""DKIM signing by remote (remote(8), DKIM SIGNING): keys made with
openssl, their TXT records printed by dkim-dns and served by dnsmasq,
every signed message checked by an independent verifier, python3-dkim
(dkim.verify, looking the key up in that dnsmasq with dnspython)."""
import os
import pwd
import re
import subprocess
import unittest

import dnsserver
import harness
import receiver
from dnsserver import DNSServer
from harness import Instance, envelope, free_port, maildir_count, wait_for
from receiver import Receiver
from test_remote import RemoteCase, TABLE_COMPILE

try:
    import dkim
    import dns.resolver
except ImportError:  # pragma: no cover
    dkim = None

DKIM_DNS = os.path.join(harness.BIN, "dkim-dns")
SENDER = "alice@src.test"


def message(from_="alice@src.test", head=b"", body=b"hello\n"):
    return (b"Received: (postern 1 invoked by uid 0); 1 Jan 2026 00:00:00 -0000\n"
            b"From: " + from_.encode() + b"\nTo: bob@d.test\nSubject: dkim test\n"
            b"Message-ID: <1@src.test>\n" + head + b"\n" + body)


def publish(test, dnssrv, domain, sel, alg, path, owner=None):
    """a new key at path (mode 0400, owned by owner), its record as
    dkim-dns prints it served by dnssrv"""
    if os.path.exists(path):
        os.unlink(path)
    args = ["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"] if alg == "rsa" else ["-algorithm", "ed25519"]
    subprocess.run(["openssl", "genpkey", *args, "-out", path], check=True, capture_output=True)
    os.chmod(path, 0o400)
    out = subprocess.run([DKIM_DNS, sel, path], check=True, capture_output=True).stdout.decode()
    if owner is not None:
        os.chown(path, owner, -1)
    m = re.fullmatch(rf'{sel}\._domainkey IN TXT ((?:"[^"]{{1,255}}" ?)+)\n', out)
    test.assertTrue(m, out)
    strings = re.findall(r'"([^"]*)"', m.group(1))
    test.assertTrue("".join(strings).startswith(f"v=DKIM1; k={alg}; p="), strings)
    # TXT RDATA as bytes (RFC 1035 3.3.14): each string after its length
    rdata = b"".join(bytes([len(x)]) + x.encode() for x in strings)
    dnssrv.rr(f"{sel}._domainkey.{domain}", dnsserver.TXT, rdata.hex())


def txt(dnssrv, name, timeout=5):
    """dkim.verify's dnsfunc: the TXT record from dnssrv, by dnspython"""
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = dnssrv.port
    try:
        ans = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    except dns.exception.DNSException:
        return None
    return b"".join(b"".join(rd.strings) for rd in ans)


@unittest.skipUnless(dkim is not None, "no python3-dkim or python3-dnspython")
@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
@unittest.skipUnless(receiver.can_listen_25(), "an MX is reached on port 25: needs root")
class DKIMTest(RemoteCase):
    def setUp(self):
        super().setUp()
        self.keys = {}
        table = []
        for domain, sel, alg in (("src.test", "rsa1", "rsa"), ("ed.test", "ed1", "ed25519"),
                                 ("both.test", "ed2", "ed25519"), ("both.test", "rsa2", "rsa")):
            path = self.home.path(f"{sel}.pem")
            self.keys.setdefault(domain, (sel, path))
            table.append(f"{domain} {sel} {path}")
            publish(self, self.dns, domain, sel, alg, path)
        # one line a domain: "selector file", more pairs for more signatures
        table = [table[0], table[1], table[2] + " \t" + " ".join(table[3].split()[1:])]
        self.home.control("dkimkeys", "\n".join(table) + "\n")
        subprocess.run([TABLE_COMPILE, self.home.path("control", "dkimkeys")], check=True)
        self.rx = self.server()
        self.mx("d.test", (10, "mx.d.test", self.rx.ip))
        self.start_dns()

    def txt(self, name, timeout=5):
        return txt(self.dns, name, timeout)

    def send(self, body, sender=SENDER):
        n = len(self.rx.messages)
        run = self.remote("d.test", ["bob@d.test"], body=body, sender=sender)
        self.assertResults(run, "K")
        self.assertEqual(len(self.rx.messages), n + 1)
        return self.rx.messages[-1].data

    def signed(self, body, domain="src.test", alg=b"rsa-sha256"):
        data = self.send(body)
        self.assertTrue(data.startswith(b"DKIM-Signature:"), data[:200])
        head = data.split(b"\r\n\r\n", 1)[0]
        sig = re.match(rb"DKIM-Signature:(.*?\r\n)(?! |\t)", head, re.S).group(1)
        # folded at 78, CR LF line ends
        for line in (b"DKIM-Signature:" + sig).split(b"\r\n"):
            self.assertLessEqual(len(line), 78, line)
        tags = dict((k.strip(), v) for k, v in (t.split(b"=", 1) for t in re.sub(rb"\s+", b"", sig).split(b";") if t))
        self.assertEqual(tags[b"a"], alg)
        self.assertEqual(tags[b"c"], b"relaxed/relaxed")
        self.assertEqual(tags[b"d"], domain.encode())
        self.assertEqual(tags[b"s"], self.keys[domain][0].encode())
        # From oversigned: once more than present
        h = tags[b"h"].lower().split(b":")
        self.assertEqual(h.count(b"from"), len(re.findall(rb"^from[ \t]*:", head, re.M | re.I)) + 1, h)
        self.assertTrue(dkim.verify(data, dnsfunc=self.txt), data)
        return data

    def test_rsa_and_ed25519_verify(self):
        self.signed(message())
        self.signed(message("Ed <eddy@ed.test>"), "ed.test", b"ed25519-sha256")

    def test_tricky_messages_verify(self):
        long = b"X-Long: " + b" ".join(b"word%d" % i for i in range(300)) + b"\n"
        folded = b"References: <a@src.test>  \n   <b@src.test> \t\n\t<c@src.test>\n"
        cases = {
            "long header line (remote folds it at 998)": message(head=long),
            "folded header, blanks at line ends": message(head=folded),
            "folded To and Subject signed": message(head=b"Cc: a@d.test,\n b@d.test\n"),
            "trailing blanks": message(body=b"line with blanks  \t\nand tabs\t\tinside  it\n  \n\n\n"),
            "empty body": message(body=b""),
            "only empty lines": message(body=b"\n\n\n"),
            "8-bit body": message(body="h\u00e9llo \u00fcber\n".encode()),
            "CR LF stored": message(body=b"crlf line\r\nanother\r\n").replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"),
            "no final line end": message(body=b"no newline at the end"),
            "dot lines": message(body=b".\n..\n.hidden\n"),
            "long body line": message(body=b"y" * 3000 + b"\n"),
            # odd case and spacing; a comma in a quoted name is not two addresses
            "odd From": message(from_="  \"Al, Ice\"\t(team, a)   <Alice@SRC.Test>  ").replace(b"From:", b"fROM:"),
        }
        for name, body in cases.items():
            with self.subTest(name):
                self.signed(body)
        for name in ("8-bit body", "empty body"):
            with self.subTest(name, alg="ed25519"):
                self.signed(cases[name].replace(b"alice@src.test", b"e@ed.test", 1), "ed.test", b"ed25519-sha256")

    def test_two_keys_two_signatures(self):
        """both.test signs with Ed25519 and with RSA: a verifier that
        knows one algorithm only still finds a signature it can check"""
        data = self.send(message("x@both.test"))
        sigs = re.findall(rb"^DKIM-Signature:.*?\r\n(?=\S)", data, re.M | re.S)
        self.assertEqual(len(sigs), 2, data[:1000])
        self.assertIn(b"a=ed25519-sha256", re.sub(rb"\s", b"", sigs[0]))
        self.assertIn(b"a=rsa-sha256", re.sub(rb"\s", b"", sigs[1]))
        for i in range(2):
            self.assertTrue(dkim.DKIM(data).verify(idx=i, dnsfunc=self.txt), i)

    def test_tampered_fails(self):
        """the verifier is not a yes-man: a changed body fails"""
        data = self.signed(message(body=b"original\n"))
        self.assertFalse(dkim.verify(data.replace(b"original", b"changed!"), dnsfunc=self.txt))

    def test_domain_not_in_table_not_signed(self):
        for from_ in ("someone@other.test", "x@sub.src.test"):
            with self.subTest(from_):
                data = self.send(message(from_))
                self.assertNotIn(b"dkim-signature", data.lower())

    def test_two_from_not_signed(self):
        data = self.send(message(head=b"From: other@src.test\n"))
        self.assertNotIn(b"dkim-signature", data.lower())

    def test_key_readable_by_others_defers(self):
        path = self.keys["src.test"][1]
        os.chmod(path, 0o444)
        run = self.remote("d.test", ["bob@d.test"], body=message())
        self.assertResults(run, "Z")
        self.assertIn("readable by others", run.results[0][1])
        self.assertEqual(len(self.rx.messages), 0)
        self.assertEqual(self.rx.connections, 0)


@unittest.skipUnless(dkim is not None, "no python3-dkim or python3-dnspython")
@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
class InstanceTest(unittest.TestCase):
    """a whole instance: remote signs as its own account with a key only
    that account can read; the copy for a local recipient of the same
    message is not signed"""

    def test_remote_copy_signed_local_copy_not(self):
        inst = Instance()
        self.addCleanup(inst.cleanup)
        dnssrv = DNSServer()
        self.addCleanup(dnssrv.cleanup)
        inst.table("locals", "example.test\n")
        demo = inst.mailbox_user("demo")
        inst.users({"demo": demo})
        inst.control("me", "postern.test\n")
        keydir = inst.path("control", "dkim")
        os.mkdir(keydir, 0o700)
        owner = pwd.getpwnam(harness.users()["remote"]).pw_uid if inst.root else None
        if owner is not None:
            os.chown(keydir, owner, -1)
        key = os.path.join(keydir, "sel1.pem")
        publish(self, dnssrv, "example.test", "sel1", "rsa", key, owner)
        inst.table("dkimkeys", f"example.test sel1 {key}\n")
        dnssrv.start()
        port = free_port()
        rx = Receiver(host="127.0.0.1", port=port).start()
        self.addCleanup(rx.stop)
        inst.table("routes", f"d.test [127.0.0.1]:{port}\n")
        msg = (b"From: Demo <demo@example.test>\nTo: demo@example.test, bob@d.test\nSubject: both\n"
               b"Message-ID: <both@example.test>\n\nto a local and a remote recipient  \n")
        rc, err = inst.inject(msg, envelope("demo@example.test", ["demo@example.test", "bob@d.test"]))
        self.assertEqual(rc, 0, err)
        inst.start()
        maildir = os.path.join(demo[2], "Maildir")
        self.assertTrue(wait_for(lambda: rx.messages and maildir_count(maildir) == 1, 30), inst.log()[-3000:])
        data = rx.messages[0].data
        self.assertTrue(data.startswith(b"DKIM-Signature:"), data[:300])
        self.assertTrue(dkim.verify(data, dnsfunc=lambda n, timeout=5: txt(dnssrv, n, timeout)), data)
        new = os.path.join(maildir, "new")
        with open(os.path.join(new, os.listdir(new)[0]), "rb") as f:
            local = f.read()
        self.assertIn(b"Subject: both", local)
        self.assertNotIn(b"dkim-signature", local.lower())


if __name__ == "__main__":
    unittest.main()
