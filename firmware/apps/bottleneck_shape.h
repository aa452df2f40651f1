/* The bottleneck the apps compute, for every variant (cores, IMA+cores,
 * IMA+DWA+cores): MobileNetV2 blocks 4/5 by default, any shape with -D BN_*. */
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

#endif
