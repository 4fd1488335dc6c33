#include <string.h>
#include "envelope.h"

enum env_error env_parse (env_view *v, char const *s, size_t len)
{
  env_check c = ENV_CHECK_ZERO ;
  size_t n = env_check_feed(&c, s, len) ;
  enum env_error e = env_check_end(&c) ;
  if (e != ENV_OK) return e ;
  v->sender = s + 1 ;
  v->rcpts = s + strlen(s) + 1 ;
  v->rcptslen = n - 1 - (size_t)(v->rcpts - s) ;
  v->nrcpts = c.rcpts ;
  return ENV_OK ;
}
