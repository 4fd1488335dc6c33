#include <string.h>
#include <skalibs/strerr.h>
#include "queue.h"
#include "spawner.h"

enum spawner_parse_e spawner_parse (spawner_job *v, char const *s, size_t len, int with_local)
{
  char const *f ;
  enum spawner_parse_e err = SPAWNER_OK ;
  size_t pos = 0 ;
  char want = 'M' ;
  v->n = v->nt = 0 ;
  v->msgid = v->sender = 0 ;
  f = frame_field(s, len, &pos) ;
  if (!f || f[0] != 'J' || !f[1] || strlen(f) > SPAWNER_FIELD_MAX)
    strerr_dief1x(101, "job record without a usable J field") ;
  v->id = f + 1 ;
  while ((f = frame_field(s, len, &pos)))
  {
    if (f[0] == 'T') v->nt++ ;
    if (err) continue ;
    if (f[0] != want || strlen(f) > SPAWNER_FIELD_MAX) err = SPAWNER_MALFORMED ;
    else if (want == 'M') { v->msgid = f + 1 ; want = 'F' ; }
    else if (want == 'F') { v->sender = f + 1 ; want = 'T' ; }
    else if (want == 'T')
    {
      if (v->n == SPAWNER_RCPT_MAX) err = SPAWNER_TOOMANY ;
      else
      {
        v->addr[v->n] = f + 1 ;
        if (with_local) want = 'L' ; else v->n++ ;
      }
    }
    else { v->local[v->n++] = f + 1 ; want = 'T' ; }
  }
  if (!err && (want != 'T' || !queue_id_valid(v->msgid))) err = SPAWNER_MALFORMED ;
  return err ;
}
