/**
 * @file sw_mq.c  Bounded MPSC ring of value messages, woken by an eventfd.
 *
 * Producers never block: a full queue returns ENOBUFS and counts a drop,
 * so a stalled consumer (a disk-bound call-log writer) can never stall the
 * SIP or relay loops. Consumers pop until empty after draining the fd.
 *
 * A consumer that comes back on a timer anyway (the call-log writer,
 * batch_ms after a batch began) can defer wake-ups: producers then write
 * the eventfd only when the ring reaches half its capacity, so a batch
 * costs one eventfd write and one wake-up instead of one per record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sw_mq.h"

struct sw_mq {
	pthread_mutex_t lock;
	int efd;
	size_t msg_size;
	size_t cap;
	size_t head, count; /* guarded by lock */
	size_t dropped;     /* guarded by lock */
	bool defer;         /* guarded by lock: see sw_mq_defer() */
	unsigned char *ring;
};


/**
 * Allocate a queue of capacity messages of msg_size bytes each
 *
 * @return 0, ENOMEM, or the eventfd errno
 */
int sw_mq_alloc(struct sw_mq **mqp, size_t msg_size, size_t capacity)
{
	struct sw_mq *mq;

	if (!mqp || !msg_size || !capacity)
		return EINVAL;
	mq = calloc(1, sizeof(*mq));
	if (!mq)
		return ENOMEM;
	mq->ring = calloc(capacity, msg_size);
	if (!mq->ring) {
		free(mq);
		return ENOMEM;
	}
	mq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mq->efd < 0) {
		int e = errno;

		free(mq->ring);
		free(mq);
		return e;
	}
	pthread_mutex_init(&mq->lock, NULL);
	mq->msg_size = msg_size;
	mq->cap = capacity;
	*mqp = mq;
	return 0;
}


void sw_mq_free(struct sw_mq *mq)
{
	if (!mq)
		return;
	close(mq->efd);
	pthread_mutex_destroy(&mq->lock);
	free(mq->ring);
	free(mq);
}


int sw_mq_fd(const struct sw_mq *mq)
{
	return mq->efd;
}


/** Make the consumer's fd readable again (it put messages aside, or a
 *  barrier must not wait for a deferred batch) */
void sw_mq_kick(struct sw_mq *mq)
{
	uint64_t one = 1;

	if (write(mq->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated, the consumer is awake anyway */
	}
}


/**
 * Copy msg into the queue and wake the consumer (when it was empty; while
 * wake-ups are deferred, when it reaches half its capacity)
 *
 * @return 0, or ENOBUFS if full (the message is counted as dropped)
 */
int sw_mq_push(struct sw_mq *mq, const void *msg)
{
	uint64_t one = 1;
	bool wake;

	pthread_mutex_lock(&mq->lock);
	if (mq->count == mq->cap) {
		mq->dropped++;
		pthread_mutex_unlock(&mq->lock);
		return ENOBUFS;
	}
	memcpy(mq->ring + ((mq->head + mq->count) % mq->cap) * mq->msg_size,
	       msg, mq->msg_size);
	wake = mq->defer ? ++mq->count == (mq->cap + 1) / 2
			 : mq->count++ == 0;
	pthread_mutex_unlock(&mq->lock);
	if (wake && write(mq->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated, the consumer is awake anyway */
	}
	return 0;
}


/** Pop one message; false when the queue is empty */
bool sw_mq_pop(struct sw_mq *mq, void *msg)
{
	pthread_mutex_lock(&mq->lock);
	if (!mq->count) {
		pthread_mutex_unlock(&mq->lock);
		return false;
	}
	memcpy(msg, mq->ring + mq->head * mq->msg_size, mq->msg_size);
	mq->head = (mq->head + 1) % mq->cap;
	mq->count--;
	pthread_mutex_unlock(&mq->lock);
	return true;
}


/** Clear the eventfd; call before popping until empty */
void sw_mq_drain_fd(struct sw_mq *mq)
{
	uint64_t v;

	if (read(mq->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending */
	}
}


/**
 * Defer producers' wake-ups (on: the consumer will look again by itself
 * soon) or wake it on the next push again (off)
 *
 * @return the messages queued now: after turning deferral off, a
 *         consumer about to sleep must pop them first (no push woke it)
 */
size_t sw_mq_defer(struct sw_mq *mq, bool on)
{
	size_t n;

	pthread_mutex_lock(&mq->lock);
	mq->defer = on;
	n = mq->count;
	pthread_mutex_unlock(&mq->lock);
	return n;
}


size_t sw_mq_dropped(const struct sw_mq *mq)
{
	size_t d;

	pthread_mutex_lock((pthread_mutex_t *)&mq->lock);
	d = mq->dropped;
	pthread_mutex_unlock((pthread_mutex_t *)&mq->lock);
	return d;
}
