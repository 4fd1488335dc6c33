#include "dkim.h"

char const *dkim_result_name (enum dkim_result r)
{
  static char const *const name[] = { "pass", "fail", "neutral", "policy", "temperror", "permerror" } ;
  return (unsigned int)r < sizeof name / sizeof *name ? name[r] : "permerror" ;
}
