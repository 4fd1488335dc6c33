/* Addresses: smtpd's MAIL and RCPT argument parser (src/smtpd/smtpd_addr.c,
   linked as an object: smtpd is being changed elsewhere), inject's RFC
   5322 address lists (src/inject/inject_addrlist.c, likewise), addr_check
   and route_classify (src/lib). Input: byte 0 picks MAIL or RCPT, the
   rest is the argument (to its first NUL, as smtpd refuses a NUL).
   A path smtpd takes is within ADDR_MAX, free of control bytes, and
   its queued form parses to itself. */
#include <stdlib.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "addr.h"
#include "route.h"
#include "smtpd.h"
#include "inject.h"
#include "fuzz.h"

static route rt = ROUTE_ZERO ;

static void reply_ok (char const *r)
{
  FUZZ_ASSERT(r[0] >= '4' && r[0] <= '5' && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' && r[2] <= '9' && r[3] == ' ') ;
  FUZZ_ASSERT(r[4] == r[0] && r[5] == '.') ;
}

static void lower (char *d, char const *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++) d[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i] ;
}

static void classify (smtpd_path const *p)
{
  char local[ROUTE_LOCALNAME_MAX] ;
  char want[ROUTE_LOCALNAME_MAX + 8] ;
  size_t n = 0 ;
  enum route_kind k = route_classify(&rt, local, &n, p->addr, p->len) ;
  FUZZ_ASSERT(n <= ROUTE_LOCALNAME_MAX) ;
  switch (k)
  {
    case ROUTE_LOCAL :
      /* the local part: before the last '@' (quoted ones may hold one) */
      {
        size_t at = p->len ;
        while (at && p->addr[at - 1] != '@') at-- ;
        at = at ? at - 1 : p->len ;
        FUZZ_ASSERT(n == at) ;
        lower(want, p->addr, at) ;
        FUZZ_ASSERT(!memcmp(local, want, n)) ;
      }
      break ;
    case ROUTE_VIRTUAL :
      FUZZ_ASSERT(n > 4 && !memcmp(local, "pfx-", 4)) ;
      break ;
    case ROUTE_REMOTE :
      FUZZ_ASSERT(!n) ;
      break ;
    case ROUTE_NONE :
      FUZZ_ASSERT(!rt.table) ;  /* the tables are there: only a long name */
      break ;
  }
}

static void path (char const *arg, int rcpt)
{
  smtpd_path p, q ;
  char const *r = smtpd_path_parse(&p, arg, rcpt) ;
  char again[ADDR_MAX + 16] ;
  if (r) { reply_ok(r) ; return ; }
  FUZZ_ASSERT(p.len <= ADDR_MAX && p.addr[p.len] == 0 && strlen(p.addr) == p.len) ;
  FUZZ_ASSERT(addr_check(p.addr, p.len) == ADDR_OK) ;
  FUZZ_ASSERT(p.at <= p.len && (p.at == p.len || p.addr[p.at] == '@')) ;
  FUZZ_ASSERT(rcpt ? p.len > 0 : 1) ;
  if (p.at < p.len && !p.literal)
    for (size_t i = p.at + 1 ; i < p.len ; i++)
    {
      char c = p.addr[i] ;
      FUZZ_ASSERT((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.') ;
    }
  /* the queued form is canonical: it parses to itself */
  memcpy(again, rcpt ? "TO:<" : "FROM:<", rcpt ? 4 : 6) ;
  memcpy(again + (rcpt ? 4 : 6), p.addr, p.len) ;
  memcpy(again + (rcpt ? 4 : 6) + p.len, ">", 2) ;
  r = smtpd_path_parse(&q, again, rcpt) ;
  FUZZ_ASSERT(!r) ;
  FUZZ_ASSERT(q.len == p.len && !memcmp(q.addr, p.addr, p.len) && q.at == p.at && q.literal == p.literal && q.trick == p.trick) ;
  if (p.len) classify(&p) ;
}

/* Blanks and line ends outside quoted strings and literals are
   dropped (a source route ends at its first ':' outside a literal or a
   quoted string: corpus/addr/regress-route-*). */

static void listed (char const *a, size_t len, void *data)
{
  size_t max = *(size_t *)data ;
  char end = 0 ;
  FUZZ_ASSERT(len && len <= max) ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = a[i] ;
    if (end)
    {
      if (c == '\\') i++ ;
      else if (c == end) end = 0 ;
      continue ;
    }
    if (c == '"') end = '"' ;
    else if (c == '[') end = ']' ;
    else FUZZ_ASSERT(c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(') ;
  }
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc ; (void)argv ;
  fuzz_home() ;
  fuzz_cdb(ROUTE_LOCALS, "example.test", "", "localhost", "", (char *)0) ;
  fuzz_cdb(ROUTE_VIRTUALS, "virt.test", "pfx", (char *)0) ;
  return 0 ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char *s ;
  size_t len ;
  if (!size) return 0 ;
  len = size - 1 ;
  s = malloc(len + 1) ;
  memcpy(s, data + 1, len) ;
  s[len] = 0 ;
  route_reset(&rt) ;
  path(s, data[0] & 1) ;
  /* the whole input as a header's address list */
  FUZZ_ASSERT(inject_addrlist(s, len, &listed, &len)) ;
  {
    size_t n = strlen(s) ;
    FUZZ_ASSERT(addr_check(s, n) == (n > ADDR_MAX ? ADDR_ETOOLONG : addr_check(s, n))) ;
  }
  free(s) ;
  return 0 ;
}
