#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

/* c-ares, set up and run the same way in every program that resolves:
   only a program linked with -lcares may call these */

#include <ares.h>
#include <skalibs/tai.h>

/* the DNS servers, one a line: "ip", "ip:port", "ip6", "[ip6]:port";
   missing or empty: the system's resolver (/etc/resolv.conf) */
#define DNS_SERVERS_FILE "control/dnsservers"
/* lines of it used, the others ignored */
#define DNS_SERVERS_MAX 16

/* dns_channel_init.c: *channel made with try_ms per try, tries tries,
   no search list, asking the servers of DNS_SERVERS_FILE: 1; 0 if the
   file could not be read or memory ran out (errno says which); -1 if a
   line of it is none of the forms above; -2 if c-ares failed otherwise.
   On failure there is no channel to destroy. */
extern int dns_channel_init (ares_channel *channel, unsigned int try_ms, unsigned int tries) ;

/* dns_run.c: runs channel's queries until *pending is 0 (each answer's
   callback counts itself off) or deadline passes; what is then pending
   stays for the caller to cancel */
extern void dns_run (ares_channel channel, unsigned int const *pending, tain const *deadline) ;

#endif
