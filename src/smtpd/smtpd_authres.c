/* The Authentication-Results field (RFC 8601) of a transaction, when
   control/authresults asks for checks: recorded, never enforced. SPF
   (RFC 7208) runs here, at DATA, in this process (no process per
   message), ended by control/authtimeout whatever the DNS does. */

#include <string.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "spf.h"
#include "smtpd.h"

/* the identity checked: the MAIL FROM domain, or the HELO name */
static int spf (stralloc *sa, char const *sender, char const *helo)
{
  spf_ctx c ;
  char addr[ADDR_MAX + SMTPD_HELO_MAX + 16] ;
  char const *at = strrchr(sender, '@') ;
  char const *domain = at ? at + 1 : sender ;
  char const *prop = "smtp.mailfrom=" ;
  enum spf_result r = SPF_NONE ;
  size_t n ;
  if (!*sender)
  {
    /* RFC 7208 2.4: the null sender is "postmaster@" the HELO name */
    if (strlen(helo) > SMTPD_HELO_MAX) return 0 ;
    memcpy(addr, "postmaster@", 11) ;
    strcpy(addr + 11, helo) ;
    sender = addr ;
    domain = helo ;
    prop = "smtp.helo=" ;
  }
  c.sender = sender ;
  c.helo = helo ;
  /* an address literal, a UTF-8 domain (no A-label conversion here),
     an unknown client: nothing to check, so none */
  n = strlen(domain) ;
  if (ip46full_scan(smtpd_config.remoteip, &c.ip) && n && *domain != '['
   && !memchr(domain, '\0', n) && spf_dns_init())
  {
    int ascii = 1 ;
    for (size_t i = 0 ; i < n ; i++) if ((unsigned char)domain[i] >= 128) ascii = 0 ;
    if (ascii)
    {
      tain_now_g() ;
      tain_addsec_g(&c.deadline, smtpd_config.authtimeout) ;
      r = spf_check(&c, domain) ;
    }
  }
  else if (ip46full_scan(smtpd_config.remoteip, &c.ip) && n && *domain != '[') r = SPF_TEMPERROR ;
  {
    char clean[SMTPD_HELO_MAX + 1] ;
    size_t k = smtpd_clean(clean, SMTPD_HELO_MAX, domain, n) ;
    return stralloc_cats(sa, ";\n\tspf=") && stralloc_cats(sa, spf_result_name(r))
      && stralloc_cats(sa, " ") && stralloc_cats(sa, prop) && stralloc_catb(sa, clean, k) ;
  }
}

int smtpd_authres (stralloc *sa, char const *sender, char const *helo)
{
  size_t base = sa->len ;
  if (!smtpd_config.authspf) return 1 ;
  if (!stralloc_cats(sa, "Authentication-Results: ") || !stralloc_cats(sa, smtpd_config.me.s)) goto oom ;
  if (smtpd_auth_user[0])
  {
    /* our own user: RFC 8601 2.7.4's auth method; SPF says nothing here */
    char clean[SMTPD_LOGIN_MAX] ;
    size_t k = smtpd_clean(clean, SMTPD_LOGIN_MAX, smtpd_auth_user, strlen(smtpd_auth_user)) ;
    if (!stralloc_cats(sa, ";\n\tauth=pass smtp.auth=") || !stralloc_catb(sa, clean, k)) goto oom ;
  }
  else if (smtpd_config.relayclient)
  {
    if (!stralloc_cats(sa, "; none")) goto oom ;
  }
  else if (!spf(sa, sender, helo)) goto oom ;
  if (!stralloc_catb(sa, "\n", 1)) goto oom ;
  return 1 ;
 oom:
  sa->len = base ;
  return 0 ;
}
