/* lists.c — the serve policies' request lists (lists.h). */
#include <errno.h>
#include <stdlib.h>

#include "lists.h"

static int fifo_grow(struct sl_fifo *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 64;
	uint32_t *v = malloc((size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < q->len; i++)
		v[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = v;
	q->head = 0;
	q->cap = cap;
	return 0;
}

int sl_fifo_push(struct sl_fifo *q, uint32_t x)
{
	if (q->len == q->cap && fifo_grow(q))
		return -ENOMEM;
	q->v[(q->head + q->len++) % q->cap] = x;
	return 0;
}

int sl_fifo_push_front(struct sl_fifo *q, uint32_t x)
{
	if (q->len == q->cap && fifo_grow(q))
		return -ENOMEM;
	q->head = (q->head + q->cap - 1) % q->cap;
	q->v[q->head] = x;
	q->len++;
	return 0;
}

int sl_fifo_insert_by(struct sl_fifo *q, uint32_t x,
                      int (*before)(uint32_t, uint32_t, const struct xpu_engine *),
                      const struct xpu_engine *ctx)
{
	if (q->len == q->cap && fifo_grow(q))
		return -ENOMEM;
	uint32_t i = q->len; /* from the back: a new arrival usually goes last */
	while (i > 0 && before(x, q->v[(q->head + i - 1) % q->cap], ctx)) {
		q->v[(q->head + i) % q->cap] = q->v[(q->head + i - 1) % q->cap];
		i--;
	}
	q->v[(q->head + i) % q->cap] = x;
	q->len++;
	return 0;
}

uint32_t sl_fifo_peek(const struct sl_fifo *q)
{
	return q->v[q->head];
}

uint32_t sl_fifo_pop(struct sl_fifo *q)
{
	uint32_t x = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return x;
}

void sl_fifo_free(struct sl_fifo *q)
{
	free(q->v);
	*q = (struct sl_fifo){0};
}

int sl_list_add(struct sl_list *l, uint32_t x)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *v = realloc(l->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

int sl_list_remove(struct sl_list *l, uint32_t x)
{
	for (uint32_t i = l->n; i-- > 0;)
		if (l->v[i] == x) {
			for (uint32_t j = i + 1; j < l->n; j++)
				l->v[j - 1] = l->v[j];
			l->n--;
			return 1;
		}
	return 0;
}

void sl_list_free(struct sl_list *l)
{
	free(l->v);
	*l = (struct sl_list){0};
}

struct sl_rep *sl_reps_new(const struct xpu_engine *e)
{
	return calloc((size_t)xpu_nreplicas(e) + 1, sizeof(struct sl_rep));
}

void sl_reps_free(struct sl_rep *r, int n)
{
	for (int i = 0; r && i < n; i++) {
		sl_fifo_free(&r[i].waiting);
		sl_fifo_free(&r[i].swapped);
		sl_list_free(&r[i].running);
		sl_list_free(&r[i].moving);
	}
	free(r);
}
