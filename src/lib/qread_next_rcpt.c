#include <string.h>
#include "qread.h"

int qread_next_rcpt (qread_msg const *m, size_t *pos, route *rt, qread_rcpt *r)
{
  char local[ROUTE_LOCALNAME_MAX] ;
  size_t n ;
  if (!m->unsorted)
  {
    state_rcpt sr ;
    if (!*pos) *pos = m->st.rcpts_at ;
    if (!state_next_rcpt(&m->st, m->s, pos, &sr)) return 0 ;
    r->addr = sr.addr ;
    r->status = sr.status ;
    r->channel = sr.channel ;
    r->attempts = sr.attempts ;
    r->lasttry = sr.lasttry ;
    r->result = sr.result ;
    r->resultlen = state_result_len(&sr) ;
    return 1 ;
  }
  r->addr = env_next_rcpt(&m->env, pos) ;
  if (!r->addr) return 0 ;
  r->status = QREAD_UNSORTED ;
  r->attempts = 0 ;
  r->lasttry = 0 ;
  r->result = "" ;
  r->resultlen = 0 ;
  switch (route_classify(rt, local, &n, r->addr, strlen(r->addr)))
  {
    case ROUTE_LOCAL : case ROUTE_VIRTUAL : r->channel = CH_LOCAL ; break ;
    case ROUTE_REMOTE : r->channel = CH_REMOTE ; break ;
    default : r->channel = QREAD_CH_UNKNOWN ; break ;
  }
  return 1 ;
}
