/* Whether the CPU underneath reports floating-point errors as the SDM
 * says: an unmasked x87 error at the next waiting x87 instruction, not
 * only at FWAIT (SDM Vol. 1 8.6), and an unmasked SIMD exception as #XM
 * (SDM Vol. 1 11.5.1). Every engine runs guest FP instructions on this
 * CPU (bt in the host process, kvm and hyvm.ko in guest mode), so when it
 * does not, no engine can either. It matters inside the emulated hosts:
 * QEMU 7.2's TCG raises no #XM at all and checks x87 errors only at
 * FWAIT, so tests/guests/fpu_faults is a SKIP there, not a FAIL.
 *
 * Measured, not guessed from a CPUID signature: a child process unmasks
 * zero-divide and divides by zero, once with the x87 (reported at FLD1)
 * and once with DIVSS, and says through its exit status whether each
 * arrived as SIGFPE with the right trap number. A child, because SIGFPE's
 * handler is process-wide and bt's own is installed by then. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "engines/engine.h"

#define TRAP_MF 16
#define TRAP_XM 19

static volatile sig_atomic_t trapno = -1;

static void on_fpe(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
	_exit(trapno == TRAP_XM ? 2 : trapno == TRAP_MF ? 1 : 3);
}

static void x87_zero_divide_then_fld(void)
{
	static const uint16_t fcw = 0x037b;	/* default, ZM unmasked */

	asm volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp\n\tfld1\n\tfninit"
		     : : "m"(fcw) : "memory", "st", "st(1)");
}

static void sse_zero_divide(void)
{
	static const uint32_t mxcsr = 0x1d80;	/* default, ZM unmasked */
	static const float one = 1.0f, zero = 0.0f;
	float r = one;

	asm volatile("ldmxcsr %1\n\tdivss %2, %0" : "+x"(r) : "m"(mxcsr), "m"(zero));
}

/* The child's exit status: 1 for #MF, 2 for #XM, 0 for nothing raised. */
static int child_status(void (*test)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = on_fpe, .sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGFPE, &sa, NULL);
		test();
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool host_fp_faults_exact(void)
{
	static int exact = -1;

	if (exact < 0)
		exact = child_status(x87_zero_divide_then_fld) == 1 &&
			child_status(sse_zero_divide) == 2;
	return exact;
}

void host_fp_faults_limit(struct engine_caps *caps)
{
	if (!host_fp_faults_exact())
		caps->cannot[NEED_FP_EXCEPTIONS] =
			"this host CPU reports no x87 error before FWAIT or no SIMD "
			"exception as #XM (QEMU's TCG does neither)";
}
