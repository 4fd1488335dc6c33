#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "state.h"

int state_put_header (stralloc *sa, unsigned long uid, unsigned long size, char const *sender, size_t senderlen)
{
  char fmt[ULONG_FMT + 1] ;
  if (!stralloc_catb(sa, STATE_VERSION, sizeof STATE_VERSION)) return 0 ;
  fmt[0] = 'u' ;
  if (!stralloc_catb(sa, fmt, 1 + ulong_fmt(fmt + 1, uid)) || !stralloc_0(sa)) return 0 ;
  fmt[0] = 'z' ;
  if (!stralloc_catb(sa, fmt, 1 + ulong_fmt(fmt + 1, size)) || !stralloc_0(sa)) return 0 ;
  if (!stralloc_catb(sa, "F", 1) || !stralloc_catb(sa, sender, senderlen) || !stralloc_0(sa)) return 0 ;
  return 1 ;
}
