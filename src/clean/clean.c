/* clean: removes message bodies for send, as the queue owner. At start
   removes what crashes left (old intake files, old bodies with neither
   todo nor state entry); then reads B requests on fd 0 and writes b or !
   replies on fd 1; logs to fd 2. Protocol and limits: clean(8). */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "frame.h"
#include "home.h"
#include "queue.h"
#include "clean.h"

#define USAGE "clean"

static stralloc out = STRALLOC_ZERO ;

static void reply (char letter, char const *id, char const *text, int err)
{
  if (!stralloc_catb(&out, &letter, 1) || !stralloc_catb(&out, id, strlen(id) + 1)
   || (text && !stralloc_cats(&out, text))
   || (text && err && (!stralloc_cats(&out, ": ") || !stralloc_cats(&out, strerror(err))))
   || (text && !stralloc_0(&out)) || !stralloc_0(&out))
    strerr_diefu1sys(111, "allocate a reply") ;
}

static void flush (void)
{
  if (allwrite(1, out.s, out.len) < out.len) strerr_diefu1sys(111, "write replies to send") ;
  out.len = 0 ;
}

/* no fsync: a body back after a crash has neither todo nor state entry,
   so it is removed as a leftover once it is a day old */
static void handle (char const *s, size_t len)
{
  char path[QUEUE_PATH_MAX] ;
  size_t pos = 0 ;
  char const *f = frame_field(s, len, &pos) ;
  char const *id = f && queue_id_valid(f + 1) ? f + 1 : "" ;
  if (!f || f[0] != 'B' || !*id || frame_field(s, len, &pos))
  {
    reply('!', id, "malformed request", 0) ;
    return ;
  }
  queue_path(path, QUEUE_BODY, id) ;
  if (unlink(path) < 0 && errno != ENOENT) reply('!', id, "unable to remove body", errno) ;
  else reply('b', id, 0, 0) ;
}

int main (int argc, char const *const *argv)
{
  static char inbuf[8192] ;
  buffer in = BUFFER_INIT(&fd_readv, 0, inbuf, sizeof inbuf) ;
  stralloc req = STRALLOC_ZERO ;
  PROG = "clean" ;
  (void)argv ;
  if (argc > 1) strerr_dieusage(100, USAGE) ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  if (ndelay_on(0) < 0 || ndelay_off(1) < 0) strerr_diefu1sys(111, "set fd 0 and 1 modes") ;
  clean_leftovers() ;
  for (;;)
  {
    int r = frame_get(&in, &req, CLEAN_REQUEST_MAX) ;
    if (r > 0) { handle(req.s, req.len) ; req.len = 0 ; continue ; }
    /* replies go out in one write per burst of requests */
    if (out.len) flush() ;
    if (!r)
    {
      struct pollfd p = { .fd = 0, .events = POLLIN } ;
      if (poll(&p, 1, -1) < 0 && errno != EINTR) strerr_diefu1sys(111, "poll fd 0") ;
      continue ;
    }
    if (errno == EPIPE)
    {
      if (req.len) strerr_warnw1x("last request cut short by end of input") ;
      return 0 ;
    }
    if (errno == EMSGSIZE) strerr_dief1x(101, "request too long: protocol error") ;
    strerr_diefu1sys(111, "read requests") ;
  }
}
