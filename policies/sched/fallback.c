/* fallback.c — a fallback chain over unit kinds: a task is offered to the kinds in
 * the configured order (parameter order, kinds separated by '/', default
 * npu/gpu/cpu), to the unit of that kind predicted free first. It moves to the next
 * kind when no unit of the current kind can run its class, or when its launch there
 * fails (on_failed: the engine takes it back and reports it ready again). Kinds not
 * named come after the named ones, in enum order, so that no task is lost for want
 * of a kind. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

struct fb {
	int order[XPU_KIND_COUNT];
	unsigned char *pos; /* per task: position in order to try next */
};

static int fb_init(struct xpu_sched *s)
{
	struct fb *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->priv = f;
	f->pos = calloc((size_t)xpu_ntasks(s->eng) + 1, 1);
	if (!f->pos)
		return -ENOMEM;
	char buf[256];
	const char *spec = xpu_param_str(s->param, s->nparams, "order", "npu/gpu/cpu");
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	int seen[XPU_KIND_COUNT] = {0}, n = 0;
	for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save)) {
		int kind = xpu_kind_parse(k);
		if (kind < 0 || seen[kind])
			return -EINVAL; /* unknown or repeated kind */
		seen[kind] = 1;
		f->order[n++] = kind;
	}
	for (int k = 0; k < XPU_KIND_COUNT; k++)
		if (!seen[k])
			f->order[n++] = k;
	return 0;
}

static void fb_fini(struct xpu_sched *s)
{
	struct fb *f = s->priv;
	if (!f)
		return;
	free(f->pos);
	free(f);
}

static void fb_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct fb *f = s->priv;
	struct xpu_engine *e = s->eng;
	if (t->unit >= 0)
		return;
	for (; f->pos[t->index] < XPU_KIND_COUNT; f->pos[t->index]++) {
		int kind = f->order[f->pos[t->index]], best = -1;
		double best_avail = INFINITY;
		for (int u = 0; u < xpu_nunits(e); u++) {
			if (xpu_unit_at(e, u)->kind != kind || !xpu_can_run(e, t, u))
				continue;
			double a = xpu_unit_avail(e, u);
			if (best < 0 || a < best_avail) {
				best = u;
				best_avail = a;
			}
		}
		if (best >= 0) {
			xpu_place(e, t, best, xpu_now(e));
			return;
		}
	}
}

static int fb_on_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	struct fb *f = s->priv;
	struct xpu_engine *e = s->eng;
	int kind = xpu_unit_at(e, u)->kind;
	/* skip past the failed kind; retry only if a later kind can run the task */
	while (f->pos[t->index] < XPU_KIND_COUNT && f->order[f->pos[t->index]] != kind)
		f->pos[t->index]++;
	f->pos[t->index]++;
	for (int p = f->pos[t->index]; p < XPU_KIND_COUNT; p++)
		for (int v = 0; v < xpu_nunits(e); v++)
			if (xpu_unit_at(e, v)->kind == f->order[p] && xpu_can_run(e, t, v))
				return 1;
	return 0;
}

static const struct xpu_param_spec fb_params[] = {
    {"order", XPU_PARAM_KINDS, 0, 0, "kinds to try, '/'-separated (default npu/gpu/cpu)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_sched_ops xpu_sched_fallback = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "fallback",
             .description = "kinds tried in order (order=npu/gpu/cpu); next kind on failure",
             .params = fb_params},
    .init = fb_init,
    .fini = fb_fini,
    .on_ready = fb_on_ready,
    .on_failed = fb_on_failed,
};
