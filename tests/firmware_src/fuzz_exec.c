/* Core 0 runs fuzz_exec.S's region (random words written by the test). */
#include "pmsis.h"

void fuzz_entry(void);
PI_L1 uint8_t fuzz_scratch[4096];

int main(void)
{
    fuzz_entry();
    return 0;
}
