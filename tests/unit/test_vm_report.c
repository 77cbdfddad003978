/*
 * The VMM loop against a scripted engine (vmm/vm.c, vmm/vm_report.c): an
 * engine that refuses an injection after an exit that said its window
 * was open (hyvm.ko's vmx did so after a kick that came before the entry
 * delivering the previous vector) is said on stderr, and with
 * HYVM_STOP_REPORT=1 the report at SIGINT names the lost vector, the
 * exits, and the local APIC with both vectors in service.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "vmm/vm.h"

static struct vm V;
static int step;
static bool queued;		/* an injected vector not yet delivered */
static uint8_t injected[4];
static unsigned nr_injected;

static void send(uint8_t vector)
{
	struct irq_msg m = { .vector = vector, .dest = 0 };
	irq_router_send(&V.irq, &m, NULL);
}

/* 1: an OUT with the window open; 2: a kick before any entry, still
 * claiming the window open (the stale answer); 3: SIGINT's stop. */
static int fake_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	static uint8_t byte;

	memset(exit, 0, sizeof(*exit));
	exit->rip = 0x1000 + (uint64_t)step;
	switch (step++) {
	case 0:
		send(0x40);
		exit->kind = EXIT_IO;
		exit->io.port = 0x80;
		exit->io.size = 1;
		exit->io.count = 1;
		exit->io.write = true;
		exit->io.data = &byte;
		exit->irq_window_open = true;
		break;
	case 1:
		send(0x50);
		exit->kind = EXIT_KICKED;
		exit->irq_window_open = true;
		break;
	default:
		V.stop_reason = -SIGINT;
		V.stop_requested = 1;
		exit->kind = EXIT_KICKED;
		break;
	}
	return 0;
}

static int fake_inject(struct engine_vcpu *vcpu, uint8_t vector)
{
	if (queued)
		return -1;	/* as hyvm.ko: -EBUSY */
	queued = true;
	injected[nr_injected++ & 3] = vector;
	return 0;
}

static int fake_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rip = 0xabc;
	st->rflags = 0x202;
	return 0;
}

static void fake_window(struct engine_vcpu *vcpu, bool on) {}
static void fake_kick(struct engine_vcpu *vcpu) {}

static const struct engine_ops fake_engine = {
	.name = "fake",
	.vcpu_run = fake_run,
	.get_state = fake_get_state,
	.inject_irq = fake_inject,
	.request_irq_window = fake_window,
	.kick = fake_kick,
};

/* vm_run with stderr in a file; returns what it wrote. */
static char *run_capturing_stderr(struct vm_outcome *out)
{
	static char text[8192];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	vm_run(&V, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = 0;
	fclose(tmp);
	return text;
}

static void test_refused_injection_reported(void)
{
	struct memory_map map;
	struct vm_outcome out;
	char err[256], *text;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&map, 16 << 20, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(vm_init(&V, &map, NULL, 0, -1, -1, err, sizeof(err)), 0);
	V.engine = &fake_engine;
	V.vcpu = (struct engine_vcpu *)&V;	/* never looked into */
	step = 0;
	queued = false;
	nr_injected = 0;
	setenv("HYVM_STOP_REPORT", "1", 1);
	text = run_capturing_stderr(&out);
	unsetenv("HYVM_STOP_REPORT");
	V.vcpu = NULL;
	V.engine = NULL;

	CU_ASSERT_EQUAL(out.kind, VM_INTERRUPTED);
	CU_ASSERT_EQUAL(nr_injected, 1);
	CU_ASSERT_EQUAL(injected[0], 0x40);
	CU_ASSERT_EQUAL(V.irqs_injected, 1);
	CU_ASSERT_EQUAL(V.watch.irqs_refused, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: engine fake refused interrupt vector 0x50 after "
				      "an exit that said it could take one"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: stop report: vCPU rip 0xabc "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(IF 1)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "io 1 kicked 2; in all: io 1 kicked 2; interrupts "
				      "injected 1, refused by the engine 1 (the first: vector 0x50)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: stop report: the vCPU runs; its last exit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "an interrupt for vCPU 0 is not pending"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: stop report: lapic 0: svr 0x1ff tpr 0x00 ppr 0x50 "
				      "irr - isr 0x50 0x40;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: stop report: pic: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "hyvm: stop report: ioapic: "));
	vm_destroy(&V);
}

UNIT_SUITE(vm_report, NULL, NULL,
	   UNIT_TEST(test_refused_injection_reported));
