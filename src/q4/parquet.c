/*
 * DESIGN: the Parquet reader (see parquet.h for what it supports and how it
 * prints values). The whole file is in memory; reading goes:
 *
 *   footer   magic at both ends, the footer length, FileMetaData through the
 *            bounded Thrift reader (thrift.c) into small structs;
 *   schema   flat only; each leaf gets a kind (numeric-capable: DOUBLE, INT,
 *            UINT, DECIMAL; printed-only: TEXT, BOOL, DATE, TIME, TIMESTAMP,
 *            INT96) and the table its columns, sized by the row count;
 *   chunks   row group by row group, column by column, page by page: a page
 *            is decompressed into one reused buffer (uncompressed pages are
 *            read in place), its definition levels decoded, its values
 *            decoded into a reused scratch array and stored at their rows.
 *            Numeric values go straight into the table's double arrays; the
 *            text of printed-only columns goes into a per-column arena
 *            (dictionary entries once per chunk, rows point at them).
 *
 * Memory is bounded before it is used: the row count and the column widths
 * fix the table's size, each page's declared size is checked against its
 * value count, and every decoded byte (table, decompressed pages, text) is
 * charged to one budget of OWLS_PARQUET_EXPANSION x file size + SLACK, so a
 * decompression bomb or a lying count fails with bad_parquet instead of
 * eating the machine. Every read is checked against its buffer's end.
 *
 * Ownership: the table owns everything it prints (struct pq_impl, freed by
 * its free_impl); the input bytes are only borrowed during the call.
 * No global state; thread-safe per call.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "owls/buf.h"
#include "owls/numparse.h"
#include "owls/parquet.h"
#include "owls/private/parquet.h"
#include "owls/private/thrift.h"
#include "owls/table.h"
#include "owls/util.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet reader assumes a little-endian host (Parquet's byte order)"
#endif

/* --- Parquet's enums (parquet.thrift) -------------------------------------- */

enum { PT_BOOLEAN, PT_INT32, PT_INT64, PT_INT96, PT_FLOAT, PT_DOUBLE, PT_BYTE_ARRAY, PT_FLBA };
enum { REP_REQUIRED, REP_OPTIONAL, REP_REPEATED };
enum {
    ENC_PLAIN = 0,
    ENC_PLAIN_DICTIONARY = 2,
    ENC_RLE = 3,
    ENC_BIT_PACKED = 4,
    ENC_DELTA_BINARY_PACKED = 5,
    ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    ENC_DELTA_BYTE_ARRAY = 7,
    ENC_RLE_DICTIONARY = 8,
    ENC_BYTE_STREAM_SPLIT = 9,
};
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
enum {
    CT_UTF8 = 0,
    CT_DECIMAL = 5,
    CT_DATE = 6,
    CT_TIME_MILLIS = 7,
    CT_TIME_MICROS = 8,
    CT_TIMESTAMP_MILLIS = 9,
    CT_TIMESTAMP_MICROS = 10,
    CT_UINT_8 = 11,
    CT_UINT_64 = 14,
};
/* LogicalType union members (field ids). */
enum { LT_DECIMAL = 5, LT_DATE = 6, LT_TIME = 7, LT_TIMESTAMP = 8, LT_INTEGER = 10 };

static const char *const s_type_names[] = {
    "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
static const char *const s_codec_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                            "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};

static const char *enc_name(int32_t e)
{
    static const char *const names[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && (size_t)e < OWLS_ARRAY_LEN(names) ? names[e] : "unknown";
}

/* --- little helpers ------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* bw (<= 64) bits at bit position pos of p, least significant bit first. The
 * caller guarantees the bytes exist. */
static uint64_t bits_at(const uint8_t *p, uint64_t pos, unsigned bw)
{
    uint64_t v = 0;
    unsigned got = 0, off = (unsigned)(pos & 7);
    const uint8_t *b = p + (pos >> 3);

    while (got < bw) {
        unsigned take = OWLS_MIN(8 - off, bw - got);
        v |= (uint64_t)((unsigned)(*b >> off) & ((1u << take) - 1)) << got;
        got += take;
        off = 0;
        b++;
    }
    return v;
}

/* A varint of the RLE and DELTA encodings (Thrift's, see thrift.h); *pp is
 * advanced even on failure, after which the decoders give up. */
static bool uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    return owls_thrift_uleb128(pp, end, v) == NULL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* --- RLE / bit-packed hybrid ----------------------------------------------- */

OWLS_TESTABLE void owls_pq_rle_init(struct owls_pq_rle *r, const uint8_t *p, size_t n, unsigned bw)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->end = p + n;
    r->bw = bw;
}

OWLS_TESTABLE bool owls_pq_rle_get(struct owls_pq_rle *r, uint32_t *out, size_t n, const char **why)
{
    while (n > 0) {
        if (r->rle_left > 0) {
            size_t m = OWLS_MIN((size_t)r->rle_left, n);
            for (size_t i = 0; i < m; i++)
                out[i] = r->rle_value;
            out += m;
            n -= m;
            r->rle_left -= (uint32_t)m;
        } else if (r->bp_left > 0) {
            size_t m = OWLS_MIN((size_t)r->bp_left, n);
            if (r->bw == 0) {
                memset(out, 0, m * sizeof(*out));
            } else {
                for (size_t i = 0; i < m; i++) {
                    out[i] = (uint32_t)bits_at(r->bp, r->bp_pos, r->bw);
                    r->bp_pos += r->bw;
                }
            }
            out += m;
            n -= m;
            r->bp_left -= (uint32_t)m;
        } else {
            uint64_t hdr;
            if (r->p == r->end) {
                *why = "RLE data ends before the last value";
                return false;
            }
            if (!uvarint(&r->p, r->end, &hdr) || hdr > UINT32_MAX) {
                *why = "bad RLE run header";
                return false;
            }
            if (hdr & 1) {
                uint64_t groups = hdr >> 1, count = groups * 8, bytes = groups * r->bw;
                size_t avail = (size_t)(r->end - r->p);
                if (groups == 0) {
                    *why = "empty bit-packed run";
                    return false;
                }
                if (r->bw > 0) {
                    /* A truncated last run is accepted for the values it holds. */
                    uint64_t usable = OWLS_MIN(bytes, (uint64_t)avail);
                    count = OWLS_MIN(count, usable * 8 / r->bw);
                    if (count == 0) {
                        *why = "bit-packed run beyond the end of the data";
                        return false;
                    }
                    r->bp = r->p;
                    r->bp_pos = 0;
                    r->p += usable;
                }
                r->bp_left = (uint32_t)OWLS_MIN(count, (uint64_t)UINT32_MAX);
            } else {
                size_t vbytes = (r->bw + 7) / 8;
                uint32_t v = 0;
                if (hdr >> 1 == 0) {
                    *why = "empty RLE run";
                    return false;
                }
                if ((size_t)(r->end - r->p) < vbytes) {
                    *why = "RLE run value beyond the end of the data";
                    return false;
                }
                for (size_t i = 0; i < vbytes; i++)
                    v |= (uint32_t)r->p[i] << (8 * i);
                r->p += vbytes;
                if (r->bw < 32 && (v >> r->bw) != 0) {
                    *why = "RLE run value wider than its bit width";
                    return false;
                }
                r->rle_value = v;
                r->rle_left = (uint32_t)(hdr >> 1);
            }
        }
    }
    return true;
}

/* --- DELTA_BINARY_PACKED ---------------------------------------------------- */

OWLS_TESTABLE bool owls_pq_dbp_init(struct owls_pq_dbp *d, const uint8_t *p, size_t n,
                                    const char **why)
{
    uint64_t first;

    memset(d, 0, sizeof(*d));
    d->p = p;
    d->end = p + n;
    if (!uvarint(&d->p, d->end, &d->values_per_block) || !uvarint(&d->p, d->end, &d->miniblocks) ||
        !uvarint(&d->p, d->end, &d->total) || !uvarint(&d->p, d->end, &first)) {
        *why = "truncated DELTA_BINARY_PACKED header";
        return false;
    }
    if (d->values_per_block == 0 || d->values_per_block % 128 != 0 ||
        d->values_per_block > (1u << 20) || d->miniblocks == 0 ||
        d->values_per_block % d->miniblocks != 0 ||
        (d->values_per_block / d->miniblocks) % 32 != 0) {
        *why = "bad DELTA_BINARY_PACKED block layout";
        return false;
    }
    d->values_per_mb = d->values_per_block / d->miniblocks;
    d->last = (uint64_t)owls_thrift_unzigzag(first);
    d->mb = d->miniblocks; /* no block read yet */
    return true;
}

OWLS_TESTABLE bool owls_pq_dbp_get(struct owls_pq_dbp *d, int64_t *out, size_t n, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        unsigned bw;
        if (d->done >= d->total) {
            *why = "more DELTA_BINARY_PACKED values needed than encoded";
            return false;
        }
        if (d->done == 0) {
            out[i] = (int64_t)d->last;
            d->done++;
            continue;
        }
        if (d->mb_left == 0) {
            if (d->mb + 1 >= d->miniblocks) {
                uint64_t zz;
                if (!uvarint(&d->p, d->end, &zz) || (uint64_t)(d->end - d->p) < d->miniblocks) {
                    *why = "truncated DELTA_BINARY_PACKED block header";
                    return false;
                }
                d->min_delta = (uint64_t)owls_thrift_unzigzag(zz);
                d->widths = d->p;
                d->p += d->miniblocks;
                d->mb = 0;
            } else {
                d->mb++;
            }
            bw = d->widths[d->mb];
            if (bw > 64) {
                *why = "DELTA_BINARY_PACKED bit width above 64";
                return false;
            }
            uint64_t need = OWLS_MIN(d->values_per_mb, d->total - d->done);
            uint64_t full = d->values_per_mb * bw / 8;
            uint64_t need_bytes = (need * bw + 7) / 8;
            size_t avail = (size_t)(d->end - d->p);
            if (need_bytes > avail) {
                *why = "DELTA_BINARY_PACKED miniblock beyond the end of the data";
                return false;
            }
            d->mb_data = d->p;
            d->mb_pos = 0;
            d->mb_left = d->values_per_mb;
            d->p += OWLS_MIN(full, (uint64_t)avail);
        }
        bw = d->widths[d->mb];
        uint64_t delta = bw ? bits_at(d->mb_data, d->mb_pos, bw) : 0;
        d->mb_pos += bw;
        d->mb_left--;
        d->last += d->min_delta + delta; /* wraps, as the encoding intends */
        out[i] = (int64_t)d->last;
        d->done++;
    }
    return true;
}

OWLS_TESTABLE const uint8_t *owls_pq_dbp_end(const struct owls_pq_dbp *d)
{
    return d->p;
}

/* --- decompression ----------------------------------------------------------- */

static const char *inflate_exact(const uint8_t *src, size_t n, uint8_t *dst, size_t dn)
{
    z_stream z;
    const char *why = NULL;
    int zr;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
        return "zlib initialisation failed";
    z.next_in = src;
    z.next_out = dst;
    do {
        /* zlib counts in uInt: feed at most 1 GiB per round. */
        if (z.avail_in == 0) {
            size_t used = (size_t)(z.next_in - src);
            z.avail_in = (uInt)OWLS_MIN(n - used, (size_t)1 << 30);
        }
        if (z.avail_out == 0) {
            size_t used = (size_t)(z.next_out - dst);
            z.avail_out = (uInt)OWLS_MIN(dn - used, (size_t)1 << 30);
        }
        zr = inflate(&z, Z_NO_FLUSH);
    } while (zr == Z_OK && (z.avail_in > 0 || (size_t)(z.next_in - src) < n) &&
             (z.avail_out > 0 || (size_t)(z.next_out - dst) < dn));
    if (zr != Z_STREAM_END)
        why = zr == Z_OK || zr == Z_BUF_ERROR ? "GZIP data does not match the declared size"
                                              : "corrupt GZIP data";
    else if ((size_t)(z.next_out - dst) != dn)
        why = "GZIP data shorter than the declared size";
    inflateEnd(&z);
    return why;
}

OWLS_TESTABLE const char *owls_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst,
                                             size_t dn)
{
    switch (codec) {
    case OWLS_PQ_UNCOMPRESSED:
        if (n != dn)
            return "uncompressed page size differs from its stored size";
        if (n)
            memcpy(dst, src, n);
        return NULL;
    case OWLS_PQ_SNAPPY: {
        size_t ulen = 0;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
            return "corrupt SNAPPY data";
        if (ulen != dn)
            return "SNAPPY data does not match the declared size";
        if (snappy_validate_compressed_buffer((const char *)src, n) != SNAPPY_OK ||
            snappy_uncompress((const char *)src, n, (char *)dst, &ulen) != SNAPPY_OK || ulen != dn)
            return "corrupt SNAPPY data";
        return NULL;
    }
    case OWLS_PQ_GZIP:
        return inflate_exact(src, n, dst, dn);
    case OWLS_PQ_ZSTD: {
        size_t got = ZSTD_decompress(dst, dn, src, n);
        if (ZSTD_isError(got))
            return ZSTD_getErrorCode(got) == ZSTD_error_dstSize_tooSmall
                       ? "ZSTD data larger than the declared size"
                       : "corrupt ZSTD data";
        if (got != dn)
            return "ZSTD data shorter than the declared size";
        return NULL;
    }
    default:
        return "unsupported codec";
    }
}

/* --- dates and times ----------------------------------------------------------- */

OWLS_TESTABLE size_t owls_pq_fmt_date(int64_t days, char out[64])
{
    /* H. Hinnant's civil_from_days, proleptic Gregorian. */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int len;

    y += m <= 2;
    if (y < 0)
        len = snprintf(out, 64, "-%04" PRId64 "-%02" PRId64 "-%02" PRId64, -y, m, d);
    else
        len = snprintf(out, 64, "%04" PRId64 "-%02" PRId64 "-%02" PRId64, y, m, d);
    return (size_t)len;
}

static int unit_digits(int64_t unit)
{
    return unit == 1000 ? 3 : unit == 1000000 ? 6 : 9;
}

/* "HH:MM:SS[.frac]" of a time of day in seconds plus ticks. */
static size_t fmt_hms(int64_t sod, int64_t frac, int64_t unit, char *out, size_t cap)
{
    int len = snprintf(out, cap, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, sod / 3600,
                       sod / 60 % 60, sod % 60);
    if (frac != 0 && len > 0 && (size_t)len < cap)
        len += snprintf(out + len, cap - (size_t)len, ".%0*" PRId64, unit_digits(unit), frac);
    return len < 0 ? 0 : OWLS_MIN((size_t)len, cap - 1); /* what was written */
}

OWLS_TESTABLE size_t owls_pq_fmt_time(int64_t ticks, int64_t unit, char out[64])
{
    int64_t secs = floor_div(ticks, unit);
    return fmt_hms(secs, ticks - secs * unit, unit, out, 64);
}

OWLS_TESTABLE size_t owls_pq_fmt_timestamp(int64_t ticks, int64_t unit, bool utc, char out[64])
{
    int64_t secs = floor_div(ticks, unit);
    int64_t frac = ticks - secs * unit;
    int64_t days = floor_div(secs, 86400);
    size_t n = owls_pq_fmt_date(days, out);

    out[n++] = 'T';
    n += fmt_hms(secs - days * 86400, frac, unit, out + n, 64 - n - 2);
    if (utc)
        out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

OWLS_TESTABLE size_t owls_pq_fmt_int96(const uint8_t v[12], char out[64])
{
    int64_t nanos = (int64_t)le64(v);
    int64_t days = (int64_t)(int32_t)le32(v + 8) - 2440588; /* Julian day of 1970-01-01 */
    int64_t secs = floor_div(nanos, 1000000000);
    int64_t frac = nanos - secs * 1000000000;
    size_t n;

    days += floor_div(secs, 86400);
    secs -= floor_div(secs, 86400) * 86400;
    n = owls_pq_fmt_date(days, out);
    out[n++] = 'T';
    n += fmt_hms(secs, frac, 1000000000, out + n, 64 - n - 1);
    out[n] = '\0';
    return n;
}

/* --- the footer ------------------------------------------------------------------ */

struct pq_logical {
    int16_t kind; /* LogicalType member, 0 = none */
    int32_t scale, precision;
    bool utc;
    int16_t unit; /* TimeUnit member: 1 MILLIS, 2 MICROS, 3 NANOS */
    int32_t bit_width;
    bool is_signed;
};

struct pq_selem {
    int32_t type; /* -1 = absent (a group) */
    int32_t type_length;
    int32_t repetition; /* -1 = absent */
    int32_t num_children;
    int32_t converted; /* -1 = absent */
    int32_t scale, precision;
    const uint8_t *name; /* borrowed from the input */
    size_t name_len;
    struct pq_logical lt;
};

struct pq_cmeta {
    bool has_meta;
    bool external; /* file_path set: data in another file */
    int32_t type, codec;
    int64_t num_values, total_compressed, data_off, dict_off; /* dict_off -1 = none */
};

struct pq_rg {
    int64_t num_rows;
    size_t ncols;
    struct pq_cmeta *cols;
};

struct pq_meta {
    size_t nschema;
    struct pq_selem *schema;
    int64_t num_rows;
    size_t nrg;
    struct pq_rg *rgs;
};

static void meta_cleanup(struct pq_meta *m)
{
    for (size_t i = 0; i < m->nrg; i++)
        free(m->rgs[i].cols);
    free(m->rgs);
    free(m->schema);
    memset(m, 0, sizeof(*m));
}

/* The fields of a struct member, skipping unknown ones. */
#define FIELDS(t, id, ft) while (owls_thrift_field((t), &(id), &(ft)))

static bool parse_time_unit(struct owls_thrift *t, uint8_t type, int16_t *unit)
{
    int16_t id;
    uint8_t ft;

    if (!owls_thrift_struct_begin(t, type))
        return false;
    FIELDS(t, id, ft)
    {
        *unit = id;
        owls_thrift_skip(t, ft);
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_logical(struct owls_thrift *t, uint8_t type, struct pq_logical *lt)
{
    int16_t id, id2;
    uint8_t ft, ft2;

    if (!owls_thrift_struct_begin(t, type))
        return false;
    FIELDS(t, id, ft)
    {
        lt->kind = id;
        if (id != LT_DECIMAL && id != LT_TIME && id != LT_TIMESTAMP && id != LT_INTEGER) {
            owls_thrift_skip(t, ft);
            continue;
        }
        if (!owls_thrift_struct_begin(t, ft))
            break;
        FIELDS(t, id2, ft2)
        {
            if (id == LT_DECIMAL && id2 == 1)
                owls_thrift_i32(t, ft2, &lt->scale);
            else if (id == LT_DECIMAL && id2 == 2)
                owls_thrift_i32(t, ft2, &lt->precision);
            else if ((id == LT_TIME || id == LT_TIMESTAMP) && id2 == 1)
                owls_thrift_bool(t, ft2, &lt->utc);
            else if ((id == LT_TIME || id == LT_TIMESTAMP) && id2 == 2)
                parse_time_unit(t, ft2, &lt->unit);
            else if (id == LT_INTEGER && id2 == 1)
                owls_thrift_i32(t, ft2, &lt->bit_width);
            else if (id == LT_INTEGER && id2 == 2)
                owls_thrift_bool(t, ft2, &lt->is_signed);
            else
                owls_thrift_skip(t, ft2);
        }
        owls_thrift_struct_end(t);
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_selem(struct owls_thrift *t, uint8_t type, struct pq_selem *e)
{
    int16_t id;
    uint8_t ft;

    memset(e, 0, sizeof(*e));
    e->type = e->repetition = e->converted = -1;
    if (!owls_thrift_struct_begin(t, type))
        return false;
    FIELDS(t, id, ft)
    {
        switch (id) {
        case 1:
            owls_thrift_i32(t, ft, &e->type);
            break;
        case 2:
            owls_thrift_i32(t, ft, &e->type_length);
            break;
        case 3:
            owls_thrift_i32(t, ft, &e->repetition);
            break;
        case 4:
            owls_thrift_binary(t, ft, &e->name, &e->name_len);
            break;
        case 5:
            owls_thrift_i32(t, ft, &e->num_children);
            break;
        case 6:
            owls_thrift_i32(t, ft, &e->converted);
            break;
        case 7:
            owls_thrift_i32(t, ft, &e->scale);
            break;
        case 8:
            owls_thrift_i32(t, ft, &e->precision);
            break;
        case 10:
            parse_logical(t, ft, &e->lt);
            break;
        default:
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_cmeta(struct owls_thrift *t, uint8_t type, struct pq_cmeta *c)
{
    int16_t id;
    uint8_t ft;

    if (!owls_thrift_struct_begin(t, type))
        return false;
    c->has_meta = true;
    FIELDS(t, id, ft)
    {
        switch (id) {
        case 1:
            owls_thrift_i32(t, ft, &c->type);
            break;
        case 4:
            owls_thrift_i32(t, ft, &c->codec);
            break;
        case 5:
            owls_thrift_i64(t, ft, &c->num_values);
            break;
        case 7:
            owls_thrift_i64(t, ft, &c->total_compressed);
            break;
        case 9:
            owls_thrift_i64(t, ft, &c->data_off);
            break;
        case 11:
            owls_thrift_i64(t, ft, &c->dict_off);
            break;
        default:
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_chunk(struct owls_thrift *t, uint8_t type, struct pq_cmeta *c)
{
    int16_t id;
    uint8_t ft;

    memset(c, 0, sizeof(*c));
    c->dict_off = -1;
    c->type = -1;
    if (!owls_thrift_struct_begin(t, type))
        return false;
    FIELDS(t, id, ft)
    {
        if (id == 1) {
            c->external = true;
            owls_thrift_skip(t, ft);
        } else if (id == 3) {
            parse_cmeta(t, ft, c);
        } else {
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_rowgroup(struct owls_thrift *t, uint8_t type, struct pq_rg *g)
{
    int16_t id;
    uint8_t ft, et;
    size_t n;

    if (!owls_thrift_struct_begin(t, type))
        return false;
    g->num_rows = -1;
    FIELDS(t, id, ft)
    {
        if (id == 1 && g->cols == NULL) {
            if (!owls_thrift_list(t, ft, &et, &n))
                break;
            g->cols = owls_xcalloc(n ? n : 1, sizeof(*g->cols));
            g->ncols = n;
            for (size_t i = 0; i < n; i++)
                if (!parse_chunk(t, et, &g->cols[i]))
                    break;
        } else if (id == 3) {
            owls_thrift_i64(t, ft, &g->num_rows);
        } else {
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool parse_filemeta(struct owls_thrift *t, struct pq_meta *m)
{
    int16_t id;
    uint8_t ft, et;
    size_t n;

    m->num_rows = -1;
    if (!owls_thrift_struct_begin(t, OWLS_THRIFT_STRUCT))
        return false;
    FIELDS(t, id, ft)
    {
        if (id == 2 && m->schema == NULL) {
            if (!owls_thrift_list(t, ft, &et, &n))
                break;
            m->schema = owls_xcalloc(n ? n : 1, sizeof(*m->schema));
            m->nschema = n;
            for (size_t i = 0; i < n; i++)
                if (!parse_selem(t, et, &m->schema[i]))
                    break;
        } else if (id == 3) {
            owls_thrift_i64(t, ft, &m->num_rows);
        } else if (id == 4 && m->rgs == NULL) {
            if (!owls_thrift_list(t, ft, &et, &n))
                break;
            m->rgs = owls_xcalloc(n ? n : 1, sizeof(*m->rgs));
            m->nrg = n;
            for (size_t i = 0; i < n; i++)
                if (!parse_rowgroup(t, et, &m->rgs[i]))
                    break;
        } else {
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

/* --- columns and their storage -------------------------------------------------- */

enum pq_kind {
    PQK_DOUBLE, /* FLOAT, DOUBLE */
    PQK_INT,    /* signed INT32, INT64 */
    PQK_UINT,   /* unsigned INT32, INT64 */
    PQK_DECIMAL,
    PQK_TEXT, /* BYTE_ARRAY as stored */
    PQK_BOOL,
    PQK_DATE,
    PQK_TIME,
    PQK_TIMESTAMP,
    PQK_INT96,
};

struct pq_col {
    int32_t phys, type_length;
    int max_def;
    enum pq_kind kind;
    bool numeric;  /* numeric-capable: values in the table's double array */
    int32_t scale; /* DECIMAL */
    int64_t unit;  /* TIME, TIMESTAMP: ticks per second */
    bool utc;
    /* printing storage */
    int64_t *exact;        /* INT64 beyond 2^53: every row's exact value (lazy) */
    uint8_t *nullmap;      /* numeric-capable: a bit per null row (lazy) */
    struct owls_buf arena; /* printed-only columns: the text */
    uint64_t *toff;        /* per row: offset in arena */
    uint32_t *tlen;        /* per row: length (0 for null) */
};

struct pq_impl {
    size_t ncols;
    struct pq_col *cols;
};

static void impl_free(void *p)
{
    struct pq_impl *im = p;

    if (im == NULL)
        return;
    for (size_t j = 0; j < im->ncols; j++) {
        struct pq_col *c = &im->cols[j];
        free(c->exact);
        free(c->nullmap);
        owls_buf_cleanup(&c->arena);
        free(c->toff);
        free(c->tlen);
    }
    free(im->cols);
    free(im);
}

/* A value as the physical decoders produce it: fixed-width numbers widened
 * to int64 or double, byte strings as borrowed references. */
struct pq_ref {
    const uint8_t *p;
    uint32_t n;
};

struct pq_reader {
    const uint8_t *data;
    size_t len;
    size_t meta_start; /* footer offset: column chunks end before it */
    const char *source;
    struct owls_errmsg *em;
    struct owls_table *t;
    struct pq_impl *im;
    size_t budget;      /* bytes that may still be decoded */
    size_t budget_full; /* for messages */
    /* where we are, for messages (0 = not inside one) */
    size_t col, rg, page;
    /* scratch, reused page after page */
    uint8_t *pagebuf;
    size_t pagecap;
    uint8_t *levels;
    size_t levcap;
    void *vals; /* int64_t, double or struct pq_ref per value */
    size_t valcap;
    uint32_t *idx;
    size_t idxcap;
    uint8_t *mat; /* bytes materialised by DELTA_BYTE_ARRAY / BYTE_STREAM_SPLIT */
    size_t matcap;
    /* the current chunk's dictionary, converted for its column */

    size_t dict_n;
    double *dict_d;
    int64_t *dict_x; /* exact INT64 values (PQK_INT/PQK_UINT on INT64) */
    uint64_t *dict_off;
    uint32_t *dict_len;
};

static enum owls_err bad(struct pq_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum owls_err bad(struct pq_reader *r, const char *fmt, ...)
{
    char what[400], where[200] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (r->col > 0 && r->t && r->t->cols[r->col - 1].name) {
        int n = snprintf(where, sizeof(where), "column \"%s\"", r->t->cols[r->col - 1].name);
        if (r->rg > 0 && n > 0 && (size_t)n < sizeof(where))
            n += snprintf(where + n, sizeof(where) - (size_t)n, ", row group %zu", r->rg);
        if (r->page > 0 && n > 0 && (size_t)n < sizeof(where))
            snprintf(where + n, sizeof(where) - (size_t)n, ", page %zu", r->page);
    }
    return owls_errmsg_set(r->em, OWLS_EBAD_PARQUET, "%s: %s%s%s", r->source, where,
                           where[0] ? ": " : "", what);
}

/* Take n bytes from the decoding budget. */
static enum owls_err charge(struct pq_reader *r, uint64_t n, const char *what)
{
    if (n > r->budget)
        return bad(r, "%s would exceed the decoding limit (%zu bytes for a %zu-byte file)", what,
                   r->budget_full, r->len);
    r->budget -= (size_t)n;
    return OWLS_OK;
}

static void *grow(void *p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return p;
    *cap = OWLS_MAX(need, *cap + *cap / 2);
    return owls_xrealloc(p, *cap);
}

/* Map a schema leaf to a column kind. */
static enum owls_err col_setup(struct pq_reader *r, const struct pq_selem *e, struct pq_col *c)
{
    const struct pq_logical *lt = &e->lt;
    bool decimal = lt->kind == LT_DECIMAL || e->converted == CT_DECIMAL;
    bool is_unsigned = (lt->kind == LT_INTEGER && !lt->is_signed) ||
                       (e->converted >= CT_UINT_8 && e->converted <= CT_UINT_64);
    int16_t unit = lt->unit;

    c->phys = e->type;
    c->type_length = e->type_length;
    c->max_def = e->repetition == REP_OPTIONAL ? 1 : 0;
    c->scale = lt->kind == LT_DECIMAL ? lt->scale : e->scale;
    c->utc = lt->utc;
    if (lt->kind != LT_TIME && lt->kind != LT_TIMESTAMP) {
        /* legacy converted types: UTC-adjusted by definition */
        c->utc = true;
        if (e->converted == CT_TIME_MILLIS || e->converted == CT_TIMESTAMP_MILLIS)
            unit = 1;
        else if (e->converted == CT_TIME_MICROS || e->converted == CT_TIMESTAMP_MICROS)
            unit = 2;
    }
    c->unit = unit == 1 ? 1000 : unit == 2 ? 1000000 : 1000000000;

    switch (e->type) {
    case PT_BOOLEAN:
        c->kind = PQK_BOOL;
        break;
    case PT_INT32:
    case PT_INT64:
        if (decimal)
            c->kind = PQK_DECIMAL;
        else if (lt->kind == LT_DATE || e->converted == CT_DATE)
            c->kind = PQK_DATE;
        else if (lt->kind == LT_TIME || e->converted == CT_TIME_MILLIS ||
                 e->converted == CT_TIME_MICROS)
            c->kind = PQK_TIME;
        else if (lt->kind == LT_TIMESTAMP || e->converted == CT_TIMESTAMP_MILLIS ||
                 e->converted == CT_TIMESTAMP_MICROS)
            c->kind = PQK_TIMESTAMP;
        else
            c->kind = is_unsigned ? PQK_UINT : PQK_INT;
        if ((c->kind == PQK_TIME || c->kind == PQK_TIMESTAMP) && (unit < 1 || unit > 3))
            return bad(r, "time unit missing or unknown");
        /* The spec's pairings; they also keep the date arithmetic in range. */
        if ((c->kind == PQK_DATE && e->type != PT_INT32) ||
            (c->kind == PQK_TIMESTAMP && e->type != PT_INT64) ||
            (c->kind == PQK_TIME && (e->type == PT_INT32) != (unit == 1)))
            return bad(r, "%s annotation on %s is not valid",
                       c->kind == PQK_DATE   ? "DATE"
                       : c->kind == PQK_TIME ? "TIME"
                                             : "TIMESTAMP",
                       s_type_names[e->type]);
        break;
    case PT_INT96:
        c->kind = PQK_INT96;
        break;
    case PT_FLOAT:
    case PT_DOUBLE:
        c->kind = PQK_DOUBLE;
        break;
    case PT_BYTE_ARRAY:
        c->kind = decimal ? PQK_DECIMAL : PQK_TEXT;
        break;
    case PT_FLBA:
        if (!decimal)
            return bad(r, "FIXED_LEN_BYTE_ARRAY is supported only as DECIMAL");
        if (e->type_length < 1 || e->type_length > 16)
            return bad(r, "DECIMAL of %" PRId32 " bytes is not supported (at most 16)",
                       e->type_length);
        c->kind = PQK_DECIMAL;
        break;
    default:
        return bad(r, "unknown physical type %" PRId32, e->type);
    }
    if (c->kind == PQK_DECIMAL && (c->scale < 0 || c->scale > 76))
        return bad(r, "DECIMAL scale %" PRId32 " out of range", c->scale);
    c->numeric = c->kind == PQK_DOUBLE || c->kind == PQK_INT || c->kind == PQK_UINT ||
                 c->kind == PQK_DECIMAL;
    return OWLS_OK;
}

/* Width in bytes of one stored value of a physical type (BYTE_ARRAY: 0). */
static size_t phys_width(const struct pq_col *c)
{
    switch (c->phys) {
    case PT_BOOLEAN:
        return 1;
    case PT_INT32:
    case PT_FLOAT:
        return 4;
    case PT_INT64:
    case PT_DOUBLE:
        return 8;
    case PT_INT96:
        return 12;
    case PT_FLBA:
        return (size_t)c->type_length;
    default:
        return 0;
    }
}

/* --- storing values at their rows ----------------------------------------------- */

static void store_null(struct pq_reader *r, size_t j, size_t row)
{
    struct owls_column *tc = &r->t->cols[j];
    struct pq_col *c = &r->im->cols[j];

    if (tc->first_empty_row == 0)
        tc->first_empty_row = row + 1;
    if (c->numeric) {
        if (c->nullmap == NULL)
            c->nullmap = owls_xcalloc(r->t->nrows / 8 + 1, 1);
        c->nullmap[row / 8] |= (uint8_t)(1u << (row % 8));
        tc->values[row] = 0;
        if (c->exact)
            c->exact[row] = 0;
    } else {
        c->toff[row] = 0;
        c->tlen[row] = 0;
    }
}

#define EXACT_LIMIT 9007199254740992.0 /* 2^53: doubles are exact integers below it */

/* Give column j an exact-integer array, filled from the rows decoded so far
 * (whose values were all exact as doubles). */
static enum owls_err want_exact(struct pq_reader *r, size_t j, size_t row)
{
    struct pq_col *c = &r->im->cols[j];
    const double *v = r->t->cols[j].values;
    enum owls_err rc;

    if (c->exact)
        return OWLS_OK;
    if ((rc = charge(r, (uint64_t)r->t->nrows * 8, "an exact INT64 column")) != OWLS_OK)
        return rc;
    c->exact = owls_xcalloc(r->t->nrows ? r->t->nrows : 1, sizeof(*c->exact));
    for (size_t i = 0; i < row; i++)
        c->exact[i] = c->kind == PQK_UINT ? (int64_t)(uint64_t)v[i] : (int64_t)v[i];
    return OWLS_OK;
}

/* The double of a decimal: the nearest one to unscaled * 10^-scale, exactly
 * as a CSV reader would read the same number written out. */
static double decimal_value(unsigned __int128 mag, bool neg, int32_t scale)
{
    char txt[64];
    char *s = txt + 48; /* 2^128 has 39 digits: they and a sign fit before */
    int n = snprintf(txt + 48, 16, "e-%" PRId32, scale);
    double v = 0;

    do {
        *--s = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag != 0);
    if (neg)
        *--s = '-';
    owls_num_parse(s, (size_t)(txt + 48 + n - s), &v);
    return v;
}

static double decimal_from_int(int64_t x, int32_t scale)
{
    uint64_t mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    return decimal_value(mag, x < 0, scale);
}

/* Big-endian two's complement of 1..16 bytes. */
static bool decimal_from_bytes(const uint8_t *p, size_t n, int32_t scale, double *out)
{
    unsigned __int128 u = 0;
    bool neg;

    if (n == 0 || n > 16)
        return false;
    neg = p[0] & 0x80;
    for (size_t i = 0; i < n; i++)
        u = (u << 8) | p[i];
    if (neg) {
        if (n < 16)
            u |= ~(unsigned __int128)0 << (8 * n); /* sign-extend */
        u = ~u + 1;
    }
    *out = decimal_value(u, neg, scale);
    return true;
}

/* Store a numeric-capable value. */
static inline void store_num(struct pq_reader *r, size_t j, size_t row, double v)
{
    struct owls_column *tc = &r->t->cols[j];

    tc->values[row] = v;
    tc->any_value = true;
    if (!isfinite(v))
        tc->all_numeric = false;
}

/* The double of a value of an INT or UINT column; unsigned columns read
 * their 32 or 64 bits as unsigned. */
static double int_value(const struct pq_col *c, int64_t x)
{
    if (c->kind != PQK_UINT)
        return (double)x;
    return c->phys == PT_INT32 ? (double)(uint32_t)x : (double)(uint64_t)x;
}

static enum owls_err store_int(struct pq_reader *r, size_t j, size_t row, int64_t x)
{
    struct pq_col *c = &r->im->cols[j];
    double v = int_value(c, x);
    enum owls_err rc;

    store_num(r, j, row, v);
    if (c->exact == NULL && c->phys == PT_INT64 && !(fabs(v) < EXACT_LIMIT)) {
        if ((rc = want_exact(r, j, row)) != OWLS_OK)
            return rc;
    }
    if (c->exact)
        c->exact[row] = x;
    return OWLS_OK;
}

/* Text of a printed-only value from its physical form. */
static size_t text_of(const struct pq_col *c, int64_t x, const struct pq_ref *ref, char buf[64],
                      const uint8_t **p)
{
    *p = (const uint8_t *)buf;
    switch (c->kind) {
    case PQK_BOOL:
        memcpy(buf, x ? "true" : "false", x ? 4 : 5);
        return x ? 4 : 5;
    case PQK_DATE:
        return owls_pq_fmt_date(x, buf);
    case PQK_TIME:
        return owls_pq_fmt_time(x, c->unit, buf);
    case PQK_TIMESTAMP:
        return owls_pq_fmt_timestamp(x, c->unit, c->utc, buf);
    case PQK_INT96:
        return owls_pq_fmt_int96(ref->p, buf);
    default:
        *p = ref->p;
        return ref->n;
    }
}

/* Append text to column j's arena; its offset in *off. */
static enum owls_err arena_put(struct pq_reader *r, size_t j, const uint8_t *p, size_t n,
                               uint64_t *off)
{
    struct pq_col *c = &r->im->cols[j];
    enum owls_err rc;

    if ((rc = charge(r, n, "text")) != OWLS_OK)
        return rc;
    *off = c->arena.len;
    owls_buf_append(&c->arena, p, n);
    return OWLS_OK;
}

/* --- decoding a page's values ----------------------------------------------------- */

/* Which scratch representation a physical type decodes into. */
enum rep { REP_I64, REP_F64, REP_REF };

static enum rep rep_of(int32_t phys)
{
    switch (phys) {
    case PT_BOOLEAN:
    case PT_INT32:
    case PT_INT64:
        return REP_I64;
    case PT_FLOAT:
    case PT_DOUBLE:
        return REP_F64;
    default:
        return REP_REF;
    }
}

/* PLAIN values: nn of them from src[0..n) into out; *used = bytes read. */
static enum owls_err plain(struct pq_reader *r, const struct pq_col *c, const uint8_t *src,
                           size_t n, size_t nn, void *out, size_t *used)
{
    size_t w = phys_width(c);
    int64_t *oi = out;
    double *od = out;
    struct pq_ref *orf = out;

    if (c->phys == PT_BOOLEAN) {
        if ((nn + 7) / 8 > n)
            return bad(r, "PLAIN booleans beyond the end of the page");
        for (size_t i = 0; i < nn; i++)
            oi[i] = (src[i / 8] >> (i % 8)) & 1;
        *used = (nn + 7) / 8;
        return OWLS_OK;
    }
    if (c->phys == PT_BYTE_ARRAY) {
        size_t pos = 0;
        for (size_t i = 0; i < nn; i++) {
            uint32_t l;
            if (n - pos < 4)
                return bad(r, "PLAIN string %zu: length beyond the end of the page", i + 1);
            l = le32(src + pos);
            pos += 4;
            if (l > n - pos)
                return bad(r, "PLAIN string %zu: %" PRIu32 " bytes beyond the end of the page",
                           i + 1, l);
            orf[i].p = src + pos;
            orf[i].n = l;
            pos += l;
        }
        *used = pos;
        return OWLS_OK;
    }
    if (nn > n / w)
        return bad(r, "%zu PLAIN values of %zu bytes beyond the end of the page", nn, w);
    for (size_t i = 0; i < nn; i++) {
        const uint8_t *p = src + i * w;
        switch (c->phys) {
        case PT_INT32:
            oi[i] = (int32_t)le32(p);
            break;
        case PT_INT64:
            oi[i] = (int64_t)le64(p);
            break;
        case PT_FLOAT: {
            float f;
            memcpy(&f, p, 4);
            od[i] = f;
            break;
        }
        case PT_DOUBLE:
            memcpy(&od[i], p, 8);
            break;
        default: /* INT96, FIXED_LEN_BYTE_ARRAY */
            orf[i].p = p;
            orf[i].n = (uint32_t)w;
        }
    }
    *used = nn * w;
    return OWLS_OK;
}

/* DELTA_BINARY_PACKED integers. */
static enum owls_err delta_ints(struct pq_reader *r, const uint8_t *src, size_t n, size_t nn,
                                int64_t *out, const uint8_t **endp)
{
    struct owls_pq_dbp d;
    const char *why = NULL;

    if (!owls_pq_dbp_init(&d, src, n, &why))
        return bad(r, "%s", why);
    if (d.total < nn)
        return bad(r, "DELTA_BINARY_PACKED holds %" PRIu64 " values, the page needs %zu", d.total,
                   nn);
    if (!owls_pq_dbp_get(&d, out, nn, &why))
        return bad(r, "%s", why);
    if (endp) {
        /* Lengths of DELTA_*_BYTE_ARRAY: every announced value is consumed. */
        if (d.total != nn)
            return bad(r, "DELTA lengths hold %" PRIu64 " values, the page has %zu", d.total, nn);
        *endp = owls_pq_dbp_end(&d);
    }
    return OWLS_OK;
}

/* DELTA_LENGTH_BYTE_ARRAY: lengths, then the bytes back to back. */
static enum owls_err delta_length(struct pq_reader *r, const uint8_t *src, size_t n, size_t nn,
                                  struct pq_ref *out, const uint8_t **endp)
{
    int64_t *lens;
    const uint8_t *p, *end = src + n;
    enum owls_err rc;

    lens = owls_xmalloc((nn ? nn : 1) * sizeof(*lens));
    if ((rc = delta_ints(r, src, n, nn, lens, &p)) != OWLS_OK)
        goto out;
    for (size_t i = 0; i < nn; i++) {
        if (lens[i] < 0 || (uint64_t)lens[i] > (uint64_t)(end - p)) {
            rc = bad(r, "DELTA_LENGTH_BYTE_ARRAY value %zu: bad length %" PRId64, i + 1, lens[i]);
            goto out;
        }
        out[i].p = p;
        out[i].n = (uint32_t)lens[i];
        p += lens[i];
    }
    if (endp)
        *endp = p;
out:
    free(lens);
    return rc;
}

/* DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY;
 * the values are rebuilt in r->mat. */
static enum owls_err delta_strings(struct pq_reader *r, const uint8_t *src, size_t n, size_t nn,
                                   struct pq_ref *out)
{
    int64_t *pre = NULL;
    const uint8_t *p;
    uint64_t total = 0, prev = 0;
    uint8_t *m;
    enum owls_err rc;

    pre = owls_xmalloc((nn ? nn : 1) * sizeof(*pre));
    if ((rc = delta_ints(r, src, n, nn, pre, &p)) != OWLS_OK ||
        (rc = delta_length(r, p, (size_t)(src + n - p), nn, out, NULL)) != OWLS_OK)
        goto out;
    for (size_t i = 0; i < nn; i++) {
        if (pre[i] < 0 || (uint64_t)pre[i] > prev) {
            rc = bad(r,
                     "DELTA_BYTE_ARRAY value %zu: prefix %" PRId64 " longer than the previous "
                     "value",
                     i + 1, pre[i]);
            goto out;
        }
        prev = (uint64_t)pre[i] + out[i].n;
        if (prev > UINT32_MAX) {
            rc = bad(r, "DELTA_BYTE_ARRAY value %zu too long", i + 1);
            goto out;
        }
        total += prev;
        if ((rc = charge(r, prev, "DELTA_BYTE_ARRAY values")) != OWLS_OK)
            goto out;
    }
    r->mat = grow(r->mat, &r->matcap, (size_t)total + 1);
    m = r->mat;
    for (size_t i = 0; i < nn; i++) {
        size_t k = (size_t)pre[i];
        if (k)
            memcpy(m, m - (i ? out[i - 1].n : 0), k); /* prefix of the previous value */
        memcpy(m + k, out[i].p, out[i].n);
        out[i].p = m;
        out[i].n = (uint32_t)(k + out[i].n);
        m += out[i].n;
    }
out:
    free(pre);
    return rc;
}

/* BYTE_STREAM_SPLIT: byte k of every value in stream k. */
static enum owls_err stream_split(struct pq_reader *r, const struct pq_col *c, const uint8_t *src,
                                  size_t n, size_t nn, void *out)
{
    size_t w = phys_width(c), used;

    if (c->phys == PT_BOOLEAN || c->phys == PT_BYTE_ARRAY || c->phys == PT_INT96 || w == 0 ||
        w > 16)
        return bad(r, "BYTE_STREAM_SPLIT is not defined for %s", s_type_names[c->phys]);
    if (nn > n / w || nn * w != n)
        return bad(r, "BYTE_STREAM_SPLIT data holds %zu bytes, %zu values need %zu", n, nn, nn * w);
    /* Byte k of value i is at src[k * nn + i]: gather each value's bytes
     * back together (FIXED_LEN_BYTE_ARRAY values keep pointing here), then
     * it is PLAIN. */
    r->mat = grow(r->mat, &r->matcap, n + 1);
    for (size_t i = 0; i < nn; i++)
        for (size_t k = 0; k < w; k++)
            r->mat[i * w + k] = src[k * nn + i];
    return plain(r, c, r->mat, n, nn, out, &used);
}

/* nn values of the RLE / bit-packed hybrid of width bw in p[0..n), into
 * r->idx (scratch: valid until the next call); what names them in messages.
 * Definition levels, dictionary indices and RLE booleans all come here. */
static enum owls_err rle_decode(struct pq_reader *r, const uint8_t *p, size_t n, unsigned bw,
                                size_t nn, const char *what)
{
    struct owls_pq_rle d;
    const char *why = NULL;

    r->idx = grow(r->idx, &r->idxcap, (nn ? nn : 1) * sizeof(uint32_t));
    owls_pq_rle_init(&d, p, n, bw);
    if (!owls_pq_rle_get(&d, r->idx, nn, &why))
        return bad(r, "%s: %s", what, why);
    return OWLS_OK;
}

/* Booleans in the RLE encoding: a 4-byte length, then the hybrid of width 1. */
static enum owls_err rle_bools(struct pq_reader *r, const uint8_t *src, size_t n, size_t nn,
                               int64_t *out)
{
    uint32_t len;
    enum owls_err rc;

    if (n < 4 || (len = le32(src)) > n - 4)
        return bad(r, "RLE booleans: bad length prefix");
    if ((rc = rle_decode(r, src + 4, len, 1, nn, "RLE booleans")) != OWLS_OK)
        return rc;
    for (size_t i = 0; i < nn; i++)
        out[i] = r->idx[i];
    return OWLS_OK;
}

/* Values of any non-dictionary encoding into r->vals (nn of them). */
static enum owls_err decode_values(struct pq_reader *r, const struct pq_col *c, int32_t enc,
                                   const uint8_t *src, size_t n, size_t nn)
{
    enum owls_err rc;
    size_t used;
    enum rep rp = rep_of(c->phys);
    size_t esz = rp == REP_REF ? sizeof(struct pq_ref) : 8;

    /* Scratch is bounded by the page's value count, itself bounded by the
     * rows the table was sized (and charged) for. */
    r->vals = grow(r->vals, &r->valcap, (nn ? nn : 1) * esz);
    switch (enc) {
    case ENC_PLAIN:
        return plain(r, c, src, n, nn, r->vals, &used);
    case ENC_RLE:
        if (c->phys != PT_BOOLEAN)
            break;
        return rle_bools(r, src, n, nn, r->vals);
    case ENC_DELTA_BINARY_PACKED:
        if (c->phys != PT_INT32 && c->phys != PT_INT64)
            break;
        if ((rc = delta_ints(r, src, n, nn, r->vals, NULL)) != OWLS_OK)
            return rc;
        /* INT32 deltas may wrap at 32 bits: the values are the low halves. */
        if (c->phys == PT_INT32)
            for (size_t i = 0; i < nn; i++)
                ((int64_t *)r->vals)[i] = (int32_t)(uint32_t)((uint64_t *)r->vals)[i];
        return OWLS_OK;
    case ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (c->phys != PT_BYTE_ARRAY)
            break;
        return delta_length(r, src, n, nn, r->vals, NULL);
    case ENC_DELTA_BYTE_ARRAY:
        if (c->phys != PT_BYTE_ARRAY && c->phys != PT_FLBA)
            break;
        if ((rc = delta_strings(r, src, n, nn, r->vals)) != OWLS_OK)
            return rc;
        if (c->phys == PT_FLBA)
            for (size_t i = 0; i < nn; i++)
                if (((struct pq_ref *)r->vals)[i].n != (uint32_t)c->type_length)
                    return bad(r, "DELTA_BYTE_ARRAY value %zu: %" PRIu32 " bytes, not %" PRId32,
                               i + 1, ((struct pq_ref *)r->vals)[i].n, c->type_length);
        return OWLS_OK;
    case ENC_BYTE_STREAM_SPLIT:
        return stream_split(r, c, src, n, nn, r->vals);
    default:
        return bad(r, "unsupported encoding %s (%" PRId32 ")", enc_name(enc), enc);
    }
    return bad(r, "encoding %s is not defined for %s", enc_name(enc), s_type_names[c->phys]);
}

/* Convert value k of r->vals for column j and store it at row. */
static enum owls_err store_value(struct pq_reader *r, size_t j, size_t row, size_t k)
{
    struct pq_col *c = &r->im->cols[j];
    enum rep rp = rep_of(c->phys);
    const int64_t *vi = r->vals;
    const double *vd = r->vals;
    const struct pq_ref *vr = r->vals;
    enum owls_err rc;

    if (c->numeric) {
        if (c->kind == PQK_DOUBLE) {
            store_num(r, j, row, vd[k]);
        } else if (c->kind == PQK_DECIMAL) {
            double v;
            if (rp == REP_I64)
                v = decimal_from_int(vi[k], c->scale);
            else if (!decimal_from_bytes(vr[k].p, vr[k].n, c->scale, &v))
                return bad(r, "DECIMAL of %" PRIu32 " bytes (1 to 16 supported)", vr[k].n);
            store_num(r, j, row, v);
        } else {
            return store_int(r, j, row, vi[k]);
        }
        return OWLS_OK;
    }
    char buf[64];
    const uint8_t *p;
    size_t n = text_of(c, rp == REP_I64 ? vi[k] : 0, &vr[k], buf, &p);
    uint64_t off;
    if ((rc = arena_put(r, j, p, n, &off)) != OWLS_OK)
        return rc;
    c->toff[row] = off;
    c->tlen[row] = (uint32_t)n;
    r->t->cols[j].any_value = true;
    return OWLS_OK;
}

/* --- dictionaries ------------------------------------------------------------------ */

static void dict_reset(struct pq_reader *r)
{

    free(r->dict_d);
    free(r->dict_x);
    free(r->dict_off);
    free(r->dict_len);

    r->dict_d = NULL;
    r->dict_x = NULL;
    r->dict_off = NULL;
    r->dict_len = NULL;
    r->dict_n = 0;
}

/* A dictionary page's nn PLAIN values, converted once for column j: doubles
 * for numeric-capable columns, text in the arena for the others. */
static enum owls_err dict_load(struct pq_reader *r, size_t j, const uint8_t *src, size_t n,
                               size_t nn)
{
    struct pq_col *c = &r->im->cols[j];
    enum owls_err rc;
    size_t used;
    enum rep rp = rep_of(c->phys);
    size_t esz = rp == REP_REF ? sizeof(struct pq_ref) : 8;

    r->vals = grow(r->vals, &r->valcap, (nn ? nn : 1) * esz);
    if ((rc = plain(r, c, src, n, nn, r->vals, &used)) != OWLS_OK)
        return rc;
    r->dict_n = nn;
    if (c->numeric) {
        bool exact = c->phys == PT_INT64 && (c->kind == PQK_INT || c->kind == PQK_UINT);
        r->dict_d = owls_xmalloc((nn ? nn : 1) * sizeof(double));
        if (exact)
            r->dict_x = owls_xmalloc((nn ? nn : 1) * sizeof(int64_t));
        for (size_t i = 0; i < nn; i++) {
            const int64_t *vi = r->vals;
            const double *vd = r->vals;
            const struct pq_ref *vr = r->vals;
            if (c->kind == PQK_DOUBLE) {
                r->dict_d[i] = vd[i];
            } else if (c->kind == PQK_DECIMAL) {
                if (rp == REP_I64)
                    r->dict_d[i] = decimal_from_int(vi[i], c->scale);
                else if (!decimal_from_bytes(vr[i].p, vr[i].n, c->scale, &r->dict_d[i]))
                    return bad(r, "dictionary: DECIMAL of %" PRIu32 " bytes", vr[i].n);
            } else {
                r->dict_d[i] = int_value(c, vi[i]);
                if (exact)
                    r->dict_x[i] = vi[i];
            }
        }
        return OWLS_OK;
    }
    r->dict_off = owls_xmalloc((nn ? nn : 1) * sizeof(uint64_t));
    r->dict_len = owls_xmalloc((nn ? nn : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < nn; i++) {
        char buf[64];
        const uint8_t *p;
        const int64_t *vi = r->vals;
        size_t tn =
            text_of(c, rp == REP_I64 ? vi[i] : 0, &((const struct pq_ref *)r->vals)[i], buf, &p);
        if ((rc = arena_put(r, j, p, tn, &r->dict_off[i])) != OWLS_OK)
            return rc;
        r->dict_len[i] = (uint32_t)tn;
    }
    return OWLS_OK;
}

static enum owls_err store_dict(struct pq_reader *r, size_t j, size_t row, uint32_t k)
{
    struct pq_col *c = &r->im->cols[j];

    if (c->numeric) {
        if (r->dict_x)
            return store_int(r, j, row, r->dict_x[k]);
        store_num(r, j, row, r->dict_d[k]);
        return OWLS_OK;
    }
    c->toff[row] = r->dict_off[k];
    c->tlen[row] = r->dict_len[k];
    r->t->cols[j].any_value = true;
    return OWLS_OK;
}

/* --- pages ------------------------------------------------------------------------ */

struct pq_page {
    int32_t type;
    int32_t usize, csize;
    bool has_data, has_dict, has_v2;
    int32_t num_values;
    int32_t encoding;
    int32_t def_encoding;
    int32_t num_rows;         /* v2 */
    int32_t def_len, rep_len; /* v2 */
    bool is_compressed;       /* v2 */
};

static bool parse_page_header(struct owls_thrift *t, struct pq_page *h)
{
    int16_t id, id2;
    uint8_t ft, ft2;

    memset(h, 0, sizeof(*h));
    h->type = h->usize = h->csize = -1;
    h->num_values = h->encoding = -1;
    h->def_encoding = ENC_RLE;
    h->is_compressed = true;
    if (!owls_thrift_struct_begin(t, OWLS_THRIFT_STRUCT))
        return false;
    FIELDS(t, id, ft)
    {
        switch (id) {
        case 1:
            owls_thrift_i32(t, ft, &h->type);
            break;
        case 2:
            owls_thrift_i32(t, ft, &h->usize);
            break;
        case 3:
            owls_thrift_i32(t, ft, &h->csize);
            break;
        case 5: /* DataPageHeader */
        case 7: /* DictionaryPageHeader */
        case 8: /* DataPageHeaderV2 */
            if (!owls_thrift_struct_begin(t, ft))
                break;
            h->has_data |= id == 5;
            h->has_dict |= id == 7;
            h->has_v2 |= id == 8;
            FIELDS(t, id2, ft2)
            {
                if (id2 == 1)
                    owls_thrift_i32(t, ft2, &h->num_values);
                else if (id2 == 2 && id != 8)
                    owls_thrift_i32(t, ft2, &h->encoding);
                else if (id2 == 3 && id == 5)
                    owls_thrift_i32(t, ft2, &h->def_encoding);
                else if (id2 == 3 && id == 8)
                    owls_thrift_i32(t, ft2, &h->num_rows);
                else if (id2 == 4 && id == 8)
                    owls_thrift_i32(t, ft2, &h->encoding);
                else if (id2 == 5 && id == 8)
                    owls_thrift_i32(t, ft2, &h->def_len);
                else if (id2 == 6 && id == 8)
                    owls_thrift_i32(t, ft2, &h->rep_len);
                else if (id2 == 7 && id == 8)
                    owls_thrift_bool(t, ft2, &h->is_compressed);
                else
                    owls_thrift_skip(t, ft2);
            }
            owls_thrift_struct_end(t);
            break;
        default:
            owls_thrift_skip(t, ft);
        }
    }
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

/* Upper bound of a sane uncompressed page holding nv values of column c
 * (UINT64_MAX: no bound from the values alone, e.g. strings). */
static uint64_t page_bound(const struct pq_col *c, uint64_t nv)
{
    size_t w = phys_width(c);

    if (c->phys == PT_BYTE_ARRAY)
        return UINT64_MAX;
    /* values (or 4-byte-or-less dictionary indices with RLE overhead) plus
     * levels at worst 2 bytes each, plus headers */
    return nv * (OWLS_MAX(w, (size_t)5) + 4) + 1024;
}

/* The decompressed body of a page (csize bytes at src, usize declared); it
 * may point into the input itself when nothing was compressed. */
static enum owls_err page_bytes(struct pq_reader *r, int32_t codec, int32_t phys,
                                const uint8_t *src, size_t csize, size_t usize, const uint8_t **out)
{
    const char *why;
    enum owls_err rc;

    if (codec == OWLS_PQ_UNCOMPRESSED) {
        if (csize != usize)
            return bad(r, "uncompressed page of %zu bytes declares %zu", csize, usize);
        *out = src;
        return OWLS_OK;
    }
    /* Pages of fixed-width values were bounded by their value count; string
     * pages are not, so what they inflate to is charged (decompression
     * bombs). */
    if (phys == PT_BYTE_ARRAY && (rc = charge(r, usize, "a decompressed page")) != OWLS_OK)
        return rc;
    r->pagebuf = grow(r->pagebuf, &r->pagecap, usize ? usize : 1);
    if ((why = owls_pq_decompress(codec, src, csize, r->pagebuf, usize)) != NULL)
        return bad(r, "%s", why);
    *out = r->pagebuf;
    return OWLS_OK;
}

/* Decode one data page of column j holding nv values (rows row..row+nv). */
static enum owls_err data_page(struct pq_reader *r, size_t j, const struct pq_cmeta *cm,
                               const struct pq_page *h, const uint8_t *body, size_t row, size_t nv)
{
    struct pq_col *c = &r->im->cols[j];
    const uint8_t *lev = NULL, *vals;
    size_t levlen = 0, vlen, nn = nv;
    enum owls_err rc;
    bool v2 = h->type == PAGE_DATA_V2;

    if (v2) {
        size_t lv = (size_t)h->def_len + (size_t)h->rep_len;
        if (h->def_len < 0 || h->rep_len < 0 || lv > (size_t)h->csize || lv > (size_t)h->usize)
            return bad(r, "level lengths (%" PRId32 " + %" PRId32 ") beyond the page", h->rep_len,
                       h->def_len);
        if (h->rep_len != 0)
            return bad(r, "repetition levels in a flat schema");
        if (h->num_rows >= 0 && h->num_rows != h->num_values)
            return bad(r, "%" PRId32 " rows but %" PRId32 " values in a flat column", h->num_rows,
                       h->num_values);
        if (c->max_def == 0 && h->def_len != 0)
            return bad(r, "definition levels in a REQUIRED column");
        lev = body;
        levlen = (size_t)h->def_len;
        if (h->is_compressed)
            rc = page_bytes(r, cm->codec, c->phys, body + lv, (size_t)h->csize - lv,
                            (size_t)h->usize - lv, &vals);
        else if (h->csize != h->usize)
            rc = bad(r, "uncompressed page of %" PRId32 " bytes declares %" PRId32, h->csize,
                     h->usize);
        else
            rc = OWLS_OK, vals = body + lv;
        if (rc != OWLS_OK)
            return rc;
        vlen = (size_t)h->usize - lv;
    } else {
        const uint8_t *p;
        if ((rc = page_bytes(r, cm->codec, c->phys, body, (size_t)h->csize, (size_t)h->usize,
                             &p)) != OWLS_OK)
            return rc;
        vals = p;
        vlen = (size_t)h->usize;
        if (c->max_def > 0) {
            if (h->def_encoding != ENC_RLE)
                return bad(r, "unsupported definition level encoding %s",
                           enc_name(h->def_encoding));
            if (vlen < 4 || le32(vals) > vlen - 4)
                return bad(r, "definition levels: bad length prefix");
            lev = vals + 4;
            levlen = le32(vals);
            vals += 4 + levlen;
            vlen -= 4 + levlen;
        }
    }
    if (c->max_def > 0) {
        if ((rc = rle_decode(r, lev, levlen, 1, nv, "definition levels")) != OWLS_OK)
            return rc;
        r->levels = grow(r->levels, &r->levcap, nv ? nv : 1);
        nn = 0;
        for (size_t i = 0; i < nv; i++) {
            r->levels[i] = (uint8_t)r->idx[i];
            nn += r->idx[i];
        }
    }

    /* Fast path: the benchmark's case, a PLAIN DOUBLE page without nulls. */
    if (c->phys == PT_DOUBLE && nn == nv && h->encoding == ENC_PLAIN) {
        struct owls_column *tc = &r->t->cols[j];
        if (nv > vlen / 8)
            return bad(r, "%zu PLAIN values of 8 bytes beyond the end of the page", nv);
        memcpy(tc->values + row, vals, nv * 8);
        for (size_t i = 0; i < nv; i++)
            if (!isfinite(tc->values[row + i]))
                tc->all_numeric = false;
        if (nv)
            tc->any_value = true;
        return OWLS_OK;
    }

    if (h->encoding == ENC_PLAIN_DICTIONARY || h->encoding == ENC_RLE_DICTIONARY) {
        const uint32_t *ix;
        if (r->dict_d == NULL && r->dict_off == NULL)
            return bad(r, "dictionary-encoded page without a dictionary page");
        if (vlen < 1 || vals[0] > 32)
            return bad(r, "bad dictionary index bit width");
        /* The levels were copied out of r->idx; the indices reuse it. */
        if ((rc = rle_decode(r, vals + 1, vlen - 1, vals[0], nn, "dictionary indices")) != OWLS_OK)
            return rc;
        ix = r->idx;
        for (size_t i = 0, k = 0; i < nv; i++) {
            if (c->max_def > 0 && r->levels[i] == 0) {
                store_null(r, j, row + i);
                continue;
            }
            if (ix[k] >= r->dict_n)
                return bad(r, "dictionary index %" PRIu32 " out of range (%zu entries)", ix[k],
                           r->dict_n);
            if ((rc = store_dict(r, j, row + i, ix[k++])) != OWLS_OK)
                return rc;
        }
        return OWLS_OK;
    }

    if ((rc = decode_values(r, c, h->encoding, vals, vlen, nn)) != OWLS_OK)
        return rc;
    for (size_t i = 0, k = 0; i < nv; i++) {
        if (c->max_def > 0 && r->levels[i] == 0)
            store_null(r, j, row + i);
        else if ((rc = store_value(r, j, row + i, k++)) != OWLS_OK)
            return rc;
    }
    return OWLS_OK;
}

/* All pages of column j in one row group: rows row..row+nrows. */
static enum owls_err read_chunk(struct pq_reader *r, size_t j, const struct pq_cmeta *cm,
                                size_t row, size_t nrows)
{
    const struct pq_col *c = &r->im->cols[j];
    uint64_t start, end;
    const uint8_t *p, *pend;
    size_t done = 0;
    bool seen_data = false;
    enum owls_err rc = OWLS_OK;

    dict_reset(r);
    if (!cm->has_meta)
        return bad(r, "column chunk without metadata");
    if (cm->external)
        return bad(r, "column chunk stored in another file");
    if (cm->type != c->phys)
        return bad(r, "column chunk type %" PRId32 " differs from the schema's %s", cm->type,
                   s_type_names[c->phys]);
    if (cm->codec < 0 || cm->codec > OWLS_PQ_LZ4_RAW)
        return bad(r, "unknown compression codec %" PRId32, cm->codec);
    if (cm->codec != OWLS_PQ_UNCOMPRESSED && cm->codec != OWLS_PQ_SNAPPY &&
        cm->codec != OWLS_PQ_GZIP && cm->codec != OWLS_PQ_ZSTD)
        return bad(r, "unsupported compression codec %s", s_codec_names[cm->codec]);
    if (cm->num_values != (int64_t)nrows)
        return bad(r, "column chunk holds %" PRId64 " values, its row group %zu rows",
                   cm->num_values, nrows);
    start = (uint64_t)cm->data_off;
    if (cm->dict_off >= 4 && (uint64_t)cm->dict_off < start)
        start = (uint64_t)cm->dict_off;
    if (cm->data_off < 4 || cm->total_compressed < 0 || start >= r->meta_start ||
        (uint64_t)cm->total_compressed > r->meta_start - start)
        return bad(r, "column chunk (offset %" PRId64 ", %" PRId64 " bytes) outside the data",
                   (int64_t)start, cm->total_compressed);
    end = start + (uint64_t)cm->total_compressed;
    p = r->data + start;
    pend = r->data + end;
    for (r->page = 1; done < nrows; r->page++) {
        struct owls_thrift t;
        struct pq_page h;
        const uint8_t *body;
        if (p >= pend)
            return bad(r, "column chunk ends after %zu of %zu values", done, nrows);
        owls_thrift_init(&t, p, (size_t)(pend - p));
        if (!parse_page_header(&t, &h))
            return bad(r, "bad page header at byte %zu: %s", (size_t)(p - r->data), t.why);
        body = p + owls_thrift_offset(&t);
        if (h.usize < 0 || h.csize < 0 || (size_t)h.csize > (size_t)(pend - body))
            return bad(r, "page of %" PRId32 " bytes beyond the column chunk", h.csize);
        p = body + h.csize;
        switch (h.type) {
        case PAGE_DICTIONARY:
            if (!h.has_dict || h.num_values < 0)
                return bad(r, "dictionary page without its header");
            if (seen_data || r->dict_n || r->dict_d || r->dict_off)
                return bad(r, "dictionary page after data or a second one");
            if (h.encoding != ENC_PLAIN && h.encoding != ENC_PLAIN_DICTIONARY)
                return bad(r, "unsupported dictionary encoding %s", enc_name(h.encoding));
            if ((uint64_t)h.num_values > OWLS_MAX(nrows, (size_t)1))
                return bad(r, "dictionary of %" PRId32 " entries for %zu values", h.num_values,
                           nrows);
            if ((uint64_t)h.usize > page_bound(c, (uint64_t)h.num_values))
                return bad(r, "dictionary page declares %" PRId32 " bytes for %" PRId32 " values",
                           h.usize, h.num_values);
            {
                const uint8_t *d;
                if ((rc = page_bytes(r, cm->codec, c->phys, body, (size_t)h.csize, (size_t)h.usize,
                                     &d)) != OWLS_OK ||
                    (rc = dict_load(r, j, d, (size_t)h.usize, (size_t)h.num_values)) != OWLS_OK)
                    return rc;
            }
            break;
        case PAGE_DATA:
        case PAGE_DATA_V2:
            if ((h.type == PAGE_DATA && !h.has_data) || (h.type == PAGE_DATA_V2 && !h.has_v2) ||
                h.num_values < 0 || h.encoding < 0)
                return bad(r, "data page without its header");
            if ((size_t)h.num_values > nrows - done)
                return bad(r, "page of %" PRId32 " values overruns the chunk's %zu", h.num_values,
                           nrows);
            if ((uint64_t)h.usize > page_bound(c, (uint64_t)h.num_values))
                return bad(r, "page declares %" PRId32 " uncompressed bytes for %" PRId32 " values",
                           h.usize, h.num_values);
            seen_data = true;
            if ((rc = data_page(r, j, cm, &h, body, row + done, (size_t)h.num_values)) != OWLS_OK)
                return rc;
            done += (size_t)h.num_values;
            break;
        default:
            break; /* index pages and unknown ones carry nothing we need */
        }
    }
    r->page = 0;
    dict_reset(r);
    return rc;
}

/* --- the table's output -------------------------------------------------------------- */

static void put_int(struct owls_buf *b, int64_t x, bool is_unsigned)
{
    char tmp[24];
    int n = is_unsigned ? snprintf(tmp, sizeof(tmp), "%" PRIu64, (uint64_t)x)
                        : snprintf(tmp, sizeof(tmp), "%" PRId64, x);
    owls_buf_append(b, tmp, (size_t)n);
}

static void put_double(struct owls_buf *b, double v)
{
    char tmp[32];
    owls_buf_append(b, tmp, owls_num_format(v, tmp));
}

static void put_field(struct owls_buf *b, const struct owls_column *tc, const struct pq_col *c,
                      size_t row)
{
    if (!c->numeric) {
        if (c->tlen[row])
            owls_csv_put_field(b, c->arena.data + c->toff[row], c->tlen[row]);
        return;
    }
    if (c->nullmap && (c->nullmap[row / 8] >> (row % 8)) & 1)
        return;
    /* a numeric-capable column keeps its values even when it is ignored
     * (NaN, an infinity: text by SPEC 3), as writes_from_values asks */
    if (c->exact)
        put_int(b, c->exact[row], c->kind == PQK_UINT);
    else if (c->kind == PQK_INT || c->kind == PQK_UINT)
        put_int(b, (int64_t)tc->values[row], false);
    else
        put_double(b, tc->values[row]);
}

#define FLUSH_AT (64 * 1024)

static enum owls_err pq_write_split(const struct owls_table *t, const uint8_t *keep,
                                    owls_row_sink_fn sink, void *keep_sink, void *discard_sink,
                                    struct owls_errmsg *em)
{
    const struct pq_impl *im = t->impl;
    struct owls_buf kb, db;
    enum owls_err rc = OWLS_OK;

    owls_buf_init(&kb);
    owls_buf_init(&db);
    owls_table_put_header(t, &kb);
    owls_buf_append(&db, kb.data, kb.len);
    for (size_t i = 0; i < t->nrows; i++) {
        struct owls_buf *b = keep[i] ? &kb : &db;
        for (size_t j = 0; j < t->ncols; j++) {
            if (j)
                owls_buf_putc(b, ',');
            put_field(b, &t->cols[j], &im->cols[j], i);
        }
        owls_buf_putc(b, '\n');
        if (b->len >= FLUSH_AT) {
            if ((rc = sink(b == &kb ? keep_sink : discard_sink, b->data, b->len)) != OWLS_OK)
                goto out;
            owls_buf_reset(b);
        }
    }
    if ((rc = sink(keep_sink, kb.data, kb.len)) != OWLS_OK ||
        (rc = sink(discard_sink, db.data, db.len)) != OWLS_OK)
        goto out;
out:
    if (rc != OWLS_OK)
        owls_errmsg_set(em, rc, "writing the split rows failed");
    owls_buf_cleanup(&kb);
    owls_buf_cleanup(&db);
    return rc;
}

static const struct owls_table_ops s_parquet_ops = {
    .write_split = pq_write_split,
    .free_impl = impl_free,
    .writes_from_values = true,
};

/* --- the whole file -------------------------------------------------------------------- */

bool owls_parquet_sniff(const char *data, size_t len)
{
    return len >= 4 && memcmp(data, "PAR1", 4) == 0;
}

/* Schema and table: flat columns, their kinds and their storage. */
static enum owls_err setup_columns(struct pq_reader *r, const struct pq_meta *m)
{
    const struct pq_selem *root;
    size_t ncols, width = 0;
    uint64_t nrows = 0;
    enum owls_err rc;

    if (m->nschema == 0 || m->schema == NULL)
        return bad(r, "no schema");
    root = &m->schema[0];
    if (root->num_children <= 0)
        return bad(r, "the schema has no columns");
    /* A flat schema is the root and its leaves, nothing else. */
    for (size_t i = 1; i < m->nschema; i++) {
        const struct pq_selem *e = &m->schema[i];
        /* A group's name may be missing on the wire: never hand %s a NULL. */
        if (e->num_children > 0 || e->type < 0 || e->repetition == REP_REPEATED)
            return bad(r, "nested schema not supported: column \"%.*s\"",
                       (int)OWLS_MIN(e->name_len, (size_t)200),
                       e->name != NULL ? (const char *)e->name : "");
    }
    if ((size_t)root->num_children != m->nschema - 1)
        return bad(r, "the schema root announces %" PRId32 " columns, %zu follow",
                   root->num_children, m->nschema - 1);
    ncols = m->nschema - 1;
    if (m->num_rows < 0)
        return bad(r, "negative or missing row count");
    for (size_t g = 0; g < m->nrg; g++) {
        if (m->rgs[g].num_rows < 0 || (uint64_t)m->rgs[g].num_rows > (uint64_t)INT64_MAX - nrows)
            return bad(r, "row group %zu: bad row count %" PRId64, g + 1, m->rgs[g].num_rows);
        nrows += (uint64_t)m->rgs[g].num_rows;
        if (m->rgs[g].ncols != ncols)
            return bad(r, "row group %zu has %zu column chunks for %zu columns", g + 1,
                       m->rgs[g].ncols, ncols);
    }
    if (nrows != (uint64_t)m->num_rows)
        return bad(r, "the row groups hold %" PRIu64 " rows, the file announces %" PRId64, nrows,
                   m->num_rows);

    r->t = owls_table_new(ncols);
    r->t->ops = &s_parquet_ops;
    r->im = owls_xcalloc(1, sizeof(*r->im));
    r->im->cols = owls_xcalloc(ncols, sizeof(*r->im->cols));
    r->im->ncols = ncols;
    r->t->impl = r->im;
    for (size_t j = 0; j < ncols; j++) {
        const struct pq_selem *e = &m->schema[j + 1];
        if (e->name == NULL || memchr(e->name, '\0', e->name_len))
            return bad(r, "column %zu: missing name or a NUL byte in it", j + 1);
        r->t->cols[j].name = owls_xstrndup((const char *)e->name, e->name_len);
    }
    for (size_t j = 0; j < ncols; j++) {
        r->col = j + 1;
        if ((rc = col_setup(r, &m->schema[j + 1], &r->im->cols[j])) != OWLS_OK)
            return rc;
        width += r->im->cols[j].numeric ? 8 : 12;
    }
    r->col = 0;
    if (nrows > SIZE_MAX / 16 || (width && nrows > r->budget / width))
        return bad(r,
                   "%" PRIu64 " rows of %zu columns exceed the decoding limit (%zu bytes for a "
                   "%zu-byte file)",
                   nrows, ncols, r->budget_full, r->len);
    r->budget -= (size_t)nrows * width;
    r->t->nrows = (size_t)nrows;
    for (size_t j = 0; j < ncols; j++) {
        struct pq_col *c = &r->im->cols[j];
        size_t n = nrows ? (size_t)nrows : 1;
        if (c->numeric) {
            r->t->cols[j].values = owls_xmalloc(n * sizeof(double));
        } else {
            r->t->cols[j].all_numeric = false;
            c->toff = owls_xmalloc(n * sizeof(*c->toff));
            c->tlen = owls_xmalloc(n * sizeof(*c->tlen));
        }
    }
    return OWLS_OK;
}

enum owls_err owls_parquet_read(const char *data, size_t len, const char *source,
                                struct owls_table **out, struct owls_errmsg *em)
{
    struct pq_reader r;
    struct pq_meta m;
    struct owls_thrift t;
    enum owls_err rc = OWLS_EBAD_PARQUET;
    uint32_t flen;
    size_t row = 0;

    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    *out = NULL;
    r.data = (const uint8_t *)data;
    r.len = len;
    r.source = source ? source : "input";
    r.em = em;
    r.budget = len > (SIZE_MAX - OWLS_PARQUET_SLACK) / OWLS_PARQUET_EXPANSION
                   ? SIZE_MAX
                   : len * OWLS_PARQUET_EXPANSION + OWLS_PARQUET_SLACK;
    r.budget_full = r.budget;

    if (len < 12 || memcmp(data, "PAR1", 4) != 0) {
        rc = bad(&r, "not a Parquet file (no PAR1 magic at the start)");
        goto out;
    }
    if (memcmp(data + len - 4, "PARE", 4) == 0) {
        rc = bad(&r, "encrypted Parquet files are not supported");
        goto out;
    }
    if (memcmp(data + len - 4, "PAR1", 4) != 0) {
        rc = bad(&r, "truncated or not a Parquet file (no PAR1 magic at the end)");
        goto out;
    }
    flen = le32(r.data + len - 8);
    if (flen == 0 || flen > len - 12) {
        rc = bad(&r, "footer length %" PRIu32 " does not fit a %zu-byte file", flen, len);
        goto out;
    }
    r.meta_start = len - 8 - flen;
    owls_thrift_init(&t, r.data + r.meta_start, flen);
    if (!parse_filemeta(&t, &m)) {
        rc = bad(&r, "bad Thrift in the file footer at byte %zu: %s",
                 r.meta_start + owls_thrift_offset(&t), t.why);
        goto out;
    }
    if ((rc = setup_columns(&r, &m)) != OWLS_OK)
        goto out;
    for (size_t g = 0; g < m.nrg; g++) {
        size_t n = (size_t)m.rgs[g].num_rows;
        r.rg = g + 1;
        for (size_t j = 0; j < r.t->ncols; j++) {
            r.col = j + 1;
            if ((rc = read_chunk(&r, j, &m.rgs[g].cols[j], row, n)) != OWLS_OK)
                goto out;
        }
        row += n;
    }
    r.col = r.rg = r.page = 0;
    if ((rc = owls_table_decide(r.t, r.source, em)) != OWLS_OK)
        goto out;
    *out = r.t;
    r.t = NULL;
out:
    owls_table_free(r.t);
    dict_reset(&r);
    free(r.pagebuf);
    free(r.levels);
    free(r.vals);
    free(r.idx);
    free(r.mat);
    meta_cleanup(&m);
    return rc;
}
