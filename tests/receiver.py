"""SMTP servers for the remote tests, all on loopback, all run by one
asyncio loop in a background thread of the test process.

Receiver: aiosmtpd (python3-aiosmtpd) that records every message it
accepts (envelope, data bytes, peer, MAIL parameters, EHLO name) and
answers as scripted: per recipient, for MAIL, at end of data, for EHLO;
a scripted reply is a string (always) or a list (one item per attempt,
the last repeated; None = the normal answer). It can advertise SIZE,
8BITMIME and PIPELINING or not, drop the connection in the middle of
DATA the first N times, or wait before its end-of-data reply.

Pathological servers aiosmtpd cannot play, plain asyncio:
GreetingServer (a 4xx or 5xx greeting), SilentServer (accepts and never
says a word), ProbeServer (a small SMTP server that records what the
client had sent before it got the reply to MAIL: pipelining).
refusing_address() is an address where nobody listens.

Port 25 on 127.x.y.z addresses (an MX has no port): needs root;
can_listen_25() says whether we can."""
import asyncio
import dataclasses
import errno
import random
import re
import socket
import threading
import time

from aiosmtpd.smtp import SMTP

_loop = None
_lock = threading.Lock()


def loop():
    """the background event loop every server here runs on"""
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="receiver-loop", daemon=True).start()
    return _loop


def call(coro, timeout=30):
    return asyncio.run_coroutine_threadsafe(coro, loop()).result(timeout)


def random_loopback():
    """127.a.b.c away from 127.0.0.x (smtpd tests and instances use
    127.0.0.1 and 127.0.0.2)"""
    return f"127.{random.randint(20, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"


def refusing_address(port=25):
    """a loopback address where a connect to port is refused"""
    for _ in range(50):
        a = random_loopback()
        with socket.socket() as s:
            s.settimeout(2)
            try:
                s.connect((a, port))
            except ConnectionRefusedError:
                return a
            except OSError:
                continue
    raise RuntimeError("no refusing loopback address found")


def can_listen_25():
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((random_loopback(), 25))
        return True
    except PermissionError:
        return False
    except OSError:
        return True


def ipv6_loopback_free(port=25):
    """::1 exists and nobody listens on port there (connections of an
    earlier run in TIME_WAIT do not count: the servers reuse the address)"""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::1", port))
            s.listen()
        return True
    except OSError:
        return False


def _is_ok(reply):
    return reply is None or reply.startswith("2")


class Script:
    """scripted replies: str = always that; list = one per attempt (the
    last repeated), None = the normal answer"""

    def __init__(self, spec=None):
        self.spec = spec
        self.count = 0

    def next(self):
        s = self.spec
        if isinstance(s, (list, tuple)):
            r = s[min(self.count, len(s) - 1)] if s else None
        else:
            r = s
        self.count += 1
        return r


@dataclasses.dataclass
class Message:
    sender: str          # "" for the null sender
    rcpts: list          # as RCPT TO gave them, accepted ones only
    data: bytes          # the content, un-dot-stuffed, CR LF line ends
    peer: tuple          # (ip, port[, flow, scope])
    mail_options: list   # MAIL parameters, upper-cased: ["SIZE=123", "BODY=8BITMIME"]
    helo: str            # the EHLO/HELO name
    conn: int            # connection number on this server, from 1
    time: float          # time.monotonic() at end of data
    tls: str = None      # the TLS version after STARTTLS ("TLSv1.3"), None in clear text

    def header(self, name):
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        m = re.search(r"^" + re.escape(name) + r":[ \t]*(.*)$", head, re.M | re.I)
        return m.group(1).strip() if m else None


class _Base:
    """a listening server on (host, port); host None = a free random
    127.x.y.z address (port 25 by default)"""

    def __init__(self, host=None, port=25):
        self.host = host
        self.port = port
        self.server = None
        self.connections = 0
        self.peers = []
        self.transports = set()

    def _factory(self):
        raise NotImplementedError

    async def _listen(self, host, port):
        lp = asyncio.get_running_loop()
        return await lp.create_server(self._factory, host, port, reuse_address=True)

    def start(self):
        tries = [self.host] if self.host else [random_loopback() for _ in range(30)]
        last = None
        for h in tries:
            try:
                self.server = call(self._listen(h, self.port))
                self.host = h
                self.port = self.server.sockets[0].getsockname()[1]
                return self
            except OSError as e:
                last = e
                if e.errno != errno.EADDRINUSE:
                    raise
        raise last

    def _connected(self, transport):
        self.connections += 1
        self.transports.add(transport)
        self.peers.append(transport.get_extra_info("peername"))
        return self.connections

    def stop(self):
        async def close():
            if self.server:
                self.server.close()
                await self.server.wait_closed()
            for t in list(self.transports):
                t.abort()
        if self.server:
            call(close())
            self.server = None

    @property
    def ip(self):
        return self.host

    def addr(self):
        """route syntax: [ip]:port"""
        return f"[{self.host}]:{self.port}"


# aiosmtpd --------------------------------------------------------------------

class _Handler:
    def __init__(self, rx):
        self.rx = rx

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        rx = self.rx
        session.host_name = hostname
        r = rx.ehlo.next()
        if not _is_ok(r):
            session.extended_smtp = False
            return [r]
        out = [x for x in responses[:-1]
               if not (x[4:].upper().startswith("8BITMIME") and not rx.eightbitmime)]
        if rx.pipelining:
            out.append("250-PIPELINING")
        out.append("250-ENHANCEDSTATUSCODES")
        out += ["250-" + e for e in rx.extensions]
        out.append("250 HELP")
        return out

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        r = self.rx.mail.next()
        if not _is_ok(r):
            return r
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return r or "250 2.1.0 sender ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.rx.rcpt_script(address).next()
        if not _is_ok(r):
            return r
        envelope.rcpt_tos.append(address)
        return r or "250 2.1.5 recipient ok"

    async def handle_DATA(self, server, session, envelope):
        rx = self.rx
        if rx.data_delay:
            await asyncio.sleep(rx.data_delay)
        r = rx.data.next()
        if not _is_ok(r):
            rx.refused_data.append(bytes(envelope.original_content))
            return r
        sender = "" if envelope.mail_from == "<>" else envelope.mail_from
        tls = session.ssl["ssl_object"].version() if session.ssl else None
        m = Message(sender, list(envelope.rcpt_tos), bytes(envelope.original_content),
                    session.peer, [o.upper() for o in envelope.mail_options],
                    session.host_name or "", server.conn, time.monotonic(), tls)
        rx.messages.append(m)
        return r or f"250 2.0.0 ok: queued as {rx.name}-{len(rx.messages)}"


class _SMTP(SMTP):
    # lines of up to 998 characters must pass (aiosmtpd's limit is 1001
    # with the CR LF)
    line_length_limit = 1002

    def __init__(self, rx, **kw):
        self.rx = rx
        self.conn = 0
        super().__init__(rx.handler, **kw)
        # every command goes through the log first
        for name, method in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self._logged(name, method)
        self._smtp_methods["DATA"] = self._logged("DATA", self._data)
        if rx.broken_tls:
            self._smtp_methods["STARTTLS"] = self._logged("STARTTLS", self._broken_starttls)

    def _logged(self, name, method):
        async def run(arg):
            self.rx.commands.append((self.conn, f"{name} {arg}" if arg else name))
            return await method(arg)
        return run

    def connection_made(self, transport):
        # made again, with the TLS transport, after STARTTLS: the same connection
        if self._original_transport is None:
            self.conn = self.rx._connected(transport)
        super().connection_made(transport)

    async def _broken_starttls(self, arg):
        # 220, then bytes that are no TLS record: the client's handshake fails
        await self.push("220 2.0.0 ready to start TLS")
        self.transport.write(b"this is not TLS\r\n" * 8)
        await asyncio.sleep(0.2)
        self.transport.abort()

    async def _data(self, arg):
        rx = self.rx
        if rx.drop_data > 0 and self.envelope.rcpt_tos and not arg:
            rx.drop_data -= 1
            await self.push("354 3.0.0 go ahead")
            got = b""
            while len(got) < rx.drop_after and b"\r\n.\r\n" not in got:
                chunk = await self._reader.read(65536)
                if not chunk:
                    break
                got += chunk
            rx.dropped.append(got)
            self.transport.abort()
            return
        await SMTP.smtp_DATA(self, arg)


class Receiver(_Base):
    """aiosmtpd on (host, port). rcpt: {address: script} (addresses
    compared case-insensitively), mail/data/ehlo: scripts (see Script).
    size: advertised SIZE (None: none, and no limit); eightbitmime,
    pipelining: advertised or not. drop_data: drop the connection after
    drop_after bytes of DATA, that many times. data_delay: seconds to
    wait before the end-of-data reply. tls_context: an ssl.SSLContext
    (server side) to offer STARTTLS with; broken_tls: answer STARTTLS
    with 220 and then garbage (a handshake that fails). smtputf8: offer
    SMTPUTF8 (RFC 6531) and take UTF-8 addresses."""

    def __init__(self, host=None, port=25, *, rcpt=None, mail=None, data=None, ehlo=None,
                 size=10485760, eightbitmime=True, pipelining=True, extensions=(),
                 drop_data=0, drop_after=200, data_delay=0, name="rx", tls_context=None, broken_tls=False,
                 smtputf8=False):
        super().__init__(host, port)
        self.rcpt = {k.lower(): Script(v) for k, v in (rcpt or {}).items()}
        self.mail = Script(mail)
        self.data = Script(data)
        self.ehlo = Script(ehlo)
        self.size = size
        self.eightbitmime = eightbitmime
        self.pipelining = pipelining
        self.extensions = list(extensions)
        self.drop_data = drop_data
        self.drop_after = drop_after
        self.data_delay = data_delay
        self.name = name
        self.tls_context = tls_context
        self.broken_tls = broken_tls
        self.smtputf8 = smtputf8
        self.messages = []      # Message, in order
        self.commands = []      # (connection number, "MAIL FROM:<...> SIZE=12")
        self.dropped = []       # the bytes read before each drop
        self.refused_data = []  # contents refused at end of data
        self.handler = _Handler(self)

    def rcpt_script(self, address):
        return self.rcpt.setdefault(address.lower(), Script(None))

    def _factory(self):
        return _SMTP(self, data_size_limit=self.size, enable_SMTPUTF8=self.smtputf8, decode_data=False,
                     tls_context=self.tls_context,
                     hostname=f"{self.name}.rx.test", ident="postern test receiver",
                     timeout=60, loop=loop())

    def wait(self, n, timeout=10):
        """waits until n messages arrived; returns whether they did"""
        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.05)
        return len(self.messages) >= n

    def command_names(self, conn=None):
        return [c.split()[0] for n, c in self.commands if conn is None or n == conn]


# plain asyncio servers -------------------------------------------------------

class _Stream(_Base):
    """a server over asyncio streams: serve(reader, writer, conn)"""

    def _factory(self):
        reader = asyncio.StreamReader(limit=1 << 20)
        srv = self

        class Proto(asyncio.StreamReaderProtocol):
            def connection_made(self, transport):
                self.conn = srv._connected(transport)
                super().connection_made(transport)

        def cb(r, w):
            return srv._run(r, w, proto.conn)
        proto = Proto(reader, cb)
        return proto

    async def _run(self, reader, writer, conn):
        try:
            await self.serve(reader, writer, conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


class GreetingServer(_Stream):
    """greets with reply (e.g. "421 4.3.2 not now" or "554 5.7.1 no
    service"). A 421 closes at once; any other reply then answers 503 to
    everything but QUIT (221, close), as RFC 5321 3.1 has it. hangup:
    drop the connection on the first command instead (e.g. after a 220
    greeting: a connection lost before MAIL)."""

    def __init__(self, reply, host=None, port=25, hangup=False):
        super().__init__(host, port)
        self.reply = reply
        self.hangup = hangup
        self.commands = []

    async def serve(self, reader, writer, conn):
        writer.write(self.reply.encode() + b"\r\n")
        await writer.drain()
        if self.reply.startswith("421"):
            return
        while True:
            line = await reader.readline()
            if not line:
                return
            self.commands.append((conn, line.decode(errors="replace").rstrip("\r\n")))
            if self.hangup:
                return
            if line[:4].upper() == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                return
            writer.write(b"503 5.5.1 no service here\r\n")
            await writer.drain()


class SilentServer(_Stream):
    """accepts, reads whatever comes, never writes a byte"""

    def __init__(self, host=None, port=25):
        super().__init__(host, port)
        self.received = b""

    async def serve(self, reader, writer, conn):
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            self.received += chunk


class ProbeServer(_Stream):
    """a small SMTP server that, on MAIL, waits `wait` seconds before it
    answers and records what the client had sent by then beyond MAIL
    (ahead[conn]): a pipelining client has sent its RCPTs and DATA, a
    waiting one nothing. Accepts everything; messages as (sender, rcpts,
    data) with dot-stuffing undone."""

    def __init__(self, host=None, port=25, pipelining=True, wait=0.7):
        super().__init__(host, port)
        self.pipelining = pipelining
        self.wait = wait
        self.ahead = {}
        self.messages = []
        self.commands = []

    async def serve(self, reader, writer, conn):
        buf = bytearray()

        async def fill(timeout=None):
            chunk = await (asyncio.wait_for(reader.read(65536), timeout) if timeout
                           else reader.read(65536))
            if not chunk:
                raise ConnectionResetError
            buf.extend(chunk)

        async def line():
            while b"\n" not in buf:
                await fill()
            i = buf.index(b"\n") + 1
            out = bytes(buf[:i])
            del buf[:i]
            return out

        def say(text):
            writer.write(text.encode() + b"\r\n")

        say("220 probe.rx.test ESMTP")
        await writer.drain()
        sender, rcpts = None, []
        while True:
            raw = await line()
            cmd = raw.decode(errors="replace").rstrip("\r\n")
            self.commands.append((conn, cmd))
            verb = cmd[:4].upper()
            if verb == "EHLO":
                exts = ["PIPELINING"] if self.pipelining else []
                exts += ["8BITMIME", "SIZE 10485760"]
                say("\r\n".join(["250-probe.rx.test"] + ["250-" + e for e in exts[:-1]]
                                 + ["250 " + exts[-1]]))
            elif verb == "HELO":
                say("250 probe.rx.test")
            elif verb == "MAIL":
                await writer.drain()
                await asyncio.sleep(self.wait)
                try:
                    while True:
                        await fill(0.1)
                except asyncio.TimeoutError:
                    pass
                self.ahead[conn] = bytes(buf)
                sender, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                say("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpts.append(cmd[8:].split(">")[0].lstrip("<"))
                say("250 2.1.5 ok")
            elif verb == "DATA":
                say("354 go ahead")
                await writer.drain()
                data = []
                while True:
                    ln = await line()
                    if ln == b".\r\n":
                        break
                    data.append(ln[1:] if ln.startswith(b".") else ln)
                self.messages.append((sender, rcpts, b"".join(data)))
                say("250 2.0.0 ok")
            elif verb == "RSET":
                sender, rcpts = None, []
                say("250 2.0.0 ok")
            elif verb == "QUIT":
                say("221 2.0.0 bye")
                await writer.drain()
                return
            else:
                say("250 2.0.0 ok")
            await writer.drain()
