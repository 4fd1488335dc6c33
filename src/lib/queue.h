#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* The queue, relative to the home (see postern-queue(5)). Each tree is
   hashed into auto_split subdirectories named 0 .. auto_split-1. */
#define QUEUE_DIR "queue"
#define QUEUE_BODY "queue/body"      /* message as stored: written once */
#define QUEUE_INTAKE "queue/intake"  /* envelope scratch of queue-inject */
#define QUEUE_TODO "queue/todo"      /* envelopes of messages send has not sorted */
#define QUEUE_STATE "queue/state"    /* per-recipient state, send's */
#define QUEUE_TRIGGER "queue/trigger" /* FIFO send listens on */
#define QUEUE_HOLD "queue/hold"      /* queue-ctl's markers of held messages */
#define QUEUE_OPS "queue/ops"        /* FIFO of queue-ctl's requests to send */

/* conf-split, compiled in */
extern unsigned int const auto_split ;

/* id: 8 hex digits of seconds, 8 of nanoseconds, '.', decimal pid */
#define QUEUE_ID_MAX 32
/* "queue/intake/" + subdir + "/" + id, with room to spare */
#define QUEUE_PATH_MAX 96

/* writes a new id (NUL-terminated) into s, QUEUE_ID_MAX+1 bytes; returns its length */
extern size_t queue_id_make (char *s) ;
/* the same, in subdirectory sub (0 .. auto_split-1) where it can:
   queue-writer puts one commit round's messages in one subdirectory, so
   the round fsyncs one body and one todo directory */
extern size_t queue_id_make_in (char *s, unsigned int sub) ;
/* its injection time: the id's first 8 hex digits (a valid id) */
extern uint32_t queue_id_birth (char const *id) ;
/* 1 if s is well-formed as an id */
extern int queue_id_valid (char const *s) ;
/* which subdirectory, 0 .. auto_split-1 */
extern unsigned int queue_hash (char const *id) ;
/* tree "/" hash "/" id, NUL-terminated, into s (QUEUE_PATH_MAX bytes); returns length */
extern size_t queue_path (char *s, char const *tree, char const *id) ;
/* tree "/" hash, NUL-terminated, into s (QUEUE_PATH_MAX bytes); returns length */
extern size_t queue_subdir (char *s, char const *tree, char const *id) ;
/* poke the trigger FIFO: no reader or a full FIFO are not errors */
extern void queue_trigger_poke (void) ;

#endif
