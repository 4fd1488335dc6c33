/* smtpd-listen: owns the SMTP socket (IPv4 or IPv6), applies tcprules'
   rules, the concurrency limit and limits per client address and
   network (a 421 to a client over one), and hands each
   connection with its variables to an idle long-lived worker (smtpd -w)
   over a unix socketpair. Binds as root, then runs as -u/-g with its
   workers; logs one line per event on fd 2 (smtpd-listen(8)). A
   connection from a balancer (-p, control/proxyfrom) first sends a
   PROXY header naming its client (listen_proxy.c). */

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "listen.h"

static void parse (struct listen_opts *o, int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int u = 0, g = 0 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "c:b:x:Xl:u:g:n:C:N:M:p:P:vRH", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'c' :
        if (!uint0_scan(l.arg, &o->conc) || !o->conc || o->conc > LISTEN_CONC_MAX)
          strerr_dief1x(100, "-c: a number of sessions, from 1 to 10000") ;
        break ;
      case 'b' :
        if (!uint0_scan(l.arg, &o->backlog) || !o->backlog) strerr_dief1x(100, "-b: a positive number") ;
        break ;
      case 'x' : o->rules = l.arg ; break ;
      case 'X' : o->norulesok = 1 ; break ;
      case 'l' :
        if (!*l.arg || strlen(l.arg) > LISTEN_NAME_MAX) strerr_dief1x(100, "-l: a host name of 1 to 255 bytes") ;
        o->localname = l.arg ;
        break ;
      case 'u' :
        if (!uid0_scan(l.arg, &o->uid)) strerr_dief1x(100, "-u: a numeric uid") ;
        u = 1 ;
        break ;
      case 'g' :
        if (!gid0_scan(l.arg, &o->gid)) strerr_dief1x(100, "-g: a numeric gid") ;
        g = 1 ;
        break ;
      case 'n' :
        if (!ulong0_scan(l.arg, &o->maxuse) || !o->maxuse) strerr_dief1x(100, "-n: a positive number of sessions") ;
        break ;
      case 'C' : if (!uint0_scan(l.arg, &o->perip)) strerr_dief1x(100, "-C: a number of sessions, 0 for no limit") ; break ;
      case 'N' : if (!uint0_scan(l.arg, &o->per24)) strerr_dief1x(100, "-N: a number of sessions, 0 for no limit") ; break ;
      case 'M' : if (!uint0_scan(l.arg, &o->per64)) strerr_dief1x(100, "-M: a number of sessions, 0 for no limit") ; break ;
      case 'p' : o->proxyfile = l.arg ; break ;
      case 'P' :
        if (!uint0_scan(l.arg, &o->proxysec) || !o->proxysec || o->proxysec > LISTEN_PROXY_SEC_MAX)
          strerr_dief1x(100, "-P: a number of seconds, from 1 to 3600") ;
        break ;
      /* tcpserver's habits: it always logs, and never looks names up */
      case 'v' : case 'R' : case 'H' : break ;
      default : strerr_dieusage(100, LISTEN_USAGE) ;
    }
  }
  if (u != g) strerr_dief1x(100, "-u and -g go together") ;
  o->ids = u ;
  if (argc - l.ind < 3) strerr_dieusage(100, LISTEN_USAGE) ;
  o->host = argv[l.ind] ;
  o->port = argv[l.ind + 1] ;
  o->argv = argv + l.ind + 2 ;
}

/* host: an IPv4 or IPv6 address; "0" is 0.0.0.0, as for tcpserver */
static int bind_socket (struct listen_opts const *o)
{
  union { struct sockaddr sa ; struct sockaddr_in in ; struct sockaddr_in6 in6 ; } a ;
  socklen_t alen ;
  uint16_t port ;
  int s, one = 1, zero = 0 ;
  char const *host = strcmp(o->host, "0") ? o->host : "0.0.0.0" ;
  if (!uint160_scan(o->port, &port)) strerr_dief2x(100, "port must be a number: ", o->port) ;
  memset(&a, 0, sizeof a) ;
  if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1)
  {
    a.in.sin_family = AF_INET ;
    a.in.sin_port = htons(port) ;
    alen = sizeof a.in ;
  }
  else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1)
  {
    a.in6.sin6_family = AF_INET6 ;
    a.in6.sin6_port = htons(port) ;
    alen = sizeof a.in6 ;
  }
  else strerr_dief2x(100, "host must be an IPv4 or IPv6 address: ", o->host) ;
  s = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) ;
  if (s < 0) strerr_diefu1sys(111, "create the socket") ;
  if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    strerr_diefu1sys(111, "set SO_REUSEADDR") ;
  /* "::" takes IPv4 clients too; they are shown as IPv4 addresses */
  if (a.sa.sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
    strerr_diefu1sys(111, "clear IPV6_V6ONLY") ;
  if (bind(s, &a.sa, alen) < 0) strerr_diefu4sys(111, "bind to ", o->host, " port ", o->port) ;
  if (listen(s, (int)o->backlog) < 0) strerr_diefu1sys(111, "listen") ;
  return s ;
}

/* setgroups, setgid, setuid, each checked (s6-applyuidgid's order) */
static void drop (struct listen_opts const *o)
{
  if (o->ids)
  {
    if (setgroups(1, &o->gid) < 0) strerr_diefu1sys(111, "setgroups") ;
    if (setgid(o->gid) < 0) strerr_diefu1sys(111, "setgid") ;
    if (setuid(o->uid) < 0) strerr_diefu1sys(111, "setuid") ;
  }
  if (!getuid() || !geteuid()) strerr_dief1x(100, "refusing to run as root: give -u and -g") ;
}

/* the program as tcpserver finds it: a path, or a name on $PATH */
static char const *program (char const *name)
{
  static char path[4096] ;
  char const *p = getenv("PATH") ;
  size_t n = strlen(name) ;
  if (strchr(name, '/')) return name ;
  if (!p) p = "/usr/bin:/bin" ;
  while (*p)
  {
    size_t d = strcspn(p, ":") ;
    if (d + 1 + n < sizeof path)
    {
      memcpy(path, d ? p : ".", d ? d : 1) ;
      path[d ? d : 1] = '/' ;
      memcpy(path + (d ? d : 1) + 1, name, n + 1) ;
      if (!access(path, X_OK)) return path ;
    }
    p += d ;
    if (*p) p++ ;
  }
  strerr_dief2x(100, "program not found on PATH: ", name) ;
}

int main (int argc, char const *const *argv)
{
  struct listen_opts o =
  {
    .conc = LISTEN_CONC_DEFAULT, .backlog = LISTEN_BACKLOG_DEFAULT,
    .maxuse = LISTEN_MAXUSE_DEFAULT, .perip = LISTEN_PERIP_DEFAULT,
    .per24 = LISTEN_PER24_DEFAULT, .per64 = LISTEN_PER64_DEFAULT, .rules = 0, .norulesok = 0, .localname = 0,
    .ids = 0, .uid = 0, .gid = 0,
    .proxyfile = 0, .proxy = 0, .proxysec = LISTEN_PROXY_SEC
  } ;
  static proxyfrom balancers ;
  char const *wargv[64] ;
  unsigned int n = 0 ;
  int s ;
  PROG = "smtpd-listen" ;
  parse(&o, argc, argv) ;
  s = bind_socket(&o) ;
  drop(&o) ;
  /* read as the listener will reread it on SIGHUP: unprivileged */
  if (o.proxyfile)
  {
    unsigned int line = 0 ;
    if (!proxyfrom_load(&balancers, o.proxyfile, &line))
    {
      char fl[UINT_FMT] ;
      fl[uint_fmt(fl, line)] = 0 ;
      if (errno == EINVAL) strerr_dief4x(111, o.proxyfile, ": line ", fl, ": not an address or CIDR") ;
      strerr_diefu2sys(111, "read ", o.proxyfile) ;
    }
    o.proxy = &balancers ;
  }
  wargv[0] = program(o.argv[0]) ;
  for (n = 1 ; o.argv[n] ; n++)
  {
    if (n == sizeof wargv / sizeof *wargv - 1) strerr_dief1x(100, "too many program arguments") ;
    wargv[n] = o.argv[n] ;
  }
  wargv[n] = 0 ;
  o.argv = wargv ;
  return listen_loop(&o, s) ;
}
