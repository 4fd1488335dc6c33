#include "envelope.h"

/* A bounded state machine: it keeps counts, never the bytes, so the
   caller decides where they go and nothing here grows with the input. */
size_t env_check_feed (env_check *c, char const *s, size_t n)
{
  size_t i = 0 ;
  for (; i < n && !c->done && c->error == ENV_OK ; i++)
  {
    unsigned char ch = (unsigned char)s[i] ;
    if (++c->total > ENV_BYTES_MAX) { c->error = ENV_ETOOLONG ; break ; }
    if (!c->fieldlen)  /* at the start of a field */
    {
      if (!ch)
      {
        if (c->total == 1) { c->error = ENV_EFORMAT ; break ; }
        if (!c->rcpts) { c->error = ENV_ENORCPT ; break ; }
        c->done = 1 ;
        continue ;
      }
      if (c->total == 1 ? ch != 'F' : ch != 'T') { c->error = ENV_EFORMAT ; break ; }
      if (ch == 'T' && ++c->rcpts > ENV_RCPT_MAX) { c->error = ENV_ETOOMANY ; break ; }
      c->fieldlen = 1 ;
      continue ;
    }
    if (!ch) { c->fieldlen = 0 ; continue ; }
    if (ch < 32 || ch == 127) { c->error = ENV_EADDRBAD ; break ; }
    if (c->fieldlen++ > ADDR_MAX) { c->error = ENV_EADDRLONG ; break ; }
  }
  return i ;
}
