/* Which recipients we take (smtpd(8), Policy): the relay rules, then
   the local name, in the recipients table local delivery's files are
   compiled into. */

#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "rcpt.h"
#include "route.h"
#include "smtpd.h"
#include "table.h"

#define RCPTHOSTS "control/rcpthosts.cdb"

static route rt = ROUTE_ZERO ;
static int warned = 0 ;
static stralloc value = STRALLOC_ZERO ;

void smtpd_policy_reset (void)
{
  route_reset(&rt) ;
}

/* the domain, or one of its parents written with a leading dot (as in
   qmail: ".example.org" takes every subdomain of example.org); 1 if
   listed, 0 if not, -1 on error */
static int rcpthost (char const *dom, size_t len, int literal)
{
  int r = table_lookup(RCPTHOSTS, dom, len, &value) ;
  for (size_t i = 1 ; !r && !literal && i < len ; i++)
    if (dom[i] == '.') r = table_lookup(RCPTHOSTS, dom + i, len - i, &value) ;
  return r ;
}

/* an address literal is ours only if it is the address the client
   reached (TCPLOCALIP, from smtpd-listen or tcpserver): "[IPv6:...]"
   for an IPv6 one, compared as addresses, not as text */
static int ourliteral (char const *dom, size_t len)
{
  char ip[SMTPD_LITERAL_MAX + 1] ;
  unsigned char a[16], b[16] ;
  int six ;
  if (!smtpd_config.localip || len < 3 || len - 2 > SMTPD_LITERAL_MAX || dom[0] != '[' || dom[len - 1] != ']') return 0 ;
  memcpy(ip, dom + 1, len - 2) ;
  ip[len - 2] = 0 ;
  six = !strncasecmp(ip, "IPv6:", 5) ;
  return inet_pton(six ? AF_INET6 : AF_INET, six ? ip + 5 : ip, a) == 1
    && inet_pton(six ? AF_INET6 : AF_INET, smtpd_config.localip, b) == 1
    && !memcmp(a, b, six ? 16 : 4) ;
}

static char const *relay (smtpd_path const *p)
{
  char const *dom = p->addr + p->at + 1 ;
  size_t len = p->len - p->at - 1 ;
  int r ;
  if (p->at == p->len) return 0 ;  /* <postmaster> */
  if (p->trick) return "554 5.7.1 relaying denied: no %, ! or @ in a local part" ;
  if (p->literal && !ourliteral(dom, len)) return "554 5.7.1 relaying denied" ;
  r = rcpthost(dom, len, p->literal) ;
  if (r < 0) return "451 4.3.5 unable to read control/rcpthosts.cdb" ;
  return r ? 0 : "554 5.7.1 relaying denied" ;
}

int smtpd_policy_local (smtpd_path const *p)
{
  char local[ROUTE_LOCALNAME_MAX] ;
  size_t n ;
  enum route_kind k = route_classify(&rt, local, &n, p->addr, p->len) ;
  if (k == ROUTE_NONE) return -1 ;
  return k != ROUTE_REMOTE ;
}

char const *smtpd_policy_rcpt (smtpd_path const *p)
{
  char local[ROUTE_LOCALNAME_MAX] ;
  size_t n ;
  enum route_kind k ;
  int r, notable ;
  /* an authenticated client relays as RELAYCLIENT does */
  if (!smtpd_config.relayclient && !smtpd_auth_user[0])
  {
    char const *no = relay(p) ;
    if (no) return no ;
  }
  k = route_classify(&rt, local, &n, p->addr, p->len) ;
  if (k == ROUTE_NONE)
    return rt.table ? "451 4.3.5 unable to read a routing table" : "550 5.1.1 no such user here" ;
  if (k == ROUTE_REMOTE) return 0 ;
  /* inject -bs runs smtpd as its caller, who may not read the user
     tables: like inject, it leaves local names to delivery */
  if (smtpd_config.norcptcheck) return 0 ;
  /* local and virtual: what delivery would find (rcpt.h) */
  r = rcpt_known(local, n, &notable) ;
  if (notable && !warned)
  {
    strerr_warnw1x("no " RCPT_TABLE ": extension addresses are not checked (see recipients-compile(8))") ;
    warned = 1 ;
  }
  if (r < 0) return "451 4.3.5 unable to look the recipient up" ;
  if (r == RCPT_UNKNOWN) return "550 5.1.1 no such user here" ;
  /* lspawn never delivers as root: such mail would only wait */
  if (r == RCPT_ROOT) return "451 4.3.0 mail for root must be aliased" ;
  return 0 ;
}
