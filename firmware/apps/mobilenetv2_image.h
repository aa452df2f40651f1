/* The records of the image the host (iss/study/mobilenetv2.py) places at the
 * start of the L2 heap for mobilenetv2.c. The host packs them with Python
 * struct formats written beside its field lists (HEADER_LAYOUT, OP_LAYOUT,
 * PROG_LAYOUT; TILE_FIELDS, BLOB_RECORD and BLOB_HEADER of iss/nn/mapping.py);
 * tests/test_mnv2_image_layout.py compiles this header for the cluster with
 * one static assertion per field (offset, size, signedness) and constant. */
#ifndef MOBILENETV2_IMAGE_H
#define MOBILENETV2_IMAGE_H

#include <stdint.h>

#define MNV2_MAGIC 0x32564E4Du /* "MNV2" */
#define MNV2_VERSION 1
#define KIND_CONV 1
#define KIND_PW 2
#define KIND_DW 3
#define KIND_ADD 4
#define KIND_POOL 5
#define KIND_FC 6
#define UNIT_CORES 0
#define UNIT_IMA 1
#define UNIT_DWA 2
#define MAX_CHAIN 8 /* most layers in one chain (op_t.chain) */

/* (fw): written by the firmware, read back by the host */
typedef struct {
  uint32_t magic, version, n_ops, ops, n_prog, prog, map_blob, order, cycles, l1_size;
  uint32_t total_cycles, prog_cycles, status, n_arrays, spare[2]; /* total_cycles .. status: fw */
} hdr_t;

/* One layer. in, out, in2, wgt, bias, mult_p, shift_p: L2 addresses. */
typedef struct {
  int32_t kind, unit, h, w, cin, cout, stride, relu;
  uint32_t in, out, in2, wgt, bias, mult_p, shift_p;
  int32_t mult, shift, mult_b, lo, hi, adc_low, adc_high;
  int32_t tile_first, tile_count, n_row_tiles, tile, n_arrays_used, chain, lag, spare[3];
} op_t;

/* One SUBMIT_PLOT run: a tile's weights into its array's window. */
typedef struct { uint32_t array, x, y, width, height, words; } prog_t;

/* The IMA layer table (iss.nn.mapping.Mapping.to_blob): a header of
 * MAP_BLOB_HEADER bytes, then one record per tile (BLOB_RECORD). */
typedef struct {
  uint16_t layer, array, x, y, width, height, row_off, col_off, row_tile, n_row_tiles;
} tile_rec_t;
#define MAP_BLOB_HEADER 20

#endif
