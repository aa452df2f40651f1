/* Pointwise layer with its tensors in L2, tiled through the TCDM with DMA
 * double buffering (kernels.h: pw_conv_int8_l2). Core 0 drives the DMA; all
 * cores compute. Per tile t (two team barriers):
 *   core 0 starts the load of input tile t+1 into the other input buffer;
 *   every core computes its pixels of tile t (pw_conv_int8's 4x2 tiles);
 *   barrier; core 0 waits for input t+1 and for the store of tile t-1 (whose
 *   output buffer tile t+1 reuses), starts the store of tile t; barrier. */
#include "kernels_common.h"
#include "dma.h"

#define DMA_MAX_CHUNK 0x10000 /* < 128 KiB per transfer */

/* 1-D copy of any size in chunks, counted on the core's current TID (the
 * last one it allocated): several copies may share one TID. */
static void dma_push(uint32_t ext, uint32_t loc, uint32_t size, int ext2loc)
{
  while (size > 0) {
    uint32_t n = size < DMA_MAX_CHUNK ? size : DMA_MAX_CHUNK;
    plp_dma_cmd_push(plp_dma_getCmd(ext2loc, n, PLP_DMA_1D, 1, 0, 0), loc, ext);
    ext += n;
    loc += n;
    size -= n;
  }
}

/* 1-D copy of any size in chunks, all counted on one TID (core 0 only). */
static int dma_copy(uint32_t ext, uint32_t loc, uint32_t size, int ext2loc)
{
  int tid = plp_dma_counter_alloc();
  dma_push(ext, loc, size, ext2loc);
  return tid;
}

void pw_conv_int8_l2(const int8_t *in, const int8_t *w_packed, const int32_t *bias, int8_t *out,
                     int n_pix, int cin, int cout, int32_t mult, int32_t shift, int relu,
                     int8_t *l1_buf, int tile_pix)
{
  const int core = pi_core_id();
  const int wsize = PW4_SIZE(cin, cout), bsize = 4 * KERNELS_ROUND4(cout);
  const int isize = KERNELS_ROUND4(tile_pix * cin), osize = KERNELS_ROUND4(tile_pix * cout);
  int8_t *l1_w = l1_buf;
  int32_t *l1_b = (int32_t *)(l1_buf + wsize);
  int8_t *l1_in[2] = {l1_buf + wsize + bsize, l1_buf + wsize + bsize + isize};
  int8_t *l1_out[2] = {l1_in[1] + isize, l1_in[1] + isize + osize};
  const int ntiles = (n_pix + tile_pix - 1) / tile_pix;
  int tid_in = -1, tid_out[2] = {-1, -1};

  if (core == 0 && ntiles > 0) {
    int t0 = dma_copy((uint32_t)w_packed, (uint32_t)l1_w, wsize, PLP_DMA_EXT2LOC);
    int t1 = dma_copy((uint32_t)bias, (uint32_t)l1_b, 4 * cout, PLP_DMA_EXT2LOC);
    int n0 = k_min(tile_pix, n_pix);
    int t2 = dma_copy((uint32_t)in, (uint32_t)l1_in[0], n0 * cin, PLP_DMA_EXT2LOC);
    plp_dma_wait(t0);
    plp_dma_wait(t1);
    plp_dma_wait(t2);
  }
  pi_cl_team_barrier();

  for (int t = 0; t < ntiles; t++) {
    const int p0 = t * tile_pix, cnt = k_min(tile_pix, n_pix - p0);
    if (core == 0 && t + 1 < ntiles) {
      const int p1 = p0 + tile_pix, cnt1 = k_min(tile_pix, n_pix - p1);
      tid_in = dma_copy((uint32_t)(in + p1 * cin), (uint32_t)l1_in[(t + 1) & 1], cnt1 * cin,
                        PLP_DMA_EXT2LOC);
    }
    int start, end;
    k_split(cnt, 2, &start, &end);
    pw_rows_any_(l1_in[t & 1], l1_w, l1_b, l1_out[t & 1], start, end, cin, cout, mult, shift, relu);
    pi_cl_team_barrier();
    if (core == 0) {
      if (t + 1 < ntiles)
        plp_dma_wait(tid_in);
      if (tid_out[(t + 1) & 1] >= 0) {
        plp_dma_wait(tid_out[(t + 1) & 1]);
        tid_out[(t + 1) & 1] = -1;
      }
      tid_out[t & 1] = dma_copy((uint32_t)(out + p0 * cout), (uint32_t)l1_out[t & 1], cnt * cout,
                                PLP_DMA_LOC2EXT);
    }
    pi_cl_team_barrier();
  }
  if (core == 0) {
    for (int i = 0; i < 2; i++)
      if (tid_out[i] >= 0)
        plp_dma_wait(tid_out[i]);
  }
  pi_cl_team_barrier();
}
