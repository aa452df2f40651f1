/* Drives code_edges.S: `mode` (written by the test before the run) picks the
 * function to call; its result lands in `out`. */
#include "pmsis.h"

typedef int (*fn_t)(void);
int ill_c_fld(void), ill_c_fsd(void), ill_c_fldsp(void), ill_c_fsdsp(void), ill_c_q0_f100(void),
    ill_c_slli_64(void), ill_c_srli_64(void), ill_c_srai_64(void), ill_c_subw(void), ill_c_addw(void),
    ill_flw(void), ill_fadd(void), hints(void), jump_mid(void), jump_mid_bad(void), branch_zero(void);

static const fn_t table[] = {
    hints, jump_mid, ill_c_fld, ill_c_fsd, ill_c_fldsp, ill_c_fsdsp, ill_c_q0_f100, ill_c_slli_64,
    ill_c_srli_64, ill_c_srai_64, ill_c_subw, ill_c_addw, ill_flw, ill_fadd, jump_mid_bad, branch_zero,
};

int mode = -1;  /* initialised data: the test writes it before the run */
volatile int out;

int main(void)
{
    if (mode >= 0 && mode < (int)(sizeof table / sizeof table[0]))
        out = table[mode]();
    return 0;
}
