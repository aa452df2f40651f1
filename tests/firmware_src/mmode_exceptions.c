/* Each exception cause of the CV32E40P, taken by the runtime's exception
 * handler: the handler logs mcause, mepc, mstatus and mtval, and resumes after
 * the trapping instruction. The test compares with the labels' addresses. */
#include "pmsis.h"

#define N 16
volatile uint32_t log_cause[N], log_epc[N], log_mstatus[N], log_mtval[N];
volatile uint32_t n_traps;
volatile uint32_t mstatus_after_enabled, corev_a0, corev_a1;

static uint32_t handler(uint32_t mcause, uint32_t mepc, pi_trap_frame *frame)
{
    (void)frame;
    uint32_t i = n_traps++;
    log_cause[i] = mcause;
    log_epc[i] = mepc;
    log_mstatus[i] = __PI_CSR_READ(mstatus);
    log_mtval[i] = __PI_CSR_READ(mtval);
    uint16_t half = *(volatile uint16_t *)mepc;
    return mepc + ((half & 3) == 3 ? 4 : 2);
}

int main(void)
{
    pi_exception_handler_set(handler);
    __asm__ volatile(".globl at_ecall\nat_ecall: ecall" ::: "memory");
    __asm__ volatile(".globl at_ebreak\nat_ebreak: ebreak" ::: "memory");
    __asm__ volatile(".option push\n.option rvc\n.globl at_cebreak\nat_cebreak: c.ebreak\n.option pop" ::: "memory");
    __asm__ volatile(".globl at_illegal\nat_illegal: .half 0" ::: "memory");         /* c.unimp */
    __asm__ volatile(".globl at_nocsr\nat_nocsr: csrr a0, 0x7c0" ::: "a0", "memory");  /* no such CSR */
    __asm__ volatile(".globl at_rocsr\nat_rocsr: csrw mvendorid, zero" ::: "memory"); /* read-only */
    __asm__ volatile(".globl at_flw\nat_flw: .word 0x00052007" ::: "memory");          /* flw: no FPU */
    /* Encodings Unicorn would run as RV32DC / RV64C: c.fld, c.addw. */
    __asm__ volatile(".globl at_cfld\nat_cfld: .half 0x2000" ::: "memory");
    __asm__ volatile(".globl at_caddw\nat_caddw: .half 0x9d2d" ::: "memory");
    /* An undefined CORE-V encoding (opcode 0x2B, funct3 7) naming a0, a1: no update. */
    uint32_t a0, a1;
    __asm__ volatile("li a0, 0x1234\n li a1, 0x5678\n"
                     ".globl at_corev\nat_corev: .word 0x0005f52b\n"
                     "mv %0, a0\n mv %1, a1" : "=r"(a0), "=r"(a1) :: "a0", "a1", "memory");
    corev_a0 = a0;
    corev_a1 = a1;
    /* With interrupts enabled: the trap saves MIE in MPIE, mret restores it. */
    pi_irq_enable();
    __asm__ volatile(".globl at_ecall_mie\nat_ecall_mie: ecall" ::: "memory");
    mstatus_after_enabled = __PI_CSR_READ(mstatus);
    pi_irq_disable();
    return (int)n_traps;
}
