/* Cluster DMA driver (mchan v7 style; model: iss/periph/dma.py, which documents
 * the register semantics and the timing formula). The register offsets and
 * command bits below are checked against the model by tests/periph/test_headers.py.
 *
 * Transfers move bytes between the TCDM ("loc") and L2 ("ext"). Every transfer is
 * counted on a transfer id (TID, 16 of them) that the core allocates by reading
 * CMD; plp_dma_wait(tid) sleeps on event line EVT_DMA0 until the TID's transfers
 * are done, then frees it. Timing: a transfer keeps the engine busy
 * sum over its lines of ceil(line bytes / [dma] bytes_per_cycle) cycles and
 * completes [dma] latency cycles after its last beat. */
#ifndef ISS_DMA_H
#define ISS_DMA_H
#include <stdint.h>
#include "archi.h"
#include "eu.h"

/* registers (core-private view at DMA_DEMUX_BASE, shared view at ARCHI_DMA_BASE) */
#define DMA_CMD                  0x0
#define DMA_STATUS               0x4

/* command word */
#define DMA_CMD_LEN_MASK         0x1FFFF
#define DMA_CMD_TYPE_BIT         17   /* 1: L2 -> TCDM (ext2loc), 0: TCDM -> L2 */
#define DMA_CMD_INC_BIT          18
#define DMA_CMD_TWD_EXT_BIT      19   /* 2-D on the L2 side: + line length, stride words */
#define DMA_CMD_ELE_BIT          20   /* event EVT_DMA0 at completion */
#define DMA_CMD_ILE_BIT          21   /* "interrupt": delivered as event EVT_DMA1 */
#define DMA_CMD_BLE_BIT          22   /* event to all cores instead of the issuing one */
#define DMA_CMD_TWD_TCDM_BIT     23   /* 2-D on the TCDM side: + line length, stride words */
#define DMA_NB_TID               16

#define PLP_DMA_LOC2EXT 0
#define PLP_DMA_EXT2LOC 1
#define PLP_DMA_1D 0
#define PLP_DMA_2D 1

#define __DMA_REG(off) (*(volatile uint32_t *)(DMA_DEMUX_BASE + (off)))

static inline int plp_dma_counter_alloc(void) { return (int)__DMA_REG(DMA_CMD); }
static inline void plp_dma_counter_free(int counter) { __DMA_REG(DMA_STATUS) = 1u << counter; }
/* bits 0-15: TIDs with transfers in flight; bits 16-31: allocated TIDs */
static inline uint32_t plp_dma_status(void) { return __DMA_REG(DMA_STATUS); }

static inline uint32_t plp_dma_getCmd(int ext2loc, uint32_t size, int is2D, int trigEvt, int trigIrq,
                                      int broadcast)
{
    return (size & DMA_CMD_LEN_MASK) | ((uint32_t)(ext2loc & 1) << DMA_CMD_TYPE_BIT) | (1u << DMA_CMD_INC_BIT)
         | ((uint32_t)(is2D & 1) << DMA_CMD_TWD_EXT_BIT) | ((uint32_t)(trigEvt & 1) << DMA_CMD_ELE_BIT)
         | ((uint32_t)(trigIrq & 1) << DMA_CMD_ILE_BIT) | ((uint32_t)(broadcast & 1) << DMA_CMD_BLE_BIT);
}

static inline void plp_dma_cmd_push(uint32_t cmd, uint32_t loc, uint32_t ext)
{
    __DMA_REG(DMA_CMD) = cmd;
    __DMA_REG(DMA_CMD) = loc;
    __DMA_REG(DMA_CMD) = ext;
}

/* 2-D on the L2 side: lines of `length` bytes, `stride` bytes apart in L2,
 * contiguous in the TCDM (order of the PULP HAL: length, then stride). */
static inline void plp_dma_cmd_push_2d(uint32_t cmd, uint32_t loc, uint32_t ext, uint32_t stride, uint32_t length)
{
    plp_dma_cmd_push(cmd, loc, ext);
    __DMA_REG(DMA_CMD) = length;
    __DMA_REG(DMA_CMD) = stride;
}

/* 1-D copy of `size` bytes (< 128 KiB); returns the TID to wait on. */
static inline int plp_dma_memcpy(uint32_t ext, uint32_t loc, uint32_t size, int ext2loc)
{
    int counter = plp_dma_counter_alloc();
    plp_dma_cmd_push(plp_dma_getCmd(ext2loc, size, PLP_DMA_1D, 1, 0, 0), loc, ext);
    return counter;
}

static inline int plp_dma_memcpy_2d(uint32_t ext, uint32_t loc, uint32_t size, uint32_t stride,
                                    uint32_t length, int ext2loc)
{
    int counter = plp_dma_counter_alloc();
    plp_dma_cmd_push_2d(plp_dma_getCmd(ext2loc, size, PLP_DMA_2D, 1, 0, 0), loc, ext, stride, length);
    return counter;
}

static inline int plp_dma_l1ToExt(uint32_t ext, uint32_t loc, uint32_t size)
{ return plp_dma_memcpy(ext, loc, size, PLP_DMA_LOC2EXT); }
static inline int plp_dma_extToL1(uint32_t loc, uint32_t ext, uint32_t size)
{ return plp_dma_memcpy(ext, loc, size, PLP_DMA_EXT2LOC); }
static inline int plp_dma_l1ToExt_2d(uint32_t ext, uint32_t loc, uint32_t size, uint32_t stride, uint32_t length)
{ return plp_dma_memcpy_2d(ext, loc, size, stride, length, PLP_DMA_LOC2EXT); }
static inline int plp_dma_extToL1_2d(uint32_t loc, uint32_t ext, uint32_t size, uint32_t stride, uint32_t length)
{ return plp_dma_memcpy_2d(ext, loc, size, stride, length, PLP_DMA_EXT2LOC); }

/* Sleep until the transfers of `counter` are done, then free it. */
static inline void plp_dma_wait(int counter)
{
    while (plp_dma_status() & (1u << counter))
        eu_evt_wait_clr(1u << EVT_DMA0);
    plp_dma_counter_free(counter);
}

/* Sleep until no transfer is in flight; free every TID. */
static inline void plp_dma_barrier(void)
{
    while (plp_dma_status() & 0xFFFF)
        eu_evt_wait_clr(1u << EVT_DMA0);
    __DMA_REG(DMA_STATUS) = 0xFFFFFFFFu;
}

/* pmsis-style API */
#define PI_CL_DMA_DIR_LOC2EXT 0
#define PI_CL_DMA_DIR_EXT2LOC 1
typedef struct pi_cl_dma_cmd_s { int id; } pi_cl_dma_cmd_t;

static inline void pi_cl_dma_cmd(uint32_t ext, uint32_t loc, uint32_t size, int dir, pi_cl_dma_cmd_t *cmd)
{ cmd->id = plp_dma_memcpy(ext, loc, size, dir); }
static inline void pi_cl_dma_cmd_2d(uint32_t ext, uint32_t loc, uint32_t size, uint32_t stride, uint32_t length,
                                    int dir, pi_cl_dma_cmd_t *cmd)
{ cmd->id = plp_dma_memcpy_2d(ext, loc, size, stride, length, dir); }
static inline void pi_cl_dma_wait(pi_cl_dma_cmd_t *cmd) { plp_dma_wait(cmd->id); }

#endif
