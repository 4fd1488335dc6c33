#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/bufalloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include <sys/socket.h>
#include "wpool.h"
#include "send.h"

/* longest records each child may send (their man pages) */
#define SMALL_REPLY_MAX 4096
#define PIPE_WANT (1 << 20)

struct child send_children[C_N] =
{
  [C_RECORD] = { .name = "record", .max = STATE_REPLY_MAX, .in = -1, .out = -1 },
  [C_CLEAN] = { .name = "clean", .max = SMALL_REPLY_MAX, .in = -1, .out = -1 },
  [C_LSPAWN] = { .name = "lspawn", .max = 256 * 1024, .in = -1, .out = -1 },
  [C_RSPAWN] = { .name = "rspawn", .max = 256 * 1024, .in = -1, .out = -1 },
} ;

/* Our fd 0 is a socket to send-start, which started the children: each
   message there is "<name> 0" (the end that writes to the child's fd 0)
   or "<name> 1" (the end that reads its fd 1) with that descriptor
   attached (send-start(8)). */
#define STARTER_FD 0
#define STARTER_MSG_MAX 64

static int child_index (char const *s, size_t len)
{
  for (unsigned int k = 0 ; k < C_N ; k++)
  {
    size_t n = strlen(send_children[k].name) ;
    if (len == n + 2 && !memcmp(s, send_children[k].name, n) && s[n] == ' ') return k ;
  }
  return -1 ;
}

static void install (struct child *c, int which, int fd)
{
  if (!which)
  {
    c->in = fd ;
    /* A large pipe: what send has written is the child's even if send is
       killed, and record records every result it holds before exiting; a
       result still in send's own buffer is lost and its delivery repeated.
       Linux's default largest pipe; a smaller pipe is only slower. */
    if (fcntl(fd, F_SETPIPE_SZ, PIPE_WANT) < 0 && errno != EPERM)
      strerr_warnwu2sys("enlarge the pipe to ", c->name) ;
    bufalloc_init(&c->w, &fd_write, fd) ;
  }
  else
  {
    c->out = fd ;
    buffer_init(&c->r, &buffer_read, fd, c->rbuf, sizeof c->rbuf) ;
    c->rec.len = 0 ;
  }
  if (ndelay_on(fd) < 0) strerr_diefu1sys(111, "set a pipe non-blocking") ;
}

/* One message from send-start: 1 if a descriptor came, 0 if none is
   ready, -1 at EOF (send-start is gone). A child's new end while its
   old one is still open means it was restarted: the old one is drained
   and dropped first (send_child_lost). */
static int starter_get (int flags, uint32_t now)
{
  char msg[STARTER_MSG_MAX] ;
  int fd, k, which ;
  ssize_t r = wpool_recvfd(STARTER_FD, &fd, msg, sizeof msg, flags) ;
  if (!r) return -1 ;
  if (r < 0)
  {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0 ;
    if (errno == ENOTSOCK) strerr_dief1x(100, "fd 0 is not a socket: send runs under send-start(8)") ;
    strerr_diefu1sys(111, "read from send-start") ;
  }
  k = child_index(msg, r) ;
  which = r >= 2 ? msg[r - 1] - '0' : -1 ;
  if (k < 0 || (which != 0 && which != 1) || fd < 0)
    strerr_dief1x(101, "send-start sent an unknown message") ;
  {
    struct child *c = send_children + k ;
    if ((which ? c->out : c->in) >= 0) send_child_lost(k, now) ;
    install(c, which, fd) ;
  }
  return 1 ;
}

/* at start-up: every child's two ends, waited for */
void send_children_start (void)
{
  for (;;)
  {
    unsigned int k = 0 ;
    while (k < C_N && send_children[k].in >= 0 && send_children[k].out >= 0) k++ ;
    if (k == C_N) break ;
    if (starter_get(0, 0) < 0) strerr_dief1x(111, "send-start exited before handing over every child") ;
  }
  if (ndelay_on(STARTER_FD) < 0) strerr_diefu1sys(111, "make fd 0 non-blocking") ;
}

/* fd 0 is readable: 1 as long as send-start runs, 0 once it is gone */
int send_children_starter (uint32_t now)
{
  for (;;)
  {
    int r = starter_get(MSG_DONTWAIT, now) ;
    if (r < 0) return 0 ;
    if (!r) return 1 ;
  }
}

/* A spawner died (send-start restarts it and hands us new ends): what it
   answered before it died is read, then its pipes are dropped with what
   we had not written to it yet, and the jobs it had in hand go back to
   the ready queues: a delivery it had started may be repeated, nothing
   else is. Any other child's loss ends send (the service restarts the
   set): record and clean hold requests we cannot replay. */
void send_child_lost (unsigned int k, uint32_t now)
{
  struct child *c = send_children + k ;
  unsigned long n ;
  if (k != C_LSPAWN && k != C_RSPAWN)
    strerr_dief2x(111, c->name, " closed its pipe: exiting so the service restarts the set") ;
  if (c->out >= 0)
  {
    int fd = c->out ;
    c->out = -2 ;  /* child_readable's EOF comes back here: not twice */
    send_child_readable(k, now) ;
    fd_close(fd) ;
  }
  if (c->in >= 0) fd_close(c->in) ;
  bufalloc_free(&c->w) ;
  c->in = c->out = -1 ;
  c->rec.len = 0 ;
  c->pending = 0 ;
  n = send_jobs_requeue(k == C_LSPAWN ? CHAN_LOCAL : CHAN_REMOTE, now) ;
  {
    char fmt[ULONG_FMT] ;
    fmt[ulong_fmt(fmt, n)] = 0 ;
    strerr_warnw4x(c->name, " died: its ", fmt, " deliveries in hand go again") ;
  }
}

/* One request (each call is one whole record), queued in memory and
   written as the pipe takes it: send never blocks
   on a child. What is queued is bounded by the jobs and messages held. */
int send_child_put (struct child *c, char const *s, size_t len)
{
  if (c->in < 0) strerr_dief2x(101, "request to a closed child: ", c->name) ;
  if (!bufalloc_put(&c->w, s, len)) strerr_diefu1sys(111, "allocate") ;
  c->pending++ ;
  return 1 ;
}
