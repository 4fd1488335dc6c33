#!/usr/bin/python3
"""Writes the committed seed corpus, tests/fuzz/corpus/<harness>/<name>:
small real examples of what each parser reads (tests/fuzz/README).
Run from the top of the checkout; files are rewritten, others kept
(regress-* files are crash inputs kept as regression tests)."""
import os
import struct

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
QID = b"0123456789abcdef.4242"


def put(harness, name, data):
    d = os.path.join(TOP, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def env(sender, *rcpts):
    return b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in rcpts) + b"\0"


def rfield(status, channel, attempts, lasttry, text):
    t = text[:200].ljust(200, b" ")
    return b"R" + status + channel + b"%04d" % attempts + b"%010d" % lasttry + t + b"\0"


def state(sender, rcpts, uid=1000, size=123):
    s = b"V1\0u%d\0z%d\0F%s\0" % (uid, size, sender)
    for st, ch, att, last, text, addr, local in rcpts:
        s += rfield(st, ch, att, last, text) + addr + b"\0L" + local + b"\0"
    return s + b"\0"


# envelope: byte 0 also picks the piece size
put("envelope", "one", env(b"a@b.test", b"demo@example.test"))
put("envelope", "null-sender", env(b"", b"postmaster@example.test", b"x@y.test"))
put("envelope", "many", env(b"bounce@b.test", *[b"r%d@example.test" % i for i in range(20)]))
put("envelope", "no-rcpt", b"Fa@b\0\0")
put("envelope", "control-byte", b"Fa@b\0Tx\ry@z\0\0")
put("envelope", "long", env(b"a@b", b"x" * 256))

# state and todo files
put("state", "local-remote", state(b"a@b.test", [
    (b"T", b"L", 0, 0, b"", b"demo@example.test", b"demo"),
    (b"D", b"R", 1, 1764000000, b"mx.example.net[192.0.2.1] accepted: 250 ok", b"x@example.net", b""),
    (b"F", b"R", 3, 1764000100, b"5.1.1 said: 550 no such user", b"y@example.net", b"")]))
put("state", "bounced", state(b"", [(b"B", b"L", 9999, 4294967295, b"x" * 200, b"p@example.test", b"virt-p")]))
put("state", "todo", b"u1000\0p4242\0" + env(b"a@b.test", b"demo@example.test", b"x@example.net"))
put("state", "todo-bare", env(b"", b"demo@example.test"))

# cyclog: linemax byte, two bytes of read size, then the input
put("cyclog", "lines", b"\x10\x05\x00" + b"start pid 12 ip 127.0.0.1\nok pid 12 qp 0123 from <a@b>\nshort\n\n")
put("cyclog", "long-unfinished", b"\x08\x40\x00" + b"a line longer than eight bytes\nand one without newline")
put("cyclog", "cut-at-newline", b"\x03\x01\x00" + b"abc\nabcd\n\n\nx")

# proxy: the first bytes of a connection from a balancer (PROXY v1, v2)
V2SIG = b"\r\n\r\n\0\r\nQUIT\n"
put("proxy", "v1-tcp4", b"PROXY TCP4 192.0.2.1 198.51.100.2 51234 25\r\nEHLO x\r\n")
put("proxy", "v1-tcp6", b"PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 25\r\n")
put("proxy", "v1-unknown", b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")
put("proxy", "v2-tcp4-tlv", V2SIG + b"\x21\x11" + struct.pack("!H", 12 + 9) + bytes([192, 0, 2, 1, 10, 0, 0, 1])
    + struct.pack("!HH", 4000, 25) + b"\x04\x00\x02ab\x01\x00\x01h" + b"EHLO x\r\n")
put("proxy", "v2-tcp6", V2SIG + b"\x21\x21" + struct.pack("!H", 36) + bytes(15) + b"\x01" + bytes(15) + b"\x02"
    + struct.pack("!HH", 1, 25))
put("proxy", "v2-local", V2SIG + b"\x20\x00\x00\x00")

# local headers: maxhops byte, then the message
put("local_header", "plain", b"\x05Received: from a\nDelivered-To: other@example.test\nSubject: x\n\nFrom me\n>From you\nbody")
put("local_header", "loop", b"\x05Delivered-To: DEMO@example.test \r\nSubject: x\r\n\r\nbody\r\n")
put("local_header", "hops", b"\x02Received: 1\nreceived: 2\nRECEIVED: 3\n\n")
put("local_header", "mbox-quoting", b"\x0f\nFrom x\n>From y\n>>From z\nFro\nFrom")

# addresses: byte 0 bit 0 is RCPT, then the argument (or a header list)
for i, a in enumerate([b"FROM:<a@b.test>", b"FROM:<> SIZE=1000 BODY=8BITMIME",
                       b"FROM:<\"john smith\"@example.test>", b"FROM:<\"john\"@example.test>",
                       b"FROM:<@relay.test,@[192.0.2.1]:a@b.test>", b"from: <a@b.test> size=99999999999999999999999"]):
    put("addr", "mail-%d" % i, b"\x00" + a)
for i, a in enumerate([b"TO:<demo@example.test>", b"TO:<postmaster>", b"TO:<Demo@Virt.Test>",
                       b"TO:<a%b@example.test>", b"TO:<x@[IPv6:2001:db8::1]>", b"TO:<x@[127.0.0.1]>",
                       b"TO:<x@-bad.test>", b"TO:<\"a\\\"b\"@example.test> NOTIFY=NEVER"]):
    put("addr", "rcpt-%d" % i, b"\x01" + a)
put("addr", "list", b"\x00Joe (the \"boss\") <joe@example.test>, group: a@b.test, \"x, y\" <c@d.test>;, e@f")

# control files (0), tables (1), users.cdb values (2)
put("control", "file-line", b"\x00mx.example.test  \t\r\nsecond line")
put("control", "file-number", b"\x00" + b"1200\n")
put("control", "table", b"\x01# comment\nexample.test\t\n.sub.example.test  value with  spaces \nKEY v\n")
put("control", "table-dup", b"\x01a 1\nA 2\n")
put("control", "table-bad", b"\x01ok 1\nbad\x01line\n")
put("control", "users", b"\x02demo:1000:1000:/home/demo")
put("control", "users-bad", b"\x02demo:4294967295:1:/h")

# frames and job records: byte 0 = bound and with_local
put("frame", "jobs", b"\xff" + b"J7\0M" + QID + b"\0Fa@b\0Tdemo@example.test\0Ldemo\0\0"
    + b"J8\0M" + QID + b"\0F\0Tx@y\0Lx\0Ty@y\0Ly\0\0")
put("frame", "remote-job", b"\xfe" + b"J9\0M" + QID + b"\0Fa@b\0Tx@example.net\0Ty@example.net\0\0")
put("frame", "no-j", b"\xff" + b"M" + QID + b"\0\0")

# SMTP sessions (the client's side)
HELLO = b"EHLO client.example.test\r\n"
TX = b"MAIL FROM:<a@b.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
put("smtpd_session", "plain", HELLO + TX + b"Subject: hi\r\n\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n")
put("smtpd_session", "pipelined", HELLO + TX + b"Subject: 1\r\n\r\n.\r\n" + TX + b"x\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
put("smtpd_session", "helo-errors", b"HELO\r\nMAIL FROM:<a@b>\r\nHELO x\r\nRCPT TO:<x@y>\r\nDATA\r\nVRFY x\r\nHELP\r\nFOO\r\nQUIT\r\n")
put("smtpd_session", "relay", HELLO + b"MAIL FROM:<>\r\nRCPT TO:<x@example.net>\r\nRCPT TO:<a%b@example.test>\r\n"
    b"RCPT TO:<x@[127.0.0.1]>\r\nRCPT TO:<root@example.test>\r\nRCPT TO:<nobody-here@example.test>\r\nQUIT\r\n")
put("smtpd_session", "hops", HELLO + TX + b"Received: a\r\nReceived: b\r\nDelivered-To: c\r\nReceived: d\r\n"
    b"Received: e\r\nReceived: f\r\n\r\nx\r\n.\r\nQUIT\r\n")
put("smtpd_session", "long-line", HELLO + TX + b"To: " + b"x@example.test, " * 80 + b"\r\n\r\nbody\r\n.\r\n"
    + b"NOOP " + b"y" * 600 + b"\r\nQUIT\r\n")
put("smtpd_session", "bare-lf", b"EHLO x\nMAIL FROM:<a@b.test>\nRCPT TO:<demo@example.test>\nDATA\nSubject: lf\n\nbody\n.\r\nQUIT\n")
put("smtpd_session", "nul", HELLO + b"NOOP \0\r\n" + TX + b"a\0b\r\n.\r\nQUIT\r\n")
put("smtpd_session", "eof-in-data", HELLO + TX + b"Subject: cut\r\n\r\npartial")
# the smuggling battery: a message end that is not <CR><LF>.<CR><LF>,
# then a second transaction a server might take from inside the first
SMUGGLED = b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"
for i, end in enumerate([b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r\n.\n", b"\n.\r", b"\r.\r\n",
                         b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]):
    put("smtpd_session", "smuggle-%d" % i, HELLO + TX + b"Subject: first\r\n\r\nbody" + end + SMUGGLED + b"\r\n.\r\nQUIT\r\n")

# inject: arguments, NUL-ended, an empty one, then the message
put("inject_header", "t-flag", b"-t\0\0From: Joe <joe@example.test>\nTo: a@b.test, \"x y\" <c@d.test>\n"
    b"Cc: e@f.test\nBcc: hidden@g.test\nSubject: hi\n\nbody\n.\nafter dot\n")
put("inject_header", "i-flag", b"-i\0-f\0<>\0-F\0J\xc3\xa9r\xc3\xb4me \"Q\" Smith\0--\0x@y.test\0\0"
    b"From x@y Mon Jan  1 00:00:00 2026\r\nSubject: crlf\r\nReturn-Path: <z@z>\r\n\r\n.\r\nbody\r\n")
put("inject_header", "no-header", b"-oi\0demo\0\0just a body line\nand another\n")
put("inject_header", "continuation", b"-t\0\0To: a@b.test,\n c@d.test\nSubject: folded\n\tline\nnot a field line\n")
put("inject_header", "bad-option", b"-bs\0\0x\n")

# remote: byte 0 (recipients), the server's bytes, "\0\0", the body
GOOD = (b"220 mx.example.net ESMTP\r\n250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
        b"250 8BITMIME\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n250 2.0.0 queued\r\n221 bye\r\n")
BODY = b"Subject: x\n\n.leading dot\n..two\nbare\rcr\r\ncrlf\n\xc3\xa9\nno newline at end"
put("remote_reply", "pipelining", b"\x01" + GOOD + b"\0\0" + BODY)
put("remote_reply", "no-pipelining", b"\x00220 mx\r\n250 mx\r\n250 ok\r\n550 5.1.1 no\r\n")
put("remote_reply", "helo-fallback", b"\x02220 mx\r\n502 no ehlo\r\n250 mx\r\n250 ok\r\n451 later\r\n250 ok\r\n250 ok\r\n354 go\r\n550 no\r\n\0\0x\n")
put("remote_reply", "size-limit", b"\x00220 mx\r\n250-mx\r\n250 SIZE 10\r\n\0\0" + b"y" * 100)
put("remote_reply", "greeting-4xx", b"\x03421 busy\r\n")
put("remote_reply", "multiline-bad", b"\x00220-mx\r\n220-more\r\n2x0 bad\r\n")


def name(n):
    return b"".join(bytes([len(p)]) + p for p in n.split(b".") if p) + b"\0"


def packet(qname, qtype, answers):
    h = struct.pack(">HHHHHH", 4242, 0x8180, 1, len(answers), 0, 0)
    q = name(qname) + struct.pack(">HH", qtype, 1)
    a = b""
    for rtype, rdata in answers:
        a += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata
    return h + q + a


MX = packet(b"example.test", 15, [(15, struct.pack(">H", 10) + name(b"mx1.example.test")),
                                  (15, struct.pack(">H", 20) + name(b"mx2.example.test")),
                                  (15, struct.pack(">H", 10) + name(b"mx3.example.test"))])
NULLMX = packet(b"example.test", 15, [(15, struct.pack(">H", 0) + b"\0")])
AAAA = packet(b"mx1.example.test", 28, [(28, bytes.fromhex("20010db8000000000000000000000001"))])
A = packet(b"mx1.example.test", 1, [(1, bytes([192, 0, 2, 1])), (1, bytes([192, 0, 2, 2]))])
NXD = struct.pack(">HHHHHH", 4242, 0x8183, 1, 0, 0, 0) + name(b"example.test") + struct.pack(">HH", 15, 1)


def dns(flags, mx, aaaa, a):
    return bytes([flags]) + struct.pack("<HH", len(mx), len(aaaa)) + mx + aaaa + a


put("remote_dns", "mx", dns(0x00 | 0x18, MX, AAAA, A))
put("remote_dns", "null-mx", dns(0x01, NULLMX, AAAA, A))
put("remote_dns", "nodata", dns(0x02, packet(b"example.test", 15, []), b"", A))
put("remote_dns", "nxdomain", dns(0x80, NXD, NXD, NXD))
put("remote_dns", "routed", dns(0x03, MX, AAAA, A))
put("remote_dns", "literal", dns(0x06, b"", b"", b""))

# log-summary: log lines as cyclog writes them, stamps removed
MID = "6740e4a0000001f2.1"
put("logsum", "send-smtpd", ("\n".join([
    "start pid 10 ip 127.0.0.1", "ok pid 10 qp 11 from <a@example.test> rcpts 2 bytes 500",
    "rcpt pid 10 from <a@x.test> to <b@y.test>: 550 5.1.1 no such user",
    "reject pid 10 from <a@x.test> rcpts 1 bytes 50: 552 5.3.4 too big", "end pid 10: quit",
    "new msg %s: bytes 300 from <a@example.test> uid 0 rcpts 3" % MID,
    "starting delivery 150: msg %s to remote u1@Fail.Example u2@fail.example" % MID,
    "delivery 150: deferral: fail.example[192.0.2.1] said: 451 later",
    "starting delivery 151: msg %s to local demo@example.test" % MID,
    "delivery 151: success: did 1+0+0: maildir",
    "delivery 152: failure: 5.1.1 no such mailbox", "bounce msg %s qp 99" % MID,
    "end msg %s" % MID, "status: local 1/10 remote 0/20 queue 4"]) + "\n").encode())
put("logsum", "escaped", b"delivery 7: failure: x\\033[31m red \\\\ \xc3\xa9\nnew msg zz: junk\n")

# queue-writer: what a client sends, netstrings: chunks, 0:, then the envelope


def ns(b):
    return b"%d:" % len(b) + b + b","


put("queue_writer", "message", ns(b"Subject: x\n\nhello\n") + ns(b"more\n") + b"0:," + ns(env(b"a@b.test", b"demo@example.test")))
put("queue_writer", "empty-body", b"0:," + ns(env(b"", b"x@y")))
put("queue_writer", "bad-envelope", ns(b"x\n") + b"0:," + ns(b"Fa\0\0"))
put("queue_writer", "too-big", ns(b"y" * 1001) + b"0:," + ns(env(b"a@b", b"c@d")))
put("queue_writer", "trailing", b"3:abc,0:," + ns(env(b"a@b", b"c@d") + b"junk") + b"more")

# ldeliver: byte 0 bit 0 = an fd comes along, then the request packet
REQ = b"demo\0/home/demo\0demo\0\0example.test\0a@b.test\0demo@example.test\0"
put("ldeliver", "request", b"\x01" + REQ)
put("ldeliver", "no-fd", b"\x00" + REQ)
put("ldeliver", "short", b"\x01" + b"demo\0/home/demo\0demo\0")
put("ldeliver", "long-home", b"\x01demo\0/" + b"h" * 4100 + b"\0demo\0\0d\0s\0r\0")

# dkim_message: its seeds are real signatures (python3-dkim, with the key
# record on the first line), written once and committed as they are: they
# need keys, which this script does not make

# dkim_head: header sections as remote signs them
put("dkim_head", "two-from", b'From: "A, B" (c) <a@Ex.Test>\nTo: x@y\nSubject:  long\n  folded \t\n\tline  \n'
    b"from : second@x\n")
put("dkim_head", "cc", b"Received: x\nFROM:\tb@example.test (Bob)\nCc: a,\n b\nX-No-Colon\n")
put("dkim_head", "crlf", b"From: <x@d.test>\r\nTo: y@e.test\r\nMessage-ID: <1@d>\r\nReferences: <a>\r\n <b>\r\n")

# spf_macro: byte 0 the client (0 IPv4, 1 IPv6), then sender, HELO,
# domain and the macro-string, NUL-separated (RFC 7208 7.4's examples)
SPFM = b"strong-bad@email.example.com\0mx.example.org\0email.example.com\0"
for i, m in enumerate([b"%{s}", b"%{o}", b"%{d}", b"%{d4}", b"%{d3}", b"%{d2}", b"%{d1}", b"%{dr}", b"%{d2r}",
                       b"%{l}", b"%{l-}", b"%{lr}", b"%{lr-}", b"%{l1r-}", b"%{ir}.%{v}._spf.%{d2}",
                       b"%{lr-}.lp._spf.%{d2}", b"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", b"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
                       b"%{d2}.trusted-domains.example.net", b"%%%_%-%{h}.%{p}", b"%{S}.%{IR}.%{d0}", b"%{d}%"]):
    put("spf_macro", "rfc-%02d" % i, bytes([i & 1]) + SPFM + m)
put("spf_macro", "long", b"\x00a@" + b"x" * 60 + b"." + b"y" * 60 + b".test\0h\0" + b"d." * 100 + b"test\0%{d}.%{o}.%{o}")
put("spf_macro", "no-at", b"\x01postmaster\0h.test\0d.test\0%{l}.%{o}.%{s}")
put("spf_macro", "delims", b"\x00a.b-c+d,e/f_g=h@x.test\0h\0d\0%{l.-+,/_=}.%{l3r+-}")

# spf_check: byte 0 the client (0 192.0.2.3, 1 2001:db8::cb01, +4 null
# sender), then the answers in the order spf_check asks: a kind byte (0
# an answer with a 2-byte length, 5 nothing, 6 a DNS failure), TXT
# strings and MX hosts NUL-separated, addresses 4 or 16 bytes each


def ans(payload):
    return b"\x00" + struct.pack(">H", len(payload)) + payload


V4 = bytes([192, 0, 2, 3])
V6 = bytes.fromhex("20010db800000000000000000000cb01")
put("spf_check", "ip4-pass", b"\x00" + ans(b"v=spf1 ip4:192.0.2.0/24 -all"))
put("spf_check", "ip6-cidr", b"\x01" + ans(b"v=spf1 ip4:10.0.0.1 ip6:2001:db8::/32 -all"))
put("spf_check", "include-a-mx", b"\x00" + ans(b"v=spf1 include:_spf.%{d} -all") + ans(b"v=spf1 a mx/24 ~all")
    + ans(bytes([10, 0, 0, 1])) + ans(b"mx1.spf.example.test\0mx2.spf.example.test\0") + b"\x05" + ans(V4))
put("spf_check", "redirect-exists", b"\x00" + ans(b"v=spf1 redirect=_spf.%{d2}")
    + ans(b"v=spf1 exists:%{ir}.%{l1r-}.e.%{d} ?all") + ans(bytes([127, 0, 0, 2])))
put("spf_check", "ip6-a-mx", b"\x01" + ans(b"v=spf1 a/24//64 mx:%{o}/24//48 -all") + ans(V6)
    + ans(b"mx.example.test\0") + ans(V6 + V6))
put("spf_check", "two-records", b"\x00" + ans(b"v=spf1 -all\0v=spf1 +all\0other"))
put("spf_check", "not-spf", b"\x00" + ans(b"v=spf10 -all\0google-site-verification=x"))
put("spf_check", "temperror", b"\x00\x06")
put("spf_check", "void-limit", b"\x00" + ans(b"v=spf1 a:x.%{d} a:y.%{d} a:z.%{d} -all") + b"\x05\x05\x05")
put("spf_check", "ptr-exp", b"\x04" + ans(b"v=spf1 ptr exp=explain.%{d} foo=bar ~all"))
put("spf_check", "bad-ip4", b"\x00" + ans(b"v=spf1 ip4:192.0.2.300 -all"))
put("spf_check", "bad-cidr", b"\x00" + ans(b"v=spf1 a//129 ip4:1.2.3.4/33 -all"))
put("spf_check", "include-chain", b"\x00" + b"".join(ans(b"v=spf1 include:i%d.%%{d} -all" % i) for i in range(12)))
put("spf_check", "mx-many", b"\x00" + ans(b"v=spf1 mx -all") + ans(b"".join(b"mx%d.test\0" % i for i in range(11))))
put("spf_check", "redirect-twice", b"\x00" + ans(b"v=spf1 redirect=a.test redirect=b.test"))
put("spf_check", "temperror-in-include", b"\x00" + ans(b"v=spf1 include:x.test ~all") + b"\x06")

# smtpd_arfilter: 2 bytes seeding the piece sizes, then a message as
# smtpd feeds the filter (LF line ends); control/me is test.me
AR = b"Authentication-Results: "
put("smtpd_arfilter", "ours", b"\x01\x00" + AR + b"test.me; spf=pass smtp.mailfrom=x.test\nSubject: hi\n\nbody\n")
put("smtpd_arfilter", "other", b"\x02\x00" + AR + b"mx.example.net; dkim=pass\n\tfolded\nTo: a@b\n\n" + AR + b"test.me\n")
put("smtpd_arfilter", "folded-comment", b"\x03\x00authentication-results:\n (a (nested)\n comment) TEST.ME;\n\tdkim=pass\nX: y\n\n")
put("smtpd_arfilter", "no-id", b"\x04\x00" + AR + b"\nFrom: a@b\n" + AR + b"(only a comment)\n\nx")
put("smtpd_arfilter", "near-names", b"\x05\x00Authentication-Result: test.me\nAuthentication-Results-X: test.me\n"
    b"Authentication-Results : test.me\nauthentication-results:test.me(c)\n\n")
put("smtpd_arfilter", "long-cfws", b"\x06\x00" + AR + b"(" + b"x" * 1100 + b") test.me;\nS: 1\n\n")
put("smtpd_arfilter", "eof-in-id", b"\x07\x00Subject: x\n" + AR + b"test.m")
put("smtpd_arfilter", "longer-id", b"\x08\x00" + AR + b"test.me.example; x\n" + AR + b" test.me\n\tspf=fail\n\n")

# dkim_verify: byte 0 (bit 0: the RSA test key, else Ed25519; bit 1: sign
# the header and verify that too), then the key record, the
# DKIM-Signature field and the header section, NUL-separated. The
# records are the harness's test keys'; the fields were made by
# dkim_sign_head with them over DKIM_HEAD (bh= of no real body).
RSA_P = b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDM2oTZfKHRrNVr1P/Xfw10S04KipZsOUiYEXhuaM/hFkSrT0U7Vg7XjzrQZQlN4YcwN5/odBtWMzuoqCZNc/OocM9Agf6A6xjO9dl2DdLdNDjk7LjBjUyuOg41n/OxarMmCX0MTjJi0Rm6eSaALodrs7XRBCkYXZjIQdXNxU3NGQIDAQAB"
ED_P = b"HY02nGBc0eou+BNjK7LkgOs41o/mG6TR3+4NntZtf1k="
DKIM_HEAD = b"From: Joe <joe@example.test>\r\nTo: a@b.test\r\nSubject: signed\r\n  folded\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n"
SIG_ED = b'DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.test;\r\n\ts=fuzz; t=1764000000; bh=AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;\r\n\th=from:from:to:subject:date; b=l4BvkgBzQVQdH7pHS2lBJUQTPoiW9/ooYGn0HV70rbWerL\r\n\tNu2iHEAPecUTt5Nhl2jeCMlv+akE/yqnuVFpj9Cg=='
SIG_RSA = b'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=fuzz;\r\n\tt=1764000000; bh=AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; h=from:from:\r\n\tto:subject:date; b=Jno9iGw3vEk3JJd+N1dpNvH30Ml5nenpdgFe+ZpXTK77JEFy91kpHpmZqL\r\n\tbtidCEp6+7LCFLFuieZJxzncthcmzjFHyK17RZeC1CIuIIjTAyzSBx2US6l7HMK2S0MPABdmvrzFN\r\n\t4ytchS/A2OTCI0PfcRXparPUwFN6o8E75Sm4='
put("dkim_verify", "ed25519", b"\x00v=DKIM1; k=ed25519; p=" + ED_P + b"\0" + SIG_ED + b"\0" + DKIM_HEAD)
put("dkim_verify", "rsa", b"\x01v=DKIM1; k=rsa; p=" + RSA_P + b"\0" + SIG_RSA + b"\0" + DKIM_HEAD)
put("dkim_verify", "rsa-signed-here", b"\x03v=DKIM1; p=" + RSA_P + b";\0" + SIG_RSA + b"\0" + DKIM_HEAD.replace(b"\r", b""))
put("dkim_verify", "wrong-alg", b"\x00k=rsa; p=" + RSA_P[:40] + b"\r\n " + RSA_P[40:] + b"\0" + SIG_RSA + b"\0" + DKIM_HEAD)
put("dkim_verify", "revoked", b"\x02v=DKIM1; p=\0DKIM-Signature: a=ed25519-sha256; b=; bh=; h=from\0From: x@y\n")
put("dkim_verify", "malformed", b"\x00v=DKIM2; k=ed448; p=!!; p=x;;=y; z\0dkim-signature:a=rsa-sha256;h=;b=Zm9v;c=simple/simple;"
    b" x ; ;\0From: a@b\nFrom: c@d\nX: y\n")
put("dkim_verify", "tampered", b"\x00v=DKIM1; k=ed25519; p=" + ED_P + b"\0" + SIG_ED.replace(b"joe", b"eve") + b"\0"
    + DKIM_HEAD.replace(b"signed", b"changed"))
