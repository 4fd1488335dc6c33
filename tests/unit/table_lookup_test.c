/* table_lookup_test cdbfile key: looks key up with table_lookup() and
   prints the value and a newline. Exits 0 found, 1 not found, 111 on
   error. Linked as the programs are: a wrong -lcdb/-lskarnet order
   (NOTES-deps.md) links fine and crashes here. */

#include <string.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "table.h"

#define USAGE "table_lookup_test cdbfile key"

int main (int argc, char const *const *argv)
{
  stralloc value = STRALLOC_ZERO ;
  int r ;
  PROG = "table_lookup_test" ;
  if (argc != 3) strerr_dieusage(100, USAGE) ;
  r = table_lookup(argv[1], argv[2], strlen(argv[2]), &value) ;
  if (r < 0) strerr_diefu3sys(111, "look up ", argv[2], " in table") ;
  if (!r) return 1 ;
  if (!stralloc_catb(&value, "\n", 1)) strerr_diefu1sys(111, "allocate") ;
  if (buffer_putflush(buffer_1, value.s, value.len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
