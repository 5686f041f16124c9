/**
 * @file sw_accept.c  The reserve descriptor that lets a listener shed its
 * waiting connections when the process is out of descriptors (see
 * sw_accept.h for the whole remedy).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sw_accept.h"


/**
 * Open the reserve descriptor (at start, while descriptors are plenty)
 *
 * @return 0 or errno
 */
int sw_accept_reserve_open(struct sw_accept_reserve *r)
{
	r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return r->fd < 0 ? errno : 0;
}


void sw_accept_reserve_close(struct sw_accept_reserve *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}


/** Did accept() fail for want of descriptors or kernel memory? The
 * listener must then be left alone for a while. */
bool sw_accept_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}


/** Did accept() fail for that one connection only (accept(2): errors of
 * the new socket are passed on, ECONNABORTED)? The next may be fine. */
bool sw_accept_transient(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM: /* a firewall rule refused it */
		return true;
	default:
		return false;
	}
}


/**
 * Out of descriptors: give up the reserve, accept up to max waiting
 * connections of the listener lfd and close each at once, then take the
 * reserve back. Without a reserve (another thread took the slot it
 * freed) nothing can be accepted; the next shortage tries again.
 *
 * @return connections closed
 */
unsigned sw_accept_shed(struct sw_accept_reserve *r, int lfd, unsigned max)
{
	unsigned n = 0;

	if (r->fd < 0 && sw_accept_reserve_open(r))
		return 0;
	close(r->fd);
	r->fd = -1;
	for (unsigned tries = 0; tries < max; ++tries) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (sw_accept_transient(errno))
				continue;
			break;
		}
		close(fd);
		++n;
	}
	sw_accept_reserve_open(r);
	return n;
}
