#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "accounts.h"
#include "qread.h"
#include "queue.h"

/* The owner of queue/ is the queue account of an installed home, and the
   user who runs everything in a home made without root (mkhome.sh); the
   account is looked up only when that does not settle it. */
int qread_allowed (void)
{
  uid_t uid = getuid() ;
  struct stat st ;
  struct passwd const *pw ;
  if (!uid) return 1 ;
  if (stat(QUEUE_DIR, &st) == 0 && st.st_uid == uid) return 1 ;
  pw = getpwnam(auto_user_queue) ;
  return pw && pw->pw_uid == uid ;
}
