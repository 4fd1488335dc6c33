#ifndef POSTERN_SITEFAIL_H
#define POSTERN_SITEFAIL_H

/* remote ends the text of a failure at the connection level with this
   (no address answered, every greeting refused or dropped, DNS failed
   for now): the destination failed, not the recipient. send marks the
   destination dead on it. remote(8), send(8). */
#define SITE_MARK " [no usable host]"

#endif
