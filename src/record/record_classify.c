/* Local or remote, and the local name lspawn resolves (record(8)). */

#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "record.h"
#include "table.h"

#define LOCALS "control/locals.cdb"
#define VIRTUALS "control/virtualdomains.cdb"

/* the last domain looked up in this message: a list of recipients at one
   domain costs one lookup, not one per recipient */
static char lastdom[ADDR_MAX] ;
static size_t lastlen = 0 ;
static char lastkind = 0 ;  /* 0 none, 'L' locals, 'V' virtual, 'R' remote */
static stralloc prefix = STRALLOC_ZERO ;
static stralloc value = STRALLOC_ZERO ;

void record_classify_reset (void)
{
  lastkind = 0 ;
}

static size_t lower (char *d, char const *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++) d[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i] ;
  return n ;
}

static int lookup (char const *id, char const *dom, size_t len)
{
  int r = table_lookup(LOCALS, dom, len, &value) ;
  if (r < 0) { strerr_warnwu4sys("read ", LOCALS, " for ", id) ; return 0 ; }
  if (r) lastkind = 'L' ;
  else
  {
    r = table_lookup(VIRTUALS, dom, len, &prefix) ;
    if (r < 0) { strerr_warnwu4sys("read ", VIRTUALS, " for ", id) ; return 0 ; }
    lastkind = r ? 'V' : 'R' ;
  }
  memcpy(lastdom, dom, len) ;
  lastlen = len ;
  return 1 ;
}

int record_classify (stralloc *st, char const *id, char const *addr, size_t len)
{
  char local[RECORD_LOCALNAME_MAX] ;
  char dom[ADDR_MAX] ;
  char ch = CH_LOCAL ;
  size_t at = len, n = 0 ;
  if (len > ADDR_MAX) return (strerr_warnw2x("address too long in ", id), 0) ;
  while (at && addr[at - 1] != '@') at-- ;
  if (!at) n = lower(local, addr, len) ;
  else
  {
    size_t dlen = lower(dom, addr + at, len - at) ;
    if (!lastkind || dlen != lastlen || memcmp(dom, lastdom, dlen))
      if (!lookup(id, dom, dlen)) return 0 ;
    if (lastkind == 'R') ch = CH_REMOTE ;
    else if (lastkind == 'L') n = lower(local, addr, at - 1) ;
    else
    {
      if (prefix.len + 1 + at - 1 > RECORD_LOCALNAME_MAX)
      {
        strerr_warnw3x("virtual domain prefix and local part longer than 256 bytes in ", id, ": left in todo") ;
        return 0 ;
      }
      memcpy(local, prefix.s, prefix.len) ;
      n = prefix.len ;
      if (n) local[n++] = '-' ;
      n += lower(local + n, addr, at - 1) ;
    }
  }
  if (!state_put_rcpt(st, ch, addr, len, local, n))
  {
    strerr_warnwu1sys("allocate") ;
    return 0 ;
  }
  return 1 ;
}
