/* Operand and stack access for callouts, on the guest state in bt_cpu. */
#ifndef HYVM_BT_OPERANDS_H
#define HYVM_BT_OPERANDS_H

#include "bt/bt.h"
#include "bt/translate/decode.h"

uint32_t reg_read(const struct bt_cpu *cpu, ZydisRegister r);
void reg_write(struct bt_cpu *cpu, ZydisRegister r, uint32_t v);
uint32_t operand_address(const struct bt_cpu *cpu, const ZydisDecodedOperand *o);
uint32_t operand_linear(const struct bt_cpu *cpu, const ZydisDecodedOperand *o);
int operand_read(struct bt_cpu *cpu, const ZydisDecodedOperand *o, uint32_t *v);
int operand_write(struct bt_cpu *cpu, const ZydisDecodedOperand *o, uint32_t v);
int stack_push(struct bt_cpu *cpu, uint32_t v, unsigned size);
int stack_peek(struct bt_cpu *cpu, unsigned index, unsigned size, uint32_t *v);
int stack_peek_n(struct bt_cpu *cpu, unsigned index, unsigned n, unsigned size, uint32_t *v);
void stack_drop(struct bt_cpu *cpu, unsigned bytes);

#endif
