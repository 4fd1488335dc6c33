#include "envelope.h"

char const *env_strerror (enum env_error e)
{
  switch (e)
  {
    case ENV_OK : return "ok" ;
    case ENV_EFORMAT : return "envelope format error" ;
    case ENV_EINCOMPLETE : return "envelope ends before its final NUL" ;
    case ENV_EADDRLONG : return "address too long" ;
    case ENV_EADDRBAD : return "address contains a control character" ;
    case ENV_ETOOMANY : return "too many recipients" ;
    case ENV_ENORCPT : return "no recipients" ;
    case ENV_ETOOLONG : return "envelope too long" ;
  }
  return "unknown envelope error" ;
}
