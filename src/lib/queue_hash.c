#include <stdint.h>
#include "queue.h"

/* FNV-1a: the low bits of an id (nanoseconds, pid) vary most, and FNV
   spreads them over every subdirectory evenly */
unsigned int queue_hash (char const *id)
{
  uint32_t h = 2166136261u ;
  while (*id) { h ^= (unsigned char)*id++ ; h *= 16777619u ; }
  return h % auto_split ;
}
