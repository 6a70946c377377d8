#include "crc32c.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* The reflected Castagnoli polynomial. */
#define CRC32C_POLY 0x82f63b78u

/* Both paths work on the raw CRC register: crc32c_extend() inverts on the
 * way in and out, so extending a finished CRC continues it. */

/* table[k][b] is the register after feeding byte b followed by k zero
 * bytes into a zero register; slicing-by-8 folds eight bytes per step with
 * eight lookups instead of eight dependent ones. */
static uint32_t sw_table[8][256];

/* The hardware path runs three independent streams over blocks of
 * HW_BLOCK bytes (the instruction's latency is three cycles, its
 * throughput one per cycle) and joins them by shifting a stream's register
 * past HW_BLOCK zero bytes, which is linear: shift_table[k][b] is the shift
 * of b << (8 * k). */
#define HW_BLOCK 4096u
static uint32_t shift_table[4][256];

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static bool hw_ok;

static uint32_t raw_byte(uint32_t reg, uint8_t byte)
{
    reg ^= byte;
    for (int i = 0; i < 8; i++)
        reg = (reg >> 1) ^ (CRC32C_POLY & (0u - (reg & 1u)));
    return reg;
}

static uint32_t raw_zeros_bytewise(uint32_t reg, size_t n)
{
    while (n--)
        reg = (reg >> 8) ^ sw_table[0][reg & 0xff];
    return reg;
}

static void tables_init(void)
{
    for (unsigned b = 0; b < 256; b++)
        sw_table[0][b] = raw_byte(0, (uint8_t)b);
    for (unsigned b = 0; b < 256; b++) {
        uint32_t reg = sw_table[0][b];
        for (int k = 1; k < 8; k++) {
            reg = (reg >> 8) ^ sw_table[0][reg & 0xff];
            sw_table[k][b] = reg;
        }
    }

    /* Shifting is linear over GF(2): shift each of the 32 register bits
     * once, then build every table entry by xor. */
    uint32_t bit_shift[32];
    for (int i = 0; i < 32; i++)
        bit_shift[i] = raw_zeros_bytewise(1u << i, HW_BLOCK);
    for (int k = 0; k < 4; k++) {
        for (unsigned b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int i = 0; i < 8; i++)
                if (b & (1u << i))
                    v ^= bit_shift[8 * k + i];
            shift_table[k][b] = v;
        }
    }

#if defined(__x86_64__)
    __builtin_cpu_init();
    hw_ok = __builtin_cpu_supports("sse4.2");
#else
    hw_ok = false;
#endif
}

/* Set (release) once tables_init() has run: after that, a load (acquire)
 * instead of a call to pthread_once() per CRC, most of which are of one
 * short record. */
static atomic_bool tables_done;

static inline void tables_ready(void)
{
    if (atomic_load_explicit(&tables_done, memory_order_acquire))
        return;
    pthread_once(&tables_once, tables_init);
    atomic_store_explicit(&tables_done, true, memory_order_release);
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint32_t crc32c_extend_sw(uint32_t crc, const void *buf, size_t len)
{
    tables_ready();
    const uint8_t *p = buf;
    uint32_t reg = ~crc;

    /* Single bytes until p is 8-aligned, so the main loop's loads are. */
    while (len > 0 && ((uintptr_t)p & 7u) != 0) {
        reg = (reg >> 8) ^ sw_table[0][(reg ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint64_t v = load_le64(p) ^ reg;
        reg = sw_table[7][v & 0xff] ^
              sw_table[6][(v >> 8) & 0xff] ^
              sw_table[5][(v >> 16) & 0xff] ^
              sw_table[4][(v >> 24) & 0xff] ^
              sw_table[3][(v >> 32) & 0xff] ^
              sw_table[2][(v >> 40) & 0xff] ^
              sw_table[1][(v >> 48) & 0xff] ^
              sw_table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        reg = (reg >> 8) ^ sw_table[0][(reg ^ *p++) & 0xff];
    return ~reg;
}

bool crc32c_hw_available(void)
{
    tables_ready();
    return hw_ok;
}

#if defined(__x86_64__)

static inline uint32_t shift_block(uint32_t reg)
{
    return shift_table[0][reg & 0xff] ^ shift_table[1][(reg >> 8) & 0xff] ^
           shift_table[2][(reg >> 16) & 0xff] ^ shift_table[3][reg >> 24];
}

/* The hardware path proper; the tables must be ready. Loads are
 * unaligned (x86-64 does them at full speed), so a short buffer -- a
 * record's 8-byte length, a scalar event of some 40 bytes -- takes one
 * instruction per 8 bytes and at most three more for its tail, instead of
 * byte steps up to an 8-byte boundary and after the last one. */
__attribute__((target("sse4.2")))
static uint32_t hw_extend(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t reg = (uint32_t)~crc;

    /* Three streams: a, b and c each cover one block; b and c start from a
     * zero register, and a's result is carried past the blocks after it. */
    while (len >= 3 * HW_BLOCK) {
        uint64_t a = reg, b = 0, c = 0;
        const uint8_t *end = p + HW_BLOCK;
        while (p < end) {
            uint64_t va, vb, vc;
            memcpy(&va, p, 8);
            memcpy(&vb, p + HW_BLOCK, 8);
            memcpy(&vc, p + 2 * HW_BLOCK, 8);
            a = _mm_crc32_u64(a, va);
            b = _mm_crc32_u64(b, vb);
            c = _mm_crc32_u64(c, vc);
            p += 8;
        }
        reg = shift_block(shift_block((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
        p += 2 * HW_BLOCK;
        len -= 3 * HW_BLOCK;
    }

    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        reg = _mm_crc32_u64(reg, v);
        p += 8;
        len -= 8;
    }
    uint32_t r32 = (uint32_t)reg;
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        r32 = _mm_crc32_u32(r32, v);
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        r32 = _mm_crc32_u16(r32, v);
        p += 2;
    }
    if (len & 1)
        r32 = _mm_crc32_u8(r32, *p);
    return ~r32;
}

uint32_t crc32c_extend_hw(uint32_t crc, const void *buf, size_t len)
{
    tables_ready();
    return hw_extend(crc, buf, len);
}

#else

/* No CRC instruction on this architecture: never called, since
 * crc32c_hw_available() is false; answer correctly anyway. */
uint32_t crc32c_extend_hw(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_extend_sw(crc, buf, len);
}

#endif

uint32_t crc32c_extend(uint32_t crc, const void *buf, size_t len)
{
    tables_ready();
#if defined(__x86_64__)
    if (hw_ok)
        return hw_extend(crc, buf, len);
#endif
    return crc32c_extend_sw(crc, buf, len);
}
