#include "queue.h"

uint32_t queue_id_birth (char const *id)
{
  uint32_t t = 0 ;
  for (unsigned int i = 0 ; i < 8 ; i++)
    t = (t << 4) | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10) ;
  return t ;
}
