#include "wpool.h"

int wpool_find (wpool const *p, pid_t pid)
{
  for (unsigned int i = 0 ; i < p->max ; i++)
    if (p->w[i].pid == pid) return (int)i ;
  return -1 ;
}
