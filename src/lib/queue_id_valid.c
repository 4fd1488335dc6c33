#include "queue.h"

/* 16 lowercase hex digits, '.', 1-10 decimal digits, then for a root
   after the first '.' and its number (1 to QUEUE_ROOTS_MAX-1, no
   leading 0): anything else in a queue directory is not ours (an
   editor's backup, a stray copy) */
int queue_id_valid (char const *s)
{
  unsigned int i = 0, d = 0, root = 0 ;
  for (; i < 16 ; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0 ;
  if (s[i++] != '.') return 0 ;
  for (; s[i] >= '0' && s[i] <= '9' ; i++) d++ ;
  if (!d || d > 10) return 0 ;
  if (!s[i]) return 1 ;
  if (s[i++] != '.' || s[i] < '1' || s[i] > '9') return 0 ;
  for (d = 0 ; s[i] >= '0' && s[i] <= '9' && d < 3 ; i++, d++) root = root * 10 + (unsigned int)(s[i] - '0') ;
  return !s[i] && root < QUEUE_ROOTS_MAX ;
}
