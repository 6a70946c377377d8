/* crc32c: CRC-32C (Castagnoli), the checksum of TFRecord framing.
 *
 * Reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF; not zlib's
 * crc32. crc32c_extend() picks the SSE4.2 instruction at run time when the
 * CPU has it and a portable slicing-by-8 table otherwise; both paths are
 * exported so tests and benchmarks can compare them. Thread-safe. */
#ifndef TFEVENTS_CRC32C_H
#define TFEVENTS_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over more bytes: crc32c_extend(crc32c_extend(0, a), b) is
 * the CRC of a followed by b. Start with 0. */
uint32_t crc32c_extend(uint32_t crc, const void *buf, size_t len);

/* The CRC of one buffer. */
static inline uint32_t crc32c(const void *buf, size_t len)
{
    return crc32c_extend(0, buf, len);
}

/* The portable path (any CPU). */
uint32_t crc32c_extend_sw(uint32_t crc, const void *buf, size_t len);

/* The hardware path; call it only when crc32c_hw_available() is true. */
uint32_t crc32c_extend_hw(uint32_t crc, const void *buf, size_t len);

/* True when this CPU has the CRC-32C instruction (SSE4.2 on x86-64). */
bool crc32c_hw_available(void);

/* TFRecord masks stored CRCs so that a CRC of data containing CRCs stays
 * well distributed. */
static inline uint32_t crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static inline uint32_t crc32c_unmask(uint32_t masked)
{
    uint32_t rot = masked - 0xa282ead8u;
    return (rot >> 17) | (rot << 15);
}

#endif
