/* proxy-header: runs under tcpserver in front of smtpd. A connection
   from a balancer of control/proxyfrom must begin with a PROXY header
   (v1 or v2); it is read, never a byte past it, and the TCP* variables
   then name the real client, whose tcprules (-x) decide RELAYCLIENT and
   the rest. Any other client is served directly. See proxy-header(8). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/exec.h>
#include <skalibs/iopause.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "home.h"
#include "proxy.h"
#include "proxyfrom.h"
#include "tcprules.h"

#define USAGE "proxy-header [ -t secs ] [ -x rules.cdb ] [ -f proxyfrom ] prog..."
/* the wait for the header: a balancer sends it at once */
#define TIMEOUT_DEFAULT 5
/* home_dir() "/" PROXYFROM_FILE */
#define PATH_MAX_ 4096

static proxyfrom balancers ;

/* one line on stderr: "proxy-header: " the parts, newline */
static void say (char const *a, char const *b, char const *c, char const *d)
{
  char const *part[5] = { "proxy-header: ", a, b, c, d } ;
  char line[512] ;
  size_t n = 0 ;
  for (unsigned int i = 0 ; i < 5 ; i++)
  {
    size_t k = part[i] ? strlen(part[i]) : 0 ;
    if (k > sizeof line - 1 - n) k = sizeof line - 1 - n ;
    memcpy(line + n, part[i], k) ; n += k ;
  }
  line[n++] = '\n' ;
  allwrite(2, line, n) ;
}

/* the connection is dropped: logged, exit 0 (tcpserver closes it) */
static void drop (char const *a, char const *b, char const *c, char const *d)
{
  say(a, b, c, d) ;
  _exit(0) ;
}

/* reads the header from fd 0 within secs: v1 a byte at a time up to its
   LF, v2 its 16 bytes then exactly its length. Returns its length. */
static size_t header (proxy_info *p, char *buf, unsigned int secs, char const *from)
{
  tain deadline ;
  size_t n = 0 ;
  char tsecs[UINT_FMT + 9] ;
  memcpy(tsecs + uint_fmt(tsecs, secs), " seconds", 9) ;
  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&deadline, secs) ;
  for (;;)
  {
    iopause_fd x = { .fd = 0, .events = IOPAUSE_READ } ;
    size_t want = 1 ;
    ssize_t r ;
    if (n && buf[0] == '\r')
      want = n < 16 ? 16 - n : 16 + ((size_t)(unsigned char)buf[14] << 8 | (unsigned char)buf[15]) - n ;
    if (n + want > PROXY_MAX) strerr_dief1x(101, "header longer than PROXY_MAX: proxy_parse let it through") ;
    r = iopause_g(&x, 1, &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "iopause") ;
    if (!r) drop("no PROXY header from ", from, " within ", tsecs) ;
    r = read(0, buf + n, want) ;
    if (r < 0)
    {
      if (errno == EINTR || errno == EAGAIN) continue ;
      drop("unable to read the PROXY header from ", from, ": ", strerror(errno)) ;
    }
    if (!r) drop("connection closed before a PROXY header from ", from, 0, 0) ;
    n += (size_t)r ;
    r = proxy_parse(p, buf, n) ;
    if (r < 0) drop("bad PROXY header from ", from, 0, 0) ;
    if (r > 0)
    {
      if ((size_t)r != n) strerr_dief1x(101, "proxy_parse took less than was read") ;
      return n ;
    }
  }
}

/* prog, or 111 */
static void run (char const *const *argv)
{
  exec(argv) ;
  strerr_dieexec(111, argv[0]) ;
}

static void set (char const *name, char const *value)
{
  if (setenv(name, value, 1) < 0) strerr_diefu2sys(111, "set ", name) ;
}

static void unset (char const *name)
{
  if (unsetenv(name) < 0) strerr_diefu2sys(111, "unset ", name) ;
}

/* the rules for the real client: RELAYCLIENT was the balancer's */
static void rules (char const *cdb, char const *ip, char const *from)
{
  stralloc vars = STRALLOC_ZERO ;
  int r = tcprules_lookup(cdb, ip, &vars) ;
  if (r < 0) strerr_diefu2sys(111, "read rules ", cdb) ;
  if (!r) drop("deny ", ip, " via ", from) ;
  unset("RELAYCLIENT") ;
  for (size_t i = 0 ; i < vars.len ;)
  {
    size_t len = strlen(vars.s + i) ;
    char *eq = strchr(vars.s + i, '=') ;
    *eq = 0 ;
    set(vars.s + i, eq + 1) ;
    i += len + 1 ;
  }
  stralloc_free(&vars) ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  unsigned int secs = TIMEOUT_DEFAULT, line ;
  char const *cdb = 0, *file = 0 ;
  char path[PATH_MAX_] ;
  char from[PROXY_IP_MAX] ;
  char buf[PROXY_MAX] ;
  char const *remote ;
  proxy_info p ;
  PROG = "proxy-header" ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "t:x:f:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 't' : if (!uint0_scan(l.arg, &secs) || !secs) strerr_dieusage(100, USAGE) ; break ;
      case 'x' : cdb = l.arg ; break ;
      case 'f' : file = l.arg ; break ;
      default : strerr_dieusage(100, USAGE) ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (!argc) strerr_dieusage(100, USAGE) ;
  if (!file)
  {
    char const *home = home_dir() ;
    size_t hl = strlen(home) ;
    if (hl + 1 + sizeof PROXYFROM_FILE > sizeof path) strerr_dief2x(111, "home too long: ", home) ;
    memcpy(path, home, hl) ; path[hl] = '/' ;
    memcpy(path + hl + 1, PROXYFROM_FILE, sizeof PROXYFROM_FILE) ;
    file = path ;
  }
  if (!proxyfrom_load(&balancers, file, &line))
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, line)] = 0 ;
    if (errno == EINVAL) strerr_dief4x(111, "bad address or CIDR in ", file, " line ", fmt) ;
    strerr_diefu2sys(111, "read ", file) ;
  }
  remote = getenv("TCPREMOTEIP") ;
  /* not a balancer: served directly, as before */
  if (!remote || !proxyfrom_match(&balancers, remote)) run(argv) ;
  if (strlen(remote) >= sizeof from) strerr_dief2x(111, "TCPREMOTEIP too long: ", remote) ;
  memcpy(from, remote, strlen(remote) + 1) ;
  header(&p, buf, secs, from) ;
  set("PROXYFROM", from) ;
  if (!p.local)
  {
    char port[UINT_FMT] ;
    port[uint_fmt(port, p.sport)] = 0 ;
    set("TCPREMOTEIP", p.src) ;
    set("TCPREMOTEPORT", port) ;
    port[uint_fmt(port, p.dport)] = 0 ;
    set("TCPLOCALIP", p.dst) ;
    set("TCPLOCALPORT", port) ;
    unset("TCPREMOTEHOST") ;
    unset("TCPREMOTEINFO") ;
    if (cdb) rules(cdb, p.src, from) ;
    say("client ", p.src, " via ", from) ;
  }
  run(argv) ;
  return 111 ;
}
