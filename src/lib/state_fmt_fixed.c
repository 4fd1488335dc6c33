#include <string.h>
#include <skalibs/types.h>
#include "state.h"

void state_fmt_fixed (char *s, char status, char channel, unsigned int attempts, uint32_t lasttry, char const *text, size_t textlen)
{
  if (attempts > STATE_ATTEMPTS_MAX) attempts = STATE_ATTEMPTS_MAX ;
  if (textlen > STATE_RESULT_MAX) textlen = STATE_RESULT_MAX ;
  s[0] = 'R' ;
  s[1] = status ;
  s[2] = channel ;
  uint320_fmt(s + 3, attempts, 4) ;
  uint320_fmt(s + 7, lasttry, 10) ;
  for (size_t i = 0 ; i < textlen ; i++)
  {
    unsigned char c = (unsigned char)text[i] ;
    s[17 + i] = c >= 32 && c < 127 ? (char)c : '_' ;
  }
  memset(s + 17 + textlen, ' ', STATE_RESULT_MAX - textlen) ;
}
