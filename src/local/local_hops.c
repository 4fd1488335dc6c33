#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "local.h"
#include "trace.h"

/* the header section is scanned up to this many bytes; past it the rest
   counts as body (100 hops of long Received lines fit well within) */
#define HEADER_SCAN_MAX (1024 * 1024)
/* of each header line only this much is looked at: a name, blanks and
   the longest address */
#define LINE_KEEP (32 + ADDR_MAX)

static char buf[65536] ;

/* 1 if the line (n bytes kept) is a loop: Delivered-To: recipient */
static int line_check (local_ctx const *c, char const *s, size_t n, int cut, unsigned long *hops, unsigned long *forwards)
{
  size_t rlen ;
  enum trace_kind k = trace_field(s, n) ;
  if (k == TRACE_NONE) return 0 ;
  (*hops)++ ;
  if (k != TRACE_DELIVERED_TO) return 0 ;
  (*forwards)++ ;
  if (cut) return 0 ;
  s += 13 ; n -= 13 ;
  while (n && (*s == ' ' || *s == '\t')) { s++ ; n-- ; }
  while (n && (s[n-1] == ' ' || s[n-1] == '\t' || s[n-1] == '\r')) n-- ;
  rlen = strlen(c->recipient) ;
  return n == rlen && !strncasecmp(s, c->recipient, n) ;
}

int local_hops (local_ctx const *c, unsigned long maxhops, unsigned long *forwards, stralloc *t)
{
  char line[LINE_KEEP] ;
  size_t n = 0, total = 0 ;
  unsigned long hops = 0 ;
  int cut = 0 ;
  *forwards = 0 ;
  if (lseek(0, 0, SEEK_SET) < 0) return local_temp(t, "seek to the start of the message", "") ;
  while (total < HEADER_SCAN_MAX)
  {
    ssize_t r = read(0, buf, sizeof buf) ;
    if (r < 0) { if (errno == EINTR) continue ; return local_temp(t, "read the message", "") ; }
    if (!r) break ;
    for (ssize_t i = 0 ; i < r && total < HEADER_SCAN_MAX ; i++, total++)
    {
      if (buf[i] != '\n')
      {
        if (n < sizeof line) line[n++] = buf[i] ; else cut = 1 ;
        continue ;
      }
      if (!n || (n == 1 && line[0] == '\r')) return LOCAL_OK ;  /* end of the header */
      if (line_check(c, line, n, cut, &hops, forwards))
        return local_say(t, LOCAL_PERM, "5.4.6 mail loop: already delivered to ", c->recipient, "") ;
      if (hops > maxhops) return local_say(t, LOCAL_PERM, "5.4.6 too many hops", "", "") ;
      n = 0 ; cut = 0 ;
    }
  }
  return LOCAL_OK ;
}
