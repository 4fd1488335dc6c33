#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* The queue (see postern-queue(5)). queue/ in the home keeps what is one
   per instance; each message lives in one queue root (control/queues,
   absent: queue itself), in that root's four trees. Each tree is hashed
   into auto_split subdirectories named 0 .. auto_split-1. */
#define QUEUE_DIR "queue"
#define QUEUE_TRIGGER "queue/trigger" /* FIFO send listens on */
#define QUEUE_HOLD "queue/hold"      /* queue-ctl's markers of held messages */
#define QUEUE_OPS "queue/ops"        /* FIFO of queue-ctl's requests to send */
/* the trees of a root, by name under it */
#define QUEUE_BODY "body"      /* message as stored: written once */
#define QUEUE_INTAKE "intake"  /* envelope scratch of queue-inject */
#define QUEUE_TODO "todo"      /* envelopes of messages send has not sorted */
#define QUEUE_STATE "state"    /* per-recipient state, send's */

/* control/queues: one root a line, at most this many, each path at most
   QUEUE_ROOT_MAX bytes; a line starting with '-' names a root that is
   scheduled and cleaned but not written to (being drained) */
#define QUEUE_ROOTS_FILE "control/queues"
#define QUEUE_ROOTS_MAX 16
#define QUEUE_ROOT_MAX 160
/* a root whose body tree has less room than this many times the
   largest message (control/databytes) is full to the writers */
#define QUEUE_ROOT_ROOM 2
/* a root a writer failed on is skipped this long (seconds) */
#define QUEUE_ROOT_PAUSE 60

/* conf-split, compiled in */
extern unsigned int const auto_split ;

/* id: 8 hex digits of seconds, 8 of nanoseconds, '.', decimal pid, and
   for a root other than the first, '.' and the root's number */
#define QUEUE_ID_MAX 32
/* root "/" tree "/" subdir "/" id, with room to spare */
#define QUEUE_PATH_MAX (QUEUE_ROOT_MAX + 64)

/* writes a new id of root (NUL-terminated) into s, QUEUE_ID_MAX+1 bytes;
   returns its length */
extern size_t queue_id_make (char *s, unsigned int root) ;
/* the same, in subdirectory sub (0 .. auto_split-1) where it can:
   queue-writer puts one commit round's messages in one subdirectory, so
   the round fsyncs one body and one todo directory per root */
extern size_t queue_id_make_in (char *s, unsigned int sub, unsigned int root) ;
/* its injection time: the id's first 8 hex digits (a valid id) */
extern uint32_t queue_id_birth (char const *id) ;
/* 1 if s is well-formed as an id */
extern int queue_id_valid (char const *s) ;
/* the number of the root an id's message lives in */
extern unsigned int queue_id_root (char const *id) ;
/* which subdirectory, 0 .. auto_split-1 */
extern unsigned int queue_hash (char const *id) ;
/* root "/" tree "/" hash "/" id of id's root, NUL-terminated, into s
   (QUEUE_PATH_MAX bytes); returns length. A root control/queues does
   not name gives a path under queue/ that does not exist. */
extern size_t queue_path (char *s, char const *tree, char const *id) ;
/* root "/" tree "/" hash, the same way */
extern size_t queue_subdir (char *s, char const *tree, char const *id) ;
/* QUEUE_HOLD "/" hash "/" id, the same way */
extern size_t queue_hold_path (char *s, char const *id) ;
/* root "/" tree of root number root, NUL-terminated, into s
   (QUEUE_PATH_MAX bytes); returns length */
extern size_t queue_tree (char *s, unsigned int root, char const *tree) ;

/* The roots (queue_roots.c), read from control/queues at the first use
   and again when an id names a root beyond them. -1 with errno if the
   file cannot be read or is malformed (EINVAL), else how many roots. */
extern int queue_roots_load (void) ;
/* how many roots (loads them if not done; 1, queue, if that fails) */
extern unsigned int queue_roots (void) ;
/* root i's path, or 0 past the last */
extern char const *queue_root (unsigned int i) ;
/* 1 if writers may put new messages in root i */
extern int queue_root_writable (unsigned int i) ;
/* the next root a writer should use, round robin from *cursor over the
   writable ones, skipping a full one (less than room bytes free) and
   one queue_root_failed named lately while another will do; -1 with
   errno ENOENT if no root is writable */
extern int queue_root_pick (unsigned int *cursor, unsigned long room) ;
/* a writer failed on root i: pick skips it for QUEUE_ROOT_PAUSE s */
extern void queue_root_failed (unsigned int i) ;
/* poke the trigger FIFO: no reader or a full FIFO are not errors */
extern void queue_trigger_poke (void) ;

#endif
