/* The model builder with its host CPUID source replaceable, for tests that
 * need a model independent of the machine they run on. */
#ifndef HYVM_CPU_MODEL_BUILD_H
#define HYVM_CPU_MODEL_BUILD_H

#include "cpu/cpu_model.h"

typedef void (*cpu_model_host_fn)(uint32_t leaf, uint32_t sub, uint32_t r[4]);
void cpu_model_host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
int cpu_model_build_with(const char *name, const struct cpu_model_limits *lim,
			 cpu_model_host_fn host, struct cpu_model *out, char *err, size_t errlen);

#endif
