/* DNS through c-ares, asynchronous underneath: queries of one phase run
   at once, and the whole phase ends at one deadline. */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "dns.h"
#include "remote.h"

/* per query try; c-ares retries within the phase's deadline */
#define DNS_TRY_MS 2000
#define DNS_TRIES 3

static ares_channel channel ;
static int inited ;
static tain const *deadline ;

static int cat_status (stralloc *err, char const *what, char const *name, int status)
{
  return stralloc_cats(err, what) && stralloc_cats(err, name) && stralloc_cats(err, ": ")
    && stralloc_cats(err, ares_strerror(status)) ;
}

int remote_dns_init (tain const *d, stralloc *err)
{
  int r ;
  deadline = d ;
  /* a worker (remote -w) sets up again for each new destination */
  if (inited) { ares_destroy(channel) ; inited = 0 ; }
  r = dns_channel_init(&channel, DNS_TRY_MS, DNS_TRIES) ;
  inited = r == 1 ;
  switch (r)
  {
    case 1 : return 1 ;
    case -1 : stralloc_cats(err, "4.3.5 a line of " DNS_SERVERS_FILE " is not ip, ip:port or [ip6]:port") ; break ;
    case -2 : stralloc_cats(err, "4.3.0 unable to set up the DNS resolver") ; break ;
    default :
      stralloc_cats(err, errno == ENOMEM ? "4.3.0 out of memory" : "4.3.0 unable to read " DNS_SERVERS_FILE) ;
      break ;
  }
  return 0 ;
}

/* Runs c-ares until *pending is 0 or the deadline; then cancels what is
   left, whose callbacks see ARES_ECANCELLED. */
static void run (unsigned int const *pending)
{
  dns_run(channel, pending, deadline) ;
  if (*pending) ares_cancel(channel) ;
}

static enum dns_status map (int status)
{
  switch (status)
  {
    case ARES_SUCCESS : return DNS_OK ;
    case ARES_ENODATA : return DNS_NODATA ;
    case ARES_ENOTFOUND : return DNS_NXDOMAIN ;
    default : return DNS_TEMP ;
  }
}

struct mxq { unsigned int pending ; int status ; dns_mx *mx ; unsigned int max, n ; } ;

static void mx_answer (void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  struct mxq *q = arg ;
  struct ares_mx_reply *list = 0 ;
  (void)timeouts ;
  q->pending = 0 ;
  q->status = status ;
  if (status != ARES_SUCCESS) return ;
  q->status = ares_parse_mx_reply(abuf, alen, &list) ;
  for (struct ares_mx_reply *p = list ; p && q->n < q->max ; p = p->next)
  {
    size_t len = strlen(p->host) ;
    if (len > REMOTE_NAME_MAX) continue ;
    q->mx[q->n].pref = p->priority ;
    memcpy(q->mx[q->n].host, p->host, len + 1) ;
    q->n++ ;
  }
  if (list) ares_free_data(list) ;
}

enum dns_status remote_dns_mx_lookup (char const *name, dns_mx *mx, unsigned int max, unsigned int *n, stralloc *err)
{
  struct mxq q = { 1, ARES_ECANCELLED, mx, max, 0 } ;
  ares_query(channel, name, ns_c_in, ns_t_mx, &mx_answer, &q) ;
  run(&q.pending) ;
  *n = q.n ;
  if (q.status == ARES_SUCCESS && !q.n) q.status = ARES_ENODATA ;
  if (map(q.status) == DNS_TEMP) cat_status(err, "4.4.3 DNS: MX of ", name, q.status == ARES_ECANCELLED ? ARES_ETIMEOUT : q.status) ;
  return map(q.status) ;
}

struct aq
{
  unsigned int *pending ;
  int six ;
  int status ;
  unsigned int n ;
  char ip[8][16] ;
} ;

static void a_answer (void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  struct aq *q = arg ;
  (void)timeouts ;
  (*q->pending)-- ;
  q->status = status ;
  if (status != ARES_SUCCESS) return ;
  if (q->six)
  {
    struct ares_addr6ttl a[8] ;
    int na = 8 ;
    q->status = ares_parse_aaaa_reply(abuf, alen, 0, a, &na) ;
    for (int i = 0 ; q->status == ARES_SUCCESS && i < na ; i++) memcpy(q->ip[q->n++], &a[i].ip6addr, 16) ;
  }
  else
  {
    struct ares_addrttl a[8] ;
    int na = 8 ;
    q->status = ares_parse_a_reply(abuf, alen, 0, a, &na) ;
    for (int i = 0 ; q->status == ARES_SUCCESS && i < na ; i++) memcpy(q->ip[q->n++], &a[i].ipaddr, 4) ;
  }
  if (q->status == ARES_SUCCESS && !q->n) q->status = ARES_ENODATA ;
}

/* AAAA and A of every name at once; per name up to `per` addresses into
   ip[name * per ...], IPv6 first. A name is NXDOMAIN only if both say so,
   temporary if either failed and nothing was found. */
void remote_dns_addr_lookup (char const *const *names, unsigned int nnames, ip46 *ip, unsigned int per, unsigned int *n, enum dns_status *st, stralloc *err)
{
  struct aq q[REMOTE_MX_MAX][2] ;
  unsigned int pending = 0 ;
  if (nnames > REMOTE_MX_MAX) nnames = REMOTE_MX_MAX ;
  for (unsigned int i = 0 ; i < nnames ; i++)
    for (int six = 1 ; six >= 0 ; six--)
    {
      struct aq *a = &q[i][six] ;
      a->pending = &pending ; a->six = six ; a->status = ARES_ECANCELLED ; a->n = 0 ;
      pending++ ;
    }
  for (unsigned int i = 0 ; i < nnames ; i++)
    for (int six = 1 ; six >= 0 ; six--)
      ares_query(channel, names[i], ns_c_in, six ? ns_t_aaaa : ns_t_a, &a_answer, &q[i][six]) ;
  run(&pending) ;
  for (unsigned int i = 0 ; i < nnames ; i++)
  {
    unsigned int k = 0 ;
    int temp = 0 ;
    for (int six = 1 ; six >= 0 ; six--)
    {
      struct aq *a = &q[i][six] ;
      for (unsigned int j = 0 ; j < a->n && k < per ; j++, k++)
        if (six) ip46full_from_ip6(&ip[i * per + k], a->ip[j]) ;
        else ip46full_from_ip4(&ip[i * per + k], a->ip[j]) ;
      if (map(a->status) == DNS_TEMP)
      {
        temp = 1 ;
        if (!err->len) cat_status(err, "4.4.3 DNS: address of ", names[i], a->status == ARES_ECANCELLED ? ARES_ETIMEOUT : a->status) ;
      }
    }
    n[i] = k ;
    st[i] = k ? DNS_OK : temp ? DNS_TEMP
      : map(q[i][0].status) == DNS_NXDOMAIN && map(q[i][1].status) == DNS_NXDOMAIN ? DNS_NXDOMAIN : DNS_NODATA ;
  }
}
