#include "state.h"

size_t state_result_len (state_rcpt const *r)
{
  size_t n = STATE_RESULT_MAX ;
  while (n && r->result[n-1] == ' ') n-- ;
  return n ;
}
