/* -d sets TLS up once; a renewed certificate must still count from the
   next connection: before each, tls/ is looked at (a stat per file,
   microseconds) and the configuration made again when anything moved */

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "home.h"
#include "tlsd.h"

/* FNV-1a, 64 bits */
static unsigned long long mix (unsigned long long h, void const *p, size_t n)
{
  unsigned char const *s = p ;
  for (size_t i = 0 ; i < n ; i++) h = (h ^ s[i]) * 1099511628211ULL ;
  return h ;
}

unsigned long long tlsd_sig (void)
{
  char const *home = home_dir() ;
  size_t hlen = strlen(home) ;
  char path[hlen + 6 + TLSD_NAME_MAX + 8] ;
  unsigned long long h = 14695981039346656037ULL ;
  DIR *d ;
  memcpy(path, home, hlen) ;
  memcpy(path + hlen, "/tls/", 6) ;
  d = opendir(path) ;
  if (!d) return 0 ;
  for (;;)
  {
    struct dirent *de ;
    struct stat st ;
    size_t len ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    len = strlen(de->d_name) ;
    if (de->d_name[0] == '.' || len > TLSD_NAME_MAX + 7) continue ;
    memcpy(path + hlen + 5, de->d_name, len + 1) ;
    if (stat(path, &st) < 0) continue ;
    /* readdir's order is the directory's, stable while nothing changes */
    h = mix(h, de->d_name, len) ;
    h = mix(h, &st.st_ino, sizeof st.st_ino) ;
    h = mix(h, &st.st_size, sizeof st.st_size) ;
    h = mix(h, &st.st_mtim, sizeof st.st_mtim) ;
  }
  closedir(d) ;
  return h ;
}
