"""DKIM verification in src/lib (dkim_verify: dkim_sig_parse,
dkim_key_parse, the body hash, dkim_verify_head) through
build/unit/dkim_verify_test, on messages signed by an independent
signer, python3-dkim: rsa-sha256 and ed25519-sha256 (RFC 8463), every
canonicalization, l=; a changed body or header fails; a revoked key is
permerror; malformed and expired signatures are neutral. No DNS here:
the key record is given (tests/test_smtpd_dkim.py checks smtpd's
lookups against dnsmasq)."""
import base64
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

try:
    import dkim
except ImportError:  # pragma: no cover
    dkim = None

VERIFY = os.path.join(harness.UNIT, "dkim_verify_test")
DKIM_DNS = os.path.join(harness.BIN, "dkim-dns")
MSG = (b"From: Alice <a@x.test>\r\nTo: b@y.test\r\nSubject: hi  there,\r\n folded\r\n"
       b"Date: Sat, 5 Dec 2026 20:00:00 +0000\r\n\r\nhello  world \r\n8-bit: \xc3\xa9t\xc3\xa9\r\n\r\n\r\n")


@unittest.skipUnless(dkim, "python3-dkim is not installed")
class DkimVerify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-dkimv-")
        rsa = os.path.join(cls.dir, "rsa.pem")
        ed = os.path.join(cls.dir, "ed.pem")
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", rsa, "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", ed], check=True, capture_output=True)
        for p in (rsa, ed):
            os.chmod(p, 0o600)
        cls.rsa_key = open(rsa, "rb").read()
        der = subprocess.run(["openssl", "pkey", "-in", ed, "-outform", "DER"], check=True, capture_output=True).stdout
        cls.ed_key = base64.b64encode(der[-32:])
        cls.rec = {}
        for name, p in (("rsa", rsa), ("ed25519", ed)):
            out = subprocess.run([DKIM_DNS, "s", p], check=True, capture_output=True, text=True).stdout
            cls.rec[name] = "".join(out.split('"')[1::2])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def sign(self, alg="rsa", msg=MSG, canon=(b"relaxed", b"relaxed"), length=False):
        key = self.rsa_key if alg == "rsa" else self.ed_key
        sig = dkim.sign(msg, b"s", b"x.test", key, canonicalize=canon, length=length,
                        signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256",
                        include_headers=[b"from", b"to", b"subject", b"date"])
        return sig + msg

    def check(self, msg, record, *opts):
        """every signature's line"""
        out = subprocess.run([VERIFY, *opts, record], input=msg, capture_output=True, check=True).stdout.decode()
        return out.splitlines()

    def verify(self, msg, record):
        """the first signature's result word"""
        return self.check(msg, record)[0].split()[0]

    def test_pass(self):
        for alg in ("rsa", "ed25519"):
            self.assertEqual(self.verify(self.sign(alg), self.rec[alg]), "pass", alg)

    def test_lf_line_ends_as_queued(self):
        for alg in ("rsa", "ed25519"):
            self.assertEqual(self.verify(self.sign(alg).replace(b"\r\n", b"\n"), self.rec[alg]), "pass", alg)

    def test_empty_body(self):
        msg = MSG.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        self.assertEqual(self.verify(self.sign("rsa", msg), self.rec["rsa"]), "pass")

    def test_body_changed_fails(self):
        for alg in ("rsa", "ed25519"):
            self.assertEqual(self.verify(self.sign(alg).replace(b"hello", b"HELLO"), self.rec[alg]), "fail", alg)

    def test_header_changed_fails(self):
        for alg in ("rsa", "ed25519"):
            self.assertEqual(self.verify(self.sign(alg).replace(b"Alice", b"Eve"), self.rec[alg]), "fail", alg)

    def test_wrong_key_fails(self):
        # a key of the other algorithm is no key for it (RFC 6376 6.1.2)
        self.assertEqual(self.check(self.sign("rsa"), self.rec["ed25519"])[0].split(" d=")[0], "permerror (key not for the algorithm)")
        other = subprocess.run(["openssl", "genrsa", "2048"], check=True, capture_output=True).stdout
        signed = dkim.sign(MSG, b"s", b"x.test", other, include_headers=[b"from"]) + MSG
        self.assertEqual(self.check(signed, self.rec["rsa"])[0].split(" d=")[0], "fail (signature did not verify)")

    def test_short_rsa_key_is_bad(self):
        """RFC 8301 3.2: under 1024 bits signs nothing valid"""
        short = os.path.join(self.dir, "short.pem")
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", short, "768"], check=True, capture_output=True)
        os.chmod(short, 0o600)
        # dkim-dns refuses it, as remote does
        self.assertEqual(subprocess.run([DKIM_DNS, "s", short], capture_output=True).returncode, 100)
        der = subprocess.run(["openssl", "pkey", "-in", short, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
        rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        signed = dkim.sign(MSG, b"s", b"x.test", open(short, "rb").read(), include_headers=[b"from"]) + MSG
        self.assertEqual(self.check(signed, rec)[0].split(" d=")[0], "permerror (bad key)")

    def test_revoked_key_is_permerror(self):
        self.assertEqual(self.verify(self.sign("rsa"), "v=DKIM1; k=rsa; p="), "permerror")

    def test_every_canonicalization(self):
        tricky = (b"From: a@x.test\r\nSubject:  spaced \t out  \r\n\tand folded\r\nTo: b@y.test\r\n\r\n"
                  b"trailing \t\r\n  lead\r\n\r\n\xc3\xa9\r\n\r\n\r\n")
        for h in (b"simple", b"relaxed"):
            for b in (b"simple", b"relaxed"):
                for msg in (MSG, tricky, tricky.split(b"\r\n\r\n")[0] + b"\r\n\r\n"):
                    signed = self.sign("rsa", msg, canon=(h, b))
                    self.assertEqual(self.verify(signed, self.rec["rsa"]), "pass", (h, b, msg))
                    self.assertEqual(self.verify(signed.replace(b"\r\n", b"\n"), self.rec["rsa"]), "pass", (h, b, msg))

    def test_simple_sees_what_relaxed_forgives(self):
        signed = self.sign("rsa", canon=(b"simple", b"simple"))
        self.assertEqual(self.verify(signed.replace(b"hello  world", b"hello world"), self.rec["rsa"]), "fail")
        self.assertEqual(self.verify(signed.replace(b"Subject: hi", b"Subject:  hi"), self.rec["rsa"]), "fail")
        relaxed = self.sign("rsa")
        self.assertEqual(self.verify(relaxed.replace(b"hello  world", b"hello world"), self.rec["rsa"]), "pass")

    def test_length_tag_honoured(self):
        for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple")):
            signed = self.sign("rsa", canon=canon, length=True)
            self.assertIn(b"l=", signed)
            self.assertEqual(self.verify(signed + b"appended after signing\r\n", self.rec["rsa"]), "pass", canon)
            self.assertEqual(self.verify(signed.replace(b"hello", b"HELLO"), self.rec["rsa"]), "fail", canon)

    def test_names_the_signature(self):
        signed = self.sign("ed25519")
        b = dkim.util.parse_tag_value(signed.split(b":", 1)[1].replace(b"\r\n", b""))[b"b"].replace(b" ", b"")
        self.assertEqual(self.check(signed, self.rec["ed25519"]),
                         ["pass d=x.test s=s a=ed25519-sha256 b=" + b[:8].decode()])

    def test_two_signatures_top_first(self):
        one = self.sign("rsa")
        two = dkim.sign(one, b"s", b"x.test", self.ed_key, signature_algorithm=b"ed25519-sha256",
                        include_headers=[b"from", b"subject"]) + one
        lines = self.check(two, self.rec["rsa"])
        self.assertEqual([l.split()[0] for l in lines], ["permerror", "pass"], lines)
        self.assertIn("a=ed25519-sha256", lines[0])
        self.assertIn("a=rsa-sha256", lines[1])

    def test_no_key_and_lookup_failure(self):
        self.assertEqual(self.check(self.sign("rsa"), "-")[0].split(" d=")[0], "permerror (no key)")
        self.assertEqual(self.check(self.sign("rsa"), "TEMP")[0].split(" d=")[0], "temperror (key lookup failed)")
        self.assertEqual(self.check(MSG, self.rec["rsa"]), ["none"])

    def test_malformed_and_expired_are_neutral(self):
        good = self.sign("rsa")
        cases = {
            b"v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=AAAA; b=AAAA; t=1; x=2": "neutral (signature expired)",
            b"v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=AAAA; b=AAAA; t=5; x=2": "neutral (malformed signature)",
            b"v=1; a=rsa-sha1; d=x.test; s=s; h=from; bh=AAAA; b=AAAA": "neutral (unsupported algorithm)",
            b"v=1; a=rsa-sha256; d=x.test; s=s; h=subject; bh=AAAA; b=AAAA": "neutral (malformed signature)",
            b"v=1; a=rsa-sha256; d=x.test; s=s; i=@evil.test; h=from; bh=AAAA; b=AAAA": "neutral (identity outside the signing domain)",
            b"v=1; a=rsa-sha256; d=x.test; s=s; c=odd; h=from; bh=AAAA; b=AAAA": "neutral (unsupported canonicalization)",
            b"v=1; a=rsa-sha256; d=x.test; d=y.test; s=s; h=from; bh=AAAA; b=AAAA": "neutral (malformed signature)",
            b"v=2; a=rsa-sha256; d=x.test; s=s; h=from; bh=AAAA; b=AAAA": "neutral (malformed signature)",
        }
        for field, want in cases.items():
            got = self.check(b"DKIM-Signature: " + field + b"\r\n" + good, self.rec["rsa"])
            self.assertEqual(got[0].split(" d=")[0], want, field)
            self.assertEqual(got[1].split()[0], "pass", field)
        # the expiry is now's: the same signature before x= is checked on
        exp = b"DKIM-Signature: v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=AAAA; b=AAAA; t=1; x=2000000000\r\n" + good
        self.assertEqual(self.check(exp, self.rec["rsa"], "-n", "1999999999")[0].split(" d=")[0], "neutral (malformed signature)")
        self.assertEqual(self.check(exp, self.rec["rsa"], "-n", "2000000001")[0].split(" d=")[0], "neutral (signature expired)")


if __name__ == "__main__":
    unittest.main()
