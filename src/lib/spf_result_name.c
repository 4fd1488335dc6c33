#include "spf.h"

char const *spf_result_name (enum spf_result r)
{
  static char const *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" } ;
  return (unsigned int)r < sizeof names / sizeof *names ? names[r] : "permerror" ;
}
