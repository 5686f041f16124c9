/**
 * @file sw_idmap.h  Objects by a 64-bit id in O(1): an intrusive hash table
 * whose bucket array doubles as objects are added, so a chain stays about
 * one long whatever the number of calls (the SIP thread looks a call up by
 * id several times per app-sharing call; a list or a fixed table made each
 * lookup grow with the number of calls held).
 *
 * The object embeds a struct sw_idmap_node and is found back from it with
 * sw_idmap_entry(). No allocation per object; the bucket array is the only
 * memory (8 bytes per bucket, at most two buckets per object held).
 */
#ifndef SW_IDMAP_H
#define SW_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct sw_idmap_node {
	struct sw_idmap_node *next;
	uint64_t id;
};

struct sw_idmap {
	struct sw_idmap_node **b; /* NULL until the first add */
	size_t n_b;               /* a power of two, or 0 */
	size_t n;
};

#define sw_idmap_entry(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* Add node (node->id set; ids unique): 0, or ENOMEM when even the first
 * bucket array could not be had (a failed growth keeps the old one) */
int sw_idmap_add(struct sw_idmap *m, struct sw_idmap_node *node);
struct sw_idmap_node *sw_idmap_find(const struct sw_idmap *m, uint64_t id);
/* Remove node if it is in m */
void sw_idmap_remove(struct sw_idmap *m, struct sw_idmap_node *node);
/* The bucket array goes; the objects are the caller's */
void sw_idmap_free(struct sw_idmap *m);

#endif
