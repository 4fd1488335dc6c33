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
#include "tcprules.h"
#include "wpool.h"

extern char **environ ;

/* seconds to stop accepting after accept() found no descriptor or
   memory left, instead of spinning on a socket that stays readable */
#define ACCEPT_PAUSE 1

static wpool pool ;
static struct listen_client *clients ;  /* a slot's session's client */
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

/* SIGHUP: control/proxyfrom again; a bad one leaves the old in force */
static void reload (void)
{
  static proxyfrom t ;
  unsigned int line = 0 ;
  char fl[UINT_FMT] ;
  if (!opts->proxyfile) return ;
  if (!proxyfrom_load(&t, opts->proxyfile, &line))
  {
    fl[uint_fmt(fl, line)] = 0 ;
    if (errno == EINVAL) strerr_warnw4x("keeping the old balancers: ", opts->proxyfile, ": bad line ", fl) ;
    else strerr_warnwu3sys("read ", opts->proxyfile, ", keeping the old balancers") ;
    return ;
  }
  *opts->proxy = t ;
  fl[uint_fmt(fl, t.n)] = 0 ;
  LISTEN_LOG("proxyfrom: ", fl, " balancers") ;
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
    if (sig == SIGHUP) reload() ;
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

/* a connection's addresses, as the log names them; px: " proxy
   BALANCER" for a client a balancer relayed */
#define WHO(k, lname, px) lname, ":", (k)->lip, ":", (k)->lport, " :", (k)->rip, "::", (k)->rport, px, (k)->from

/* mayhold: a client at the limit may wait (listen_hold.c); k->fd is
   ours to close */
static void serve (struct listen_conn const *k, int mayhold)
{
  char const *lname = opts->localname ? opts->localname : "" ;
  char const *px = k->from[0] ? " proxy " : "" ;
  stralloc vars = STRALLOC_ZERO ;
  wpool_prog const prog = { .path = opts->argv[0], .argv = opts->argv, .envp = (char const *const *)environ } ;
  char fp[PID_FMT], fn[UINT_FMT] ;
  struct listen_client client ;
  char const *what ;
  unsigned int busy, limit ;
  int c = k->fd ;
  int i ;
  if (!listen_var(&vars, "PROTO", "TCP") || !listen_var(&vars, "TCPLOCALIP", k->lip) || !listen_var(&vars, "TCPLOCALPORT", k->lport)
   || !listen_var(&vars, "TCPREMOTEIP", k->rip) || !listen_var(&vars, "TCPREMOTEPORT", k->rport)
   || (opts->localname && !listen_var(&vars, "TCPLOCALHOST", opts->localname))
   || (k->from[0] && !listen_var(&vars, "PROXYFROM", k->from)))
  {
    strerr_warnwu1sys("allocate") ;
    goto end ;
  }
  if (opts->rules)
  {
    int r = tcprules_lookup(opts->rules, k->rip, &vars) ;
    if (r < 0 && !(errno == ENOENT && opts->norulesok))
    {
      strerr_warnwu2sys("read ", opts->rules) ;
      LISTEN_LOG("drop - ", WHO(k, lname, px)) ;
      goto end ;
    }
    if (!r)
    {
      LISTEN_LOG("deny - ", WHO(k, lname, px)) ;
      goto end ;
    }
  }
  if (vars.len > LISTEN_VARS_MAX)
  {
    LISTEN_LOG("drop - ", WHO(k, lname, px), ": variables too long") ;
    goto end ;
  }
  listen_client_set(&client, k->rip) ;
  client.counted = !listen_relayclient(&vars) ;
  wpool_count(&pool, &busy) ;
  if (busy >= opts->conc)
  {
    if (mayhold && listen_hold_push(k))
    {
      stralloc_free(&vars) ;
      return ;
    }
    fn[uint_fmt(fn, opts->conc)] = 0 ;
    LISTEN_LOG("busy - ", WHO(k, lname, px), ": ", fn, " sessions") ;
    listen_refuse(c, opts->localname ? opts->localname : k->lip, "4.3.2", "too busy, try again later") ;
    goto end ;
  }
  if (client.counted && (what = listen_over(opts, &pool, clients, &client, &limit)))
  {
    fn[uint_fmt(fn, limit)] = 0 ;
    LISTEN_LOG("limit - ", WHO(k, lname, px), ": ", fn, " sessions from the ", what) ;
    listen_refuse(c, opts->localname ? opts->localname : k->lip, "4.7.0",
      what[0] == '/' ? "too many connections from your network" : "too many connections from your address") ;
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
    clients[i] = client ;
    status() ;
    LISTEN_LOG("pid ", fp, " from ", k->rip, px, k->from) ;
    LISTEN_LOG("ok ", fp, " ", WHO(k, lname, px)) ;
    break ;
  }
 end:
  stralloc_free(&vars) ;
  fd_close(c) ;
}

/* a balancer's connection dropped before its header */
static void unheard (struct listen_conn const *k, char const *why, char const *more)
{
  char const *lname = opts->localname ? opts->localname : "" ;
  LISTEN_LOG("drop - ", lname, ":", k->lip, ":", k->lport, " :", k->rip, "::", k->rport, ": PROXY header: ", why, more) ;
  fd_close(k->fd) ;
}

/* a new connection: a balancer's waits for its header, others are
   served as they come */
static void accepted (int c)
{
  struct sockaddr_storage rs, ls ;
  socklen_t rlen = sizeof rs, llen = sizeof ls ;
  struct listen_conn k ;
  if (getpeername(c, (struct sockaddr *)&rs, &rlen) < 0 || getsockname(c, (struct sockaddr *)&ls, &llen) < 0)
  {
    /* a client gone already (ENOTCONN) */
    strerr_warnwu1sys("read the addresses of a connection") ;
    fd_close(c) ;
    return ;
  }
  k.fd = c ;
  listen_addr(&rs, k.rip, k.rport) ;
  listen_addr(&ls, k.lip, k.lport) ;
  k.from[0] = 0 ;
  if (opts->proxy && proxyfrom_match(opts->proxy, k.rip))
  {
    struct listen_conn old ;
    tain deadline ;
    memcpy(k.from, k.rip, sizeof k.from) ;
    tain_addsec_g(&deadline, (int)opts->proxysec) ;
    if (!listen_proxy_push(&k, &deadline))
    {
      /* every slot taken: the one waiting longest goes */
      if (listen_proxy_oldest(&old, 0)) unheard(&old, "too many waiting", "") ;
      if (!listen_proxy_push(&k, &deadline)) fd_close(c) ;
    }
    return ;
  }
  serve(&k, 1) ;
}

int listen_loop (struct listen_opts const *o, int s)
{
  /* live workers (busy or idle) never pass conc; retired ones wait to
     be reaped in the extra room */
  unsigned int max = o->conc * 2 + 8 ;
  wpool_worker *table = alloc(max * sizeof *table) ;
  clients = alloc(max * sizeof *clients) ;
  iopause_fd *x = alloc((max + 2 + LISTEN_PROXY_MAX) * sizeof *x) ;
  /* a worker's slot, or tsig or tsock, or tproxy + a waiting
     balancer's slot */
  unsigned int *tok = alloc((max + 2 + LISTEN_PROXY_MAX) * sizeof *tok) ;
  unsigned int const tsig = max, tsock = max + 1, tproxy = max + 2 ;
  int spfd ;
  if (!table || !clients || !x || !tok) strerr_diefu1sys(111, "allocate the worker table") ;
  opts = o ;
  /* a descriptor per worker and per waiting client, the socket, the
     selfpipe, a connection; balancers' connections waiting */
  fdlimit_raise(max + LISTEN_HOLD_MAX + LISTEN_PROXY_MAX + 16) ;
  wpool_init(&pool, table, max, o->maxuse) ;
  spfd = selfpipe_init() ;
  if (spfd < 0) strerr_diefu1sys(111, "create the selfpipe") ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGCHLD) ;
    sigaddset(&set, SIGTERM) ;
    sigaddset(&set, SIGHUP) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(111, "trap signals") ;
  }
  tain_now_set_stopwatch_g() ;
  paused = STAMP ;
  status() ;
  for (;;)
  {
    unsigned int n = 0, busy, taken ;
    tain deadline, limit ;
    tain const *held, *pend ;
    struct listen_conn conn ;
    int r ;
    /* balancers' connections whose header is late */
    while (listen_proxy_oldest(&conn, &STAMP))
    {
      char fs[UINT_FMT + 9] ;
      memcpy(fs + uint_fmt(fs, o->proxysec), " seconds", 9) ;
      unheard(&conn, "none in ", fs) ;
    }
    /* a session ended: the oldest waiting client takes it; those whose
       wait is over are refused (accepted() finds every session busy) */
    for (;;)
    {
      taken = wpool_count(&pool, &busy) ;
      held = listen_hold_next() ;
      if (!held || ((busy >= o->conc || (taken >= max && idle() < 0)) && tain_less(&STAMP, held))) break ;
      if (listen_hold_pop(&conn)) serve(&conn, 0) ;
    }
    x[n].fd = spfd ; x[n].events = IOPAUSE_READ ; tok[n++] = tsig ;
    /* at the limit a client is accepted to read a 421; only when no
       slot is free for a worker (retired ones not reaped yet) do
       connections wait in the backlog */
    if ((busy >= o->conc || taken < max || idle() >= 0) && !tain_less(&STAMP, &paused))
    {
      x[n].fd = s ; x[n].events = IOPAUSE_READ ; tok[n++] = tsock ;
    }
    n += wpool_fds(&pool, x + n, tok + n, 0, max) ;
    n += listen_proxy_fds(x + n, tok + n, tproxy) ;
    tain_addsec_g(&deadline, 10) ;
    if (tain_less(&STAMP, &paused) && tain_less(&paused, &deadline)) deadline = paused ;
    if (held && tain_less(held, &deadline)) deadline = *held ;
    pend = listen_proxy_next() ;
    if (pend && tain_less(pend, &deadline)) deadline = *pend ;
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
      else if (tok[k] >= tproxy)
      {
        char const *why ;
        r = listen_proxy_read(tok[k] - tproxy, &conn, &why) ;
        if (r > 0) serve(&conn, 1) ;
        else if (r < 0) unheard(&conn, why, "") ;
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
