#include <string.h>
#include "qread.h"

/* queue-inject's info fields (u, p), then the envelope, as record reads it */
int qread_todo_parse (qread_msg *m, char const *s, size_t len)
{
  size_t pos = 0 ;
  while (pos < len && (s[pos] == 'u' || s[pos] == 'p'))
  {
    char const *z = memchr(s + pos, 0, len - pos) ;
    if (!z) return 0 ;
    pos = (size_t)(z - s) + 1 ;
  }
  if (env_parse(&m->env, s + pos, len - pos) != ENV_OK) return 0 ;
  m->sender = m->env.sender ;
  m->nrcpts = m->env.nrcpts ;
  return 1 ;
}
