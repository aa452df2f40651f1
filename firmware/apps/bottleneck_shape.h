/* The bottleneck the apps compute, for every variant (cores, IMA+cores,
 * IMA+DWA+cores): MobileNetV2 blocks 4/5 by default, any shape with -D BN_*,
 * and the sizes that follow from it. */
#ifndef BOTTLENECK_SHAPE_H
#define BOTTLENECK_SHAPE_H

#ifndef BN_H
#define BN_H 28
#endif
#ifndef BN_W
#define BN_W BN_H
#endif
#ifndef BN_CIN
#define BN_CIN 32
#endif
#ifndef BN_T
#define BN_T 6
#endif
#ifndef BN_COUT
#define BN_COUT 32
#endif
#ifndef BN_STRIDE
#define BN_STRIDE 1
#endif

#define HID (BN_CIN * BN_T)
#define HO ((BN_H - 1) / BN_STRIDE + 1)
#define WO ((BN_W - 1) / BN_STRIDE + 1)
#define HAS_EXPAND (BN_T != 1)
#define RESIDUAL (BN_STRIDE == 1 && BN_CIN == BN_COUT)
#define NLAYERS 4
/* symbols the host fills or reads back: kept by the linker, word aligned */
#define USED __attribute__((used, retain, aligned(4)))

#endif
