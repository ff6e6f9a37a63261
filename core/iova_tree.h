/* SPDX-License-Identifier: MIT */
/*
 * An ordered map of non-overlapping IOVA windows: a B+tree keyed by the
 * window start. Insert, remove and lookup are O(log n); the leaves hold
 * compact {start, last, node} entries so that a lookup in a big map reads a
 * few cache lines of a contiguous index instead of one node per tree level
 * (an AVL tree of 65535 windows was ~17 dependent cache/TLB misses).
 *
 * The tree does no locking; its user embeds a node in each window (for the
 * window's own [start, last]) and serialises access. Insert allocates index
 * nodes and may fail with -ENOMEM; remove never allocates.
 *
 * Each entry also carries a word of the user's (node->data, copied into the
 * leaf at insert) and a tag that lives in the leaf only (the DMA space: the
 * host address; prot and state bits), so that lookups (iova_tree_lookup,
 * iova_tree_seek) answer from the index alone: one cache miss in a big map
 * (the leaf) instead of two (the leaf, then the node).
 */
#ifndef UVFIO_CORE_IOVA_TREE_H
#define UVFIO_CORE_IOVA_TREE_H

#include <stdint.h>

#include "slab.h"

struct iova_node {
	uint64_t start; /* first byte */
	uint64_t last;	/* last byte, inclusive: a window may end at 2^64 - 1 */
	uint64_t data;	/* the user's: fixed while the node is in a tree */
};

/* What a lookup reads from the index: the node's fields, its tag, the node. */
struct iova_hit {
	struct iova_node *node;
	uint64_t start, last, data;
	uint8_t tag;
};

struct iova_tree {
	void *root;	   /* a leaf if height == 1, NULL if empty */
	void *spare;	   /* free index nodes, linked through their first word */
	uint32_t count;	   /* entries */
	uint32_t height;   /* levels; 0 when empty */
	uint32_t nspare;
	struct slab nodes; /* the index: leaves and inner nodes */
};

/* 0, or a negative errno. */
int iova_tree_init(struct iova_tree *t);
/* Free the index (the tree must be empty: the nodes belong to the caller). */
void iova_tree_fini(struct iova_tree *t);

/* Link n ([n->start, n->last], n->data set by the caller) with its tag.
 * -EEXIST if it overlaps. */
int iova_tree_insert(struct iova_tree *t, struct iova_node *n, uint8_t tag);
/* Unlink n, which must be in t. */
void iova_tree_remove(struct iova_tree *t, struct iova_node *n);
/* The same for the node that starts at start, without reading the node. */
void iova_tree_remove_at(struct iova_tree *t, uint64_t start);

/* The node containing addr, or NULL. */
struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t addr);
/* The same from the index, without reading the node: 1 if found. */
int iova_tree_lookup(const struct iova_tree *t, uint64_t addr, struct iova_hit *hit);
/* The first node that ends at or after addr, from the index: 1 if any. */
int iova_tree_seek(const struct iova_tree *t, uint64_t addr, struct iova_hit *hit);
/* Change the tag of the node that starts at start (which must be in t). */
void iova_tree_set_tag(struct iova_tree *t, uint64_t start, uint8_t tag);
/* OR bits into the tags of every node overlapping [start, last]; returns
 * the bytes those nodes cover (UINT64_MAX if that does not fit). */
uint64_t iova_tree_or_tags(struct iova_tree *t, uint64_t start, uint64_t last, uint8_t bits);
/* The first node that ends at or after addr (contains it or lies above). */
struct iova_node *iova_tree_first_from(const struct iova_tree *t, uint64_t addr);
/* The lowest node overlapping [start, last], or NULL. */
struct iova_node *iova_tree_first_overlap(const struct iova_tree *t,
					  uint64_t start, uint64_t last);
/* The node after n in iova order, or NULL. */
struct iova_node *iova_tree_next(const struct iova_tree *t,
				 const struct iova_node *n);

/* For tests: 0 if every B+tree invariant holds, else -EINVAL. */
int iova_tree_check(const struct iova_tree *t);

#endif
