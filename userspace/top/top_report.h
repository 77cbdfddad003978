/* hyvm top's batch output (text, JSON) and hyvm run's final profile. */
#ifndef HYVM_TOP_REPORT_H
#define HYVM_TOP_REPORT_H

#include <stdio.h>
#include "top/top_model.h"

struct symtab;

/* One sample of every vCPU; syms may be NULL. v's vcpu/raw are kept. */
void top_report_json(FILE *f, struct top_view *v, const struct symtab *syms);
void top_report_text(FILE *f, struct top_view *v, const struct symtab *syms);
/* The whole run as JSON (rates are averages over the run). */
int top_write_profile(const char *path, const struct stats_file *final, char *err, size_t errlen);

#endif
