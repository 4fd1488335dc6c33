#include <unistd.h>
#include "home.h"

int home_chdir (void)
{
  return chdir(home_dir()) ;
}
