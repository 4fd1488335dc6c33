#include "queue.h"

/* 16 lowercase hex digits, '.', 1-10 decimal digits: anything else in a
   queue directory is not ours (an editor's backup, a stray copy) */
int queue_id_valid (char const *s)
{
  unsigned int i = 0, d = 0 ;
  for (; i < 16 ; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0 ;
  if (s[i++] != '.') return 0 ;
  for (; s[i] >= '0' && s[i] <= '9' ; i++) d++ ;
  return !s[i] && d && d <= 10 ;
}
