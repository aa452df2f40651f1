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

/* The PULP HAL's names for the same (hal/dma/mchan_v7.h, archi/dma/mchan_v7.h). */
#define PLP_DMA_QUEUE_OFFSET     DMA_CMD
#define PLP_DMA_STATUS_OFFSET    DMA_STATUS
#define PLP_DMA_TYPE_BIT         DMA_CMD_TYPE_BIT
#define PLP_DMA_INCR_BIT         DMA_CMD_INC_BIT
#define PLP_DMA_2D_BIT           DMA_CMD_TWD_EXT_BIT
#define PLP_DMA_ELE_BIT          DMA_CMD_ELE_BIT
#define PLP_DMA_ILE_BIT          DMA_CMD_ILE_BIT
#define PLP_DMA_BLE_BIT          DMA_CMD_BLE_BIT
#define PLP_DMA_2D_TCDM_BIT      DMA_CMD_TWD_TCDM_BIT

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

/* pmsis-style API (pmsis/cluster/dma/cl_dma.h). Every command/copy structure
 * starts with the TID, so pi_cl_dma_wait takes either. */
typedef enum { PI_CL_DMA_DIR_LOC2EXT = 0, PI_CL_DMA_DIR_EXT2LOC = 1 } pi_cl_dma_dir_e;
typedef struct pi_cl_dma_cmd_s { int id; } pi_cl_dma_cmd_t;
typedef struct pi_cl_dma_copy_s {
    int id;                  /* TID, set by pi_cl_dma_memcpy */
    uint32_t ext;            /* address in L2 */
    uint32_t loc;            /* address in the TCDM */
    uint32_t size;           /* bytes (< 128 KiB) */
    pi_cl_dma_dir_e dir;
    uint8_t merge;           /* accepted; every copy gets its own TID here */
    uint32_t stride;         /* 2-D: bytes between lines in L2 */
    uint32_t length;         /* 2-D: bytes per line */
} pi_cl_dma_copy_t;
typedef pi_cl_dma_copy_t pi_cl_dma_copy_2d_t;

static inline void pi_cl_dma_cmd(uint32_t ext, uint32_t loc, uint32_t size, pi_cl_dma_dir_e dir, pi_cl_dma_cmd_t *cmd)
{ cmd->id = plp_dma_memcpy(ext, loc, size, dir); }
static inline void pi_cl_dma_cmd_2d(uint32_t ext, uint32_t loc, uint32_t size, uint32_t stride, uint32_t length,
                                    pi_cl_dma_dir_e dir, pi_cl_dma_cmd_t *cmd)
{ cmd->id = plp_dma_memcpy_2d(ext, loc, size, stride, length, dir); }
static inline void pi_cl_dma_memcpy(pi_cl_dma_copy_t *copy)
{ copy->id = plp_dma_memcpy(copy->ext, copy->loc, copy->size, copy->dir); }
static inline void pi_cl_dma_memcpy_2d(pi_cl_dma_copy_2d_t *copy)
{ copy->id = plp_dma_memcpy_2d(copy->ext, copy->loc, copy->size, copy->stride, copy->length, copy->dir); }
/* Sleep until the command or copy (either structure) is done. */
static inline void pi_cl_dma_wait(void *copy) { plp_dma_wait(*(int *)copy); }
static inline void pi_cl_dma_cmd_wait(pi_cl_dma_cmd_t *cmd) { plp_dma_wait(cmd->id); }
static inline void pi_cl_dma_flush(void) { plp_dma_barrier(); }
static inline void pi_cl_dma_wait_all(void) { plp_dma_barrier(); }
#define plp_dma_wait_all plp_dma_barrier

#endif
