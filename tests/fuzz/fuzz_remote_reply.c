/* remote's SMTP client (src/remote, linked as objects, main renamed: it
   is being changed elsewhere) against a server that says the input:
   the connect is replaced (socket_deadlineconnstamp46 wrapped) by one
   end of a socketpair whose other end holds the server's bytes, then
   end of file. Input: byte 0 (recipients 1..4, PIPELINING-free or
   not is up to the server), the server's bytes up to "\0\0", then the
   message body (fd 0). Checked: a session that says it is done decided
   every recipient; texts are bounded and free of control bytes; K only
   after a 354; the client's commands are CR LF lines; and the body as
   remote_body_send puts it on the wire: CR LF lines only, dot-stuffed,
   one <CR><LF>.<CR><LF> at its very end, and unstuffed it is the body. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "remote.h"
#include "fuzz.h"

static uint8_t const *server ;
static size_t serverlen ;
static int peer = -1 ;
static remote_ctx ctx ;
static char const *const rcpts[] = { "r1@example.test", "r2@example.test", "R3@Example.Test", "r4@example.test" } ;

extern int __real_socket_deadlineconnstamp46 (int, ip46 const *, uint16_t, tain const *, tain *) ;
int __wrap_socket_deadlineconnstamp46 (int fd, ip46 const *ip, uint16_t port, tain const *deadline, tain *stamp) ;
int __wrap_socket_deadlineconnstamp46 (int fd, ip46 const *ip, uint16_t port, tain const *deadline, tain *stamp)
{
  int sv[2] ;
  (void)ip ; (void)port ; (void)deadline ; (void)stamp ;
  FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) ;
  FUZZ_ASSERT(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0 && fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0) ;
  FUZZ_ASSERT(!serverlen || write(sv[1], server, serverlen) == (ssize_t)serverlen) ;
  FUZZ_ASSERT(shutdown(sv[1], SHUT_WR) == 0) ;
  FUZZ_ASSERT(dup2(sv[0], fd) == fd) ;
  close(sv[0]) ;
  peer = sv[1] ;
  return 1 ;
}

static void text_ok (stralloc const *t)
{
  FUZZ_ASSERT(t->len <= REMOTE_TEXT_MAX) ;
  for (size_t i = 0 ; i < t->len ; i++) FUZZ_ASSERT((unsigned char)t->s[i] >= 32 && t->s[i] != 127) ;
}

/* what the client wrote: CR LF ended lines, none over 1000 bytes until
   the body (which the wire check below covers) */
static void commands (void)
{
  static char w[1 << 18] ;
  size_t n = 0, pos = 0 ;
  ssize_t r ;
  while (n < sizeof w && (r = read(peer, w + n, sizeof w - n)) > 0) n += (size_t)r ;
  FUZZ_ASSERT(!n || (n >= 26 && !memcmp(w, "EHLO client.example.test\r\n", 26)) || (n == 6 && !memcmp(w, "QUIT\r\n", 6))) ;
  while (pos < n)
  {
    char const *crlf = fuzz_find(w + pos, n - pos, "\r\n", 2) ;
    size_t len = crlf ? (size_t)(crlf - (w + pos)) : n - pos ;
    FUZZ_ASSERT(crlf) ;
    FUZZ_ASSERT(!memchr(w + pos, '\n', len) && !memchr(w + pos, '\r', len)) ;
    pos += len + 2 ;
    if (len == 4 && !memcmp(w + pos - 6, "DATA", 4)) break ;
  }
}

/* the body on the wire, from remote_body_send into a memory file */
static void wire (char const *body, size_t len)
{
  static remote_conn b ;
  char const *s ;
  size_t n, i, o = 0 ;
  char *want, *got ;
  size_t wn = 0 ;
  fuzz_output_fd(5) ;
  b.fd = 5 ;
  b.tls = 0 ;
  buffer_init(&b.out, &buffer_write, 5, b.outbuf, sizeof b.outbuf) ;
  tain_from_millisecs(&b.timeout, 10000) ;
  b.end = b.timeout ;
  FUZZ_ASSERT(remote_body_send(&b) && buffer_flush(&b.out)) ;
  s = fuzz_output(5, &n) ;
  FUZZ_ASSERT(n >= 3 && !memcmp(s + n - 3, ".\r\n", 3)) ;
  FUZZ_ASSERT(n == 3 || !memcmp(s + n - 5, "\r\n.\r\n", 5)) ;
  /* the end is the only end */
  {
    char const *e = fuzz_find(s, n, "\r\n.\r\n", 5) ;
    FUZZ_ASSERT(n == 3 ? !e : e == s + n - 5) ;
    FUZZ_ASSERT(n == 3 || memcmp(s, ".\r\n", 3)) ;
  }
  for (i = 0 ; i < n ; i++)
  {
    if (s[i] == '\r') FUZZ_ASSERT(i + 1 < n && s[i + 1] == '\n') ;
    if (s[i] == '\n') FUZZ_ASSERT(i && s[i - 1] == '\r') ;
  }
  /* no line over 998 octets leaves (RFC 5322 2.1.1); a longer one was
     folded, so the text compares only when no line needed it */
  {
    size_t start = 0, longest = 0 ;
    for (i = 0 ; i < n ; i++)
      if (s[i] == '\n') { FUZZ_ASSERT(i - 1 - start <= 998) ; start = i + 1 ; }
    for (i = 0, start = 0 ; i < len ; i++)
      if (body[i] == '\r' || body[i] == '\n') { if (i - start > longest) longest = i - start ; start = i + 1 ; }
    if (len - start > longest) longest = len - start ;
    if (longest > 997) return ;
  }
  /* unstuffed, with LF line ends: the body with CR LF, CR and LF each
     one line end, and a last line end added */
  got = malloc(n + 1) ;
  for (i = 0 ; i < n - 3 ;)
  {
    char const *e = fuzz_find(s + i, n - 3 - i, "\r\n", 2) ;
    size_t l = (size_t)(e - (s + i)) ;
    size_t k = s[i] == '.' ;
    FUZZ_ASSERT(e) ;
    if (!k) FUZZ_ASSERT(!l || s[i] != '.') ;
    memcpy(got + o, s + i + k, l - k) ; o += l - k ;
    got[o++] = '\n' ;
    i += l + 2 ;
  }
  want = malloc(len + 2) ;
  for (i = 0 ; i < len ; i++)
  {
    if (body[i] == '\r') { want[wn++] = '\n' ; if (i + 1 < len && body[i + 1] == '\n') i++ ; }
    else want[wn++] = body[i] ;
  }
  if (wn && want[wn - 1] != '\n') want[wn++] = '\n' ;
  FUZZ_ASSERT(o == wn && !memcmp(got, want, wn)) ;
  free(got) ;
  free(want) ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_quiet() ;
  signal(SIGPIPE, SIG_IGN) ;
  if (!stralloc_copys(&ctx.me, "client.example.test") || !stralloc_0(&ctx.me)) abort() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  remote_dest d ;
  uint8_t const *sep ;
  char const *body ;
  size_t bodylen ;
  int r ;
  char const ip[4] = { 192, 0, 2, 25 } ;
  if (!size) return 0 ;
  sep = fuzz_find(data + 1, size - 1, "\0\0", 2) ;
  server = data + 1 ;
  serverlen = sep ? (size_t)(sep - server) : size - 1 ;
  body = sep ? (char const *)sep + 2 : "" ;
  bodylen = sep ? size - (size_t)(sep + 2 - data) : 0 ;
  fuzz_input_fd(0, (uint8_t const *)body, bodylen) ;
  ctx.domain = "example.test" ;
  ctx.sender = "a@b.test" ;
  ctx.n = 1 + data[0] % 4 ;
  for (unsigned int i = 0 ; i < ctx.n ; i++)
  {
    ctx.rcpts[i].addr = rcpts[i] ;
    ctx.rcpts[i].status = 0 ;
    ctx.rcpts[i].accepted = 0 ;
    ctx.rcpts[i].text.len = 0 ;
  }
  ctx.timeoutconnect = ctx.timeoutremote = ctx.timeoutdns = 10 ;
  /* no STARTTLS: a handshake on these bytes would fuzz libtls, not us */
  ctx.tlspolicy = REMOTE_TLS_NONE ;
  ctx.lasterr.len = 0 ;
  FUZZ_ASSERT(remote_body_scan(&ctx)) ;
  memset(&d, 0, sizeof d) ;
  memcpy(d.host, "mx.example.test", 16) ;
  ip46_from_ip4(&d.ip, ip) ;
  d.port = 25 ;
  peer = -1 ;
  r = remote_smtp_session(&ctx, &d) ;
  remote_smtp_quit() ;
  FUZZ_ASSERT(peer >= 0) ;
  for (unsigned int i = 0 ; i < ctx.n ; i++)
  {
    remote_rcpt const *rc = ctx.rcpts + i ;
    if (r) FUZZ_ASSERT(rc->status == 'K' || rc->status == 'Z' || rc->status == 'D') ;
    if (rc->status) text_ok(&rc->text) ;
    if (rc->status == 'K') FUZZ_ASSERT(fuzz_find(server, serverlen, "354", 3)) ;
  }
  if (!r) FUZZ_ASSERT(ctx.lasterr.len) ;
  /* FUZZ_VERBOSE=1: each recipient's result on stderr */
  if (getenv("FUZZ_VERBOSE"))
    for (unsigned int i = 0 ; i < ctx.n ; i++)
      fprintf(stderr, "%d %s %c %.*s\n", r, ctx.rcpts[i].addr, ctx.rcpts[i].status ? ctx.rcpts[i].status : '-', (int)ctx.rcpts[i].text.len, ctx.rcpts[i].text.s) ;
  commands() ;
  close(peer) ;
  wire(body, bodylen) ;
  return 0 ;
}
