/* Asm text shared by the guests that check XMM0-7 across what bt does in
 * C (sse_io, fpu_lazy): XMM0-7 loaded from the 128 bytes at operand
 * [p] and stored to the 128 bytes at EDI, for one asm block in which no
 * compiled code runs between the two. */
#ifndef GUEST_XMM_ASM_H
#define GUEST_XMM_ASM_H

#define XMM_LOAD_ALL_FROM_P			\
	"movdqa 0(%[p]), %%xmm0\n\t"		\
	"movdqa 16(%[p]), %%xmm1\n\t"		\
	"movdqa 32(%[p]), %%xmm2\n\t"		\
	"movdqa 48(%[p]), %%xmm3\n\t"		\
	"movdqa 64(%[p]), %%xmm4\n\t"		\
	"movdqa 80(%[p]), %%xmm5\n\t"		\
	"movdqa 96(%[p]), %%xmm6\n\t"		\
	"movdqa 112(%[p]), %%xmm7\n\t"

#define XMM_STORE_ALL_TO_EDI			\
	"movdqa %%xmm0, 0(%%edi)\n\t"		\
	"movdqa %%xmm1, 16(%%edi)\n\t"		\
	"movdqa %%xmm2, 32(%%edi)\n\t"		\
	"movdqa %%xmm3, 48(%%edi)\n\t"		\
	"movdqa %%xmm4, 64(%%edi)\n\t"		\
	"movdqa %%xmm5, 80(%%edi)\n\t"		\
	"movdqa %%xmm6, 96(%%edi)\n\t"		\
	"movdqa %%xmm7, 112(%%edi)\n\t"

#endif
