/* The AML encoder (acpi_aml.h): ACPI 6.4, chapter 20. */
#include "firmware/acpi_aml.h"

void aml_integer(struct fw_buf *b, uint64_t v)
{
	if (v == 0) {
		fw_u8(b, AML_ZERO_OP);
	} else if (v == 1) {
		fw_u8(b, AML_ONE_OP);
	} else if (v <= 0xff) {
		fw_u8(b, AML_BYTE_PREFIX);
		fw_u8(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		fw_u8(b, AML_WORD_PREFIX);
		fw_u16(b, (uint16_t)v);
	} else if (v <= 0xffffffffu) {
		fw_u8(b, AML_DWORD_PREFIX);
		fw_u32(b, (uint32_t)v);
	} else {
		fw_u8(b, AML_QWORD_PREFIX);
		fw_u64(b, v);
	}
}

void aml_name_string(struct fw_buf *b, const char *name)
{
	char seg[4] = { '_', '_', '_', '_' };

	if (*name == '\\') {
		fw_u8(b, AML_ROOT_CHAR);
		name++;
	}
	if (!*name) {
		fw_u8(b, AML_NULL_NAME);	/* "\" alone: the root */
		return;
	}
	for (unsigned i = 0; i < 4 && name[i]; i++)
		seg[i] = name[i];
	fw_bytes(b, seg, 4);
}

/* PkgLength counts its own bytes too: one byte holds up to 63 (bits
 * 5-0); with 1-3 more bytes the lead byte's bits 7-6 say how many follow,
 * its bits 3-0 are the low nibble and each next byte 8 more bits. */
int aml_pkg_length(struct fw_buf *b, uint32_t body_len)
{
	if (body_len + 1 < 0x40) {
		fw_u8(b, (uint8_t)(body_len + 1));
		return 0;
	}
	for (uint32_t extra = 1; extra <= 3; extra++) {
		uint32_t total = body_len + 1 + extra;
		if (total >= 1u << (4 + 8 * extra))
			continue;
		fw_u8(b, (uint8_t)(extra << 6 | (total & 0xf)));
		for (uint32_t i = 0; i < extra; i++)
			fw_u8(b, (uint8_t)(total >> (4 + 8 * i)));
		return 0;
	}
	return -1;
}

void aml_name_package(struct fw_buf *b, const char *name, const uint64_t *v, unsigned n)
{
	struct fw_buf elements = { .len = 0 };

	fw_u8(b, AML_NAME_OP);
	aml_name_string(b, name);
	fw_u8(b, AML_PACKAGE_OP);
	fw_u8(&elements, (uint8_t)n);		/* NumElements */
	for (unsigned i = 0; i < n; i++)
		aml_integer(&elements, v[i]);
	if (elements.overflow || aml_pkg_length(b, elements.len) < 0) {
		b->overflow = true;
		return;
	}
	fw_bytes(b, elements.b, elements.len);
}

void aml_scope(struct fw_buf *b, const char *name, const struct fw_buf *body)
{
	struct fw_buf inner = { .len = 0 };

	aml_name_string(&inner, name);
	fw_bytes(&inner, body->b, body->len);
	fw_u8(b, AML_SCOPE_OP);
	if (body->overflow || inner.overflow || aml_pkg_length(b, inner.len) < 0) {
		b->overflow = true;
		return;
	}
	fw_bytes(b, inner.b, inner.len);
}

/* An ExtOpPrefix object with a PkgLength around name and body. */
void aml_device(struct fw_buf *b, const char *name, const struct fw_buf *body)
{
	struct fw_buf inner = { .len = 0 };

	aml_name_string(&inner, name);
	fw_bytes(&inner, body->b, body->len);
	fw_u8(b, AML_EXT_PREFIX);
	fw_u8(b, AML_DEVICE_OP);
	if (body->overflow || inner.overflow || aml_pkg_length(b, inner.len) < 0) {
		b->overflow = true;
		return;
	}
	fw_bytes(b, inner.b, inner.len);
}

void aml_name_integer(struct fw_buf *b, const char *name, uint64_t v)
{
	fw_u8(b, AML_NAME_OP);
	aml_name_string(b, name);
	aml_integer(b, v);
}

void aml_name_buffer(struct fw_buf *b, const char *name, const struct fw_buf *bytes)
{
	struct fw_buf inner = { .len = 0 };

	aml_integer(&inner, bytes->len);		/* BufferSize */
	fw_bytes(&inner, bytes->b, bytes->len);
	fw_u8(b, AML_NAME_OP);
	aml_name_string(b, name);
	fw_u8(b, AML_BUFFER_OP);
	if (bytes->overflow || inner.overflow || aml_pkg_length(b, inner.len) < 0) {
		b->overflow = true;
		return;
	}
	fw_bytes(b, inner.b, inner.len);
}

void aml_package(struct fw_buf *b, const struct fw_buf *elements, unsigned n)
{
	fw_u8(b, AML_PACKAGE_OP);
	if (n > 0xff || elements->overflow || aml_pkg_length(b, elements->len + 1) < 0) {
		b->overflow = true;
		return;
	}
	fw_u8(b, (uint8_t)n);				/* NumElements */
	fw_bytes(b, elements->b, elements->len);
}

/* Three letters of 5 bits each ('A' = 1) and four hex digits, stored
 * big-endian: the byte order ASL's EISAID produces. */
uint32_t aml_eisa_id(const char *id)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 3; i++)
		v = v << 5 | ((uint32_t)(id[i] - 'A' + 1) & 0x1f);
	for (unsigned i = 3; i < 7; i++) {
		char c = id[i];
		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}
