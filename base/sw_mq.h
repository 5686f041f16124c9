/**
 * @file sw_mq.h  Value-message queue between threads.
 *
 * The SIP thread, the relay threads and the call-log writer share nothing:
 * they exchange fixed-size messages copied by value (ids, addresses,
 * numbers; never pointers into another thread's objects). The reader
 * waits on sw_mq_fd() (an eventfd) in its own loop: su_root_register() on
 * the SIP thread, epoll on a relay thread.
 */
#ifndef SW_MQ_H
#define SW_MQ_H

#include <stdbool.h>
#include <stddef.h>

struct sw_mq;

int sw_mq_alloc(struct sw_mq **mqp, size_t msg_size, size_t capacity);
void sw_mq_free(struct sw_mq *mq);
int sw_mq_fd(const struct sw_mq *mq);
int sw_mq_push(struct sw_mq *mq, const void *msg);
bool sw_mq_pop(struct sw_mq *mq, void *msg);
void sw_mq_drain_fd(struct sw_mq *mq);
void sw_mq_kick(struct sw_mq *mq);
size_t sw_mq_defer(struct sw_mq *mq, bool on);
size_t sw_mq_dropped(const struct sw_mq *mq);

#endif
