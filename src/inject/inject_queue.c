/* The message to queue-inject: the header section as edited, then the
   body copied as it comes through one fixed buffer (no size limit of our
   own: queue-inject applies control/databytes), CR LF made LF, up to the
   end of the input or, without -i, a line ".". A last line without LF
   gets one. If queue-inject stops reading, it gets no envelope, so it
   queues nothing; its exit code says why. */

#include <errno.h>
#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "home.h"
#include "inject.h"
#include "qexit.h"
#include "qinject.h"

enum bstate { B_BOL, B_TEXT, B_CR, B_DOT, B_DOTCR } ;

static char obuf[INJECT_IO_MAX] ;
static size_t olen ;
static qinject q ;
static int broken ;  /* queue-inject stopped reading */

static void flush (void)
{
  if (!broken && olen && qinject_write(&q, obuf, olen) < olen)
  {
    if (errno != EPIPE) strerr_warnwu1sys("write the message to queue-inject") ;
    broken = 1 ;
  }
  olen = 0 ;
}

static void out (char const *s, size_t n)
{
  while (n && !broken)
  {
    size_t k = sizeof obuf - olen ;
    if (k > n) k = n ;
    memcpy(obuf + olen, s, k) ;
    olen += k ; s += k ; n -= k ;
    if (olen == sizeof obuf) flush() ;
  }
}

static void body (enum bstate st, int dots)
{
  for (;;)
  {
    char *s ;
    size_t n = inject_in_avail(&s), i = 0 ;
    if (!n) break ;
    while (i < n)
    {
      char c = s[i] ;
      size_t j ;
      switch (st)
      {
        case B_BOL :
          if (dots && c == '.') { st = B_DOT ; i++ ; continue ; }
          break ;
        case B_CR :
          if (c == '\n') { out("\n", 1) ; st = B_BOL ; i++ ; continue ; }
          out("\r", 1) ;  /* a bare CR stays */
          break ;
        case B_DOT :
          if (c == '\n') { inject_in_consume(i + 1) ; return ; }
          if (c == '\r') { st = B_DOTCR ; i++ ; continue ; }
          out(".", 1) ;
          break ;
        case B_DOTCR :
          if (c == '\n') { inject_in_consume(i + 1) ; return ; }
          out(".", 1) ;
          st = B_CR ;
          continue ;  /* c again, after the CR */
        case B_TEXT : break ;
      }
      /* inside a line: a run of plain bytes, then a CR or an LF */
      st = B_TEXT ;
      for (j = i ; j < n && s[j] != '\r' && s[j] != '\n' ; j++) ;
      out(s + i, j - i) ;
      i = j ;
      if (i == n) break ;
      if (s[i++] == '\n') { out("\n", 1) ; st = B_BOL ; }
      else st = B_CR ;
    }
    inject_in_consume(n) ;
    if (broken) return ;
  }
  /* the end: a last "." line is dropped, a last CR ends the line */
  if (st == B_TEXT || st == B_CR) out("\n", 1) ;
}

static void start_body (inject_head *h, int dots)
{
  enum bstate st = B_BOL ;
  out("\n", 1) ;
  if (h->first.len)
  {
    size_t n = h->first.len ;
    if (h->midline && h->first.s[n-1] == '\r') { n-- ; st = B_CR ; }
    else if (h->midline) st = B_TEXT ;
    out(h->first.s, n) ;
  }
  if (!h->ended) body(st, dots) ;
  else if (st != B_BOL) out("\n", 1) ;
}

void inject_queue (inject_head *h, int dots, stralloc const *env)
{
  char fmt[UINT_FMT] ;
  int code ;
  if (!qinject_start(&q, -1, -1)) strerr_diefu3sys(INJECT_ETEMP, "start ", home_dir(), "/bin/queue-inject") ;
  out(h->out.s, h->out.len) ;
  if (h->body) start_body(h, dots) ;
  flush() ;
  code = qinject_finish(&q, broken ? 0 : env->s, env->len) ;
  if (code < 0) strerr_diefu1sys(INJECT_ETEMP, "wait for queue-inject") ;
  if (code > 255)
  {
    fmt[uint_fmt(fmt, (unsigned int)(code - 256))] = 0 ;
    strerr_dief2x(INJECT_ETEMP, "unable to queue the message: queue-inject killed by signal ", fmt) ;
  }
  if (code)
  {
    fmt[uint_fmt(fmt, (unsigned int)code)] = 0 ;
    strerr_dief4x(qexit_permanent(code) ? INJECT_EDATA : INJECT_ETEMP,
                  "unable to queue the message: queue-inject exited ", fmt, ": ", qexit_lookup(code)->text) ;
  }
}
