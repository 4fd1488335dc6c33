/* record: keeps queue/state for send, as the send account. Reads
   requests (L, S, U, X) on fd 0, writes replies (N, E, A, x, !) on fd 1,
   logs to fd 2. Sorts queue/todo into queue/state, records results in
   place, removes finished states. Protocol and limits: record(8). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "frame.h"
#include "home.h"
#include "record.h"

#define USAGE "record"

stralloc record_out = STRALLOC_ZERO ;

void record_reply (char letter, char const *id, char const *text, int err)
{
  if (!stralloc_catb(&record_out, &letter, 1)
   || !stralloc_catb(&record_out, id, strlen(id) + 1)
   || (text && !stralloc_catb(&record_out, text, strlen(text)))
   || (text && err && !stralloc_cats(&record_out, ": "))
   || (text && err && !stralloc_cats(&record_out, strerror(err)))
   || (text && !stralloc_0(&record_out))
   || !stralloc_0(&record_out))
    strerr_diefu1sys(111, "allocate a reply") ;
}

/* send reads its pipe without blocking; ours blocks until it does.
   If send is gone (killed), the results it already sent must still be
   recorded, or every one of them would be delivered again after the
   restart: record warns once and goes on reading to end of file. */
void record_flush (void)
{
  static int gone = 0 ;
  if (!gone && allwrite(1, record_out.s, record_out.len) < record_out.len)
  {
    if (errno != EPIPE) strerr_diefu1sys(111, "write replies to send") ;
    strerr_warnw1x("send is gone: recording what it sent, then exiting") ;
    gone = 1 ;
  }
  record_out.len = 0 ;
}

static void wait_input (void)
{
  struct pollfd p = { .fd = 0, .events = POLLIN } ;
  while (poll(&p, 1, -1) < 0)
    if (errno != EINTR) strerr_diefu1sys(111, "poll fd 0") ;
}

static void dispatch (char const *s, size_t len)
{
  switch (s[0])
  {
    case 'L' :
    case 'S' :
      /* replies stay in request order: what the batch holds goes first */
      record_batch_end() ;
      if (s[0] == 'L' && s[1])
      {
        unsigned int sub ;
        if (uint_scan(s + 1, &sub) != strlen(s + 1) || sub >= auto_split) record_error(s, len, "malformed L request") ;
        else record_load_subdir(sub) ;
      }
      else record_scan(s[0] == 'L') ;
      break ;
    case 'U' : record_update(s, len) ; break ;
    case 'X' : record_remove(s, len) ; break ;
    default : record_error(s, len, "unknown request") ; break ;
  }
}

/* Takes requests until none is ready (blocking only for the first), the
   batch is full or fd 0 ends; returns 1 at end of input. */
static int take_batch (buffer *in, stralloc *req)
{
  unsigned int n = 0 ;
  for (;;)
  {
    int r = frame_get(in, req, RECORD_REQUEST_MAX) ;
    if (r < 0)
    {
      if (errno == EPIPE)
      {
        if (req->len) strerr_warnw1x("last request cut short by end of input") ;
        return 1 ;
      }
      if (errno == EMSGSIZE) strerr_dief1x(101, "request too long: protocol error") ;
      strerr_diefu1sys(111, "read requests") ;
    }
    if (!r)
    {
      if (n) return 0 ;
      wait_input() ;
      continue ;
    }
    dispatch(req->s, req->len) ;
    req->len = 0 ;
    if (++n >= RECORD_BATCH_MAX || record_batch_files() >= RECORD_FILES_MAX) return 0 ;
  }
}

int main (int argc, char const *const *argv)
{
  static char inbuf[65536] ;
  buffer in = BUFFER_INIT(&fd_readv, 0, inbuf, sizeof inbuf) ;
  stralloc req = STRALLOC_ZERO ;
  int eof = 0 ;
  PROG = "record" ;
  (void)argv ;
  if (argc > 1) strerr_dieusage(100, USAGE) ;
  /* state files 0640: the shared group (bounce, remote) reads them */
  umask(027) ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  if (home_chdir() < 0) strerr_diefu2sys(111, "chdir to ", home_dir()) ;
  /* fd 0 non-blocking: a batch takes what is ready and no more */
  if (ndelay_on(0) < 0 || ndelay_off(1) < 0) strerr_diefu1sys(111, "set fd 0 and 1 modes") ;
  if (!record_batch_init()) strerr_diefu1sys(111, "allocate") ;
  if (queue_roots_load() < 0) strerr_diefu1sys(111, "read " QUEUE_ROOTS_FILE) ;
  /* One record at a time: after send is killed and restarted, the old
     record may still be writing the results it was sent; the new one
     waits for it, so it never loads a state those results change. */
  {
    int fd = open(RECORD_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600) ;
    if (fd < 0) strerr_diefu2sys(111, "open ", RECORD_LOCK) ;
    if (fd_lock(fd, 1, 0) < 1) strerr_diefu2sys(111, "lock ", RECORD_LOCK) ;
  }
  while (!eof)
  {
    eof = take_batch(&in, &req) ;
    record_batch_end() ;
  }
  return 0 ;
}
