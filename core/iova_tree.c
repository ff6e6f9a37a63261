/* SPDX-License-Identifier: MIT */
/*
 * AVL tree of non-overlapping IOVA windows. Balanced rather than a sorted
 * array because maps arrive in any order and the type1 entry limit (65535)
 * would make memmove-on-insert quadratic.
 */
#include <errno.h>
#include <stddef.h>

#include "iova_tree.h"

void iova_tree_init(struct iova_tree *t)
{
	t->root = NULL;
	t->count = 0;
}

static int height(const struct iova_node *n)
{
	return n ? n->height : 0;
}

static void update(struct iova_node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = 1 + (l > r ? l : r);
}

static struct iova_node *rotate_right(struct iova_node *y)
{
	struct iova_node *x = y->left;

	y->left = x->right;
	x->right = y;
	update(y);
	update(x);
	return x;
}

static struct iova_node *rotate_left(struct iova_node *x)
{
	struct iova_node *y = x->right;

	x->right = y->left;
	y->left = x;
	update(x);
	update(y);
	return y;
}

/* Restore the AVL invariant at n after one of its subtrees changed by one. */
static struct iova_node *rebalance(struct iova_node *n)
{
	int bf;

	update(n);
	bf = height(n->left) - height(n->right);
	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct iova_node *insert(struct iova_node *root, struct iova_node *n)
{
	struct iova_node **link;
	int h;

	if (!root)
		return n;
	link = n->start < root->start ? &root->left : &root->right;
	h = height(*link);
	*link = insert(*link, n);
	/*
	 * A subtree whose height did not change leaves every ancestor as it
	 * was: skip rebalance, which would read the sibling (a cache miss in
	 * a big tree) at every level.
	 */
	if ((*link)->height == h)
		return root;
	return rebalance(root);
}

int iova_tree_insert(struct iova_tree *t, struct iova_node *n)
{
	if (n->last < n->start)
		return -EINVAL;
	/* Starts are unique once overlaps are excluded, so order is total. */
	if (iova_tree_first_overlap(t, n->start, n->last))
		return -EEXIST;
	n->left = n->right = NULL;
	n->height = 1;
	t->root = insert(t->root, n);
	t->count++;
	return 0;
}

static struct iova_node *remove_min(struct iova_node *root,
				    struct iova_node **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = remove_min(root->left, min);
	return rebalance(root);
}

static struct iova_node *remove(struct iova_node *root, uint64_t start)
{
	struct iova_node *l, *r, *m;

	if (!root)
		return NULL;
	if (start < root->start) {
		root->left = remove(root->left, start);
	} else if (start > root->start) {
		root->right = remove(root->right, start);
	} else {
		/* Intrusive: relink the successor in place of root, no key copy. */
		l = root->left;
		r = root->right;
		if (!r)
			return l;
		r = remove_min(r, &m);
		m->left = l;
		m->right = r;
		return rebalance(m);
	}
	return rebalance(root);
}

void iova_tree_remove(struct iova_tree *t, struct iova_node *n)
{
	t->root = remove(t->root, n->start);
	n->left = n->right = NULL;
	t->count--;
}

struct iova_node *iova_tree_first_from(const struct iova_tree *t, uint64_t addr)
{
	struct iova_node *n = t->root, *best = NULL;

	/* Windows are disjoint, so ends are ordered like starts. */
	while (n) {
		if (n->last >= addr) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t addr)
{
	struct iova_node *n = t->root;

	/*
	 * The hot path of every access: stop at the containing node. In a big
	 * tree each level is a cache miss and the direction a coin toss, so
	 * fetch both children while the comparison resolves.
	 */
	while (n) {
		__builtin_prefetch(n->left);
		__builtin_prefetch(n->right);
		if (addr < n->start)
			n = n->left;
		else if (addr > n->last)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

struct iova_node *iova_tree_first_overlap(const struct iova_tree *t,
					  uint64_t start, uint64_t last)
{
	struct iova_node *n = iova_tree_first_from(t, start);

	return n && n->start <= last ? n : NULL;
}

struct iova_node *iova_tree_next(const struct iova_tree *t,
				 const struct iova_node *n)
{
	if (n->last == UINT64_MAX)
		return NULL;
	return iova_tree_first_from(t, n->last + 1);
}
