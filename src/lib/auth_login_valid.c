#include "auth.h"

int auth_login_valid (char const *s, size_t len)
{
  if (!len || len > AUTH_LOGIN_MAX || s[0] == '#') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = s[i] ;
    if (c <= ' ' || c == 127 || c == ':') return 0 ;
  }
  return 1 ;
}
