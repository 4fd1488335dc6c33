/* lspawn's requests to its delivery workers (src/lib/ldeliver_*), one
   SOCK_SEQPACKET packet with the message's fd: ldeliver_get takes a
   request exactly when it is seven NUL-ended fields within their bounds
   with an fd; what it took, sent again by ldeliver_put, is the same
   packet; a refused request leaves no descriptor open. Input: byte 0
   bit 0 says whether an fd comes along, the rest is the packet. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ldeliver.h"
#include "wpool.h"
#include "fuzz.h"

static int sv[2] = { -1, -1 } ;
static int devnull = -1 ;

static int fields_ok (char const *s, size_t n)
{
  size_t pos = 0 ;
  for (unsigned int i = 0 ; i < LDELIVER_FIELDS ; i++)
  {
    char const *z = pos < n ? memchr(s + pos, 0, n - pos) : 0 ;
    if (!z || (size_t)(z - s) - pos > (i == 1 ? LDELIVER_HOME_MAX : LDELIVER_FIELD_MAX)) return 0 ;
    pos = (size_t)(z - s) + 1 ;
  }
  return pos == n ;
}

/* the lowest free descriptor: a leaked one shows as a higher number */
static int lowest (void)
{
  int fd = dup(0) ;
  FUZZ_ASSERT(fd >= 0) ;
  close(fd) ;
  return fd ;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) abort() ;
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
  if (devnull < 0) abort() ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static char buf[LDELIVER_REQ_MAX + 1] ;
  char const *f[LDELIVER_FIELDS] ;
  int withfd, body = -1, r, low ;
  if (!size || size - 1 > LDELIVER_REQ_MAX + 64) return 0 ;
  withfd = data[0] & 1 ;
  data++ ; size-- ;
  if (!size) return 0 ;  /* an empty packet reads as end of file */
  low = lowest() ;
  FUZZ_ASSERT(wpool_sendfd(sv[0], withfd ? devnull : -1, (char const *)data, size)) ;
  r = ldeliver_get(sv[1], buf, f, &body, 0) ;
  if (withfd && size <= LDELIVER_REQ_MAX && fields_ok((char const *)data, size))
  {
    FUZZ_ASSERT(r == 1 && body >= 0) ;
    FUZZ_ASSERT(ldeliver_put(sv[0], body, f) == 1) ;
    close(body) ;
    body = -1 ;
    FUZZ_ASSERT(ldeliver_get(sv[1], buf, f, &body, 0) == 1 && body >= 0) ;
    FUZZ_ASSERT(!memcmp(buf, data, size)) ;
    close(body) ;
  }
  else FUZZ_ASSERT(r == -1 && errno == EPROTO && body == -1) ;
  FUZZ_ASSERT(lowest() == low) ;
  return 0 ;
}
