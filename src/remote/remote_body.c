/* The body as stored (LF line ends) made into SMTP's DATA: CR LF line
   ends, dot-stuffed, ended by CR LF . CR LF (RFC 5321 4.5.2). A CR LF
   already stored is one line end; a bare CR is sent as a line end too,
   so no byte sequence can end a line for one server and not another.
   No line sent is longer than REMOTE_LINE_MAX (as Postfix's
   smtp_line_length_limit): a longer header line is folded before its
   last space or tab that fits, so that unfolding gives it back; one with
   none, and a longer body line, are broken by CR LF and a space, as
   Postfix does. The same pass counts the bytes (remote_body_scan), so
   the SIZE announced is what is sent before the final dot. The scan
   also gives each line to the DKIM signer (remote_dkim.c), so what is
   signed is what is sent; the send puts the signature first. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "remote.h"

#define BODY_CHUNK 65536

static char in[BODY_CHUNK] ;

struct sink
{
  remote_conn *out ;       /* 0: count only */
  uint64_t bytes ;
  int eightbit ;
  int sign ;               /* the scan: lines to remote_dkim_line */
  int utf8header ;         /* a byte past ASCII in the header section */
} ;

static int emit (struct sink *k, char const *s, size_t len)
{
  tain deadline ;
  k->bytes += len ;
  if (!k->out || !len) return 1 ;
  remote_deadline(&deadline, &k->out->timeout, &k->out->end) ;
  return remote_io_put(k->out, s, len, &deadline) ;
}

/* the line being sent: its bytes (a stuffed dot included) wait here
   until its end, or until it must be broken */
struct line
{
  char s[REMOTE_LINE_MAX + 1] ;
  size_t len ;
  int header ;     /* still in the header section */
  int empty ;      /* the stored line so far is empty (its end ends the headers) */
} ;

/* l is full and more of its line comes: send a first part and keep the
   rest, which starts with a space or tab */
static int fold (struct sink *k, struct line *l)
{
  size_t cut = 0 ;
  if (l->header)
  {
    /* before the last blank that leaves something but blanks before it */
    for (size_t i = l->len ; i-- > 1 ;)
      if (l->s[i] == ' ' || l->s[i] == '\t')
      {
        size_t j = 0 ;
        while (j < i && (l->s[j] == ' ' || l->s[j] == '\t')) j++ ;
        if (j < i) cut = i ;
        break ;
      }
  }
  if (cut)
  {
    if (k->sign && !remote_dkim_line(l->s, cut, l->header)) k->sign = 0 ;
    if (!emit(k, l->s, cut) || !emit(k, "\r\n", 2)) return 0 ;
    memmove(l->s, l->s + cut, l->len - cut) ;
    l->len -= cut ;
    return 1 ;
  }
  if (k->sign && !remote_dkim_line(l->s, l->len, l->header)) k->sign = 0 ;
  if (!emit(k, l->s, l->len) || !emit(k, "\r\n", 2)) return 0 ;
  l->s[0] = ' ' ;
  l->len = 1 ;
  return 1 ;
}

static int add (struct sink *k, struct line *l, char const *s, size_t len)
{
  while (len)
  {
    size_t n ;
    if (l->len == REMOTE_LINE_MAX && !fold(k, l)) return 0 ;
    n = REMOTE_LINE_MAX - l->len ;
    if (n > len) n = len ;
    memcpy(l->s + l->len, s, n) ;
    l->len += n ;
    s += n ;
    len -= n ;
  }
  return 1 ;
}

static int line_end (struct sink *k, struct line *l)
{
  if (k->sign && !remote_dkim_line(l->s, l->len, l->header)) k->sign = 0 ;
  if (!emit(k, l->s, l->len) || !emit(k, "\r\n", 2)) return 0 ;
  if (l->empty) l->header = 0 ;
  l->len = 0 ;
  l->empty = 1 ;
  return 1 ;
}

/* one pass over fd 0, into k */
static int transform (struct sink *k)
{
  struct line l = { .len = 0, .header = 1, .empty = 1 } ;
  int cr = 0 ;   /* the last byte was a CR: an LF right after it is its line end */
  if (lseek(0, 0, SEEK_SET) < 0) return 0 ;
  for (;;)
  {
    ssize_t r = read(0, in, sizeof in) ;
    size_t i = 0 ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r) break ;
    while (i < (size_t)r)
    {
      size_t j = i ;
      char ch = in[i] ;
      if (cr && ch == '\n') { cr = 0 ; i++ ; continue ; }
      cr = 0 ;
      if (ch == '\n' || ch == '\r')
      {
        if (!line_end(k, &l)) return 0 ;
        cr = ch == '\r' ;
        i++ ;
        continue ;
      }
      if (l.empty && !l.len && ch == '.' && !add(k, &l, ".", 1)) return 0 ;
      l.empty = 0 ;
      while (j < (size_t)r && in[j] != '\n' && in[j] != '\r')
      {
        if ((unsigned char)in[j] & 0x80) { k->eightbit = 1 ; if (l.header) k->utf8header = 1 ; }
        j++ ;
      }
      if (!add(k, &l, in + i, j - i)) return 0 ;
      i = j ;
    }
  }
  if (!l.empty && !line_end(k, &l)) return 0 ;
  return emit(k, ".\r\n", 3) ;
}

int remote_body_scan (remote_ctx *c)
{
  struct sink k = { .out = 0, .sign = 1 } ;
  size_t siglen ;
  remote_dkim_start() ;
  if (!transform(&k)) return 0 ;
  c->wiresize = k.bytes - 3 ;   /* the final dot is not the message's */
  c->eightbit = k.eightbit ;
  c->utf8header = k.utf8header ;
  if (!k.sign || !remote_dkim_end())
  {
    strerr_warnw2x("DKIM: ", remote_dkim_error()) ;
    remote_result_all(c, 'Z', remote_dkim_error(), "", "") ;
    return -1 ;
  }
  remote_dkim_sig(&siglen) ;
  c->wiresize += siglen ;
  return 1 ;
}

int remote_body_send (remote_conn *out)
{
  struct sink k = { .out = out } ;
  size_t siglen ;
  char const *sig = remote_dkim_sig(&siglen) ;
  return emit(&k, sig, siglen) && transform(&k) ;
}
