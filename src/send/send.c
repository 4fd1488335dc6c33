/* send: the scheduler daemon. Started by send-start already under the
   send account, with a socket to it on fd 0 that brings the pipes to
   record, clean, lspawn and rspawn, it only decides: which recipient to
   try when, in which lane. It writes nothing to the queue itself; its
   log lines go to stdout (postern-log(5)). See send(8). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/bufalloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "frame.h"
#include "home.h"
#include "sigtrap.h"
#include "send.h"

#define POLL_MAX (6 + C_N * 2 + BOUNCE_MAX)

static int stopping = 0 ;
static int scanning = 0 ;       /* a load or scan is running in record */
static int rescan = 0 ;         /* a trigger came during it */
static unsigned long found = 0 ; /* new messages the running scan reported */
static int trigger = -1 ;
static int opsfd = -1 ;         /* queue-ctl's requests (send_ops.c) */
static int starter = 1 ;        /* fd 0, the socket to send-start, is open */
/* start-up: the states are loaded one subdirectory at a time ("L<k>"),
   scans of new mail taking turns with them, so fresh mail never waits
   for a whole large queue to load */
static unsigned int loadnext = 0 ;
static int loading = 0 ;        /* the running request is a load */
static uint32_t next_status = 0, next_rescan = 0 ;

static uint32_t now32 (void)
{
  return (uint32_t)time(0) ;
}

static void request (char const *rec, size_t len)
{
  send_child_put(&send_children[C_RECORD], rec, len) ;
}

static void scan (void)
{
  if (stopping || send_index_count() >= SEND_MSG_MAX) return ;
  if (scanning) { rescan = 1 ; return ; }
  scanning = 1 ;
  found = 0 ;
  request("S\0", 3) ;
}

static void load_step (void)
{
  char rec[2 + UINT_FMT + 1] ;
  size_t n = 1 ;
  rec[0] = 'L' ;
  n += uint_fmt(rec + 1, loadnext++) ;
  rec[n++] = 0 ; rec[n++] = 0 ;
  scanning = loading = 1 ;
  request(rec, n) ;
}

/* a load or scan ended: loads and scans alternate while both wait */
static void scan_ended (void)
{
  int wasload = loading ;
  scanning = loading = 0 ;
  if (found) rescan = 1 ;
  if (!stopping && loadnext < auto_split && (wasload ? !rescan : 1)) { load_step() ; return ; }
  if (rescan) { rescan = 0 ; scan() ; }
}

static void log_status (void)
{
  send_log_start("status: local ") ; send_log_addu(send_inflight[CHAN_LOCAL][LANE_FAST]) ;
  send_log_add("/") ; send_log_addu(send_conf.conc[CHAN_LOCAL][LANE_FAST]) ;
  send_log_add(" slow ") ; send_log_addu(send_inflight[CHAN_LOCAL][LANE_SLOW]) ;
  send_log_add("/") ; send_log_addu(send_conf.conc[CHAN_LOCAL][LANE_SLOW]) ;
  send_log_add(" remote ") ; send_log_addu(send_inflight[CHAN_REMOTE][LANE_FAST]) ;
  send_log_add("/") ; send_log_addu(send_conf.conc[CHAN_REMOTE][LANE_FAST]) ;
  send_log_add(" slow ") ; send_log_addu(send_inflight[CHAN_REMOTE][LANE_SLOW]) ;
  send_log_add("/") ; send_log_addu(send_conf.conc[CHAN_REMOTE][LANE_SLOW]) ;
  send_log_add(" msgs ") ; send_log_addu(send_index_count()) ;
  send_log_add(" waiting ") ; send_log_addu(send_sched_waiting()) ;
  {
    unsigned long dead, n = send_dest_count(&dead) ;
    send_log_add(" dests ") ; send_log_addu(n) ; send_log_add(" dead ") ; send_log_addu(dead) ;
  }
  send_log_end() ;
}

static void handle_signals (uint32_t now)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    if (sig < 0) strerr_diefu1sys(111, "read the selfpipe") ;
    if (!sig) return ;
    switch (sig)
    {
      case SIGCHLD :
        for (;;)
        {
          int wstat ;
          pid_t pid = wait_nohang(&wstat) ;
          if (pid <= 0) break ;
          send_bounce_reap(pid, wstat, now) ;
        }
        break ;
      case SIGALRM :
        send_log_start("status: retrying every deferred recipient now") ; send_log_end() ;
        send_sched_alarm() ;
        break ;
      case SIGHUP :
        if (!send_config_read(&send_conf)) strerr_warnw1x("keeping the previous control settings") ;
        send_log_start("status: control files read again") ; send_log_end() ;
        break ;
      case SIGTERM : case SIGINT :
        if (!stopping) { send_log_start("status: stopping: no new deliveries") ; send_log_end() ; }
        stopping = 1 ;
        break ;
    }
  }
}

void send_child_readable (unsigned int k, uint32_t now)
{
  struct child *c = send_children + k ;
  for (;;)
  {
    int r = frame_get(&c->r, &c->rec, c->max) ;
    if (!r) return ;
    if (r < 0)
    {
      if (errno == EPIPE && stopping && c->in < 0) { fd_close(c->out) ; c->out = -1 ; return ; }
      if (errno == EPIPE && c->out == -2) return ;  /* send_child_lost drains it */
      if (errno == EPIPE) { send_child_lost(k, now) ; return ; }
      strerr_diefu2sys(111, "read from ", c->name) ;
    }
    /* every reply answers one request, but N and O, which a scan's E ends */
    if (c->rec.s[0] != 'N' && c->rec.s[0] != 'O' && c->pending) c->pending-- ;
    switch (k)
    {
      case C_LSPAWN : case C_RSPAWN : send_job_result(c->rec.s, c->rec.len, now) ; break ;
      case C_CLEAN :
        if (c->rec.s[0] == 'b') send_msg_body_removed(c->rec.s + 1) ;
        else strerr_warnw4x("clean: ", c->rec.s, ": ", c->rec.s + strlen(c->rec.s) + 1) ;
        break ;
      case C_RECORD :
        switch (c->rec.s[0])
        {
          case 'N' : found++ ; /* fall through */
          case 'O' : send_msg_load(c->rec.s, c->rec.len, now) ; break ;
          case 'E' :
            /* record sorts at most 1000 a scan: while scans find mail,
               there may be more, and nothing else would wake us for it */
            scan_ended() ;
            break ;
          case 'A' : send_msg_acked(c->rec.s + 1, now) ; break ;
          case 'x' : send_msg_state_removed(c->rec.s + 1) ; break ;
          case '!' : strerr_warnw4x("record: ", c->rec.s + 1, ": ", c->rec.s + strlen(c->rec.s) + 1) ; break ;
          default : strerr_dief1x(101, "record sent an unknown reply") ;
        }
        break ;
    }
    c->rec.len = 0 ;
  }
}

/* s6 readiness (notification-fd): the descriptor POSTERN_NOTIFY_FD
   names, kept from every child, gets one newline once the send_children run
   and record was asked to load the queue. */
static int notify_open (void)
{
  char const *s = getenv("POSTERN_NOTIFY_FD") ;
  unsigned int fd ;
  if (!s || !*s) return -1 ;
  if (!uint0_scan(s, &fd) || fd < 3 || coe(fd) < 0)
  {
    strerr_warnw3x("POSTERN_NOTIFY_FD=", s, " is not an open descriptor above 2: not notifying readiness") ;
    return -1 ;
  }
  return fd ;
}

static void notify_ready (int fd)
{
  if (fd < 0) return ;
  if (fd_write(fd, "\n", 1) != 1) strerr_warnwu1sys("notify readiness") ;
  fd_close(fd) ;
}

/* Stop: no new jobs; once none runs, no bounce, and every request to a
   child is answered (a result's update, then the body's removal, then
   the state's, each waits for the one before), close every child's
   input and exit when every pipe is at EOF. */
static int stop_step (void)
{
  int quiet = !send_jobs_running() && !send_bouncers_running() ;
  int closed = 1 ;
  for (unsigned int k = 0 ; k < C_N ; k++)
    if (send_children[k].pending) quiet = 0 ;
  for (unsigned int k = 0 ; k < C_N ; k++)
  {
    struct child *c = send_children + k ;
    if (quiet && c->in >= 0) { fd_close(c->in) ; c->in = -1 ; }
    if (c->out >= 0) closed = 0 ;
  }
  return quiet && closed ;
}

int main (void)
{
  iopause_fd x[POLL_MAX] ;
  int spfd, notify ;
  PROG = "send" ;
  notify = notify_open() ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (!send_config_read(&send_conf)) strerr_dief1x(111, "unable to read the control files") ;
  spfd = sigtrap_daemon() ;
  if (spfd < 0) strerr_diefu1sys(111, "set up signals") ;
  /* read-write, so the FIFO never reports EOF when injectors close it */
  trigger = open(QUEUE_TRIGGER, O_RDWR | O_NONBLOCK | O_CLOEXEC) ;
  if (trigger < 0) strerr_warnwu2sys("open ", QUEUE_TRIGGER) ;
  opsfd = send_ops_open() ;
  send_children_start() ;
  send_log_start("status: send started") ; send_log_end() ;
  /* the loads, then a scan of what waits in todo */
  rescan = 1 ;
  load_step() ;
  notify_ready(notify) ;
  {
    uint32_t now = now32() ;
    next_status = now + send_conf.statusinterval ;
    next_rescan = now + TODO_RESCAN ;
  }

  for (;;)
  {
    uint32_t now = now32(), wake ;
    unsigned int n = 0, childpos[C_N * 2], opspos = POLL_MAX, starterpos = POLL_MAX ;
    tain deadline ;
    int r ;
    send_sched_due(now) ;
    send_sched_dispatch(now, stopping) ;
    send_bounce_start_due(now, stopping) ;
    if (now >= next_status) { log_status() ; next_status = now + send_conf.statusinterval ; }
    if (now >= next_rescan) { scan() ; next_rescan = now + TODO_RESCAN ; }
    if (stopping && stop_step()) break ;
    send_log_flush() ;
    for (unsigned int k = 0 ; k < C_N ; k++)
    {
      struct child *c = send_children + k ;
      if (c->in >= 0 && !bufalloc_isempty(&c->w) && !bufalloc_flush(&c->w) && errno != EAGAIN && errno != EWOULDBLOCK)
      {
        if (errno != EPIPE) strerr_diefu2sys(111, "write to ", c->name) ;
        send_child_lost(k, now) ;
      }
    }

    x[n++] = (iopause_fd){ .fd = spfd, .events = IOPAUSE_READ } ;
    if (trigger >= 0 && !stopping) x[n++] = (iopause_fd){ .fd = trigger, .events = IOPAUSE_READ } ;
    if (opsfd >= 0 && !stopping) { opspos = n ; x[n++] = (iopause_fd){ .fd = opsfd, .events = IOPAUSE_READ } ; }
    if (starter) { starterpos = n ; x[n++] = (iopause_fd){ .fd = 0, .events = IOPAUSE_READ } ; }
    for (unsigned int k = 0 ; k < C_N ; k++)
    {
      struct child *c = send_children + k ;
      childpos[2 * k] = childpos[2 * k + 1] = POLL_MAX ;
      if (c->out >= 0) { childpos[2 * k] = n ; x[n++] = (iopause_fd){ .fd = c->out, .events = IOPAUSE_READ } ; }
      if (c->in >= 0 && !bufalloc_isempty(&c->w)) { childpos[2 * k + 1] = n ; x[n++] = (iopause_fd){ .fd = c->in, .events = IOPAUSE_WRITE } ; }
    }
    {
      unsigned int first = n ;
      n += send_bounce_fds(x + n, POLL_MAX - n) ;
      wake = next_status < next_rescan ? next_status : next_rescan ;
      if (send_sched_next() && send_sched_next() < wake) wake = send_sched_next() ;
      if (send_bounce_next() && send_bounce_next() < wake) wake = send_bounce_next() ;
      tain_now_g() ;
      tain_addsec_g(&deadline, wake > now ? (int)(wake - now) : 0) ;
      r = iopause_g(x, n, &deadline) ;
      if (r < 0) strerr_diefu1sys(111, "iopause") ;
      now = now32() ;
      for (unsigned int i = first ; i < n ; i++)
        if (x[i].revents) send_bounce_read(x[i].fd) ;
    }
    if (x[0].revents & IOPAUSE_READ) handle_signals(now) ;
    if (trigger >= 0 && !stopping && n > 1 && x[1].fd == trigger && x[1].revents & IOPAUSE_READ)
    {
      char buf[256] ;
      while (read(trigger, buf, sizeof buf) > 0) ;
      scan() ;
    }
    if (opspos < POLL_MAX && x[opspos].revents & IOPAUSE_READ) send_ops_read(now) ;
    /* send-start gone (killed): stop as on SIGTERM, so no second set
       starts while this one runs */
    if (starterpos < POLL_MAX && x[starterpos].revents && !send_children_starter(now))
    {
      starter = 0 ;
      if (!stopping) { send_log_start("status: stopping: send-start is gone") ; send_log_end() ; }
      stopping = 1 ;
    }
    for (unsigned int k = 0 ; k < C_N ; k++)
    {
      unsigned int p = childpos[2 * k] ;
      if (p < POLL_MAX && x[p].revents && send_children[k].out >= 0) send_child_readable(k, now) ;
    }
  }
  log_status() ;
  send_log_start("status: send exiting") ; send_log_end() ;
  send_log_flush() ;
  return 0 ;
}
