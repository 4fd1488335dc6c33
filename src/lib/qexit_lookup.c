#include "qexit.h"

static qexit_info const table[] =
{
  { QX_OK, 250, "2.0.0", "ok" },
  { QX_ADDRLONG, 553, "5.1.3", "address too long" },
  { QX_TOOBIG, 552, "5.3.4", "message too big" },
  { QX_TOOMANY, 552, "5.5.3", "too many recipients" },
  { QX_ENVLONG, 552, "5.3.4", "envelope too long" },
  { QX_NORCPT, 554, "5.5.1", "no valid recipients" },
  { QX_ADDRBAD, 553, "5.1.3", "address contains a control character" },
  { QX_ENVFORMAT, 554, "5.6.0", "envelope format error" },
  { QX_NOMEM, 451, "4.3.0", "out of memory" },
  { QX_TIMEOUT, 451, "4.4.5", "timed out writing the queue" },
  { QX_WRITE, 452, "4.3.1", "unable to write the queue: disk full or write error" },
  { QX_READ, 451, "4.3.0", "unable to read the message or envelope" },
  { QX_CONTROL, 451, "4.3.5", "unable to read a control file" },
  { QX_HOME, 451, "4.3.5", "unable to reach the postern home" },
  { QX_BODY, 451, "4.3.0", "problem with queue/body" },
  { QX_INTAKE, 451, "4.3.0", "problem with queue/intake" },
  { QX_TODO, 451, "4.3.0", "problem with queue/todo" },
  { QX_BUG, 451, "4.3.0", "internal bug" },
} ;

static qexit_info const unknown = { 255, 451, "4.3.0", "queue-inject failed" } ;

qexit_info const *qexit_lookup (int code)
{
  for (unsigned int i = 0 ; i < sizeof table / sizeof *table ; i++)
    if (table[i].code == code) return table + i ;
  return &unknown ;
}
