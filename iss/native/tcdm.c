/* TCDM bank arbitration: see tcdm.h. */
#include "tcdm.h"
#include "hart.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HARTS 32

typedef struct {
    uint64_t t;      /* issue cycle without the waits arbitrated after it was queued */
    uint32_t pc;     /* code halfword of the instruction (stall attribution) */
    uint32_t bank;
} hart_req;

typedef struct {
    uint64_t t;
    uint32_t bank;
    uint32_t who;    /* requester index: harts + port */
} port_word;

struct iss_tcdm {
    uint32_t banks, harts, cap;
    uint64_t resolved;          /* every cycle below is arbitrated */
    uint64_t late, overflow;
    struct iss_hart *hart[MAX_HARTS];
    hart_req *fifo[MAX_HARTS];  /* ring of cap entries per hart */
    uint64_t head[MAX_HARTS], tail[MAX_HARTS];
    uint64_t waits[MAX_HARTS];  /* waits arbitrated so far (added to the hart's clock) */
    uint64_t last[MAX_HARTS];   /* cycle of the hart's last granted access */
    uint64_t ht[MAX_HARTS];     /* head_time() of the hart's oldest queued access; UINT64_MAX: none */
    /* While iss_tcdm_resolve runs: which harts ask in each of the 64 cycles from
     * cal_base (cal[t & 63]; cal_occ: the slots not empty), and the harts asking
     * later (cal_far); ht changes only in refresh(), which keeps them. The next
     * cycle anyone asks in is then a rotate and a count of trailing zeros, not a
     * scan of every hart's clock. */
    uint32_t cal_live;
    uint32_t cal_far;
    uint64_t cal_base, cal_occ;
    uint32_t cal[64];
    uint64_t port_wait[ISS_TCDM_REQUESTERS];
    /* with a trace: per hart, each access that waited (its queued t, its wait) */
    uint32_t logging;
    uint32_t cur_wait[MAX_HARTS];
    uint64_t *log_t[MAX_HARTS];
    uint32_t *log_w[MAX_HARTS];
    size_t log_n[MAX_HARTS], log_cap[MAX_HARTS];
    /* per bank: round-robin pointer, this cycle's request mask and winner */
    uint8_t *rr;
    uint64_t *mask;
    uint8_t *winner;
    uint32_t *stamp;
    uint32_t gen;
    uint32_t *touched;
    /* port words: a binary min-heap on t */
    port_word *heap;
    size_t heap_n, heap_cap;
    /* this cycle's port words */
    port_word *cur;
    size_t cur_cap;
};

iss_tcdm *iss_tcdm_new(uint32_t banks, uint32_t harts, uint32_t capacity)
{
    if (harts > MAX_HARTS || harts >= ISS_TCDM_REQUESTERS || !banks || (capacity & (capacity - 1)))
        return NULL;
    iss_tcdm *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->banks = banks;
    a->harts = harts;
    a->cap = capacity;
    for (uint32_t i = 0; i < MAX_HARTS; i++)
        a->ht[i] = UINT64_MAX;
    for (uint32_t i = 0; i < harts; i++)
        a->fifo[i] = malloc((size_t)capacity * sizeof(hart_req));
    a->rr = calloc(banks, 1);
    a->mask = calloc(banks, sizeof(uint64_t));
    a->winner = calloc(banks, 1);
    a->stamp = calloc(banks, sizeof(uint32_t));
    a->touched = calloc(banks, sizeof(uint32_t));
    return a;
}

void iss_tcdm_free(iss_tcdm *a)
{
    if (!a)
        return;
    for (uint32_t i = 0; i < a->harts; i++) {
        free(a->fifo[i]);
        free(a->log_t[i]);
        free(a->log_w[i]);
    }
    free(a->rr);
    free(a->mask);
    free(a->winner);
    free(a->stamp);
    free(a->touched);
    free(a->heap);
    free(a->cur);
    free(a);
}

void iss_tcdm_attach(iss_tcdm *a, uint32_t id, struct iss_hart *h)
{
    if (id < a->harts)
        a->hart[id] = h;
}

/* The cycle hart i's oldest queued access is issued (it never issues before its
 * previous access was granted). */
static inline uint64_t head_time(const iss_tcdm *a, uint32_t i)
{
    uint64_t t = a->fifo[i][a->head[i] & (a->cap - 1)].t + a->waits[i];
    return t < a->last[i] ? a->last[i] : t;
}

static inline void cal_put(iss_tcdm *a, uint32_t i, uint64_t t)
{
    if (t == UINT64_MAX)
        return;
    if (t - a->cal_base < 64) {
        a->cal[t & 63] |= 1u << i;
        a->cal_occ |= 1ull << (t & 63);
    } else {
        a->cal_far |= 1u << i;
    }
}

static inline void cal_take(iss_tcdm *a, uint32_t i, uint64_t t)
{
    if (t == UINT64_MAX)
        return;
    if (t - a->cal_base < 64) {
        if (!(a->cal[t & 63] &= ~(1u << i)))
            a->cal_occ &= ~(1ull << (t & 63));
    } else {
        a->cal_far &= ~(1u << i);
    }
}

/* The calendar from the harts' clocks, from the earliest (ht only grows while
 * resolving: every later one is >= cal_base). */
static void cal_build(iss_tcdm *a)
{
    uint64_t base = UINT64_MAX;
    for (uint32_t i = 0; i < a->harts; i++)
        if (a->ht[i] < base)
            base = a->ht[i];
    for (uint64_t m = a->cal_occ; m; m &= m - 1)
        a->cal[__builtin_ctzll(m)] = 0;
    a->cal_occ = 0;
    a->cal_far = 0;
    a->cal_base = base;
    for (uint32_t i = 0; i < a->harts; i++)
        cal_put(a, i, a->ht[i]);
}

/* Keeps ht[i] equal to head_time(a, i) (called when the head, waits or last change). */
static inline void refresh(iss_tcdm *a, uint32_t i)
{
    uint64_t old = a->ht[i];
    a->ht[i] = a->head[i] == a->tail[i] ? UINT64_MAX : head_time(a, i);
    if (a->cal_live && a->ht[i] != old) {
        cal_take(a, i, old);
        cal_put(a, i, a->ht[i]);
    }
}

void iss_tcdm_request(iss_tcdm *a, struct iss_hart *h, uint64_t t, uint32_t bank, uint32_t pc_index)
{
    uint32_t i = h->arb_id;
    if (t < a->resolved) {
        a->late++;
        t = a->resolved;
    }
    if (a->tail[i] - a->head[i] >= a->cap) {
        a->overflow++;
        return;
    }
    hart_req *r = &a->fifo[i][a->tail[i]++ & (a->cap - 1)];
    r->t = t - a->waits[i];
    r->pc = pc_index;
    r->bank = bank;
    h->tcdm_pending++;
    if (a->tail[i] - a->head[i] == 1)
        refresh(a, i);
}

static void heap_push(iss_tcdm *a, port_word w)
{
    if (a->heap_n == a->heap_cap) {
        size_t cap = a->heap_cap ? 2 * a->heap_cap : 4096;
        port_word *p = realloc(a->heap, cap * sizeof *p);
        if (!p) {
            a->overflow++;
            return;
        }
        a->heap = p;
        a->heap_cap = cap;
    }
    size_t k = a->heap_n++;
    while (k) {
        size_t parent = (k - 1) / 2;
        if (a->heap[parent].t <= w.t)
            break;
        a->heap[k] = a->heap[parent];
        k = parent;
    }
    a->heap[k] = w;
}

static port_word heap_pop(iss_tcdm *a)
{
    port_word top = a->heap[0], last = a->heap[--a->heap_n];
    size_t k = 0, n = a->heap_n;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && a->heap[c + 1].t < a->heap[c].t)
            c++;
        if (last.t <= a->heap[c].t)
            break;
        a->heap[k] = a->heap[c];
        k = c;
    }
    if (n)
        a->heap[k] = last;
    return top;
}

void iss_tcdm_port_words(iss_tcdm *a, uint32_t port, const uint32_t *words, const uint64_t *cycles, uint32_t n)
{
    uint32_t who = a->harts + port;
    if (who >= ISS_TCDM_REQUESTERS)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = cycles[i];
        if (t < a->resolved) {
            a->late++;
            t = a->resolved;
        }
        heap_push(a, (port_word){t, words[i] & (a->banks - 1), who});
    }
}

static inline void charge_wait(iss_tcdm *a, uint32_t i, uint32_t pc)
{
    struct iss_hart *h = a->hart[i];
    a->waits[i]++;
    a->cur_wait[i]++;
    h->cycles++;
    h->block_dyn++;
    h->access_cycle++;
    h->stall_tcdm++;
    if (h->stall_at && pc != ISS_NO_SLOT)
        h->stall_at[pc]++;
}

static void log_wait(iss_tcdm *a, uint32_t i, uint64_t t, uint32_t w)
{
    if (a->log_n[i] == a->log_cap[i]) {
        size_t cap = a->log_cap[i] ? 2 * a->log_cap[i] : 1024;
        uint64_t *pt = realloc(a->log_t[i], cap * sizeof *pt);
        if (pt)
            a->log_t[i] = pt;
        uint32_t *pw = realloc(a->log_w[i], cap * sizeof *pw);
        if (pw)
            a->log_w[i] = pw;
        if (!pt || !pw) {
            a->overflow++;
            return;
        }
        a->log_cap[i] = cap;
    }
    a->log_t[i][a->log_n[i]] = t;
    a->log_w[i][a->log_n[i]++] = w;
}

void iss_tcdm_log_waits(iss_tcdm *a, uint32_t on) { a->logging = on; }

size_t iss_tcdm_wait_log(const iss_tcdm *a, uint32_t hart, const uint64_t **t, const uint32_t **w)
{
    if (hart >= a->harts)
        return 0;
    *t = a->log_t[hart];
    *w = a->log_w[hart];
    return a->log_n[hart];
}

/* Add requester `who` to `bank`'s requests this cycle; returns 0 if it already
 * asks for that bank in this cycle (a second word of the same port). */
static inline int ask(iss_tcdm *a, uint32_t bank, uint32_t who, uint32_t *ntouched)
{
    uint64_t bit = 1ull << who;
    if (a->stamp[bank] != a->gen) {
        a->stamp[bank] = a->gen;
        a->mask[bank] = 0;
        a->touched[(*ntouched)++] = bank;
    } else if (a->mask[bank] & bit) {
        return 0;
    }
    a->mask[bank] |= bit;
    return 1;
}

/* Round-robin: the first requester at or after the bank's pointer. */
static inline uint32_t pick(iss_tcdm *a, uint32_t bank)
{
    uint64_t m = a->mask[bank];
    uint32_t p = a->rr[bank];
    uint64_t rot = p ? (m >> p) | (m << (64 - p)) : m;
    uint32_t w = (uint32_t)((__builtin_ctzll(rot) + p) & 63);
    a->rr[bank] = (uint8_t)((w + 1) & 63);
    return w;
}

/* Hart i's oldest access (r) is granted in cycle t. */
static inline __attribute__((always_inline)) void grant(iss_tcdm *a, uint32_t i, const hart_req *r, uint64_t t)
{
    if (a->cur_wait[i]) {
        if (a->logging)
            log_wait(a, i, r->t, a->cur_wait[i]);
        a->cur_wait[i] = 0;
    }
    a->head[i]++;
    a->last[i] = t;
    a->hart[i]->tcdm_pending--;
    refresh(a, i);
}

static inline void lose(iss_tcdm *a, uint32_t i, const hart_req *r)
{
    charge_wait(a, i, r->pc);
    refresh(a, i);
}

static inline hart_req *oldest(iss_tcdm *a, uint32_t i)
{
    return &a->fifo[i][a->head[i] & (a->cap - 1)];
}

/* Cycle t when only harts ask, each for a different bank (the common case): all
 * are served, as the general path below would (each bank's round-robin pointer
 * moves past its only requester). A hart's second access in the same cycle gets
 * its bank if nobody asked for it in this cycle. Returns 0, having changed
 * nothing, when two harts ask for one bank. `asking`: the harts asking in cycle t. */
static int resolve_distinct(iss_tcdm *a, uint64_t t, uint32_t asking)
{
    uint64_t seen = 0;
    for (uint32_t m = asking; m; m &= m - 1) {
        uint64_t bit = 1ull << oldest(a, (uint32_t)__builtin_ctz(m))->bank;
        if (seen & bit)
            return 0;
        seen |= bit;
    }
    for (uint32_t m = asking; m; m &= m - 1) {
        uint32_t i = (uint32_t)__builtin_ctz(m);
        hart_req *r = oldest(a, i);
        a->rr[r->bank] = (uint8_t)((i + 1) & 63);
        grant(a, i, r, t);
    }
    for (;;) {
        uint32_t next = 0;
        for (uint32_t m = asking; m; m &= m - 1) {
            uint32_t i = (uint32_t)__builtin_ctz(m);
            if (a->ht[i] == t)
                next |= 1u << i;
        }
        if (!next)
            return 1;
        for (uint32_t m = next; m; m &= m - 1) {
            uint32_t i = (uint32_t)__builtin_ctz(m);
            hart_req *r = oldest(a, i);
            uint64_t bit = 1ull << r->bank;
            if (seen & bit) {
                lose(a, i, r);
            } else {
                seen |= bit;
                grant(a, i, r, t);
            }
        }
        asking = next;
    }
}

void iss_tcdm_resolve(iss_tcdm *a, uint64_t upto)
{
    uint32_t H = a->harts;
    cal_build(a);
    a->cal_live = 1;
    uint64_t cur = a->cal_base;  /* every hart in the calendar asks in [cur, cur + 64) */
    for (;;) {
        /* The next cycle anyone asks in, and which harts ask then. */
        uint64_t t = UINT64_MAX;
        uint32_t asking = 0;     /* bit i: hart i asks in cycle t */
        if (!a->cal_occ && a->cal_far) {
            cal_build(a);        /* the 64 cycles are done: on to the next hart's */
            cur = a->cal_base;
        }
        if (a->cal_occ) {
            uint32_t s = (uint32_t)(cur & 63);
            uint64_t rot = s ? (a->cal_occ >> s) | (a->cal_occ << (64 - s)) : a->cal_occ;
            t = cur + (uint64_t)__builtin_ctzll(rot);
            asking = a->cal[t & 63];
        }
        int ports = a->heap_n && a->heap[0].t <= t;
        if (ports && a->heap[0].t < t) {
            t = a->heap[0].t;
            asking = 0;
        }
        if (t >= upto || t == UINT64_MAX)
            break;
        if (asking)
            cur = t;
        if (a->banks <= 64 && !ports && resolve_distinct(a, t, asking))
            continue;
        /* Everyone asking in cycle t: the harts' oldest accesses and the ports' words. */
        if (++a->gen == 0) {
            memset(a->stamp, 0, a->banks * sizeof(uint32_t));
            a->gen = 1;
        }
        uint32_t ntouched = 0;
        for (uint32_t m = asking; m; m &= m - 1) {
            uint32_t i = (uint32_t)__builtin_ctz(m);
            ask(a, oldest(a, i)->bank, i, &ntouched);
        }
        size_t ncur = 0;
        while (a->heap_n && a->heap[0].t == t) {
            if (ncur == a->cur_cap) {
                size_t cap = a->cur_cap ? 2 * a->cur_cap : 256;
                port_word *p = realloc(a->cur, cap * sizeof *p);
                if (!p)
                    break;
                a->cur = p;
                a->cur_cap = cap;
            }
            port_word w = heap_pop(a);
            if (!ask(a, w.bank, w.who, &ntouched)) {
                w.t++;                       /* the same port's other word here: next cycle */
                a->port_wait[w.who]++;
                heap_push(a, w);
                continue;
            }
            a->cur[ncur++] = w;
        }
        for (uint32_t k = 0; k < ntouched; k++) {
            uint32_t b = a->touched[k];
            a->winner[b] = (uint8_t)pick(a, b);
        }
        for (size_t k = 0; k < ncur; k++) {
            port_word w = a->cur[k];
            if (a->winner[w.bank] != w.who) {
                w.t++;
                a->port_wait[w.who]++;
                heap_push(a, w);
            }
        }
        /* Harts: the winners' accesses are done; a hart may issue a second access in
         * the same cycle (two accesses of one instruction timed alike): it gets its
         * bank if nobody took it in this cycle. The losers wait a cycle. */
        while (asking) {
            uint32_t next = 0;
            for (uint32_t i = 0; i < H; i++) {
                if (!(asking >> i & 1))
                    continue;
                hart_req *r = oldest(a, i);
                uint32_t b = r->bank;
                int won;
                if (a->stamp[b] != a->gen) {      /* a bank nobody asked for in this cycle */
                    a->stamp[b] = a->gen;
                    a->mask[b] = 1ull << i;
                    a->winner[b] = (uint8_t)i;
                    won = 1;
                } else {
                    won = a->winner[b] == i;
                }
                if (won) {
                    grant(a, i, r, t);
                    a->winner[b] = 0xFF;          /* served: a later access waits */
                    if (a->ht[i] == t)
                        next |= 1u << i;
                } else {
                    lose(a, i, r);
                }
            }
            asking = next;
        }
    }
    a->cal_live = 0;
    if (upto != UINT64_MAX && upto > a->resolved)
        a->resolved = upto;
}

void iss_tcdm_counters(const iss_tcdm *a, uint64_t out[4])
{
    out[0] = a->late;
    out[1] = a->overflow;
    out[2] = a->resolved;
    out[3] = a->heap_n;
}

uint64_t iss_tcdm_port_wait(const iss_tcdm *a, uint32_t port)
{
    uint32_t who = a->harts + port;
    return who < ISS_TCDM_REQUESTERS ? a->port_wait[who] : 0;
}
