#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include "remote.h"
#include "table.h"

static char const *const names[] = { [REMOTE_TLS_NONE] = "none", [REMOTE_TLS_MAY] = "may", [REMOTE_TLS_ENCRYPT] = "encrypt", [REMOTE_TLS_VERIFY] = "verify" } ;

int remote_tlspolicy_get (remote_ctx *c)
{
  stralloc v = STRALLOC_ZERO ;
  int r = table_lookup_domain(REMOTE_TLSROUTES, c->domain, &v) ;
  c->tlspolicy = REMOTE_TLS_MAY ;
  if (r < 0) { remote_result_all(c, 'Z', "4.3.0 unable to read " REMOTE_TLSROUTES, "", "") ; return 0 ; }
  if (r)
  {
    unsigned int i = 0 ;
    while (i < sizeof names / sizeof *names && (v.len != strlen(names[i]) || strncasecmp(v.s, names[i], v.len))) i++ ;
    stralloc_free(&v) ;
    if (i >= sizeof names / sizeof *names)
    {
      /* the operator's word, as a route: the mail waits until it is mended */
      remote_result_all(c, 'Z', "4.3.5 bad entry in " REMOTE_TLSROUTES " for ", c->domain, "") ;
      return 0 ;
    }
    c->tlspolicy = i ;
  }
  return 1 ;
}
