/*
 * channel.c - messages over the SOCK_SEQPACKET socket pair.
 */
#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for the descriptors a message may carry: more than CHANNEL_FDS_MAX do
 * not fit, and the kernel closes them and marks the message truncated. */
union fd_control {
	char buf[CMSG_SPACE(CHANNEL_FDS_MAX * sizeof(int))];
	struct cmsghdr align;
};

/* Raises fd's send buffer to take a datagram of largest octets: Linux refuses (EMSGSIZE) one
 * longer than the buffer less some bookkeeping, and the buffer's size is a system setting
 * (net.core.wmem_default, 208 KiB unless lowered).  The kernel doubles what it is given for
 * its bookkeeping, so asking for largest leaves twice that room.  False with errno set. */
static bool send_room(int fd, size_t largest)
{
	int size = 0;
	socklen_t len = sizeof size;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) != 0)
		return false;
	if (size > 0 && (size_t)size / 2 >= largest)
		return true;
	size = (int)largest;
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0;
}

bool channel_pair(int sv[2], size_t largest)
{
	int saved;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	if (send_room(sv[0], largest) && send_room(sv[1], largest))
		return true;
	saved = errno;
	close(sv[0]);
	close(sv[1]);
	sv[0] = sv[1] = -1;
	errno = saved;
	return false;
}

ssize_t channel_send(int fd, const void *msg, size_t len, const int *fds, size_t nfds)
{
	union fd_control control;
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > CHANNEL_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof control);
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Takes the descriptors a received message carried into r. */
static void take_descriptors(struct msghdr *m, struct received *r)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		/* The bound is the buffer's: no more than CHANNEL_FDS_MAX arrive. */
		for (size_t i = 0; i < count && r->nfds < CHANNEL_FDS_MAX; i++)
			memcpy(&r->fds[r->nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
}

ssize_t channel_receive(int fd, void *buf, size_t size, struct received *r)
{
	union fd_control control;
	struct iovec iov = { buf, size };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			    .msg_controllen = sizeof control.buf };
	ssize_t n;

	*r = (struct received){ .nfds = 0, .fds = { -1, -1 } };
	/* MSG_TRUNC: the real length of an oversized message, not the part
	 * that fitted. */
	do
		n = recvmsg(fd, &m, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	take_descriptors(&m, r);
	r->len = (size_t)n;
	r->truncated = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	return n;
}

bool channel_receive_exact(int fd, uint32_t kind, void *msg, size_t len)
{
	uint32_t got;
	ssize_t n;

	do
		n = recv(fd, msg, len, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		return false;
	memcpy(&got, msg, sizeof got);
	return got == kind;
}

bool channel_hung_up(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0;
}

bool channel_message_waiting(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n == 0 && !channel_hung_up(fd));
}
