/* Fixture of tests/test_views.py: runs a little (a known function, `before_crash`)
 * then loads from an unmapped address, so the run ends with an error; the trace
 * written so far must be on disk. */
#include "pmsis.h"

volatile int sink;

__attribute__((noinline)) int before_crash(int x)
{
    return x + 0x1234;
}

int main(void)
{
    sink = before_crash(1);
    sink = *(volatile int *)0x30000000;
    return 0;
}
