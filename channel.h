/*
 * channel.h - the socket pair between a separated session's two processes:
 * one message a datagram (SOCK_SEQPACKET), sent whole, received whole or
 * known to be cut, with descriptors riding along (SCM_RIGHTS).
 */
#ifndef POP3_CHANNEL_H
#define POP3_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The most descriptors a message carries: the client's input and output. */
#define CHANNEL_FDS_MAX 2

/* One message as received: its real length, the descriptors it carried (each the
 * receiver's to close), and whether it was cut (data or descriptors). */
struct received {
	size_t len;
	bool truncated;
	size_t nfds;
	int fds[CHANNEL_FDS_MAX];
};

/* Makes a socket pair for messages of up to largest octets (close-on-exec both ends), each
 * end's send buffer raised where the system's default would refuse such a message; false
 * with errno set (sv untouched, or -1 both). */
bool channel_pair(int sv[2], size_t largest);

/* Sends one message of len octets with nfds (at most CHANNEL_FDS_MAX) descriptors attached,
 * resuming after signals; the number of octets sent, or -1 with errno. */
ssize_t channel_send(int fd, const void *msg, size_t len, const int *fds, size_t nfds);

/* Receives one message into buf (size octets) with its descriptors (close-on-exec), resuming
 * after signals; returns its real length (MSG_TRUNC: even when larger than size), 0 at the
 * end of the channel or for an empty message, -1 with errno on error. */
ssize_t channel_receive(int fd, void *buf, size_t size, struct received *r);

/* Receives one message and tells whether it was exactly len octets starting with the
 * 32-bit kind; resumes after signals (a long wait may outlast the inactivity timer). */
bool channel_receive_exact(int fd, uint32_t kind, void *msg, size_t len);

/* Tells whether the other end closed the channel: a receive returns 0 both then and for an
 * empty message, but only the end hangs up the socket. */
bool channel_hung_up(int fd);

/* Tells whether a message is queued, without taking it. */
bool channel_message_waiting(int fd);

#endif
