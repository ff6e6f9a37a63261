/* SPDX-License-Identifier: MIT */
/*
 * B+tree of non-overlapping IOVA windows. Balanced rather than a sorted
 * array because maps arrive in any order and the type1 entry limit (65535)
 * would make memmove-on-insert quadratic; a B+tree rather than a binary tree
 * because a lookup in a binary tree of 65535 windows is ~17 dependent cache
 * and TLB misses, one per level, while here the inner levels are small and
 * hot and a leaf is nine cache lines (starts, lasts, nodes, data, tags),
 * fetched at once: a lookup that needs only the index (iova_tree_lookup)
 * costs one miss in a map that does not fit the caches.
 *
 * Invariants: all leaves at depth height; every leaf and inner node but the
 * root holds at least half of its capacity; entries are sorted by start and
 * do not overlap; inner key[i] bounds child i from above and child i + 1
 * from below (child i < key[i] <= child i + 1). A key may be stale (lower
 * than the child's first start after a removal): lookups still land in the
 * right child, and the leaves are doubly linked so the predecessor of an
 * address is found even when it sits at the end of the previous leaf.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iova_tree.h"

#define LEAF_MAX 16
#define LEAF_MIN (LEAF_MAX / 2)
#define INNER_MAX 16 /* children */
#define INNER_MIN (INNER_MAX / 2)

struct leaf {
	uint64_t start[LEAF_MAX];
	uint64_t last[LEAF_MAX];
	struct iova_node *node[LEAF_MAX];
	uint64_t data[LEAF_MAX]; /* copies of node->data */
	uint8_t tag[LEAF_MAX];	 /* the tags (not in the nodes) */
	struct leaf *prev, *next;
	uint32_t n;
};

struct inner {
	uint64_t key[INNER_MAX - 1];
	void *child[INNER_MAX];
	uint32_t n; /* children */
};

union bnode {
	void *free_next;
	struct leaf leaf;
	struct inner inner;
};

/* ---- node allocation: a few spares are reserved before an insert ---- */

static void *node_take(struct iova_tree *t)
{
	union bnode *b = t->spare;

	t->spare = b->free_next;
	b->free_next = NULL;
	t->nspare--;
	return b; /* zeroed by reserve() */
}

static void node_give(struct iova_tree *t, void *p)
{
	union bnode *b = p;

	/* keep enough for the next insert (height + 1 splits), free the rest */
	if (t->nspare > t->height + 2) {
		slab_free(&t->nodes, b);
		return;
	}
	memset(b, 0, sizeof(*b));
	b->free_next = t->spare;
	t->spare = b;
	t->nspare++;
}

static int reserve(struct iova_tree *t, uint32_t want)
{
	while (t->nspare < want) {
		union bnode *b = slab_alloc(&t->nodes);

		if (!b)
			return -ENOMEM;
		b->free_next = t->spare;
		t->spare = b;
		t->nspare++;
	}
	return 0;
}

int iova_tree_init(struct iova_tree *t)
{
	memset(t, 0, sizeof(*t));
	return slab_init(&t->nodes, sizeof(union bnode));
}

/* The slab holds every index node, spare or linked. */
void iova_tree_fini(struct iova_tree *t)
{
	slab_fini(&t->nodes);
	memset(t, 0, sizeof(*t));
}

/* ---- search ---- */

/* The number of keys <= addr: the child to descend into. */
static inline uint32_t inner_slot(const struct inner *in, uint64_t addr)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i + 1 < in->n; i++)
		c += in->key[i] <= addr;
	return c;
}

/* The number of entries starting at or below addr. */
static inline uint32_t leaf_slot(const struct leaf *l, uint64_t addr)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < l->n; i++)
		c += l->start[i] <= addr;
	return c;
}

/*
 * Fetch a whole node at once: its cache lines then miss in parallel instead
 * of one after another (keys, then the child or last/node the scan picks).
 */
static inline void fetch(const void *p, size_t bytes)
{
	for (size_t off = 0; off < bytes; off += 64)
		__builtin_prefetch((const char *)p + off);
}

/*
 * Whole-node fetches pay off once the index no longer fits the caches; in
 * a small tree the nodes are in L1 and the prefetches are a third of a
 * lookup. 8192 windows are ~500 leaves, ~300 KiB: L2 holds them.
 */
#define FETCH_MIN 8192

static inline struct leaf *descend(const struct iova_tree *t, uint64_t addr)
{
	bool big = t->count >= FETCH_MIN;
	void *p = t->root;

	for (uint32_t h = t->height; h > 1; h--) {
		if (big)
			fetch(p, sizeof(struct inner));
		p = ((struct inner *)p)->child[inner_slot(p, addr)];
	}
	if (p && big)
		fetch(p, sizeof(struct leaf));
	return p;
}

/* The leaf and slot of the entry containing addr: 1 if there is one. */
static inline int locate(const struct iova_tree *t, uint64_t addr, struct leaf **lp,
			 uint32_t *ip)
{
	struct leaf *l = descend(t, addr);
	uint32_t i;

	if (!l)
		return 0;
	i = leaf_slot(l, addr);
	if (!i) {
		l = l->prev;
		if (!l)
			return 0;
		i = l->n;
	}
	if (l->last[i - 1] < addr)
		return 0;
	*lp = l;
	*ip = i - 1;
	return 1;
}

struct iova_node *iova_tree_find(const struct iova_tree *t, uint64_t addr)
{
	struct leaf *l;
	uint32_t i;

	return locate(t, addr, &l, &i) ? l->node[i] : NULL;
}

static inline void fill(struct iova_hit *hit, const struct leaf *l, uint32_t i)
{
	hit->node = l->node[i];
	hit->start = l->start[i];
	hit->last = l->last[i];
	hit->data = l->data[i];
	hit->tag = l->tag[i];
}

int iova_tree_lookup(const struct iova_tree *t, uint64_t addr, struct iova_hit *hit)
{
	struct leaf *l;
	uint32_t i;

	if (!locate(t, addr, &l, &i))
		return 0;
	fill(hit, l, i);
	return 1;
}

void iova_tree_set_tag(struct iova_tree *t, uint64_t start, uint8_t tag)
{
	struct leaf *l;
	uint32_t i;

	if (locate(t, start, &l, &i))
		l->tag[i] = tag;
}

/* The leaf and slot of the first entry that ends at or after addr. */
static int seek(const struct iova_tree *t, uint64_t addr, struct leaf **lp, uint32_t *ip)
{
	struct leaf *l = descend(t, addr);
	uint32_t i;

	if (!l)
		return 0;
	i = leaf_slot(l, addr);
	/* the predecessor (last start <= addr) if it reaches addr */
	if (i) {
		if (l->last[i - 1] >= addr) {
			*lp = l;
			*ip = i - 1;
			return 1;
		}
	} else if (l->prev && l->prev->last[l->prev->n - 1] >= addr) {
		*lp = l->prev;
		*ip = l->prev->n - 1;
		return 1;
	}
	/* else the first entry starting above addr */
	if (i == l->n) {
		l = l->next;
		i = 0;
		if (!l)
			return 0;
	}
	*lp = l;
	*ip = i;
	return 1;
}

int iova_tree_seek(const struct iova_tree *t, uint64_t addr, struct iova_hit *hit)
{
	struct leaf *l;
	uint32_t i;

	if (!seek(t, addr, &l, &i))
		return 0;
	fill(hit, l, i);
	return 1;
}

uint64_t iova_tree_or_tags(struct iova_tree *t, uint64_t start, uint64_t last, uint8_t bits)
{
	uint64_t total = 0;
	struct leaf *l;
	uint32_t i;

	if (!seek(t, start, &l, &i))
		return 0;
	for (; l; l = l->next, i = 0) {
		for (; i < l->n; i++) {
			if (l->start[i] > last)
				return total;
			l->tag[i] |= bits;
			if (__builtin_add_overflow(total, l->last[i] - l->start[i] + 1, &total))
				total = UINT64_MAX; /* entries covering all of 2^64 */
		}
	}
	return total;
}

struct iova_node *iova_tree_first_from(const struct iova_tree *t, uint64_t addr)
{
	struct leaf *l;
	uint32_t i;

	return seek(t, addr, &l, &i) ? l->node[i] : NULL;
}

struct iova_node *iova_tree_first_overlap(const struct iova_tree *t,
					  uint64_t start, uint64_t last)
{
	struct leaf *l;
	uint32_t i;

	return seek(t, start, &l, &i) && l->start[i] <= last ? l->node[i] : NULL;
}

struct iova_node *iova_tree_next(const struct iova_tree *t,
				 const struct iova_node *n)
{
	if (n->last == UINT64_MAX)
		return NULL;
	return iova_tree_first_from(t, n->last + 1);
}

/* ---- insert ---- */

static void leaf_put(struct leaf *l, uint32_t i, struct iova_node *n, uint8_t tag)
{
	l->start[i] = n->start;
	l->last[i] = n->last;
	l->node[i] = n;
	l->data[i] = n->data;
	l->tag[i] = tag;
}

/* One entry from (src, si) to (dst, di): the five arrays move together. */
static inline void entry_copy(struct leaf *dst, uint32_t di, const struct leaf *src, uint32_t si)
{
	dst->start[di] = src->start[si];
	dst->last[di] = src->last[si];
	dst->node[di] = src->node[si];
	dst->data[di] = src->data[si];
	dst->tag[di] = src->tag[si];
}

/*
 * Entry loops rather than five memmove calls: at most LEAF_MAX entries,
 * and the calls' fixed cost was a tenth of a map or unmap.
 */
static void leaf_shift(struct leaf *l, uint32_t from, int by)
{
	if (by > 0) {
		for (uint32_t i = l->n; i-- > from;)
			entry_copy(l, i + (uint32_t)by, l, i);
	} else {
		for (uint32_t i = from; i < l->n; i++)
			entry_copy(l, i - (uint32_t)-by, l, i);
	}
}

/* dst and src are different leaves, or the same with di <= si. */
static void leaf_move(struct leaf *dst, uint32_t di, const struct leaf *src, uint32_t si,
		      uint32_t cnt)
{
	for (uint32_t k = 0; k < cnt; k++)
		entry_copy(dst, di + k, src, si + k);
}

/* Insert into leaf l; on a split returns the new right sibling and its separator. */
static struct leaf *leaf_insert(struct iova_tree *t, struct leaf *l, struct iova_node *n,
				uint8_t tag, uint64_t *sep)
{
	uint32_t i = leaf_slot(l, n->start), k;
	struct leaf *r;

	if (l->n < LEAF_MAX) {
		leaf_shift(l, i, 1);
		leaf_put(l, i, n, tag);
		l->n++;
		return NULL;
	}
	r = node_take(t);
	k = (LEAF_MAX + 1) / 2 + 1; /* entries left of the split, of LEAF_MAX + 1 */
	if (i < k) {
		leaf_move(r, 0, l, k - 1, LEAF_MAX - (k - 1));
		r->n = LEAF_MAX - (k - 1);
		l->n = k - 1;
		leaf_shift(l, i, 1);
		leaf_put(l, i, n, tag);
		l->n++;
	} else {
		leaf_move(r, 0, l, k, LEAF_MAX - k);
		r->n = LEAF_MAX - k;
		l->n = k;
		i -= k;
		leaf_shift(r, i, 1);
		leaf_put(r, i, n, tag);
		r->n++;
	}
	r->next = l->next;
	r->prev = l;
	if (l->next)
		l->next->prev = r;
	l->next = r;
	*sep = r->start[0];
	return r;
}

/* Put child r (separated by sep) right of child c. */
static struct inner *inner_insert(struct iova_tree *t, struct inner *in, uint32_t c, void *r,
				  uint64_t sep, uint64_t *up)
{
	uint64_t keys[INNER_MAX];
	void *kids[INNER_MAX + 1];
	struct inner *nr;
	uint32_t k;

	if (in->n < INNER_MAX) {
		memmove(&in->key[c + 1], &in->key[c], (in->n - 1 - c) * sizeof(in->key[0]));
		memmove(&in->child[c + 2], &in->child[c + 1], (in->n - 1 - c) * sizeof(in->child[0]));
		in->key[c] = sep;
		in->child[c + 1] = r;
		in->n++;
		return NULL;
	}
	/* INNER_MAX + 1 children, INNER_MAX keys: split, push the middle key up */
	memcpy(keys, in->key, c * sizeof(keys[0]));
	keys[c] = sep;
	memcpy(&keys[c + 1], &in->key[c], (INNER_MAX - 1 - c) * sizeof(keys[0]));
	memcpy(kids, in->child, (c + 1) * sizeof(kids[0]));
	kids[c + 1] = r;
	memcpy(&kids[c + 2], &in->child[c + 1], (INNER_MAX - 1 - c) * sizeof(kids[0]));
	nr = node_take(t);
	k = (INNER_MAX + 2) / 2; /* children kept left */
	memcpy(in->child, kids, k * sizeof(kids[0]));
	memcpy(in->key, keys, (k - 1) * sizeof(keys[0]));
	in->n = k;
	*up = keys[k - 1];
	nr->n = INNER_MAX + 1 - k;
	memcpy(nr->child, &kids[k], nr->n * sizeof(kids[0]));
	memcpy(nr->key, &keys[k], (nr->n - 1) * sizeof(keys[0]));
	return nr;
}

static void *insert(struct iova_tree *t, void *p, uint32_t h, struct iova_node *n,
		    uint8_t tag, uint64_t *sep)
{
	struct inner *in = p;
	uint32_t c;
	uint64_t s;
	void *r;

	if (h == 1)
		return leaf_insert(t, p, n, tag, sep);
	c = inner_slot(in, n->start);
	r = insert(t, in->child[c], h - 1, n, tag, &s);
	return r ? inner_insert(t, in, c, r, s, sep) : NULL;
}

int iova_tree_insert(struct iova_tree *t, struct iova_node *n, uint8_t tag)
{
	struct inner *root;
	uint64_t sep;
	void *r;

	if (n->last < n->start)
		return -EINVAL;
	/* Starts are unique once overlaps are excluded, so order is total. */
	if (iova_tree_first_overlap(t, n->start, n->last))
		return -EEXIST;
	/* a split at every level and a new root: never fail half-way */
	if (reserve(t, t->height + 1))
		return -ENOMEM;
	if (!t->root) {
		struct leaf *l = node_take(t);

		leaf_put(l, 0, n, tag);
		l->n = 1;
		t->root = l;
		t->height = 1;
		t->count = 1;
		return 0;
	}
	r = insert(t, t->root, t->height, n, tag, &sep);
	if (r) {
		root = node_take(t);
		root->n = 2;
		root->child[0] = t->root;
		root->child[1] = r;
		root->key[0] = sep;
		t->root = root;
		t->height++;
	}
	t->count++;
	return 0;
}

/* ---- remove ---- */

/* Child c of in has fallen below the minimum: borrow from or merge with a sibling. */
static void fix_child(struct iova_tree *t, struct inner *in, uint32_t c, uint32_t ch)
{
	uint32_t s = c ? c - 1 : c; /* key between the pair (child s, child s + 1) */

	if (ch == 1) {
		struct leaf *l = in->child[s], *r = in->child[s + 1];

		if (l->n + r->n <= LEAF_MAX) {
			leaf_move(l, l->n, r, 0, r->n);
			l->n += r->n;
			l->next = r->next;
			if (r->next)
				r->next->prev = l;
			node_give(t, r);
			goto drop;
		}
		if (l->n > r->n) { /* move l's last to r's front */
			leaf_shift(r, 0, 1);
			leaf_move(r, 0, l, l->n - 1, 1);
			r->n++;
			l->n--;
		} else { /* move r's first to l's end */
			leaf_move(l, l->n, r, 0, 1);
			l->n++;
			leaf_shift(r, 1, -1);
			r->n--;
		}
		in->key[s] = r->start[0];
		return;
	} else {
		struct inner *l = in->child[s], *r = in->child[s + 1];

		if (l->n + r->n <= INNER_MAX) {
			l->key[l->n - 1] = in->key[s];
			memcpy(&l->key[l->n], r->key, (r->n - 1) * sizeof(r->key[0]));
			memcpy(&l->child[l->n], r->child, r->n * sizeof(r->child[0]));
			l->n += r->n;
			node_give(t, r);
			goto drop;
		}
		if (l->n > r->n) { /* rotate right through the parent */
			memmove(&r->key[1], &r->key[0], (r->n - 1) * sizeof(r->key[0]));
			memmove(&r->child[1], &r->child[0], r->n * sizeof(r->child[0]));
			r->key[0] = in->key[s];
			r->child[0] = l->child[l->n - 1];
			in->key[s] = l->key[l->n - 2];
			r->n++;
			l->n--;
		} else { /* rotate left */
			l->key[l->n - 1] = in->key[s];
			l->child[l->n] = r->child[0];
			in->key[s] = r->key[0];
			memmove(&r->key[0], &r->key[1], (r->n - 2) * sizeof(r->key[0]));
			memmove(&r->child[0], &r->child[1], (r->n - 1) * sizeof(r->child[0]));
			l->n++;
			r->n--;
		}
		return;
	}
drop: /* child s + 1 was merged into child s */
	memmove(&in->key[s], &in->key[s + 1], (in->n - 2 - s) * sizeof(in->key[0]));
	memmove(&in->child[s + 1], &in->child[s + 2], (in->n - 2 - s) * sizeof(in->child[0]));
	in->n--;
}

/* Remove the entry starting at start; true if p fell below its minimum. */
static bool remove_at(struct iova_tree *t, void *p, uint32_t h, uint64_t start)
{
	if (h == 1) {
		struct leaf *l = p;
		uint32_t i = leaf_slot(l, start) - 1;

		leaf_shift(l, i + 1, -1);
		l->n--;
		return l->n < LEAF_MIN;
	} else {
		struct inner *in = p;
		uint32_t c = inner_slot(in, start);

		if (remove_at(t, in->child[c], h - 1, start))
			fix_child(t, in, c, h - 1);
		return in->n < INNER_MIN;
	}
}

void iova_tree_remove(struct iova_tree *t, struct iova_node *n)
{
	iova_tree_remove_at(t, n->start);
}

void iova_tree_remove_at(struct iova_tree *t, uint64_t start)
{
	void *old = t->root;

	remove_at(t, t->root, t->height, start);
	t->count--;
	if (t->height == 1 && !((struct leaf *)old)->n) {
		t->root = NULL;
		t->height = 0;
		node_give(t, old);
	} else if (t->height > 1 && ((struct inner *)old)->n == 1) {
		t->root = ((struct inner *)old)->child[0];
		t->height--;
		node_give(t, old);
	}
}

/* ---- invariants, for tests ---- */

struct check_state {
	const struct leaf *prev_leaf;
	uint64_t prev_last;
	bool any;
	uint32_t count;
};

static int check(const void *p, uint32_t h, bool root, uint64_t lo, uint64_t hi, bool hi_open,
		 struct check_state *cs)
{
	if (h == 1) {
		const struct leaf *l = p;

		if (l->n < (root ? 1u : LEAF_MIN) || l->n > LEAF_MAX || l->prev != cs->prev_leaf)
			return -EINVAL;
		if (cs->prev_leaf && cs->prev_leaf->next != l)
			return -EINVAL;
		for (uint32_t i = 0; i < l->n; i++) {
			if (l->start[i] < lo || (!hi_open && l->start[i] >= hi) ||
			    l->last[i] < l->start[i] || l->node[i]->start != l->start[i] ||
			    l->node[i]->last != l->last[i] || l->node[i]->data != l->data[i] ||
			    (cs->any && l->start[i] <= cs->prev_last))
				return -EINVAL;
			cs->prev_last = l->last[i];
			cs->any = true;
			cs->count++;
		}
		cs->prev_leaf = l;
		return 0;
	} else {
		const struct inner *in = p;

		if (in->n < (root ? 2u : INNER_MIN) || in->n > INNER_MAX)
			return -EINVAL;
		for (uint32_t i = 0; i < in->n; i++) {
			uint64_t clo = i ? in->key[i - 1] : lo;
			bool copen = i + 1 == in->n ? hi_open : false;
			uint64_t chi = i + 1 == in->n ? hi : in->key[i];

			if (i + 1 < in->n && (in->key[i] < clo || (!hi_open && in->key[i] > hi)))
				return -EINVAL;
			if (check(in->child[i], h - 1, false, clo, chi, copen, cs))
				return -EINVAL;
		}
		return 0;
	}
}

int iova_tree_check(const struct iova_tree *t)
{
	struct check_state cs = { 0 };

	if (!t->root)
		return t->count || t->height ? -EINVAL : 0;
	if (check(t->root, t->height, true, 0, 0, true, &cs))
		return -EINVAL;
	if (cs.prev_leaf->next || cs.count != t->count)
		return -EINVAL;
	return 0;
}
