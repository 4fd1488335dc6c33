"""smtpd's DKIM verification (RFC 6376, 8463), recorded in its
Authentication-Results field (RFC 8601, 6008) when control/authresults
has "dkim": messages signed by an independent signer, python3-dkim, with
keys whose records dnsmasq serves, sent through smtpd with smtplib; the
field queued above our Received line says what each signature gave. The
queued message is otherwise what was sent, and still verifies."""
import base64
import os
import re
import socket
import time
import unittest

import dnsserver
from dnsserver import DNSServer
from test_smtpd import STRANGER, TRUSTED, SmtpdCase
from test_spf import txt_rdata
from test_smtpd_tls import LOGIN, PASSWORD, TlsServer
from test_smtpd_worker import WorkerServer

try:
    import dkim
    import dns.resolver
    import nacl.signing
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:  # pragma: no cover
    dkim = None

ME = "test.me"
HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]
# selector -> (private key for dkim.sign, TXT record), made in setUpModule
KEYS = {}
DNS = None


def rsa_key(bits=2048):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    der = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed_key():
    k = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(k)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(k.verify_key)).decode())


def txt(record):
    """a TXT RDATA of strings of at most 255 bytes"""
    return txt_rdata(*[record[i:i + 255] for i in range(0, len(record), 255)])


def setUpModule():
    global DNS
    if dkim is None:
        raise unittest.SkipTest("no python3-dkim, python3-dnspython, python3-nacl or python3-cryptography")
    if not dnsserver.available():
        raise unittest.SkipTest("no /usr/sbin/dnsmasq (package dnsmasq-base)")
    KEYS["rsa1"] = rsa_key()
    KEYS["rsa2"] = rsa_key()
    KEYS["ed1"] = ed_key()
    KEYS["small"] = rsa_key(512)
    dns = DNSServer()
    dns.rr("rsa1._domainkey.d.test", dnsserver.TXT, txt(KEYS["rsa1"][1]))
    dns.rr("ed1._domainkey.d.test", dnsserver.TXT, txt(KEYS["ed1"][1]))
    dns.rr("rsa2._domainkey.e.test", dnsserver.TXT, txt(KEYS["rsa2"][1]))
    # revoked (RFC 6376 3.6.1: an empty p=)
    dns.rr("revoked._domainkey.d.test", dnsserver.TXT, txt("v=DKIM1; k=rsa; p="))
    # unusable key records (RFC 6376 3.6.1, 6.1.2): a key type we do
    # not know, hashes that leave out sha256, a service other than email
    rsa_p = KEYS["rsa1"][1].split("p=", 1)[1]
    dns.rr("kfoo._domainkey.d.test", dnsserver.TXT, txt("v=DKIM1; k=foo; p=" + rsa_p))
    dns.rr("hsha1._domainkey.d.test", dnsserver.TXT, txt("v=DKIM1; k=rsa; h=sha1; p=" + rsa_p))
    dns.rr("sother._domainkey.d.test", dnsserver.TXT, txt("v=DKIM1; k=rsa; s=other; p=" + rsa_p))
    dns.rr("small._domainkey.d.test", dnsserver.TXT, txt(KEYS["small"][1]))
    # nokey._domainkey.d.test: no record, NXDOMAIN (dnsmasq --local=/test/)
    dns.rr("pass.test", dnsserver.TXT, txt_rdata(f"v=spf1 ip4:{STRANGER} -all"))
    DNS = dns.start()


def tearDownModule():
    if DNS is not None:
        DNS.cleanup()


def dnsfunc(name, timeout=5):
    """dkim.verify's key lookup, in our dnsmasq"""
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = DNS.port
    try:
        ans = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    except dns.exception.DNSException:
        return None
    return b"".join(b"".join(rd.strings) for rd in ans)


N = [0]


def message(head=b"", body=b"hello\r\n", subject=b"dkim test", from_=b"Alice <alice@d.test>"):
    """a message with CR LF line ends, a Message-ID of its own"""
    N[0] += 1
    return (b"From: " + from_ + b"\r\nTo: demo@example.test\r\nSubject: " + subject + b"\r\n"
            b"Date: Sat, 5 Dec 2026 21:00:00 +0000\r\n"
            b"Message-ID: <%d.%f@d.test>\r\n" % (N[0], time.time()) + head + b"\r\n" + body)


def sign(msg, sel="rsa1", domain="d.test", key=None, canon=(b"relaxed", b"relaxed"),
         length=False, include=(), alg=None, signer=None):
    """the DKIM-Signature field python3-dkim makes for msg (key: the
    private key of sel unless given)"""
    alg = alg or (b"ed25519-sha256" if sel.startswith("ed") else b"rsa-sha256")
    key = key if key is not None else KEYS[sel][0]
    d = (signer or dkim.DKIM)(msg)
    return d.sign(sel.encode(), domain.encode(), key, signature_algorithm=alg, canonicalize=canon,
                  include_headers=HEADERS + list(include), length=length)


def tags(sig):
    v = re.sub(rb"\s+", b"", sig.split(b":", 1)[1]).decode()
    return dict(t.split("=", 1) for t in v.split(";") if t)


def pvalue(v):
    """a property's value (RFC 8601 2.2): a token (RFC 2045), or a
    quoted-string when it holds a tspecial (base64's '/' is one)"""
    return f'"{v}"' if re.search(r'[()<>@,;:\\"/\[\]?=]', v) else v


def result(sig, word="pass", comment=None):
    """the dkim= method we expect for the signature field sig"""
    t = tags(sig)
    c = f" ({comment})" if comment else ""
    return (f"dkim={word}{c} header.d={t['d']} header.s={t['s']} header.a={t['a']}"
            f" header.b={pvalue(t['b'][:8])}")


def field(*methods):
    return f"Authentication-Results: {ME}" + "".join(";\n\t" + m for m in methods)


def split(body):
    """a queued message as (our fields above our Received line, the
    message after that line)"""
    lines = body.split(b"\n")
    assert lines[0].startswith(b"Received: (postern "), body[:300]
    i = next(k for k, l in enumerate(lines) if l.startswith(b"Received: from "))
    j = i + 1
    while lines[j][:1] in (b" ", b"\t"):
        j += 1
    return b"\n".join(lines[1:i]).decode(errors="replace"), b"\n".join(lines[j:])


def lf(msg):
    return msg.replace(b"\r\n", b"\n")


class DkimCase(SmtpdCase):
    """one server for the class (smtpd reads its control files at each
    connection): each test starts from the class's controls, and sees
    the log from its start"""
    controls = {"authresults": "dkim\n"}

    @classmethod
    def setUpClass(cls):
        cls.shared = cls.server(cls.controls)

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanup()

    def setUp(self):
        self.srv = self.shared
        for name in ("authtimeout", "dkimbytes"):
            if os.path.exists(self.srv.home.path("control", name)):
                os.unlink(self.srv.home.path("control", name))
        for name, text in self.controls.items():
            self.srv.home.control(name, text)
        DNS.write_dnsservers(self.srv.home.dir)
        self.logstart = len(self.srv.logtext())

    def log(self):
        """the server's log since the test started"""
        return self.srv.logtext()[self.logstart:]

    def send_all(self, msgs, source=STRANGER, sender="a@d.test"):
        """each message through one session; the queued bodies, in the
        order sent (told apart by their Message-ID)"""
        before = {b for _, _, b in self.srv.queued()}
        s = self.srv.smtp(source)
        self.addCleanup(s.close)
        s.ehlo()
        for m in msgs:
            s.sendmail(sender, ["demo@example.test"], m, mail_options=["BODY=8BITMIME"])
        s.quit()
        new = [b for _, _, b in self.srv.queued() if b not in before]
        self.assertEqual(len(new), len(msgs), self.log()[-2000:])
        out = []
        for m in msgs:
            mid = re.search(rb"^Message-ID: (<[^>]*>)", m, re.M | re.I).group(1)
            out.append(next(b for b in new if mid in b))
        return out

    def send(self, msg, **kw):
        return self.send_all([msg], **kw)[0]

    def assertResults(self, msg, *methods, whole=True, **kw):
        """msg goes through smtpd and is queued with a field of methods;
        whole: the rest is the message as sent"""
        self.assertIndependent(msg, methods)
        body = self.send(msg, **kw)
        head, rest = split(body)
        self.assertEqual(head, field(*methods))
        if whole:
            self.assertEqual(rest, lf(msg))
        return body


    def assertIndependent(self, msg, methods):
        """python3-dkim agrees on each pass, fail and permerror expected
        (the tests' own check of what they send)"""
        d = dkim.DKIM(msg)
        n = len([1 for name, _ in d.headers if name.lower() == b"dkim-signature"])
        dk = [m for m in methods if m.startswith("dkim=")]
        if n != len(dk):
            return
        for i, m in enumerate(dk):
            word = m.split()[0][5:]
            if word in ("pass", "fail", "permerror"):
                try:
                    ok = dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
                except Exception:  # python3-dkim's, or nacl's for a key of the wrong type
                    ok = False
                self.assertEqual(ok, word == "pass", (i, m))


class DkimTest(DkimCase):
    def test_rsa_relaxed_pass(self):
        m = message()
        sig = sign(m)
        b = tags(sig)["b"][:8]
        b = f'"{b}"' if "/" in b else b
        self.assertResults(sig + m, f"dkim=pass header.d=d.test header.s=rsa1 header.a=rsa-sha256 header.b={b}")

    def test_simple_and_relaxed_simple_and_ed25519_pass(self):
        for sel, canon in (("rsa1", (b"simple", b"simple")), ("rsa1", (b"relaxed", b"simple")),
                           ("rsa1", (b"simple", b"relaxed")), ("ed1", (b"relaxed", b"relaxed")),
                           ("ed1", (b"simple", b"simple"))):
            with self.subTest(sel=sel, canon=canon):
                # white space that the two canonicalizations see apart
                m = message(subject=b"dkim  test \t", body=b"hello  world \r\n\r\n")
                sig = sign(m, sel, canon=canon)
                self.assertIn(b"c=" + b"/".join(canon), re.sub(rb"\s", b"", sig))
                self.assertResults(sig + m, result(sig))

    def test_tricky_messages_pass(self):
        words = b" ".join(b"word%d" % i for i in range(300))
        long = b"X-Long: " + re.sub(rb"(.{1,70}) ", rb"\1\r\n\t", words) + b"\r\n"
        cases = {
            "long folded header": (message(head=long), [b"x-long"]),
            "folded header, blanks before the folds": (
                message(head=b"References: <a@d.test>  \r\n   <b@d.test> \t\r\n\t<c@d.test>\r\n",
                        subject=b"folded  \r\n subject\t"), [b"references"]),
            "odd spacing in fields": (message(head=b"X-Odd:no space\r\nX-Tabs:\t spaced \t\r\n"),
                                      [b"x-odd", b"x-tabs"]),
            "empty fields, a blank continuation line": (
                message(head=b"X-Empty:\r\nX-Blank: \r\nX-Tab:\tv\r\n\t\r\n more\r\n"),
                [b"x-empty", b"x-blank", b"x-tab"]),
            "trailing blanks in the body": (
                message(body=b"line with blanks  \t\r\nand\t\ttabs  inside \r\n  \r\nend\r\n"), []),
            "empty body": (message(body=b""), []),
            "only empty lines": (message(body=b"\r\n\r\n\r\n"), []),
            "8-bit body": (message(body="h\u00e9llo \u00fcber \u2603\r\n".encode()), []),
            "8-bit header": (message(subject="h\u00e9llo  \u2603".encode(),
                                     from_="J\u00f6rg <j\u00f6rg@d.test>".encode()), []),
            "dot lines": (message(body=b".\r\n..\r\n.hidden\r\n. \r\nx.\r\n...\r\n"), []),
            "blank lines at the end": (message(body=b"text\r\n\r\n \r\n\r\n\r\n"), []),
        }
        for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple")):
            signed = []
            for name, (m, inc) in cases.items():
                sig = sign(m, canon=canon, include=inc)
                signed.append((name, sig, sig + m))
            bodies = self.send_all([x[2] for x in signed])
            for (name, sig, sent), body in zip(signed, bodies):
                with self.subTest(name, canon=canon):
                    head, rest = split(body)
                    self.assertEqual(head, field(result(sig)))
                    self.assertEqual(rest, lf(sent))
        for name in ("8-bit body", "dot lines", "empty body"):
            with self.subTest(name, alg="ed25519"):
                m = cases[name][0]
                sig = sign(m, "ed1")
                self.assertResults(sig + m, result(sig))

    def test_field_instances_bottom_up(self):
        """RFC 6376 5.4.2: a name in h= once per instance, taken bottom
        up; one more than present (oversigning) stands for none, so an
        instance added after signing, or instances swapped, fail; h=
        names in any case"""
        m = message(head=b"X-Twice: one\r\nX-Twice: two\r\n")
        sig = sign(m, include=[b"x-twice", b"x-twice", b"x-twice", b"cc", b"from"])
        self.assertResults(sig + m, result(sig))
        swapped = m.replace(b"X-Twice: one\r\nX-Twice: two", b"X-Twice: two\r\nX-Twice: one")
        self.assertResults(sig + swapped, result(sig, "fail", "signature did not verify"))
        added = m.replace(b"To:", b"Cc: x@y.test\r\nTo:")
        self.assertResults(sig + added, result(sig, "fail", "signature did not verify"))

        class Upper(dkim.DKIM):
            def gen_header(self, fields, *a, **k):
                fields = [(n, v.upper()) if n == b"h" else (n, v) for n, v in fields]
                return super().gen_header(fields, *a, **k)
        sig = sign(m, signer=Upper, include=[b"x-twice"])
        self.assertIn("FROM:TO:", tags(sig)["h"])
        self.assertResults(sig + m, result(sig))

    def test_b_folded_inside_its_first_8(self):
        """header.b: the first 8 characters of b= without the white
        space folding put in it"""
        m = message()
        sig = sign(m)
        sig = re.sub(rb"(?<![a-z])b=([A-Za-z0-9+/]{3})", rb"b=\1\r\n \t", sig, count=1)
        self.assertRegex(sig, rb"b=[A-Za-z0-9+/]{3}\r\n \t")
        self.assertResults(sig + m, result(sig))

    def test_length_tag_honoured(self):
        m = message(body=b"signed part\r\n")
        sig = sign(m, length=True)
        self.assertIn("l", tags(sig))
        self.assertResults(sig + m, result(sig))
        self.assertResults(sig + m + b"appended after signing\r\n", result(sig))
        # without l= the same addition breaks the body hash
        sig = sign(m)
        self.assertResults(sig + m + b"appended after signing\r\n",
                           result(sig, "fail", "body hash did not verify"))

    def test_body_changed_fails(self):
        m = message(body=b"original text\r\n")
        for sel in ("rsa1", "ed1"):
            with self.subTest(sel):
                sig = sign(m, sel)
                self.assertResults(sig + m.replace(b"original", b"changed!"),
                                   result(sig, "fail", "body hash did not verify"))

    def test_signed_header_changed_fails(self):
        m = message(subject=b"the subject")
        for sel in ("rsa1", "ed1"):
            with self.subTest(sel):
                sig = sign(m, sel)
                self.assertResults(sig + m.replace(b"Subject: the subject", b"Subject: the subjekt"),
                                   result(sig, "fail", "signature did not verify"))

    def test_wrong_key_fails(self):
        m = message()
        sig = sign(m, "rsa1", key=KEYS["rsa2"][0])
        self.assertResults(sig + m, result(sig, "fail", "signature did not verify"))

    def test_no_key_record_is_permerror(self):
        m = message()
        sig = sign(m, "nokey", key=KEYS["rsa1"][0])
        self.assertResults(sig + m, result(sig, "permerror", "no key"))

    def test_revoked_key_is_permerror(self):
        m = message()
        sig = sign(m, "revoked", key=KEYS["rsa1"][0])
        self.assertResults(sig + m, result(sig, "permerror", "bad key"))

    def test_key_not_for_the_algorithm_is_permerror(self):
        """RFC 6376 6.1.2: a key record whose k= does not suit a= is
        PERMFAIL (inappropriate key algorithm), not a signature that
        failed"""
        m = message()
        for name, sel, alg, key in (("rsa signature, ed25519 key record", "ed1", b"rsa-sha256", KEYS["rsa1"][0]),
                                    ("ed25519 signature, rsa key record", "rsa1", b"ed25519-sha256", KEYS["ed1"][0]),
                                    ("k=foo", "kfoo", b"rsa-sha256", KEYS["rsa1"][0])):
            with self.subTest(name):
                sig = sign(m, sel, alg=alg, key=key)
                why = "bad key" if sel == "kfoo" else "key not for the algorithm"
                self.assertResults(sig + m, result(sig, "permerror", why))

    def test_rsa_key_under_1024_bits_is_permerror(self):
        """RFC 8301 3.2: a signature by an RSA key of less than 1024
        bits is not valid; the spec's bad key (any comment will do)"""
        m = message()
        sig = sign(m, "small")
        self.assertIndependent(sig + m, ["dkim=permerror"])
        body = self.send(sig + m)
        want = re.escape(field(result(sig, "permerror", "COMMENT"))).replace("COMMENT", "[^()]+")
        self.assertRegex(split(body)[0], r"\A" + want + r"\Z")

    def test_key_record_not_for_us_is_permerror(self):
        """RFC 6376 3.6.1, 6.1.2: h= without sha256 (PERMFAIL,
        inappropriate hash algorithm) and s= without email or * (the
        record MUST be ignored: no key) leave no key to check with; the
        spec names no comment for these, any will do"""
        m = message()
        for sel in ("hsha1", "sother"):
            with self.subTest(sel):
                sig = sign(m, sel, key=KEYS["rsa1"][0])
                if sel == "sother":  # python3-dkim does not look at h=
                    self.assertIndependent(sig + m, ["dkim=permerror"])
                body = self.send(sig + m)
                want = result(sig, "permerror", "COMMENT")
                self.assertRegex(split(body)[0], r"\A" + re.escape(field(want)).replace("COMMENT", "[^()]+") + r"\Z")

    def test_unsigned_is_none(self):
        self.assertResults(message(), "dkim=none")
        # a signature in the body is no signature
        m = message()
        self.assertResults(message(body=sign(m) + b"\r\n" + m), "dkim=none")

    def test_each_message_of_a_session_on_its_own(self):
        """a signed message, then an unsigned one, then a failing one,
        in one session: nothing carries over"""
        m1, m2, m3 = message(), message(), message(body=b"x\r\n")
        s1, s3 = sign(m1), sign(m3)
        sent = [s1 + m1, m2, s3 + m3.replace(b"x\r\n", b"y\r\n"), s1 + m1]
        heads = [split(b)[0] for b in self.send_all(sent)]
        self.assertEqual(heads, [field(result(s1)), field("dkim=none"),
                                 field(result(s3, "fail", "body hash did not verify")), field(result(s1))])

    def test_field_name_in_any_case(self):
        m = message()
        sig = sign(m)
        self.assertTrue(sig.startswith(b"DKIM-Signature:"))
        sig = b"dkim-SIGNATURE:" + sig[15:]
        self.assertResults(sig + m, result(sig))

    def test_forged_field_with_our_id_is_deleted(self):
        """the client's Authentication-Results claiming test.me go, with
        dkim alone asked for too"""
        m = message(head=b"Authentication-Results: test.me; dkim=pass header.d=d.test\r\n")
        sig = sign(m)
        body = self.assertResults(sig + m, result(sig), whole=False)
        forged = b"Authentication-Results: test.me; dkim=pass header.d=d.test\n"
        self.assertEqual(split(body)[1], lf(sig + m).replace(forged, b""))

    def test_two_signatures_in_header_order(self):
        """a bad signature above a good one: two results, the bad first"""
        m = message()
        good = sign(m, "rsa1")
        bad = sign(m, "rsa2", "e.test", key=KEYS["rsa1"][0])
        self.assertResults(bad + good + m, result(bad, "fail", "signature did not verify"), result(good))
        self.assertRegex(self.log(), r"(?m)^ok pid \d+ qp \S+ from <a@d\.test> rcpts 1 bytes \d+ dkim fail,pass$")
        # and the other way round
        self.assertResults(good + bad + m, result(good), result(bad, "fail", "signature did not verify"))

    def test_at_most_eight_results(self):
        m = message()
        sigs = [sign(m, "rsa1" if i % 2 else "ed1") for i in range(10)]
        self.assertResults(b"".join(sigs) + m, *[result(s) for s in sigs[:8]])

    def test_expired_signature_is_neutral(self):
        now = int(time.time())

        def signer(t, x):
            class Timed(dkim.DKIM):
                """python3-dkim with t= and an x= of ours (it sets no x=)"""
                def gen_header(self, fields, *a, **k):
                    fields = [(n, str(t).encode()) if n == b"t" else (n, v) for n, v in fields]
                    fields.insert([n for n, _ in fields].index(b"h"), (b"x", str(x).encode()))
                    return super().gen_header(fields, *a, **k)
            return Timed

        m = message()
        # two days past: beyond any verifier's leeway for clocks
        # (python3-dkim's is 10 hours)
        sig = sign(m, signer=signer(now - 3 * 86400, now - 2 * 86400))
        self.assertEqual(tags(sig)["x"], str(now - 2 * 86400))
        self.assertFalse(dkim.verify(sig + m, dnsfunc=dnsfunc))
        self.assertResults(sig + m, result(sig, "neutral", "signature expired"))
        # the same with x= in the future passes
        sig = sign(m, signer=signer(now, now + 86400))
        self.assertTrue(dkim.verify(sig + m, dnsfunc=dnsfunc))
        self.assertResults(sig + m, result(sig))

    def test_unsupported_and_malformed_are_neutral(self):
        m = message()
        sig = sign(m, alg=b"rsa-sha1")
        self.assertResults(sig + m, result(sig, "neutral", "unsupported algorithm"))

        class NoFrom(dkim.DKIM):
            def gen_header(self, fields, *a, **k):
                fields = [(n, b"to : subject") if n == b"h" else (n, v) for n, v in fields]
                return super().gen_header(fields, *a, **k)
        sig = sign(m, signer=NoFrom)
        self.assertEqual(tags(sig)["h"], "to:subject")
        self.assertResults(sig + m, result(sig, "neutral", "malformed signature"))
        # i= not within d=
        sig = sign(m, "rsa1", "d.test").replace(b"i=@d.test", b"i=@other.test")
        self.assertIn("i", tags(sig))
        self.assertEqual(tags(sig)["i"], "@other.test")
        self.assertResults(sig + m, result(sig, "neutral", "identity outside the signing domain"))

    def test_dns_down_is_temperror(self):
        m = message()
        sig = sign(m)
        self.srv.home.control("authtimeout", "1\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
        # a closed port
        self.srv.home.control("dnsservers", f"127.0.0.1:{port}\n")
        self.assertResults(sig + m, result(sig, "temperror", "key lookup failed"))
        # a server that never answers: control/authtimeout ends the wait
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            self.srv.home.control("dnsservers", f"127.0.0.1:{u.getsockname()[1]}\n")
            t0 = time.monotonic()
            self.assertResults(sig + m, result(sig, "temperror", "key lookup failed"))
            # generous: the default would be 20 s
            self.assertLess(time.monotonic() - t0, 12)

    def test_authtimeout_is_for_all_lookups(self):
        """8 signatures, a DNS server that never answers: control/authtimeout
        bounds all the lookups together, not each"""
        m = message()
        sigs = [sign(m, "rsa1" if i % 2 else "ed1") for i in range(8)]
        self.srv.home.control("authtimeout", "2\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            self.srv.home.control("dnsservers", f"127.0.0.1:{u.getsockname()[1]}\n")
            t0 = time.monotonic()
            self.assertResults(b"".join(sigs) + m, *[result(x, "temperror", "key lookup failed") for x in sigs])
            # one lookup after another, each given 2 s, would take 16 s
            self.assertLess(time.monotonic() - t0, 10)

    def test_over_dkimbytes_is_policy_and_queued_whole(self):
        self.srv.home.control("dkimbytes", "2000\n")
        big = b"".join(b"line %04d of a big body, long enough to pass the limit\r\n" % i for i in range(100))
        m = message(body=big)
        self.assertGreater(len(m), 4000)
        sig = sign(m)
        body = self.send(sig + m)
        head, rest = split(body)
        self.assertEqual(rest, lf(sig + m))
        self.assertRegex(head, r"\A" + re.escape(field("dkim=policy (message over 2000 bytes not checked)"))
                         + r'(?: header\.d=d\.test header\.s=rsa1 header\.a=rsa-sha256 header\.b=(?:\S{8}|"\S{8}"))?\Z')
        # unsigned: none, queued whole
        self.assertResults(message(body=big), "dkim=none")
        # a small one under the same limit is checked
        m = message()
        sig = sign(m)
        self.assertResults(sig + m, result(sig))

    def test_header_over_dkimbytes_without_signature_is_policy(self):
        """a header longer than control/dkimbytes, no DKIM-Signature in
        the part seen: one may come further on, so policy, not none
        (smtpd(8): "or had not ended")"""
        self.srv.home.control("dkimbytes", "2000\n")
        self.assertResults(message(head=b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 60) for i in range(60))),
                           "dkim=policy (message over 2000 bytes not checked)")

    def test_big_message_under_the_default_limit_is_checked(self):
        """1.5 MB (control/dkimbytes absent: 2 MiB), base64 lines as an
        attachment has them"""
        line = base64.b64encode(bytes(range(256)) * 3)[:76] + b"\r\n"
        m = message(body=line * 20000)
        self.assertGreater(len(m), 1500000)
        for sel in ("rsa1", "ed1"):
            with self.subTest(sel):
                sig = sign(m, sel, canon=(b"simple", b"simple") if sel == "ed1" else (b"relaxed", b"relaxed"))
                self.assertResults(sig + m, result(sig))

    def test_queued_message_still_verifies(self):
        """smtpd changes nothing but adding its fields: python3-dkim
        verifies the queued message without them"""
        m = message(head=b"X-Note:  spaced  \r\n\tfolded \r\n", body=b".dot\r\ntrailing \r\n\r\n\xc3\xa9\r\n\r\n")
        for sel, canon in (("rsa1", (b"simple", b"simple")), ("ed1", (b"relaxed", b"relaxed"))):
            with self.subTest(sel):
                sig = sign(m, sel, canon=canon, include=[b"x-note"])
                body = self.assertResults(sig + m, result(sig))
                _, rest = split(body)
                self.assertTrue(dkim.verify(rest.replace(b"\n", b"\r\n"), dnsfunc=dnsfunc))
                # the verifier is no yes-man
                self.assertFalse(dkim.verify(rest.replace(b"trailing", b"Trailing").replace(b"\n", b"\r\n"),
                                             dnsfunc=dnsfunc))

    def test_log_line_says_dkim_pass(self):
        m = message()
        sig = sign(m)
        self.assertResults(sig + m, result(sig))
        self.assertRegex(self.log(), r"(?m)^ok pid \d+ qp \S+ from <a@d\.test> rcpts 1 bytes \d+ dkim pass$")

    def test_relayclient_is_not_checked(self):
        m = message()
        body = self.send(sign(m) + m, source=TRUSTED)
        self.assertEqual(split(body)[0], f"Authentication-Results: {ME}; none")
        self.assertNotRegex(self.log(), r"(?m)^ok .* dkim ")


class DkimAuthTest(DkimCase):
    """our own users' mail is not checked: auth=pass only"""
    server = TlsServer

    def test_authenticated_client_gets_no_dkim(self):
        m = message()
        sig = sign(m)
        before = {b for _, _, b in self.srv.queued()}
        s = self.srv.tls(STRANGER)
        self.addCleanup(s.close)
        s.login(LOGIN, PASSWORD)
        s.sendmail(LOGIN, ["demo@example.test"], sig + m)
        s.quit()
        new = [b for _, _, b in self.srv.queued() if b not in before]
        self.assertEqual(len(new), 1, self.log())
        head, rest = split(new[0])
        self.assertEqual(head, field(f"auth=pass smtp.auth={LOGIN}"))
        self.assertEqual(rest, lf(sig + m))
        user = re.escape(LOGIN)
        self.assertRegex(self.log(), rf"(?m)^ok pid \d+ qp \S+ from <{user}> rcpts 1 bytes \d+ user <{user}>$")


class DkimSpfTest(DkimCase):
    controls = {"authresults": "spf\ndkim\n"}

    def test_spf_and_dkim_spf_first(self):
        for text in ("spf\ndkim\n", "dkim\nspf\n"):
            with self.subTest(authresults=text):
                self.srv.home.control("authresults", text)
                m = message()
                sig = sign(m)
                self.assertResults(sig + m, "spf=pass smtp.mailfrom=pass.test", result(sig), sender="a@pass.test")
        self.assertRegex(self.log(),
                         r"(?m)^ok pid \d+ qp \S+ from <a@pass\.test> rcpts 1 bytes \d+ spf pass dkim pass$")


class DkimWorkerTest(DkimTest):
    """the same behind smtpd-listen: workers that serve session after
    session (state kept between them), reading the control files again
    when they change, control/dnsservers too (the tests that point it
    elsewhere run here as well)"""
    server = WorkerServer


if __name__ == "__main__":
    unittest.main()
