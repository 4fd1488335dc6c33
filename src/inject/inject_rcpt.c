/* The recipients: from the operands and, with -t, the headers; an
   address without '@' gets the default domain. The envelope lists each
   recipient once, whichever way it came: the domain's case never
   matters, the local part's only where the domain is not ours
   (addr_key; the same rule as smtpd's). */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "addr.h"
#include "envelope.h"
#include "home.h"
#include "inject.h"
#include "route.h"
#include "table.h"

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

/* case-insensitive order, then exact: addresses that differ only in
   case are together, and among them the exact equals are together */
static int cmp (void const *a, void const *b)
{
  char const *x = base + *(size_t const *)a, *y = base + *(size_t const *)b ;
  int c = strcasecmp(x, y) ;
  return c ? c : strcmp(x, y) ;
}

/* 1 if the domain of a is local or virtual (control/locals.cdb,
   control/virtualdomains.cdb of the home, read from here: inject runs
   in its caller's directory). A table it cannot read counts as
   remote: a recipient is then kept once per exact spelling, never
   lost. */
static int ours (char const *a)
{
  static stralloc path = STRALLOC_ZERO, v = STRALLOC_ZERO ;
  char const *dom = strrchr(a, '@') ;
  char const *const tables[2] = { ROUTE_LOCALS, ROUTE_VIRTUALS } ;
  if (!dom) return 1 ;
  dom++ ;
  for (unsigned int i = 0 ; i < 2 ; i++)
  {
    path.len = 0 ;
    if (!stralloc_cats(&path, home_dir()) || !stralloc_catb(&path, "/", 1)
     || !stralloc_cats(&path, tables[i]) || !stralloc_0(&path)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
    if (table_lookup(path.s, dom, strlen(dom), &v) > 0) return 1 ;
  }
  return 0 ;
}

void inject_rcpt_envelope (stralloc *env, inject_rcpts *r, char const *sender)
{
  size_t *at ;
  size_t pos = 0 ;
  int local = 0 ;
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
    if (i && !strcasecmp(a, r->list.s + at[i-1]))
    {
      /* the same but for case: the tables are read only for these */
      char const *p = r->list.s + at[i-1] ;
      if (local < 0) local = ours(a) ;
      if (local) continue ;
      if (!memcmp(a, p, (size_t)(strrchr(a, '@') - a))) continue ;
    }
    else local = -1 ;
    if (!env_put(env, 'T', a, strlen(a))) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  }
  if (!stralloc_0(env)) strerr_diefu1sys(INJECT_ETEMP, "allocate") ;
  free(at) ;
}
