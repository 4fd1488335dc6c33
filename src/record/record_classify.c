/* Local or remote, and the local name lspawn resolves (record(8)); the
   rules are route_classify's, shared with smtpd. */

#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "record.h"
#include "route.h"

/* the last domain looked up in this message: a list of recipients at one
   domain costs one lookup, not one per recipient */
static route rt = ROUTE_ZERO ;

void record_classify_reset (void)
{
  route_reset(&rt) ;
}

int record_classify (stralloc *st, char const *id, char const *addr, size_t len)
{
  char local[ROUTE_LOCALNAME_MAX] ;
  size_t n ;
  enum route_kind k ;
  if (len > ADDR_MAX) return (strerr_warnw2x("address too long in ", id), 0) ;
  k = route_classify(&rt, local, &n, addr, len) ;
  if (k == ROUTE_NONE)
  {
    if (rt.table) strerr_warnwu4sys("read ", rt.table, " for ", id) ;
    else strerr_warnw3x("virtual domain prefix and local part longer than 256 bytes in ", id, ": left in todo") ;
    return 0 ;
  }
  if (!state_put_rcpt(st, k == ROUTE_REMOTE ? CH_REMOTE : CH_LOCAL, addr, len, local, n))
  {
    strerr_warnwu1sys("allocate") ;
    return 0 ;
  }
  return 1 ;
}
