/* The recipients: from the operands and, with -t, the headers; an
   address without '@' gets the default domain. The envelope lists each
   address once, whichever way it came. */

#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "addr.h"
#include "envelope.h"
#include "inject.h"

void inject_rcpt_add (char const *addr, size_t len, void *data)
{
  inject_rcpts *r = data ;
  size_t start = r->list.len ;
  if (!stralloc_catb(&r->list, addr, len)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  if (!memchr(addr, '@', len)
   && (!stralloc_catb(&r->list, "@", 1) || !stralloc_cats(&r->list, r->domain)))
    strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  if (addr_check(r->list.s + start, r->list.len - start) != ADDR_OK)
  {
    r->list.len = start + (len > ADDR_MAX ? ADDR_MAX : len) ;
    if (!stralloc_0(&r->list)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
    for (size_t i = start ; i < r->list.len - 1 ; i++)
      if ((unsigned char)r->list.s[i] < 32 || r->list.s[i] == 127) r->list.s[i] = '?' ;
    strerr_dief2x(r->badexit, "recipient address too long or holding a control character: ",
                  r->list.s + start) ;
  }
  if (!stralloc_0(&r->list)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  /* bounded by the header section and the command line; counted here
     so that a huge list never gets sorted */
  if (++r->n > ENV_RCPT_MAX) strerr_dief1x(INJECT_EDATA, "too many recipients (more than 10000)") ;
}

static char const *base ;

static int cmp (void const *a, void const *b)
{
  return strcmp(base + *(size_t const *)a, base + *(size_t const *)b) ;
}

void inject_rcpt_envelope (stralloc *env, inject_rcpts *r, char const *sender)
{
  size_t *at ;
  size_t pos = 0 ;
  if (!r->n) strerr_dief1x(INJECT_EDATA, "no recipients") ;
  at = malloc(r->n * sizeof *at) ;
  if (!at) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  for (unsigned int i = 0 ; i < r->n ; i++)
  {
    at[i] = pos ;
    pos += strlen(r->list.s + pos) + 1 ;
  }
  base = r->list.s ;
  qsort(at, r->n, sizeof *at, &cmp) ;
  if (!env_put(env, 'F', sender, strlen(sender))) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  for (unsigned int i = 0 ; i < r->n ; i++)
  {
    char const *a = r->list.s + at[i] ;
    if (i && !strcmp(a, r->list.s + at[i-1])) continue ;
    if (!env_put(env, 'T', a, strlen(a))) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  }
  if (!stralloc_0(env)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  free(at) ;
}
