#include "qexit.h"
#include "qwrite.h"

static int const env_exit[] =
{
  [ENV_OK] = QX_OK, [ENV_EFORMAT] = QX_ENVFORMAT, [ENV_EINCOMPLETE] = QX_ENVFORMAT,
  [ENV_EADDRLONG] = QX_ADDRLONG, [ENV_EADDRBAD] = QX_ADDRBAD,
  [ENV_ETOOMANY] = QX_TOOMANY, [ENV_ENORCPT] = QX_NORCPT, [ENV_ETOOLONG] = QX_ENVLONG
} ;

int qwrite_env_code (enum env_error e)
{
  return (unsigned int)e < sizeof env_exit / sizeof *env_exit ? env_exit[e] : QX_BUG ;
}
