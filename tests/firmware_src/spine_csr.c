/* Each core reports mhartid and whether mcycle/minstret advance. */
#include "pmsis.h"

uint32_t hartids[8];
uint32_t cycles_delta[8], instret_delta[8];

static uint32_t csr_mhartid(void) { uint32_t v; __asm__ volatile("csrr %0, mhartid" : "=r"(v)); return v; }
static uint32_t csr_mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }
static uint32_t csr_minstret(void) { uint32_t v; __asm__ volatile("csrr %0, minstret" : "=r"(v)); return v; }

static void probe(void *arg)
{
    (void)arg;
    int core = pi_core_id();
    hartids[core] = csr_mhartid();
    uint32_t c0 = csr_mcycle(), i0 = csr_minstret();
    for (volatile int i = 0; i < 100; i++)
        ;
    cycles_delta[core] = csr_mcycle() - c0;
    instret_delta[core] = csr_minstret() - i0;
}

int main(void)
{
    pi_cl_team_fork(0, probe, 0);
    return 0;
}
