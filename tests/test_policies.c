/* test_policies.c — policy building blocks: registry specs, the ready queue, the
 * first-fit allocator. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "engine_impl.h"
#include "registry.h"

Test(registry, spec_with_params)
{
	struct xpu_spec s;
	const void *ops;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_policy_resolve(XPU_POLICY_SCHED, "heft", "--sched", &s, &ops, &err), 0);
	cr_assert_eq(ops, &xpu_sched_heft);
	cr_assert_eq(s.nparams, 0);
	xpu_spec_free(&s);
	int rc = xpu_policy_resolve(XPU_POLICY_SCHED, "nosuch:a=1", "--sched", &s, &ops, &err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_not_null(strstr(err.msg, "valid: fifo, round-robin, least-loaded, heft"), "%s",
	                   err.msg);
	rc = xpu_policy_resolve(XPU_POLICY_POWER, "performance:gamma", "--power", &s, &ops, &err);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_not_null(strstr(err.msg, "key=value"), "%s", err.msg);
}

Test(registry, every_table_has_a_name)
{
	for (int i = 0; xpu_sched_registry[i]; i++)
		cr_assert(xpu_sched_registry[i]->head.name && xpu_sched_registry[i]->head.name[0]);
	for (int i = 0; xpu_mem_registry[i]; i++)
		cr_assert(xpu_mem_registry[i]->head.name && xpu_mem_registry[i]->head.name[0]);
	for (int i = 0; xpu_power_registry[i]; i++)
		cr_assert(xpu_power_registry[i]->head.name && xpu_power_registry[i]->head.name[0]);
}

/* The first-fit allocator on a one-pool platform, driven through its table. */
Test(first_fit, reuses_the_lowest_hole_and_refuses_what_does_not_fit)
{
	struct xpu_mempool pool = {.name = "p", .capacity = 1000};
	struct xpu_platform pf = {.npools = 1, .pools = &pool};
	struct xpu_engine e = {.pf = &pf};
	struct xpu_mem m = {.ops = &xpu_mem_first_fit, .eng = &e};
	uint64_t a, b, c, d, x;
	cr_assert_eq(m.ops->init(&m), 0);
	cr_assert_eq(m.ops->alloc(&m, 0, 300, &a), 0);
	cr_assert_eq(m.ops->alloc(&m, 0, 200, &b), 0);
	cr_assert_eq(m.ops->alloc(&m, 0, 400, &c), 0);
	cr_assert_eq(m.ops->used(&m, 0), 900);
	cr_assert_eq(m.ops->alloc(&m, 0, 200, &x), -ENOSPC, "only 100 bytes are free");
	cr_assert_eq(m.ops->alloc(&m, 0, 1001, &x), -E2BIG, "larger than the pool");
	m.ops->free(&m, 0, b); /* hole of 200 at 300, and 100 at the end */
	cr_assert_eq(m.ops->alloc(&m, 0, 250, &x), -ENOSPC, "300 free but fragmented");
	cr_assert_eq(m.ops->alloc(&m, 0, 150, &d), 0, "first fit: the hole at 300");
	m.ops->free(&m, 0, a);
	m.ops->free(&m, 0, d); /* 0..500 merges back into one extent */
	cr_assert_eq(m.ops->alloc(&m, 0, 500, &x), 0);
	m.ops->free(&m, 0, x);
	m.ops->free(&m, 0, c);
	cr_assert_eq(m.ops->used(&m, 0), 0);
	cr_assert_eq(m.ops->alloc(&m, 0, 1000, &x), 0, "all of it once everything is free");
	m.ops->fini(&m);
}
