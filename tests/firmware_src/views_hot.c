/* Fixture of the trace/profile/timeline views (tests/test_views.py): every core
 * runs `dot` (CORE-V post-increment loads and SIMD dot products) over its own
 * chunk, ROUNDS times; core 0 also calls `marker` with known arguments so the
 * trace has known register values. Most cycles are in `dot`'s loop line. */
#include "pmsis.h"
#include "corev.h"

#define N 256
#define ROUNDS 12

PI_L1 int8_t va[8][N];
PI_L1 int8_t vb[8][N];
int results[8];
volatile int sink;
volatile int len = N;     /* volatile: one call of dot per round */

__attribute__((noinline)) int marker(int x)
{
    return x * 3 + 7;
}

__attribute__((noinline)) int dot(const int8_t *a, const int8_t *b, int n)
{
    int acc = 0;
    for (int i = 0; i < n; i += 4) { int32_t x = cv_lw_pi(a, 4); int32_t y = cv_lw_pi(b, 4); acc = cv_sdotsp_b(acc, (v4s)x, (v4s)y); } /* HOT */
    return acc;
}

static void work(void *arg)
{
    (void)arg;
    int c = pi_core_id();
    for (int i = 0; i < N; i++) {
        va[c][i] = (int8_t)(i - c);
        vb[c][i] = (int8_t)(3 - i);
    }
    int acc = 0;
    for (int r = 0; r < ROUNDS; r++)
        acc += dot(va[c], vb[c], len);
    results[c] = acc;
}

int main(void)
{
    sink = marker(5);
    sink = marker(100);
    pi_cl_team_fork(0, work, 0);
    printf("dot %d\n", results[0]);
    return 0;
}
