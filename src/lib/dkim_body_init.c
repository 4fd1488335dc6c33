#include <stdint.h>
#include "dkim.h"

int dkim_body_init (dkim_body *b)
{
  return dkim_body_start(b, 0, UINT64_MAX) ;
}
