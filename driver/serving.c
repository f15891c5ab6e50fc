/* serving.c — the driver's serving run (serving.h): the model, the deployment's
 * replicas and their KV caches, the requests and the policies composed; checks that
 * everything fits before the run; the result file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "models.h"
#include "outfile.h"
#include "platform.h"
#include "registry.h"
#include "serving.h"

/* A replica's KV cache holds at most this many blocks (64 MiB of block tables): a
 * memory without a capacity (0, unlimited) is given this many. */
#define MAX_KV_BLOCKS (1u << 24)

/* ------------------------------------------------------------------ the model */

int xpu_serving_model(const char *catalogue, const char *spec, struct xpu_llm *out,
                      struct xpu_err *err)
{
	char name[128];
	double bpp = 0;
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (len == 0 || len >= sizeof(name))
		return xpu_errf(err, NULL, 0, "--model: expected a model name, got \"%s\"", spec);
	memcpy(name, spec, len);
	name[len] = '\0';
	if (colon) {
		char *end;
		if (strncmp(colon + 1, "bytes=", 6) || !((bpp = strtod(colon + 7, &end)) > 0) ||
		    *end || end == colon + 7 || bpp > 16)
			return xpu_errf(err, NULL, 0,
			                "--model '%s': expected NAME or NAME:bytes=B (bytes per "
			                "weight and cached value, 0 < B <= 16)",
			                spec);
	}
	struct xpu_model *m;
	size_t n;
	int rc = xpu_models_read(catalogue, &m, &n, err);
	if (rc)
		return rc;
	size_t i;
	for (i = 0; i < n && strcasecmp(m[i].name, name); i++)
		;
	if (i == n) {
		char list[1024] = "";
		for (size_t k = 0; k < n; k++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s%s", k ? ", " : "", m[k].name);
		}
		free(m);
		return xpu_errf(err, catalogue, 0, "--model: no model '%s' in the catalogue (%s)",
		                name, list);
	}
	if (bpp > 0)
		m[i].bytes_per_param = bpp;
	xpu_model_llm(&m[i], out);
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ deployments */

void xpu_replicas_free(struct xpu_replica *rep, int n)
{
	for (int i = 0; rep && i < n; i++)
		free(rep[i].units);
	free(rep);
}

struct group {
	int role;
	int *units; /* matching units, platform order */
	int nunits;
	int tp, pp, replicas; /* 0: not given */
	char text[256];
};

static int parse_int_key(const char *k, const char *v, int lo, int hi, int *out, const char *spec,
                         struct xpu_err *err)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || *end || x < lo || x > hi)
		return xpu_errf(err, NULL, 0,
		                "--deploy '%s': %s: expected a whole number from %d to %d, got "
		                "\"%s\"",
		                spec, k, lo, hi, v);
	*out = (int)x;
	return 0;
}

/* The kind a deployment takes by default: the first accelerator kind that runs
 * llm-decode, else the CPUs. */
static int default_kind(const struct xpu_platform *pf)
{
	for (int u = 0; u < pf->nunits; u++)
		if (pf->units[u].kind != XPU_KIND_CPU &&
		    xpu_unit_rate(&pf->units[u], XPU_CLASS_LLM_DECODE, 0) > 0)
			return pf->units[u].kind;
	return XPU_KIND_CPU;
}

/* One group "[role=]TARGET[:k=v,...]" of spec. */
static int parse_group(char *g, const struct xpu_platform *pf, const char *spec, struct group *out,
                       struct xpu_err *err)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", g);
	char *params = strchr(g, ':');
	if (params)
		*params++ = '\0';
	char *eq = strchr(g, '=');
	char *target = g;
	if (eq) {
		*eq = '\0';
		target = eq + 1;
		if (!strcmp(g, "prefill"))
			out->role = XPU_ROLE_PREFILL;
		else if (!strcmp(g, "decode"))
			out->role = XPU_ROLE_DECODE;
		else if (!strcmp(g, "both"))
			out->role = XPU_ROLE_BOTH;
		else
			return xpu_errf(
			    err, NULL, 0,
			    "--deploy '%s': unknown role '%s' (expected prefill, decode "
			    "or both)",
			    spec, g);
	}
	if (!*target)
		return xpu_errf(err, NULL, 0, "--deploy '%s': expected a unit kind or unit names",
		                spec);
	out->units = calloc((size_t)pf->nunits + 1, sizeof(int));
	if (!out->units)
		return -ENOMEM;
	int kind = !strcmp(target, "auto") ? default_kind(pf) : xpu_kind_parse(target);
	if (kind >= 0) {
		for (int u = 0; u < pf->nunits; u++)
			if (pf->units[u].kind == kind)
				out->units[out->nunits++] = u;
		if (!out->nunits)
			return xpu_errf(err, pf->path, 0,
			                "--deploy '%s': the platform has no %s unit", spec, target);
	} else {
		for (char *name = strtok(target, "/"); name; name = strtok(NULL, "/")) {
			int u;
			for (u = 0; u < pf->nunits && strcmp(pf->units[u].name, name); u++)
				;
			if (u == pf->nunits)
				return xpu_errf(
				    err, pf->path, 0,
				    "--deploy '%s': '%s' is neither a unit kind nor a unit "
				    "of the platform",
				    spec, name);
			for (int k = 0; k < out->nunits; k++)
				if (out->units[k] == u)
					return xpu_errf(err, NULL, 0,
					                "--deploy '%s': unit '%s' named twice",
					                spec, name);
			out->units[out->nunits++] = u;
		}
	}
	for (char *kv = params ? strtok(params, ",") : NULL; kv; kv = strtok(NULL, ",")) {
		char *v = strchr(kv, '=');
		if (!v)
			return xpu_errf(err, NULL, 0,
			                "--deploy '%s': expected key=value, got \"%s\"", spec, kv);
		*v++ = '\0';
		int rc, *slot = !strcmp(kv, "tp") ? &out->tp : !strcmp(kv, "pp") ? &out->pp
		                                     : !strcmp(kv, "replicas") ? &out->replicas
		                                                                : NULL;
		if (slot && *slot)
			return xpu_errf(err, NULL, 0, "--deploy '%s': %s given twice", spec, kv);
		if (!strcmp(kv, "tp"))
			rc = parse_int_key(kv, v, 1, 4096, &out->tp, spec, err);
		else if (!strcmp(kv, "pp"))
			rc = parse_int_key(kv, v, 1, 4096, &out->pp, spec, err);
		else if (!strcmp(kv, "replicas"))
			rc = parse_int_key(kv, v, 1, 1 << 20, &out->replicas, spec, err);
		else
			rc = xpu_errf(
			    err, NULL, 0,
			    "--deploy '%s': unknown key '%s' (expected tp, pp or replicas)", spec,
			    kv);
		if (rc)
			return rc;
	}
	return 0;
}

/* The memory a unit of the deployment may use: its pool's capacity shared with the
 * other deployed units on that pool (INFINITY when the pool has no capacity). */
static double unit_share(const struct xpu_platform *pf, int u, const int *on_pool)
{
	double cap = pf->pools[pf->units[u].mem_pool].capacity;
	if (!(cap > 0))
		return INFINITY;
	int k = on_pool[pf->units[u].mem_pool];
	return cap / (k > 0 ? k : 1);
}

static const char *gb(double bytes, char *buf, size_t n)
{
	if (bytes >= 1e12)
		snprintf(buf, n, "%.3g TB", bytes / 1e12);
	else if (bytes >= 1e9)
		snprintf(buf, n, "%.3g GB", bytes / 1e9);
	else
		snprintf(buf, n, "%.3g MB", bytes / 1e6);
	return buf;
}

int xpu_deploy_build(const char *spec_in, const struct xpu_platform *pf, const struct xpu_llm *m,
                     uint32_t block_tokens, struct xpu_replica **rep_out, int *n_out,
                     struct xpu_err *err)
{
	char def[64];
	const char *spec = spec_in;
	if (!spec) {
		snprintf(def, sizeof(def), "%s", xpu_kind_name(default_kind(pf)));
		spec = def;
	}
	char *copy = strdup(spec);
	struct group g[16];
	int ng = 0, rc = 0, nrep = 0;
	struct xpu_replica *rep = NULL;
	int *on_pool = calloc((size_t)pf->npools + 1, sizeof(int));
	int *used = calloc((size_t)pf->nunits + 1, sizeof(int));
	if (!copy || !on_pool || !used) {
		rc = -ENOMEM;
		goto out;
	}
	char *save = NULL;
	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		if (ng == 16) {
			rc = xpu_errf(err, NULL, 0, "--deploy '%s': more than 16 groups", spec);
			goto out;
		}
		rc = parse_group(t, pf, spec, &g[ng], err);
		ng++;
		if (rc)
			goto out;
	}
	if (ng == 0) {
		rc = xpu_errf(err, NULL, 0, "--deploy: expected a unit kind or unit names");
		goto out;
	}
	for (int i = 0; i < ng; i++)
		for (int k = 0; k < g[i].nunits; k++) {
			int u = g[i].units[k];
			if (used[u]++) {
				rc = xpu_errf(err, NULL, 0,
				              "--deploy '%s': unit '%s' is in two groups", spec,
				              pf->units[u].name);
				goto out;
			}
			on_pool[pf->units[u].mem_pool]++;
			if (!(xpu_unit_rate(&pf->units[u], XPU_CLASS_LLM_PREFILL, 0) > 0) ||
			    !(xpu_unit_rate(&pf->units[u], XPU_CLASS_LLM_DECODE, 0) > 0)) {
				rc = xpu_errf(err, pf->path, pf->units[u].line,
				              "--deploy '%s': unit '%s' runs no llm-prefill or "
				              "llm-decode (its xpu.class properties)",
				              spec, pf->units[u].name);
				goto out;
			}
		}
	/* each group: the smallest tensor-parallel degree whose weight shares fit, then
	 * as many replicas as its units make */
	for (int i = 0; i < ng; i++) {
		struct group *q = &g[i];
		int tp = q->tp, pp = q->pp;
		double need_kv = (double)block_tokens * m->kv_bytes_per_token;
		if (!tp || !pp) {
			/* the smallest replica whose weight shares take at most 90% of its
			 * units' memory (the rest for KV), growing tensor parallelism up to 8
			 * units (a node's GPUs on NVLink), then pipeline stages */
			int ftp = tp, fpp = pp, found = 0;
			for (int sz = 1; sz <= q->nunits && !found; sz++) {
				int t = ftp ? ftp : fpp ? sz : (sz <= 8 ? sz : 8);
				int p = fpp ? fpp : ftp ? sz : (sz <= 8 ? 1 : (sz + 7) / 8);
				if (t * p != sz && !(ftp || fpp))
					continue;
				if ((ftp && t * p != ftp * sz) || (fpp && t * p != sz * fpp))
					continue;
				if (t * p > q->nunits)
					break;
				int fits = 1;
				for (int k = 0; k < t * p && fits; k++)
					fits = 0.9 * unit_share(pf, q->units[k], on_pool) >=
					       m->weight_bytes / (t * p);
				if (fits) {
					tp = t;
					pp = p;
					found = 1;
				}
			}
			if (!found) { /* every unit: the check below names what does not fit */
				tp = ftp   ? ftp
				     : fpp ? q->nunits / fpp
				           : (q->nunits < 8 ? q->nunits : 8);
				if (tp < 1)
					tp = 1;
				pp = fpp ? fpp : q->nunits / tp;
				if (pp < 1)
					pp = 1;
			}
		}
		int size = tp * pp;
		if (size > q->nunits) {
			rc = xpu_errf(err, NULL, 0,
			              "--deploy '%s': group '%s' has %d unit(s), a replica needs "
			              "tp x pp = %d",
			              spec, q->text, q->nunits, size);
			goto out;
		}
		int nr = q->replicas ? q->replicas : q->nunits / size;
		if (nr * size > q->nunits) {
			rc = xpu_errf(err, NULL, 0,
			              "--deploy '%s': %d replica(s) of %d unit(s) need %d units, "
			              "group '%s' has %d",
			              spec, nr, size, nr * size, q->text, q->nunits);
			goto out;
		}
		struct xpu_replica *nrp = realloc(rep, (size_t)(nrep + nr) * sizeof(*rep));
		if (!nrp) {
			rc = -ENOMEM;
			goto out;
		}
		rep = nrp;
		for (int r = 0; r < nr; r++) {
			struct xpu_replica *x = &rep[nrep];
			memset(x, 0, sizeof(*x));
			x->index = nrep;
			x->role = q->role;
			x->tp = tp;
			x->pp = pp;
			x->block_tokens = block_tokens;
			x->units = malloc((size_t)size * sizeof(int));
			nrep++;
			if (!x->units) {
				rc = -ENOMEM;
				goto out;
			}
			double kv = 0;
			for (int k = 0; k < size; k++) {
				int u = q->units[r * size + k];
				x->units[k] = u;
				double share = unit_share(pf, u, on_pool),
				       w = m->weight_bytes / size;
				if (share < w + need_kv / size) {
					char b1[32], b2[32];
					rc = xpu_errf(
					    err, pf->path, pf->units[u].line,
					    "--deploy '%s': model %s (%s of weights) does not fit: "
					    "unit '%s' has %s for its 1/%d share of %s and its KV "
					    "cache; give a larger tp or pp",
					    spec, m->name, gb(m->weight_bytes, b1, sizeof(b1)),
					    pf->units[u].name, gb(share, b2, sizeof(b2)), size,
					    gb(w, b1, sizeof(b1)));
					goto out;
				}
				kv += share - w;
			}
			double blocks = floor(kv / need_kv);
			x->kv_blocks = blocks > MAX_KV_BLOCKS ? MAX_KV_BLOCKS : (uint32_t)blocks;
		}
	}
	*rep_out = rep;
	*n_out = nrep;
	rep = NULL;
	nrep = 0;
out:
	for (int i = 0; i < ng; i++)
		free(g[i].units);
	xpu_replicas_free(rep, nrep);
	free(copy);
	free(on_pool);
	free(used);
	return rc;
}

/* ------------------------------------------------------------------ the run */

void xpu_serving_result_free(struct xpu_serving_result *res)
{
	if (!res)
		return;
	xpu_serve_out_free(&res->out, res->pf.nunits);
	xpu_replicas_free(res->rep, res->nrep);
	xpu_requests_free(&res->req);
	xpu_platform_free(&res->pf);
	memset(res, 0, sizeof(*res));
}

/* Every request must fit, whole, in the KV cache of some replica that could hold it:
 * else it could never finish (refused before the run). */
static int check_requests(const struct xpu_serving_result *res, double watermark, const char *path,
                          int split, struct xpu_err *err)
{
	uint32_t best_in = 0, best_out = 0;
	for (int i = 0; i < res->nrep; i++) {
		const struct xpu_replica *x = &res->rep[i];
		uint32_t usable = x->kv_blocks - (uint32_t)ceil(watermark * x->kv_blocks);
		if (x->role != XPU_ROLE_DECODE && usable > best_in)
			best_in = usable;
		if ((x->role == XPU_ROLE_DECODE || !split) && x->kv_blocks > best_out)
			best_out = x->kv_blocks;
	}
	uint32_t bt = res->nrep ? res->rep[0].block_tokens : 16;
	for (uint32_t i = 0; i < res->req.n; i++) {
		const struct xpu_request *r = &res->req.v[i];
		double full = (double)r->prompt + r->output;
		if (ceil(full / bt) > (split ? best_out : best_in) ||
		    ceil((r->prompt + 1.0) / bt) > best_in) {
			char b1[32], b2[32];
			return xpu_errf(err, path, r->line,
			                "request '%s': %u prompt + %u output tokens need %s of KV "
			                "cache; the largest replica's holds %s (%u blocks of %u "
			                "tokens): deploy it on more units (tp, pp) for a larger "
			                "cache",
			                r->id, r->prompt, r->output,
			                gb(full * res->model.kv_bytes_per_token, b1, sizeof(b1)),
			                gb((double)best_in * bt * res->model.kv_bytes_per_token, b2,
			                   sizeof(b2)),
			                best_in, bt);
		}
	}
	return 0;
}

static int copy_requests(const struct xpu_requests *src, struct xpu_requests *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->v = malloc(((size_t)src->n + 1) * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, (size_t)src->n * sizeof(*dst->v));
	dst->n = src->n;
	dst->format = src->format;
	return 0; /* ids still point into src's storage, which outlives the run */
}

int xpu_serving_run(const struct xpu_serving_opts *o, struct xpu_serving_result *res_out,
                    struct xpu_err *err)
{
	struct xpu_serving_result res = {0};
	struct xpu_spec ss = {0}, rs = {0}, bs = {0};
	const void *sops, *rops;
	const struct xpu_backend_ops *bops;
	struct xpu_backend be = {0};
	int rc, opened = 0;
	uint32_t bt = o->block_tokens ? o->block_tokens : 16;
	double wm = o->watermark >= 0 ? o->watermark : 0.01;

	if ((rc = xpu_policy_resolve(XPU_POLICY_SERVE, o->serve ? o->serve : "vllm", "--serve", &ss,
	                             &sops, err)) ||
	    (rc = xpu_policy_resolve(XPU_POLICY_ROUTER, o->router ? o->router : "round-robin",
	                             "--router", &rs, &rops, err)))
		goto out;
	if ((rc = xpu_backend_resolve(o->backend ? o->backend : "sim", &bs, &bops, err)))
		goto out;
	if (strcmp(bops->head.name, "sim")) {
		rc = xpu_errf(err, NULL, 0,
		              "--serve: serving runs are simulated (--backend sim); backend '%s' "
		              "serves no language model yet",
		              bops->head.name);
		goto out;
	}
	if (!(wm >= 0 && wm < 1)) {
		rc = xpu_errf(err, NULL, 0, "--watermark: expected a share from 0 to below 1");
		goto out;
	}
	if (o->output) {
		const char *inputs[] = {o->platform, o->requests, o->catalogue};
		if ((rc = xpu_output_check(o->output, inputs, 3, err)))
			goto out;
	}
	if ((rc = xpu_serving_model(o->catalogue, o->model ? o->model : "llama-2-7b", &res.model,
	                            err)))
		goto out;
	if (o->reqs)
		rc = copy_requests(o->reqs, &res.req);
	else if (o->requests)
		rc = xpu_requests_read(o->requests, &res.req, err);
	else
		rc = xpu_errf(err, NULL, 0, "--serve: expected a request stream (--trace FILE)");
	if (rc)
		goto out;
	be = (struct xpu_backend){.ops = bops, .param = bs.params, .nparams = bs.nparams};
	if ((rc = be.ops->open(&be, o->platform, &res.pf, err)))
		goto out;
	opened = 1;
	be.pf = &res.pf;
	if ((rc = xpu_deploy_build(o->deploy, &res.pf, &res.model, bt, &res.rep, &res.nrep, err)))
		goto out;
	int split = !strcmp(((const struct xpu_serve_ops *)sops)->head.name, "splitwise");
	{
		int pre = 0, dec = 0;
		for (int i = 0; i < res.nrep; i++) {
			pre += res.rep[i].role == XPU_ROLE_PREFILL;
			dec += res.rep[i].role == XPU_ROLE_DECODE;
		}
		if (split && (!pre || !dec)) {
			rc = xpu_errf(err, NULL, 0,
			              "--serve splitwise: the deployment needs replicas of both "
			              "roles, as --deploy 'prefill=gpu;decode=lpu'");
			goto out;
		}
		if (!split && (pre || dec)) {
			rc = xpu_errf(err, NULL, 0,
			              "--deploy: prefill= and decode= roles are for --serve "
			              "splitwise; '%s' runs both phases on every replica",
			              ss.text);
			goto out;
		}
		if (pre + (res.nrep - pre - dec) == 0) {
			rc = xpu_errf(err, NULL, 0, "--deploy: no replica takes new requests");
			goto out;
		}
	}
	if ((rc = check_requests(&res, wm, o->requests ? o->requests : "requests", split, err)))
		goto out;
	int host = -1;
	for (int u = 0; u < res.pf.nunits && host < 0; u++)
		if (res.pf.units[u].kind == XPU_KIND_CPU)
			host = u;
	struct xpu_serve_cfg cfg = {
	    .pf = &res.pf,
	    .be = &be,
	    .model = &res.model,
	    .nrep = res.nrep,
	    .rep = res.rep,
	    .nreq = res.req.n,
	    .req = res.req.v,
	    .watermark = wm,
	    .host_unit = host,
	    .seed = o->seed,
	    .serve = sops,
	    .nserve_params = ss.nparams,
	    .serve_params = ss.params,
	    .router = rops,
	    .nrouter_params = rs.nparams,
	    .router_params = rs.params,
	    .slo_ttft = o->slo_ttft > 0 ? o->slo_ttft : INFINITY,
	    .slo_tbt = o->slo_tbt > 0 ? o->slo_tbt : INFINITY,
	    .observe = o->observe,
	    .observe_ctx = o->observe_ctx,
	    .err = err,
	};
	if ((rc = xpu_serve_run(&cfg, &res.out))) {
		if (rc == -EINVAL)
			rc = -EIO; /* a failure during the run is not bad input */
		goto out;
	}
	if (o->output) {
		char host_name[256] = "unknown";
		gethostname(host_name, sizeof(host_name) - 1);
		/* each replica as FIRST-UNIT:tp=N,pp=N, joined by ';' */
		size_t cap = (size_t)res.nrep * 96 + 1, l = 0;
		char *deploy = malloc(cap);
		if (!deploy) {
			rc = -ENOMEM;
			goto out;
		}
		deploy[0] = '\0';
		for (int i = 0; i < res.nrep; i++)
			l += (size_t)snprintf(deploy + l, cap - l, "%s%.60s:tp=%d,pp=%d",
			                      i ? ";" : "", res.pf.units[res.rep[i].units[0]].name,
			                      res.rep[i].tp, res.rep[i].pp);
		struct xpu_serve_view sv = {.model = res.model.name,
		                            .deploy = o->deploy ? o->deploy : "(default)",
		                            .replicas = deploy,
		                            .router = rs.text,
		                            .nreq = res.req.n,
		                            .req = res.req.v,
		                            .nkv = res.out.nkv,
		                            .kv_t = res.out.kv_t,
		                            .kv_rep = res.out.kv_rep,
		                            .kv_used = res.out.kv_used};
		struct xpu_run_info ri = {
		    .version = PACKAGE_VERSION,
		    .platform = res.pf.path,
		    .trace = o->requests ? o->requests : "(generated)",
		    .sched = ss.text,
		    .mem = "paged",
		    .power = "performance",
		    .offload = "local",
		    .seed = o->seed,
		    .mode = "sim",
		    .host = host_name,
		    .energy_source = "simgrid",
		    .controls = be.ops->controls ? be.ops->controls(&be) : "",
		    .serve = &sv,
		};
		rc = xpu_results_write(o->output, &ri, &res.pf, NULL, res.out.us, NULL,
		                       &res.out.summary, err);
		free(deploy);
		if (rc == -EINVAL)
			rc = -EIO;
	}
out:
	if (opened && be.ops->close)
		be.ops->close(&be);
	xpu_spec_free(&ss);
	xpu_spec_free(&rs);
	xpu_spec_free(&bs);
	if (res_out && !rc)
		*res_out = res;
	else
		xpu_serving_result_free(&res);
	return rc;
}
