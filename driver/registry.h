/* registry.h — policies registered by name, and parsing "name:key=value,..." specs. */
#ifndef XPU_REGISTRY_H
#define XPU_REGISTRY_H

#include <stdio.h>

#include "backend.h"
#include "xpu.h"

/* A parsed policy spec: "heft", "energy:gamma=1000,alpha=1". */
struct xpu_spec {
	char *text; /* as given */
	char *name;
	int nparams;
	struct xpu_param *params;
	void *dl;    /* the shared object the policy came from, or NULL */
	void *table; /* an older table brought to this build's version, or NULL */
};

/* Parse text into spec, look the name up among the registered policies of kind (or,
 * for a name containing '/' or ending in ".so", load that shared object and check its
 * xpu_policy_export) and check each parameter against the policy's list. On success *ops points to
 * the table (cast to the kind's ops type). what names the option for messages
 * ("--sched"). Returns 0 or -EINVAL with err listing the valid names or params. */
int xpu_policy_resolve(int kind, const char *text, const char *what, struct xpu_spec *spec,
                       const void **ops, struct xpu_err *err);
void xpu_spec_free(struct xpu_spec *spec);

/* Print the registered policies of kind, one "name  description" line each, then
 * their parameters. */
void xpu_policy_list(int kind, FILE *out);
/* The same for the registered backends. */
void xpu_backend_list(FILE *out);

extern const struct xpu_sched_ops *const xpu_sched_registry[];
extern const struct xpu_mem_ops *const xpu_mem_registry[];
extern const struct xpu_power_ops *const xpu_power_registry[];
extern const struct xpu_power_ops xpu_power_powercap;
extern const struct xpu_power_ops xpu_power_race_to_idle;
extern const struct xpu_power_ops xpu_power_menu;
extern const struct xpu_power_ops xpu_power_step_wise;
extern const struct xpu_power_ops xpu_power_npu_mode;
extern const struct xpu_power_ops xpu_power_ipa;
extern const struct xpu_offload_ops *const xpu_offload_registry[];
extern const struct xpu_serve_ops *const xpu_serve_registry[];
extern const struct xpu_router_ops *const xpu_router_registry[];
extern const struct xpu_serve_ops xpu_serve_vllm, xpu_serve_orca, xpu_serve_sarathi,
    xpu_serve_static, xpu_serve_splitwise;
extern const struct xpu_router_ops xpu_router_round_robin, xpu_router_least_outstanding,
    xpu_router_jsq_tokens, xpu_router_p2c;
extern const struct xpu_backend_ops *const xpu_backend_registry[];

/* A backend spec "name" or "name:key=value,...": the registered backend and its checked
 * parameters (names, types and ranges of head.params). Returns 0 or -EINVAL with err
 * listing the valid names or parameters. */
int xpu_backend_resolve(const char *text, struct xpu_spec *spec, const struct xpu_backend_ops **ops,
                        struct xpu_err *err);

/* The tables themselves, one per file under policies/. */
extern const struct xpu_sched_ops xpu_sched_fifo, xpu_sched_round_robin, xpu_sched_least_loaded,
    xpu_sched_heft;
/* The policy library (issue 4). */
extern const struct xpu_sched_ops xpu_sched_cpop, xpu_sched_peft, xpu_sched_mct, xpu_sched_olb,
    xpu_sched_minmin, xpu_sched_maxmin, xpu_sched_sufferage, xpu_sched_dmda, xpu_sched_dmdar,
    xpu_sched_dmdas, xpu_sched_ws, xpu_sched_priority, xpu_sched_random, xpu_sched_edf,
    xpu_sched_energy, xpu_sched_fallback, xpu_sched_fcfs, xpu_sched_easy, xpu_sched_conservative,
    xpu_sched_thermal;
extern const struct xpu_mem_ops xpu_mem_first_fit;
extern const struct xpu_mem_ops xpu_mem_best_fit;
extern const struct xpu_mem_ops xpu_mem_buddy;
extern const struct xpu_mem_ops xpu_mem_tlsf;
extern const struct xpu_mem_ops xpu_mem_caching;
extern const struct xpu_mem_ops xpu_mem_lru;
extern const struct xpu_mem_ops xpu_mem_lru_clean;
extern const struct xpu_mem_ops xpu_mem_belady;
extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_userspace,
    xpu_power_ondemand, xpu_power_conservative, xpu_power_schedutil;
extern const struct xpu_offload_ops xpu_offload_local;

#endif
