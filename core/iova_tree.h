/* SPDX-License-Identifier: MIT */
/*
 * An ordered map of non-overlapping IOVA windows: an intrusive AVL tree keyed
 * by the window start. Insert, remove and lookup are O(log n); iteration in
 * order is a lookup per step (no parent pointers, to keep nodes small).
 *
 * The tree does no locking and no allocation; its user embeds a node in each
 * window and serialises access.
 */
#ifndef UVFIO_CORE_IOVA_TREE_H
#define UVFIO_CORE_IOVA_TREE_H

#include <stdint.h>

struct iova_node {
	struct iova_node *left, *right;
	uint64_t start; /* first byte */
	uint64_t last;	/* last byte, inclusive: a window may end at 2^64 - 1 */
	int height;	/* of the subtree rooted here; a leaf is 1 */
};

struct iova_tree {
	struct iova_node *root;
	uint32_t count;
};

void iova_tree_init(struct iova_tree *t);

/* Link n ([n->start, n->last] set by the caller). -EEXIST if it overlaps. */
int iova_tree_insert(struct iova_tree *t, struct iova_node *n);
/* Unlink n, which must be in t. */
void iova_tree_remove(struct iova_tree *t, struct iova_node *n);

/* The node containing addr, or NULL. */
struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t addr);
/* The first node that ends at or after addr (contains it or lies above). */
struct iova_node *iova_tree_first_from(const struct iova_tree *t, uint64_t addr);
/* The lowest node overlapping [start, last], or NULL. */
struct iova_node *iova_tree_first_overlap(const struct iova_tree *t,
					  uint64_t start, uint64_t last);
/* The node after n in iova order, or NULL. */
struct iova_node *iova_tree_next(const struct iova_tree *t,
				 const struct iova_node *n);

#endif
