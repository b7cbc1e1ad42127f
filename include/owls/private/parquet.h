/*
 * private/parquet.h - internals of the Parquet reader that unit tests reach
 * (built non-static with -DOWLS_UNIT_TEST, see OWLS_TESTABLE in util.h):
 * the RLE/bit-packed hybrid and DELTA_BINARY_PACKED decoders, page
 * decompression and the date/time text of ignored columns.
 *
 * Decoders read only inside the borrowed range they were given; on bad input
 * they return false and set *why to static text. Not thread-safe per object.
 */
#ifndef OWLS_PRIVATE_PARQUET_H
#define OWLS_PRIVATE_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The RLE / bit-packed hybrid of levels and dictionary indices. */
struct owls_pq_rle {
    const uint8_t *p;   /* next run header */
    const uint8_t *end; /* end of the encoded data */
    unsigned bw;        /* bit width, 0..32 */
    uint32_t rle_left;  /* values left in the current RLE run */
    uint32_t rle_value;
    uint32_t bp_left;      /* values left in the current bit-packed run */
    const uint8_t *bp;     /* the bit-packed run's first byte */
    uint64_t bp_pos;       /* next bit within it */
    const uint8_t *bp_end; /* the byte after the run (within end) */
};

/* The functions are static in the library unless it is built for the unit
 * tests (OWLS_TESTABLE); the structs are always visible to parquet.c. */
#ifdef OWLS_UNIT_TEST
void owls_pq_rle_init(struct owls_pq_rle *r, const uint8_t *p, size_t n, unsigned bw);
/* Decode n values into out. False when the data ends early or a run header
 * is malformed (zero-length run, varint overflow). */
bool owls_pq_rle_get(struct owls_pq_rle *r, uint32_t *out, size_t n, const char **why);

#endif

/* DELTA_BINARY_PACKED (integers; also the lengths of the DELTA_*_BYTE_ARRAY
 * encodings). */
struct owls_pq_dbp {
    const uint8_t *p;
    const uint8_t *end;
    uint64_t values_per_block;
    uint64_t miniblocks;    /* per block */
    uint64_t values_per_mb; /* values_per_block / miniblocks */
    uint64_t total;         /* values announced by the header */
    uint64_t done;          /* values returned so far */
    uint64_t last;          /* previous value (wrapping arithmetic) */
    uint64_t min_delta;     /* of the current block */
    const uint8_t *widths;  /* bit widths of the current block's miniblocks */
    uint64_t mb;            /* current miniblock index */
    uint64_t mb_left;       /* values left in it */
    const uint8_t *mb_data; /* its packed bits */
    uint64_t mb_pos;        /* next bit */
};

#ifdef OWLS_UNIT_TEST
/* Parse the header; false on a malformed one. */
bool owls_pq_dbp_init(struct owls_pq_dbp *d, const uint8_t *p, size_t n, const char **why);
/* Decode n values (n <= total - done) into out. */
bool owls_pq_dbp_get(struct owls_pq_dbp *d, int64_t *out, size_t n, const char **why);
/* After all total values were read: the first byte after the encoded data. */
const uint8_t *owls_pq_dbp_end(const struct owls_pq_dbp *d);
#endif

/* Parquet CompressionCodec values. */
enum owls_pq_codec {
    OWLS_PQ_UNCOMPRESSED = 0,
    OWLS_PQ_SNAPPY = 1,
    OWLS_PQ_GZIP = 2,
    OWLS_PQ_LZO = 3,
    OWLS_PQ_BROTLI = 4,
    OWLS_PQ_LZ4 = 5,
    OWLS_PQ_ZSTD = 6,
    OWLS_PQ_LZ4_RAW = 7,
};

#ifdef OWLS_UNIT_TEST
/* Decompress src[0..n) into exactly dst[0..dn): NULL on success, else what
 * went wrong (static text). Never writes past dst + dn. */
const char *owls_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dn);

/* Text of dates and times (see parquet.h); out holds 64 bytes; returns the
 * length. unit is the number of ticks per second (1000, 10^6 or 10^9). */
size_t owls_pq_fmt_date(int64_t days, char out[64]);
size_t owls_pq_fmt_time(int64_t ticks, int64_t unit, char out[64]);
size_t owls_pq_fmt_timestamp(int64_t ticks, int64_t unit, bool utc, char out[64]);
/* INT96: 8 bytes nanoseconds of the day, then 4 bytes Julian day, both LE. */
size_t owls_pq_fmt_int96(const uint8_t v[12], char out[64]);
#endif

#endif
