/* The listener's loop: the socket, the signal pipe and each worker's
   end of its pair, under one iopause. A worker says "I am idle" with one
   byte after each session it ends normally; a worker that dies while
   busy is reaped and its session counted as ended. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/alloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "fdlimit.h"
#include "listen.h"
#include "wpool.h"

extern char **environ ;

/* an address as text (INET6_ADDRSTRLEN) */
#define IP_MAX 46

/* seconds to stop accepting after accept() found no descriptor or
   memory left, instead of spinning on a socket that stays readable */
#define ACCEPT_PAUSE 1

static wpool pool ;
static struct listen_opts const *opts ;
static tain paused ;  /* accept nothing before this */

/* the idle worker that became idle last, or -1 */
static int idle (void)
{
  int i = wpool_pick(&pool, 0) ;
  return i >= 0 && !pool.w[i].busy ? i : -1 ;
}

static void status (void)
{
  char b[UINT_FMT], c[UINT_FMT] ;
  unsigned int busy ;
  wpool_count(&pool, &busy) ;
  b[uint_fmt(b, busy)] = 0 ;
  c[uint_fmt(c, opts->conc)] = 0 ;
  LISTEN_LOG("status: ", b, "/", c) ;
}

/* an IPv4-mapped address is shown as IPv4 (ucspi-tcp-ipv6 does so),
   so that "::" serves IPv4 clients under their usual rules */
static void addr (struct sockaddr_storage const *ss, char *ip, char *port)
{
  uint16_t p = 0 ;
  ip[0] = 0 ;
  if (ss->ss_family == AF_INET)
  {
    struct sockaddr_in const *a = (struct sockaddr_in const *)ss ;
    inet_ntop(AF_INET, &a->sin_addr, ip, IP_MAX) ;
    p = ntohs(a->sin_port) ;
  }
  else if (ss->ss_family == AF_INET6)
  {
    struct sockaddr_in6 const *a = (struct sockaddr_in6 const *)ss ;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, ip, IP_MAX) ;
    else inet_ntop(AF_INET6, &a->sin6_addr, ip, IP_MAX) ;
    p = ntohs(a->sin6_port) ;
  }
  port[uint16_fmt(port, p)] = 0 ;
}

static int var (stralloc *sa, char const *name, char const *value)
{
  return stralloc_cats(sa, name) && stralloc_catb(sa, "=", 1)
    && stralloc_cats(sa, value) && stralloc_0(sa) ;
}

static void ended (pid_t pid, int wstat)
{
  char fp[PID_FMT], fs[UINT_FMT], fn[ULONG_FMT] ;
  char const *how = WIFSIGNALED(wstat) ? "signal " : "status " ;
  int i = wpool_find(&pool, pid) ;
  if (i < 0) return ;
  fp[pid_fmt(fp, pid)] = 0 ;
  fs[uint_fmt(fs, WIFSIGNALED(wstat) ? (unsigned int)WTERMSIG(wstat) : (unsigned int)WEXITSTATUS(wstat))] = 0 ;
  fn[ulong_fmt(fn, pool.w[i].served)] = 0 ;
  /* it died serving: that session is over too */
  if (pool.w[i].busy) LISTEN_LOG("end ", fp, " ", how, fs) ;
  LISTEN_LOG("worker ", fp, " gone, ", how, fs, ", sessions ", fn) ;
  wpool_free(&pool, (unsigned int)i) ;
}

/* 1 on SIGTERM */
static int signals (void)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    if (sig < 0) strerr_diefu1sys(111, "read the selfpipe") ;
    if (!sig) return 0 ;
    if (sig == SIGTERM) return 1 ;
    if (sig == SIGCHLD)
    {
      int changed = 0 ;
      for (;;)
      {
        int wstat ;
        pid_t pid = waitpid(-1, &wstat, WNOHANG) ;
        if (pid <= 0) break ;
        ended(pid, wstat) ;
        changed = 1 ;
      }
      if (changed) status() ;
    }
  }
}

/* the worker's byte: its session ended; EOF or anything else: it is
   ending (reaped later) */
static void heard (unsigned int i)
{
  wpool_worker *w = pool.w + i ;
  char c ;
  ssize_t r = read(w->fd, &c, 1) ;
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return ;
  if (r == 1 && c == 'd' && w->busy)
  {
    char fp[PID_FMT] ;
    /* retired if it has served its sessions */
    wpool_done(&pool, i) ;
    fp[pid_fmt(fp, w->pid)] = 0 ;
    LISTEN_LOG("end ", fp, " status 0") ;
    status() ;
    return ;
  }
  wpool_retire(&pool, i) ;
}

static void accepted (int c)
{
  struct sockaddr_storage rs, ls ;
  socklen_t rlen = sizeof rs, llen = sizeof ls ;
  char rip[IP_MAX], rport[UINT16_FMT], lip[IP_MAX], lport[UINT16_FMT] ;
  char const *lname = opts->localname ? opts->localname : "" ;
  stralloc vars = STRALLOC_ZERO ;
  wpool_prog const prog = { .path = opts->argv[0], .argv = opts->argv, .envp = (char const *const *)environ } ;
  char fp[PID_FMT] ;
  int i ;
  if (getpeername(c, (struct sockaddr *)&rs, &rlen) < 0 || getsockname(c, (struct sockaddr *)&ls, &llen) < 0)
  {
    strerr_warnwu1sys("read the addresses of a connection") ;
    return ;
  }
  addr(&rs, rip, rport) ;
  addr(&ls, lip, lport) ;
  if (!var(&vars, "PROTO", "TCP") || !var(&vars, "TCPLOCALIP", lip) || !var(&vars, "TCPLOCALPORT", lport)
   || !var(&vars, "TCPREMOTEIP", rip) || !var(&vars, "TCPREMOTEPORT", rport)
   || (opts->localname && !var(&vars, "TCPLOCALHOST", opts->localname)))
  {
    strerr_warnwu1sys("allocate") ;
    goto end ;
  }
  if (opts->rules)
  {
    int r = listen_rules(opts->rules, rip, &vars) ;
    if (r < 0 && !(errno == ENOENT && opts->norulesok))
    {
      strerr_warnwu2sys("read ", opts->rules) ;
      LISTEN_LOG("drop - ", lname, ":", lip, ":", lport, " :", rip, "::", rport) ;
      goto end ;
    }
    if (!r)
    {
      LISTEN_LOG("deny - ", lname, ":", lip, ":", lport, " :", rip, "::", rport) ;
      goto end ;
    }
  }
  if (vars.len > LISTEN_VARS_MAX)
  {
    LISTEN_LOG("drop - ", lname, ":", lip, ":", lport, " :", rip, "::", rport, ": variables too long") ;
    goto end ;
  }
  /* an idle worker that died unseen fails the hand-over: the next one
     (or a new one) takes the client, who never notices */
  for (unsigned int tries = 0 ; tries < 2 ; tries++)
  {
    i = idle() ;
    if (i < 0)
    {
      i = wpool_spawn(&pool, 0, &prog) ;
      if (i < 0)
      {
        strerr_warnwu2sys("start ", opts->argv[0]) ;
        goto end ;
      }
      fp[pid_fmt(fp, pool.w[i].pid)] = 0 ;
      LISTEN_LOG("worker ", fp, " started") ;
    }
    fp[pid_fmt(fp, pool.w[i].pid)] = 0 ;
    if (!wpool_sendfd(pool.w[i].fd, c, vars.s, vars.len))
    {
      strerr_warnwu3sys("hand a connection to worker ", fp, ", retiring it") ;
      wpool_retire(&pool, (unsigned int)i) ;
      continue ;
    }
    wpool_give(&pool, (unsigned int)i) ;
    status() ;
    LISTEN_LOG("pid ", fp, " from ", rip) ;
    LISTEN_LOG("ok ", fp, " ", lname, ":", lip, ":", lport, " :", rip, "::", rport) ;
    break ;
  }
 end:
  stralloc_free(&vars) ;
  fd_close(c) ;
}

int listen_loop (struct listen_opts const *o, int s)
{
  /* live workers (busy or idle) never pass conc; retired ones wait to
     be reaped in the extra room */
  unsigned int max = o->conc * 2 + 8 ;
  wpool_worker *table = alloc(max * sizeof *table) ;
  iopause_fd *x = alloc((max + 2) * sizeof *x) ;
  /* a worker's slot, or tsig or tsock */
  unsigned int *tok = alloc((max + 2) * sizeof *tok) ;
  unsigned int const tsig = max, tsock = max + 1 ;
  int spfd ;
  if (!table || !x || !tok) strerr_diefu1sys(111, "allocate the worker table") ;
  opts = o ;
  /* a descriptor per worker, the socket, the selfpipe, a connection */
  fdlimit_raise(max + 16) ;
  wpool_init(&pool, table, max, o->maxuse) ;
  spfd = selfpipe_init() ;
  if (spfd < 0) strerr_diefu1sys(111, "create the selfpipe") ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGCHLD) ;
    sigaddset(&set, SIGTERM) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(111, "trap signals") ;
  }
  tain_now_set_stopwatch_g() ;
  paused = STAMP ;
  status() ;
  for (;;)
  {
    unsigned int n = 0, busy, taken = wpool_count(&pool, &busy) ;
    tain deadline, limit ;
    int r ;
    x[n].fd = spfd ; x[n].events = IOPAUSE_READ ; tok[n++] = tsig ;
    /* at the limit, connections wait in the backlog, as with tcpserver */
    if (busy < o->conc && (taken < max || idle() >= 0) && !tain_less(&STAMP, &paused))
    {
      x[n].fd = s ; x[n].events = IOPAUSE_READ ; tok[n++] = tsock ;
    }
    n += wpool_fds(&pool, x + n, tok + n, 0, max) ;
    tain_addsec_g(&deadline, 10) ;
    if (tain_less(&STAMP, &paused) && tain_less(&paused, &deadline)) deadline = paused ;
    r = iopause_g(x, n, &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "iopause") ;
    tain_addsec(&limit, &STAMP, -LISTEN_IDLE_MAX) ;
    wpool_expire(&pool, &limit) ;
    if (!r) continue ;
    for (unsigned int k = 0 ; k < n ; k++)
    {
      if (!(x[k].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))) continue ;
      if (tok[k] == tsig)
      {
        if (signals())
        {
          LISTEN_LOG("exiting on SIGTERM") ;
          return 0 ;
        }
      }
      else if (tok[k] < max)
      {
        if (pool.w[tok[k]].fd == x[k].fd) heard(tok[k]) ;
      }
      else
      {
        int c = accept4(s, 0, 0, SOCK_CLOEXEC) ;
        if (c >= 0) accepted(c) ;
        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        {
          strerr_warnwu1sys("accept") ;
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            tain_addsec_g(&paused, ACCEPT_PAUSE) ;
        }
      }
    }
  }
}
