/**
 * @file sw_idmap.c  Objects by a 64-bit id: see sw_idmap.h. Ids are mixed
 * before masking (a call's ids are sequential, but nothing here relies on
 * it), and the table doubles once it holds more objects than buckets.
 */
#include <errno.h>
#include <stdlib.h>

#include "sw_idmap.h"

#define IDMAP_MIN 64


static size_t slot(uint64_t id, size_t n_b)
{
	id ^= id >> 33; /* murmur3's finaliser: every id bit reaches the mask */
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (n_b - 1);
}


/* Rehash into n_b buckets: 0, or ENOMEM with m unchanged */
static int grow(struct sw_idmap *m, size_t n_b)
{
	struct sw_idmap_node **b = calloc(n_b, sizeof(*b));

	if (!b)
		return ENOMEM;
	for (size_t i = 0; i < m->n_b; ++i) {
		struct sw_idmap_node *e = m->b[i], *next;

		for (; e; e = next) {
			size_t s = slot(e->id, n_b);

			next = e->next;
			e->next = b[s];
			b[s] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->n_b = n_b;
	return 0;
}


int sw_idmap_add(struct sw_idmap *m, struct sw_idmap_node *node)
{
	size_t s;

	if (!m->n_b || m->n >= m->n_b) {
		int err = grow(m, m->n_b ? m->n_b * 2 : IDMAP_MIN);

		if (err && !m->n_b)
			return err;
	}
	s = slot(node->id, m->n_b);
	node->next = m->b[s];
	m->b[s] = node;
	m->n++;
	return 0;
}


struct sw_idmap_node *sw_idmap_find(const struct sw_idmap *m, uint64_t id)
{
	struct sw_idmap_node *e;

	if (!m->n_b)
		return NULL;
	for (e = m->b[slot(id, m->n_b)]; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}


void sw_idmap_remove(struct sw_idmap *m, struct sw_idmap_node *node)
{
	struct sw_idmap_node **pp;

	if (!m->n_b)
		return;
	for (pp = &m->b[slot(node->id, m->n_b)]; *pp; pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			m->n--;
			return;
		}
}


void sw_idmap_free(struct sw_idmap *m)
{
	free(m->b);
	m->b = NULL;
	m->n_b = m->n = 0;
}
