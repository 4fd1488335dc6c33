#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include "local.h"

/* a read and a write each, whatever the message size */
#define COPY_BUF 65536

static char in[COPY_BUF] ;
/* one input byte adds at most 6 output bytes (">From " for the last
   byte of "From ") before the flush check */
static char out[COPY_BUF + 8] ;

static int flush (int fd, size_t *o, char const *obj, stralloc *t)
{
  if (allwrite(fd, out, *o) < *o) return local_temp(t, "write ", obj) ;
  *o = 0 ;
  return 0 ;
}

/* mboxrd: a line that is any number of '>' then "From " gets one more
   '>'; equivalently, one '>' goes right before the "From " */
int local_copy (int fd, char const *pre, size_t prelen, int mbox, char const *obj, stralloc *t)
{
  size_t o = 0, held = 0 ;
  int bol = 1 ;
  char last = '\n' ;
  if (lseek(0, 0, SEEK_SET) < 0) return local_temp(t, "seek to the start of the message", "") ;
  if (allwrite(fd, pre, prelen) < prelen) return local_temp(t, "write ", obj) ;
  for (;;)
  {
    ssize_t r = read(0, in, sizeof in) ;
    if (r < 0) { if (errno == EINTR) continue ; return local_temp(t, "read the message", "") ; }
    if (!r) break ;
    last = in[r-1] ;
    if (!mbox)
    {
      if (allwrite(fd, in, r) < (size_t)r) return local_temp(t, "write ", obj) ;
      continue ;
    }
    for (ssize_t i = 0 ; i < r ; i++)
    {
      char ch = in[i] ;
      if (bol && ch == "From "[held])
      {
        if (++held == 5) { memcpy(out + o, ">From ", 6) ; o += 6 ; held = 0 ; bol = 0 ; }
      }
      else if (bol && !held && ch == '>') out[o++] = ch ;
      else
      {
        memcpy(out + o, "From ", held) ; o += held ; held = 0 ;
        out[o++] = ch ;
        bol = ch == '\n' ;
      }
      if (o >= COPY_BUF && flush(fd, &o, obj, t)) return LOCAL_TEMP ;
    }
  }
  if (mbox)
  {
    memcpy(out + o, "From ", held) ; o += held ;
    if (last != '\n') out[o++] = '\n' ;
    out[o++] = '\n' ;
    if (flush(fd, &o, obj, t)) return LOCAL_TEMP ;
  }
  return 0 ;
}

/* programs and queue-inject read a copy with our lines on top; a memory
   file keeps it seekable, as qmail gives programs a seekable stdin */
int local_memfd (char const *pre, size_t prelen, stralloc *t)
{
  int fd = memfd_create("local", MFD_CLOEXEC) ;
  if (fd < 0) return (local_temp(t, "create a memory file", ""), -1) ;
  if (local_copy(fd, pre, prelen, 0, "a memory file", t)) { fd_close(fd) ; return -1 ; }
  if (lseek(fd, 0, SEEK_SET) < 0)
  {
    local_temp(t, "seek a memory file", "") ;
    fd_close(fd) ;
    return -1 ;
  }
  return fd ;
}
