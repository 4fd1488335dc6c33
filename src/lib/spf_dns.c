/* c-ares, one query at a time (SPF's lookups depend on each other),
   each ended by the check's deadline */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "dns.h"
#include "spf.h"

#define SPF_DNS_SERVERS "control/dnsservers"
/* per query try; c-ares retries within the deadline */
#define SPF_DNS_TRY_MS 2000
#define SPF_DNS_TRIES 3

static ares_channel channel ;
static int inited ;

/* control/dnsservers' lines ("ip", "ip:port", "[ip6]:port"), joined
   with commas as c-ares takes them; c-ares checks each */
static int servers (void)
{
  stralloc file = STRALLOC_ZERO, csv = STRALLOC_ZERO ;
  size_t pos = 0 ;
  int r = 1 ;
  if (!openslurpclose(&file, SPF_DNS_SERVERS)) return errno == ENOENT ;
  while (pos < file.len)
  {
    char *s = file.s + pos ;
    size_t len = 0 ;
    while (pos + len < file.len && s[len] != '\n') len++ ;
    pos += len + 1 ;
    while (len && (s[len-1] == ' ' || s[len-1] == '\t' || s[len-1] == '\r')) len-- ;
    while (len && (*s == ' ' || *s == '\t')) { s++ ; len-- ; }
    if (!len || *s == '#') continue ;
    if ((csv.len && !stralloc_catb(&csv, ",", 1)) || !stralloc_catb(&csv, s, len)) { r = 0 ; break ; }
  }
  if (r && csv.len) r = stralloc_0(&csv) && ares_set_servers_ports_csv(channel, csv.s) == ARES_SUCCESS ;
  stralloc_free(&file) ;
  stralloc_free(&csv) ;
  return r ;
}

int spf_dns_init (void)
{
  struct ares_options o ;
  if (inited) return 1 ;
  memset(&o, 0, sizeof o) ;
  o.timeout = SPF_DNS_TRY_MS ;
  o.tries = SPF_DNS_TRIES ;
  o.flags = ARES_FLAG_NOSEARCH ;
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) return 0 ;
  if (ares_init_options(&channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) != ARES_SUCCESS) return 0 ;
  inited = 1 ;
  if (!servers()) { ares_destroy(channel) ; inited = 0 ; return 0 ; }
  return 1 ;
}

struct answer
{
  int type ;
  int done ;
  int r ;
  stralloc *sa ;
  unsigned int *n ;
} ;

static void got (void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  struct answer *a = arg ;
  (void)timeouts ;
  a->done = 1 ;
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
  struct answer a = { .type = type, .done = 0, .r = -1, .sa = sa, .n = n } ;
  *n = 0 ;
  ares_query(channel, name, ns_c_in, type, &got, &a) ;
  dns_run(channel, &a.done, deadline) ;
  if (!a.done) { ares_cancel(channel) ; return -1 ; }
  return a.r ;
}
