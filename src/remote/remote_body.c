/* The body as stored (LF line ends) made into SMTP's DATA: CR LF line
   ends, dot-stuffed, ended by CR LF . CR LF (RFC 5321 4.5.2). A CR LF
   already stored is one line end; a bare CR is sent as a line end too,
   so no byte sequence can end a line for one server and not another. */

#include <errno.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>
#include "remote.h"

#define BODY_CHUNK 65536

static char in[BODY_CHUNK] ;

int remote_body_scan (remote_ctx *c)
{
  uint64_t size = 0, lines = 0 ;
  char last = '\n' ;
  c->eightbit = 0 ;
  if (lseek(0, 0, SEEK_SET) < 0) return 0 ;
  for (;;)
  {
    ssize_t r = read(0, in, sizeof in) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r) break ;
    size += r ;
    for (ssize_t i = 0 ; i < r ; i++)
    {
      if (in[i] == '\n') lines++ ;
      if ((unsigned char)in[i] & 0x80) c->eightbit = 1 ;
    }
    last = in[r-1] ;
  }
  c->wiresize = size + lines + (last != '\n') * 2 ;
  return 1 ;
}

/* the output of one input byte goes out before the next byte is read */
static int put (buffer *out, char const *s, size_t len, tain const *timeout)
{
  tain deadline ;
  tain_now_g() ;
  tain_add_g(&deadline, timeout) ;
  return buffer_timed_put_g(out, s, len, &deadline) == len ;
}

int remote_body_send (buffer *out, tain const *timeout)
{
  enum { BOL, MID, CR } st = BOL ;
  if (lseek(0, 0, SEEK_SET) < 0) return 0 ;
  for (;;)
  {
    ssize_t r = read(0, in, sizeof in) ;
    size_t start = 0 ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r) break ;
    /* copies runs of plain bytes whole, deciding only at CR, LF, '.' */
    for (size_t i = 0 ; i < (size_t)r ; i++)
    {
      char ch = in[i] ;
      if (st == CR)
      {
        st = BOL ;
        if (ch == '\n') { start = i + 1 ; continue ; }  /* the CR already made the line end */
      }
      if (ch == '\n' || ch == '\r')
      {
        if (!put(out, in + start, i - start, timeout) || !put(out, "\r\n", 2, timeout)) return 0 ;
        start = i + 1 ;
        st = ch == '\r' ? CR : BOL ;
        continue ;
      }
      if (st == BOL && ch == '.')
      {
        if (!put(out, in + start, i - start, timeout) || !put(out, ".", 1, timeout)) return 0 ;
        start = i ;   /* the dot itself goes out with the run */
      }
      st = MID ;
    }
    if (!put(out, in + start, r - start, timeout)) return 0 ;
  }
  if (st == MID && !put(out, "\r\n", 2, timeout)) return 0 ;
  return put(out, ".\r\n", 3, timeout) ;
}
