/* proxy_test [ proxyfrom-file ip... ]: without arguments, reads at
   most PROXY_MAX + 1 bytes on stdin and prints what proxy_parse says of
   them, one line: "bad", "more", or "len N local L v6 V src S dst D
   sport P dport Q". With arguments: loads the proxyfrom file (a failure
   prints "load errno E line N") and prints "IP match" or "IP no" for
   each ip. Exits 0, 111 on error. */

#include <errno.h>
#include <string.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "proxy.h"
#include "proxyfrom.h"

static proxyfrom t ;

static void put (char const *s) { buffer_puts(buffer_1, s) ; }
static void putu (unsigned int u)
{
  char fmt[UINT_FMT] ;
  buffer_put(buffer_1, fmt, uint_fmt(fmt, u)) ;
}

int main (int argc, char const *const *argv)
{
  PROG = "proxy_test" ;
  if (argc > 1)
  {
    unsigned int line ;
    if (!proxyfrom_load(&t, argv[1], &line))
    {
      put("load errno ") ; put(errno == EINVAL ? "EINVAL" : errno == E2BIG ? "E2BIG" : "other") ;
      put(" line ") ; putu(line) ; put("\n") ;
    }
    else for (int i = 2 ; i < argc ; i++)
    {
      put(argv[i]) ; put(proxyfrom_match(&t, argv[i]) ? " match\n" : " no\n") ;
    }
  }
  else
  {
    char buf[PROXY_MAX + 1] ;
    proxy_info p ;
    size_t n ;
    ssize_t r ;
    errno = 0 ;
    n = allread(0, buf, sizeof buf) ;
    if (n < sizeof buf && errno && errno != EPIPE) strerr_diefu1sys(111, "read stdin") ;
    r = proxy_parse(&p, buf, n) ;
    if (r < 0) put("bad\n") ;
    else if (!r) put("more\n") ;
    else
    {
      put("len ") ; putu((unsigned int)r) ;
      put(" local ") ; putu((unsigned int)p.local) ;
      put(" v6 ") ; putu((unsigned int)p.v6) ;
      put(" src ") ; put(*p.src ? p.src : "-") ; put(" dst ") ; put(*p.dst ? p.dst : "-") ;
      put(" sport ") ; putu(p.sport) ; put(" dport ") ; putu(p.dport) ; put("\n") ;
    }
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
