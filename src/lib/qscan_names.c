#include <errno.h>
#include <string.h>
#include <dirent.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "queue.h"
#include "qscan.h"

int qscan_names (stralloc *sa, char const *tree, unsigned int sub, unsigned int max)
{
  char path[QUEUE_PATH_MAX] ;
  size_t n = strlen(tree) ;
  int count = 0, e = 0 ;
  DIR *dir ;
  if (n + 2 + UINT_FMT > sizeof path) return (errno = ENAMETOOLONG, -1) ;
  memcpy(path, tree, n) ;
  path[n++] = '/' ;
  path[n + uint_fmt(path + n, sub)] = 0 ;
  dir = opendir(path) ;
  if (!dir) return -1 ;
  while ((unsigned int)count < max && (unsigned int)count < 0x7fffffffu)
  {
    struct dirent *d ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d) { e = errno ; break ; }
    if (!queue_id_valid(d->d_name)) continue ;
    if (!stralloc_catb(sa, d->d_name, strlen(d->d_name) + 1)) { e = errno ; break ; }
    count++ ;
  }
  closedir(dir) ;
  return e ? (errno = e, -1) : count ;
}
