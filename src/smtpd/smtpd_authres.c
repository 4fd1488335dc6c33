/* The Authentication-Results field (RFC 8601) of a transaction, when
   control/authresults asks for checks: recorded, never enforced. SPF
   (RFC 7208) runs at DATA, DKIM (RFC 6376) once the message has come,
   both in this process (no process per message), each ended by
   control/authtimeout whatever the DNS does. */

#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/nameser.h>
#include <skalibs/fmtscan.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "dkim.h"
#include "spf.h"
#include "smtpd.h"

/* the log's words: " spf " and a result, " dkim " and 8 results */
static char logwords[6 + 10 + 6 + DKIM_VERIFY_MAX * 10] ;
static size_t loglen ;

static void log_add (char const *s)
{
  size_t n = strlen(s) ;
  if (loglen + n >= sizeof logwords) return ;
  memcpy(logwords + loglen, s, n + 1) ;
  loglen += n ;
}

char const *smtpd_authres_log (void)
{
  return logwords ;
}

/* the client's address, whole; an IPv4 one written as IPv6 by a
   dual-stack listener ("::ffff:" and the dotted quad) is the IPv4
   one, which is what the sender's ip4 terms name (RFC 7208 5) */
static int client_ip (ip46full *ip)
{
  char const *s = smtpd_config.remoteip ;
  size_t n = strlen(s) ;
  char v4[4] ;
  if (n > 7 && !strncasecmp(s, "::ffff:", 7) && ip4_scan(s + 7, v4) == n - 7)
  {
    ip46full_from_ip4(ip, v4) ;
    return 1 ;
  }
  return n && ip46full_scan(s, ip) == n ;
}

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
  if (client_ip(&c.ip) && n && *domain != '['
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
  else if (client_ip(&c.ip) && n && *domain != '[') r = SPF_TEMPERROR ;
  {
    char clean[SMTPD_HELO_MAX + 1] ;
    size_t k = smtpd_clean(clean, SMTPD_HELO_MAX, domain, n) ;
    log_add(" spf ") ;
    log_add(spf_result_name(r)) ;
    return stralloc_cats(sa, ";\n\tspf=") && stralloc_cats(sa, spf_result_name(r))
      && stralloc_cats(sa, " ") && stralloc_cats(sa, prop) && stralloc_catb(sa, clean, k) ;
  }
}

int smtpd_authres (stralloc *sa, char const *sender, char const *helo, int *dkim)
{
  size_t base = sa->len ;
  *dkim = 0 ;
  loglen = 0 ;
  logwords[0] = 0 ;
  if (!smtpd_config.authspf && !smtpd_config.authdkim) return 1 ;
  if (!stralloc_cats(sa, "Authentication-Results: ") || !stralloc_cats(sa, smtpd_config.me.s)) goto oom ;
  if (smtpd_auth_user[0])
  {
    /* our own user: RFC 8601 2.7.4's auth method; SPF and DKIM say nothing here */
    char clean[SMTPD_LOGIN_MAX] ;
    size_t k = smtpd_clean(clean, SMTPD_LOGIN_MAX, smtpd_auth_user, strlen(smtpd_auth_user)) ;
    if (!stralloc_cats(sa, ";\n\tauth=pass smtp.auth=") || !stralloc_catb(sa, clean, k)) goto oom ;
  }
  else if (smtpd_config.relayclient)
  {
    if (!stralloc_cats(sa, "; none")) goto oom ;
  }
  else
  {
    if (smtpd_config.authspf && !spf(sa, sender, helo)) goto oom ;
    *dkim = smtpd_config.authdkim ;
  }
  return 1 ;
 oom:
  sa->len = base ;
  return 0 ;
}

/* the key records of name, through control/dnsservers, by the deadline */
static int dkim_key (stralloc *sa, char const *name, void *arg)
{
  unsigned int n ;
  int r ;
  if (!spf_dns_init()) return -1 ;
  r = spf_dns_query(name, ns_t_txt, sa, &n, (tain const *)arg) ;
  return r > 0 ? 1 : r ;
}

/* a property's value: a token, or quoted when it holds a MIME tspecial
   (RFC 8601 2.2; base64's '/' is one) */
static int value (stralloc *sa, char const *prop, char const *v)
{
  int quote = !!strpbrk(v, "()<>@,;:\\\"/[]?=") ;
  if (!*v) return 1 ;
  return stralloc_cats(sa, prop) && (!quote || stralloc_catb(sa, "\"", 1))
    && stralloc_cats(sa, v) && (!quote || stralloc_catb(sa, "\"", 1)) ;
}

/* the header section of what is held has a DKIM-Signature, or is not
   all held (one may come further on) */
static int maybe_signed (char const *m, size_t len)
{
  size_t headlen, body, pos = 0, start, flen ;
  int whole = dkim_head_split(m, len, &headlen, &body) ;
  while (dkim_field_next(m, headlen, &pos, &start, &flen))
    if (dkim_is_signature(m + start, flen)) return 1 ;
  return !whole ;
}

int smtpd_authres_dkim (stralloc *sa, char const *m, size_t len, int whole)
{
  dkim_sig sig[DKIM_VERIFY_MAX] ;
  unsigned int n ;
  tain deadline ;
  log_add(" dkim ") ;
  if (!whole)
  {
    char fmt[ULONG_FMT] ;
    int some = maybe_signed(m, len) ;
    fmt[ulong_fmt(fmt, smtpd_config.dkimbytes)] = 0 ;
    log_add(some ? "policy" : "none") ;
    return some
      ? stralloc_cats(sa, ";\n\tdkim=policy (message over ") && stralloc_cats(sa, fmt) && stralloc_cats(sa, " bytes not checked)")
      : stralloc_cats(sa, ";\n\tdkim=none") ;
  }
  tain_now_g() ;
  tain_addsec_g(&deadline, smtpd_config.authtimeout) ;
  n = dkim_verify(sig, DKIM_VERIFY_MAX, m, len, (uint64_t)time(0), &dkim_key, &deadline) ;
  if (!n)
  {
    log_add("none") ;
    return stralloc_cats(sa, ";\n\tdkim=none") ;
  }
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char const *r = dkim_result_name(sig[i].result) ;
    if (i) log_add(",") ;
    log_add(r) ;
    if (!stralloc_cats(sa, ";\n\tdkim=") || !stralloc_cats(sa, r)
     || (sig[i].why && (!stralloc_cats(sa, " (") || !stralloc_cats(sa, sig[i].why) || !stralloc_catb(sa, ")", 1)))
     || !value(sa, " header.d=", sig[i].d) || !value(sa, " header.s=", sig[i].s)
     || !value(sa, " header.a=", sig[i].a) || !value(sa, " header.b=", sig[i].b)) return 0 ;
  }
  return 1 ;
}
