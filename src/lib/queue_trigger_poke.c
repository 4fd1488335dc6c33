#include <fcntl.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "queue.h"

/* send scans the queue on start-up and on its own schedule: a poke that
   finds no reader (ENXIO) or a full FIFO (EAGAIN) changes nothing */
void queue_trigger_poke (void)
{
  int fd = open(QUEUE_TRIGGER, O_WRONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) return ;
  if (write(fd, "", 1) < 0) { }
  fd_close(fd) ;
}
