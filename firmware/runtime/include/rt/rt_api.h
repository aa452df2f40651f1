/* The pulp-rt umbrella header of older code: everything is in pmsis.h. */
#include "pmsis.h"
