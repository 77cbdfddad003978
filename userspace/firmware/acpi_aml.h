/*
 * A tiny AML encoder (ACPI 6.4, chapter 20, "ACPI Machine Language
 * Specification"): just what hyvm's DSDT says, appended to a fw_buf.
 */
#ifndef HYVM_ACPI_AML_H
#define HYVM_ACPI_AML_H

#include <stdint.h>
#include "firmware/fw_buf.h"

/* Opcodes (20.3, table 20.* "AML Byte Stream Byte Values"). */
#define AML_ZERO_OP	0x00
#define AML_NULL_NAME	0x00
#define AML_ONE_OP	0x01
#define AML_NAME_OP	0x08
#define AML_BYTE_PREFIX	0x0a
#define AML_WORD_PREFIX	0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP	0x10
#define AML_PACKAGE_OP	0x12
#define AML_BUFFER_OP	0x11
#define AML_EXT_PREFIX	0x5b
#define AML_DEVICE_OP	0x82	/* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR	0x5c	/* '\' */
#define AML_ONES_OP	0xff

/* ComputationalData for an integer: the shortest encoding (20.2.3). */
void aml_integer(struct fw_buf *b, uint64_t v);
/* A NameString (20.2.2): an optional leading '\' and one NameSeg of up to
 * four characters, padded with '_' ("_S5" is "_S5_"); "\" alone is the
 * root (RootChar NullName). */
void aml_name_string(struct fw_buf *b, const char *name);
/* The PkgLength (20.2.4) of a package whose contents after the PkgLength
 * are body_len bytes; -1 (nothing written) past its 2^28 limit. */
int aml_pkg_length(struct fw_buf *b, uint32_t body_len);
/* Name (name, Package () { v[0], ..., v[n-1] }): DefName with a
 * DefPackage of integers (19.6.90, 19.6.101). */
void aml_name_package(struct fw_buf *b, const char *name, const uint64_t *v, unsigned n);
/* Scope (name) { body } (19.6.122): DefScope. */
void aml_scope(struct fw_buf *b, const char *name, const struct fw_buf *body);
/* Device (name) { body } (19.6.31): DefDevice. */
void aml_device(struct fw_buf *b, const char *name, const struct fw_buf *body);
/* Name (name, v) with an integer. */
void aml_name_integer(struct fw_buf *b, const char *name, uint64_t v);
/* Name (name, Buffer () { bytes }) (19.6.10): DefBuffer. */
void aml_name_buffer(struct fw_buf *b, const char *name, const struct fw_buf *bytes);
/* Package () { elements } (19.6.101) of n data objects already encoded. */
void aml_package(struct fw_buf *b, const struct fw_buf *elements, unsigned n);
/* EISAID ("PNP0A03") (19.6.35): the compressed 32-bit ID. */
uint32_t aml_eisa_id(const char *id);

#endif
