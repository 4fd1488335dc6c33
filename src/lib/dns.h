#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

/* c-ares' event loop: only a program linked with -lcares may call it */

#include <ares.h>
#include <skalibs/tai.h>

/* runs channel's queries until *done is non-zero or deadline passes
   (what is then pending stays for the caller to cancel) */
extern void dns_run (ares_channel channel, int const *done, tain const *deadline) ;

#endif
