/* hyvm top's JSON document (json-c): one sample of every vCPU. */
#ifndef HYVM_TOP_JSON_H
#define HYVM_TOP_JSON_H

#include <stdio.h>
#include "top/top_model.h"

struct json_object;
struct symtab;

/* The document for v's last interval; syms may be NULL. v's vcpu/raw
 * are kept. The caller owns the object (json_object_put). */
struct json_object *top_json(struct top_view *v, const struct symtab *syms);
/* The same, on one line of f. */
void top_json_print(FILE *f, struct top_view *v, const struct symtab *syms);

#endif
