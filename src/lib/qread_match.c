#include <string.h>
#include "qread.h"

int qread_match (qread_msg const *m, char const *sub)
{
  size_t pos = 0 ;
  char const *a ;
  if (strcasestr(m->sender, sub)) return 1 ;
  /* the addresses alone: no routing lookup for a filter */
  if (m->unsorted)
  {
    while ((a = env_next_rcpt(&m->env, &pos)))
      if (strcasestr(a, sub)) return 1 ;
  }
  else
  {
    state_rcpt r ;
    pos = m->st.rcpts_at ;
    while (state_next_rcpt(&m->st, m->s, &pos, &r))
      if (strcasestr(r.addr, sub)) return 1 ;
  }
  return 0 ;
}
