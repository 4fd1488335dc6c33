#ifndef POSTERN_SPF_H
#define POSTERN_SPF_H

/* SPF (RFC 7208): check_host() for a client address and a sender,
   through c-ares: only a program linked with -lcares may call these. */

#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

/* RFC 7208 4.6.4: terms that cause DNS queries (include, a, mx, ptr,
   exists, redirect), lookups that find nothing, and the A or AAAA
   lookups per mx term */
#define SPF_LOOKUPS_MAX 10
#define SPF_VOIDS_MAX 2
#define SPF_MX_MAX 10
/* a record (TXT strings joined), a name after macro expansion (RFC 1035) */
#define SPF_RECORD_MAX 4096
#define SPF_NAME_MAX 253
/* addresses of one A or AAAA answer looked at */
#define SPF_ADDRS_MAX 32

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR } ;

typedef struct spf_ctx_s spf_ctx ;
struct spf_ctx_s
{
  ip46full ip ;
  char const *sender ;   /* local@domain: "postmaster@" helo when MAIL FROM is <> */
  char const *helo ;
  unsigned int lookups ;
  unsigned int voids ;
  tain deadline ;        /* the whole check ends here: temperror */
} ;

/* spf_dns.c: c-ares set up with control/dnsservers (as remote(8) reads
   it; the system's resolver when absent): 1, or 0 */
extern int spf_dns_init (void) ;
/* the channel closed: the next spf_dns_init reads control/dnsservers again */
extern void spf_dns_forget (void) ;
/* one query of type (ns_t_txt, ns_t_a, ns_t_aaaa, ns_t_mx) for name,
   ended by deadline: 1 with the answer's records appended to sa, each
   NUL-ended (TXT: strings joined; A, AAAA: 4 or 16 bytes; MX: the
   host), *n counted; 0 if the name has no such record (NXDOMAIN or no
   data); -1 on a DNS failure or timeout; -2 out of memory */
extern int spf_dns_query (char const *name, int type, stralloc *sa, unsigned int *n, tain const *deadline) ;

/* spf_macro.c: domain-spec s (RFC 7208 7) expanded into sa, NUL-ended,
   for domain d: 1, or 0 if the macro is bad (permerror) */
extern int spf_macro (stralloc *sa, char const *s, size_t len, spf_ctx const *c, char const *d) ;

/* spf_check.c: check_host(ip, domain, sender) */
extern enum spf_result spf_check (spf_ctx *c, char const *domain) ;

/* spf_result_name.c: "pass", "fail", ... as in Authentication-Results */
extern char const *spf_result_name (enum spf_result r) ;

#endif
