#include "control.h"
#include "qread.h"

int qread_slowafter (unsigned long *u)
{
  return control_readuint(u, "slowafter", QREAD_SLOWAFTER_DEFAULT) < 0 ? -1 : 0 ;
}
