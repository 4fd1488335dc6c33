#include "envelope.h"

enum env_error env_check_end (env_check const *c)
{
  if (c->error != ENV_OK) return c->error ;
  return c->done ? ENV_OK : ENV_EINCOMPLETE ;
}
