#include <skalibs/types.h>
#include "queue.h"

/* A new id (queue_id_make) whose hash is sub: the nanosecond digits are
   stepped until it is. They only make the name unique (the body is still
   created O_EXCL), and FNV-1a over them reaches every subdirectory, so
   about auto_split steps find one; past QUEUE_ID_STEPS the id is kept
   whatever its subdirectory. */
#define QUEUE_ID_STEPS 4096

size_t queue_id_make_in (char *s, unsigned int sub, unsigned int root)
{
  size_t n = queue_id_make(s, root) ;
  uint32_t ns = 0 ;
  for (unsigned int i = 8 ; i < 16 ; i++)
    ns = ns << 4 | (uint32_t)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10) ;
  for (unsigned int i = 0 ; i < QUEUE_ID_STEPS && queue_hash(s) != sub ; i++)
    uint320_xfmt(s + 8, ++ns, 8) ;
  return n ;
}
