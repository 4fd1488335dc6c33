#ifndef LOCAL_H
#define LOCAL_H

#include <sys/types.h>
#include <skalibs/stralloc.h>

/* a delivery's outcome; also local's exit codes (STOP exits 0) */
#define LOCAL_OK 0
#define LOCAL_STOP 99
#define LOCAL_PERM 100
#define LOCAL_TEMP 111

/* the one line local prints: lspawn keeps 1000 bytes of it */
#define LOCAL_TEXT_MAX 1000

/* what one delivery may fan out to: forward addresses (one queue-inject
   run; as many as an alias expands to, resolve.h), and the forwarding
   generations a message may already carry, as Delivered-To fields, and
   be forwarded again (control/maxforwards, default LOCAL_MAXFORWARDS) */
#define LOCAL_FORWARD_MAX 256
#define LOCAL_MAXFORWARDS 10

typedef struct local_ctx_s local_ctx, *local_ctx_ref ;
struct local_ctx_s
{
  char const *user, *home, *localname, *ext, *domain, *sender, *recipient ;
  stralloc lines ;   /* "Return-Path: <sender>\nDelivered-To: recipient\n" */
  size_t rplen ;     /* lines.s + rplen is the Delivered-To line alone */
} ;

/* Each delivery returns a LOCAL_* code and sets *t to its text. */
extern int local_maildir (local_ctx const *c, char const *dir, stralloc *t) ;
/* removes files untouched for 36 hours from dir's tmp/ (dir ends with
   '/', relative to home, the cwd): once per Maildir per process, bounded,
   best effort */
extern void local_tmpsweep (char const *home, char const *dir) ;
extern int local_mbox (local_ctx const *c, char const *path, stralloc *t) ;
extern int local_program (local_ctx const *c, char const *cmd, stralloc *t) ;
/* addrs: n NUL-terminated addresses, len bytes in all */
extern int local_forward (local_ctx const *c, char const *addrs, size_t len, unsigned int n, stralloc *t) ;

/* loop checks on the message's header: LOCAL_OK or LOCAL_PERM; the
   Delivered-To fields (forwarding generations) counted in *forwards */
extern int local_hops (local_ctx const *c, unsigned long maxhops, unsigned long *forwards, stralloc *t) ;
/* reads the instruction file for c->ext into file, its name into name:
   1 found, 0 none exists, -1 error (*t set) */
extern int local_instr_read (local_ctx const *c, stralloc *file, stralloc *name, stralloc *t) ;

/* copies pre then the message (fd 0 from offset 0) to fd; mbox: quote
   ">*From " lines, end with an empty line. 0 done, LOCAL_TEMP (*t set) */
extern int local_copy (int fd, char const *pre, size_t prelen, int mbox, char const *obj, stralloc *t) ;
/* a memory file holding pre and the message, at offset 0; -1 (*t set) */
extern int local_memfd (char const *pre, size_t prelen, stralloc *t) ;
/* fork, setpgid, move fds to 0 1 2, set env (name, value pairs, ended
   by 0), exec path */
extern pid_t local_spawn (char const *path, char const *const *argv, char const *const *env, int fd0, int fd1, int fd2) ;
/* control/name under home_dir(), by absolute path (cwd is the user's):
   as control_readline() */
extern int local_control_readline (stralloc *sa, char const *name) ;

/* *t = a b c; returns code */
extern int local_say (stralloc *t, int code, char const *a, char const *b, char const *c) ;
/* *t = "4.3.0 unable to " what obj ": " errno text (4.2.2 for a full
   disk or quota); returns LOCAL_TEMP */
extern int local_temp (stralloc *t, char const *what, char const *obj) ;

/* local.c: one delivery; f = user home localname ext domain sender
   recipient, alias the -a list or 0; the line in *out; the exit code */
extern int local_deliver (char const *const *f, char const *alias, stralloc *out) ;
/* local_worker.c: local -w, deliveries from lspawn on fd 0 */
extern int local_worker (void) ;

/* local_sync.c: a Maildir's new/ after a link into it. One-shot: fsync
   now (0, or LOCAL_TEMP with *t set). In a worker's group: noted for
   the current delivery, fsynced once for the group by local_sync_flush */
extern int local_sync_dir (char const *dir, stralloc *t) ;
/* fsyncs every noted directory; LOCAL_TEMP (*t set) if one the current
   delivery wrote into failed, else 0 */
extern int local_sync_flush (stralloc *t) ;
/* the worker's side: start a group; set the current delivery (< 64) */
extern void local_sync_group (int on) ;
extern void local_sync_current (unsigned int i) ;
/* after the flush: the failure text of delivery i, or 0 if none */
extern char const *local_sync_failed (unsigned int i) ;

#endif
