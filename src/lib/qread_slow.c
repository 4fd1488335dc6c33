#include "qread.h"

/* send's rule: tried at least once, and the message is slowafter old */
int qread_slow (unsigned int attempts, uint32_t birth, uint32_t now, unsigned long slowafter)
{
  return attempts && now - birth >= slowafter ;
}
