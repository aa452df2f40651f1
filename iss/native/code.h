/* Where the program's code is: one region per executable segment (L2 code and
 * TCDM code, .l1.text, are 192 MiB apart), their per-halfword tables laid end
 * to end, each region followed by one slot for its end. Mirrored by
 * iss/native/__init__.py:CodeMap; filled from iss/hart.py:CodeImage. */
#ifndef ISS_NATIVE_CODE_H
#define ISS_NATIVE_CODE_H
#include <stdint.h>

#define ISS_CODE_REGIONS 4
#define ISS_NO_SLOT 0xFFFFFFFFu   /* an address outside the code map */

typedef struct iss_code_region {
    uint32_t base;       /* address of the region's first halfword */
    uint32_t halfwords;  /* halfwords of code (the tables have one more: the end) */
    uint32_t offset;     /* index of the first halfword in the tables */
} iss_code_region;

typedef struct iss_code_map {
    uint32_t n;
    iss_code_region r[ISS_CODE_REGIONS];
} iss_code_map;

/* The table index of the halfword at `addr` if it is inside region `r` or at its end. */
static inline int iss_code_index_in(const iss_code_region *r, uint32_t addr, uint32_t *idx)
{
    uint32_t off = addr - r->base;
    if (addr < r->base || (off >> 1) > r->halfwords)
        return 0;
    *idx = r->offset + (off >> 1);
    return 1;
}

/* The table index of the halfword at `addr`, inside a region or at its end. */
static inline int iss_code_index(const iss_code_map *m, uint32_t addr, uint32_t *idx)
{
    for (uint32_t k = 0; k < m->n; k++)
        if (iss_code_index_in(&m->r[k], addr, idx))
            return 1;
    return 0;
}

/* Whether `addr` is one of region `r`'s halfwords of code (not its end). */
static inline int iss_code_region_has(const iss_code_region *r, uint32_t addr)
{
    return addr - r->base < 2 * r->halfwords;
}
/* The region whose instructions include `addr` (NULL: none). */
static inline const iss_code_region *iss_code_region_of(const iss_code_map *m, uint32_t addr)
{
    for (uint32_t k = 0; k < m->n; k++)
        if (iss_code_region_has(&m->r[k], addr))
            return &m->r[k];
    return NULL;
}

/* The table index of the halfword at `addr` in region `r`. */
static inline uint32_t iss_code_region_slot(const iss_code_region *r, uint32_t addr)
{
    return r->offset + ((addr - r->base) >> 1);
}

/* iss_code_index for an instruction: inside a region, not at its end. */
static inline int iss_code_insn(const iss_code_map *m, uint32_t addr, uint32_t *idx)
{
    const iss_code_region *r = iss_code_region_of(m, addr);
    if (r)
        *idx = iss_code_region_slot(r, addr);
    return r != NULL;
}

/* The address of table index `idx`. */
static inline uint32_t iss_code_pc(const iss_code_map *m, uint32_t idx)
{
    for (uint32_t k = 0; k < m->n; k++)
        if (idx >= m->r[k].offset && idx <= m->r[k].offset + m->r[k].halfwords)
            return m->r[k].base + 2 * (idx - m->r[k].offset);
    return 0;
}
#endif
