/* c-ares, one query at a time (SPF's lookups depend on each other),
   each ended by the check's deadline */

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "dns.h"
#include "spf.h"

/* per query try; c-ares retries within the deadline */
#define SPF_DNS_TRY_MS 2000
#define SPF_DNS_TRIES 3

static ares_channel channel ;
static int inited ;

int spf_dns_init (void)
{
  if (!inited) inited = dns_channel_init(&channel, SPF_DNS_TRY_MS, SPF_DNS_TRIES) == 1 ;
  return inited ;
}

void spf_dns_forget (void)
{
  if (inited) ares_destroy(channel) ;
  inited = 0 ;
}

struct answer
{
  int type ;
  unsigned int pending ;
  int r ;
  stralloc *sa ;
  unsigned int *n ;
} ;

static void got (void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  struct answer *a = arg ;
  (void)timeouts ;
  a->pending = 0 ;
  if (status == ARES_ENODATA || status == ARES_ENOTFOUND) { a->r = 0 ; return ; }
  if (status != ARES_SUCCESS) { a->r = -1 ; return ; }
  a->r = 1 ;
  if (a->type == ns_t_txt)
  {
    struct ares_txt_ext *list = 0 ;
    int first = 1 ;
    if (ares_parse_txt_reply_ext(abuf, alen, &list) != ARES_SUCCESS) { a->r = list ? -1 : 0 ; if (list) ares_free_data(list) ; return ; }
    for (struct ares_txt_ext *p = list ; p ; p = p->next)
    {
      if (p->record_start)
      {
        if (!first && !stralloc_0(a->sa)) a->r = -2 ;
        first = 0 ;
        (*a->n)++ ;
      }
      if (!stralloc_catb(a->sa, (char const *)p->txt, p->length)) a->r = -2 ;
    }
    if (!first && !stralloc_0(a->sa)) a->r = -2 ;
    ares_free_data(list) ;
  }
  else if (a->type == ns_t_mx)
  {
    struct ares_mx_reply *list = 0 ;
    if (ares_parse_mx_reply(abuf, alen, &list) != ARES_SUCCESS) { a->r = 0 ; return ; }
    for (struct ares_mx_reply *p = list ; p ; p = p->next)
    {
      if (!stralloc_cats(a->sa, p->host) || !stralloc_0(a->sa)) a->r = -2 ;
      (*a->n)++ ;
    }
    ares_free_data(list) ;
  }
  else
  {
    int six = a->type == ns_t_aaaa, na = SPF_ADDRS_MAX ;
    struct ares_addrttl v4[SPF_ADDRS_MAX] ;
    struct ares_addr6ttl v6[SPF_ADDRS_MAX] ;
    int s = six ? ares_parse_aaaa_reply(abuf, alen, 0, v6, &na) : ares_parse_a_reply(abuf, alen, 0, v4, &na) ;
    if (s != ARES_SUCCESS) { a->r = 0 ; return ; }
    for (int i = 0 ; i < na ; i++)
    {
      if (!(six ? stralloc_catb(a->sa, (char const *)&v6[i].ip6addr, 16) : stralloc_catb(a->sa, (char const *)&v4[i].ipaddr, 4))) a->r = -2 ;
      (*a->n)++ ;
    }
  }
}

int spf_dns_query (char const *name, int type, stralloc *sa, unsigned int *n, tain const *deadline)
{
  struct answer a = { .type = type, .pending = 1, .r = -1, .sa = sa, .n = n } ;
  *n = 0 ;
  ares_query(channel, name, ns_c_in, type, &got, &a) ;
  dns_run(channel, &a.pending, deadline) ;
  if (a.pending) { ares_cancel(channel) ; return -1 ; }
  return a.r ;
}
