/* math.h's float functions over many inputs: tests/test_sdk_libm.py writes
 * the inputs of every function (edge cases and each one's domain), runs this,
 * and compares every result bit for bit with the correctly rounded value. */
#include <math.h>

#define N 1024
#define N_UNARY 26
#define N_BINARY 4

typedef float (*unary_fn)(float);
typedef float (*binary_fn)(float, float);

/* In the order of UNARY/BINARY in the test. */
static unary_fn const unary[N_UNARY] = {
    expf, exp2f, expm1f, logf, log2f, log10f, log1pf, sinf, cosf, tanf, sinhf, coshf, tanhf,
    asinf, acosf, atanf, asinhf, acoshf, atanhf, erff, erfcf, cbrtf, sqrtf, floorf, roundf, rintf,
};
static binary_fn const binary[N_BINARY] = {powf, atan2f, hypotf, fmodf};

float unary_in[N_UNARY][N] = {{1}};     /* written by the test */
float binary_x[N_BINARY][N] = {{1}};
float binary_y[N_BINARY][N] = {{1}};
float unary_out[N_UNARY][N];
float binary_out[N_BINARY][N];

int main(void)
{
    for (int f = 0; f < N_UNARY; f++)
        for (int i = 0; i < N; i++)
            unary_out[f][i] = unary[f](unary_in[f][i]);
    for (int f = 0; f < N_BINARY; f++)
        for (int i = 0; i < N; i++)
            binary_out[f][i] = binary[f](binary_x[f][i], binary_y[f][i]);
    return 0;
}
