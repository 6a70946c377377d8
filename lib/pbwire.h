/* pbwire: the few protobuf wire-format primitives we emit by hand.
 *
 * The hot path (one scalar per event, millions per second) cannot afford to
 * build protobuf-c message trees for every value, so events are assembled
 * from these primitives. Everything else is decoded with protobuf-c, and the
 * tests check that protobuf-c decodes what we emit.
 *
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
#ifndef TFEVENTS_PBWIRE_H
#define TFEVENTS_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"

/* The wire types (the low 3 bits of a field's key). */
enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

/* The key byte of field (< 16: one byte) with wire type wire, for byte
 * templates and switch labels; the field numbers are in pbfields.h. */
#define PB_KEY(field, wire) ((uint8_t)((field) << 3 | (wire)))

/* Bytes a varint of v takes (1..10). */
static inline size_t pb_varint_size(uint64_t v)
{
#if defined(__GNUC__)
    /* 7 bits a byte, without a loop. */
    unsigned bits = 64u - (unsigned)__builtin_clzll(v | 1u);
    return (bits + 6u) / 7u;
#else
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
#endif
}

/* Write a varint at p (room for 10 bytes); returns bytes written. */
static inline size_t pb_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t pb_put_fixed64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return 8;
}

static inline size_t pb_put_fixed32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);   /* one store: not every compiler merges the loop */
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return 4;
}

static inline size_t pb_put_double(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return pb_put_fixed64(p, v);
}

static inline size_t pb_put_float(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    return pb_put_fixed32(p, v);
}

static inline size_t pb_put_tag(uint8_t *p, uint32_t field, unsigned wire)
{
    return pb_put_varint(p, ((uint64_t)field << 3) | wire);
}

/* Size of a length-delimited field (tag + length + payload) of field number
 * field (< 16 means a one-byte tag) with a payload of n bytes. */
static inline size_t pb_len_field_size(uint32_t field, size_t n)
{
    return pb_varint_size((uint64_t)field << 3) + pb_varint_size(n) + n;
}

/* Append helpers over struct buf; each returns 0 or a negative errno. */
int pb_add_varint(struct buf *b, uint32_t field, uint64_t v);
int pb_add_double(struct buf *b, uint32_t field, double d);
int pb_add_float(struct buf *b, uint32_t field, float f);
int pb_add_bytes(struct buf *b, uint32_t field, const void *data, size_t n);
int pb_add_string(struct buf *b, uint32_t field, const char *s);
/* Start a length-delimited field whose length is known in advance. */
int pb_add_len_header(struct buf *b, uint32_t field, size_t n);

/* Decode data[0..len) as a message of type desc. protobuf-c returns NULL
 * both for bytes that do not decode and when an allocation fails; a caller
 * that reports the first as corruption must not do so for the second, so
 * this tells them apart: 0 with *ret (caller owns it; free it with
 * protobuf_c_message_free_unpacked(*ret, NULL)), -EBADMSG, or -ENOMEM. */
int pb_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
              ProtobufCMessage **ret);

#endif
