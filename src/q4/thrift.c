/*
 * DESIGN: the Thrift compact protocol, read-only and bounded (see
 * private/thrift.h). Parquet's footer and page headers come from untrusted
 * files, so the reader trusts nothing it reads: varints are at most 10 bytes
 * and must fit their type, lengths and counts must fit in what remains, and
 * skipping unknown values recurses at most OWLS_THRIFT_MAX_DEPTH levels. The
 * first failure is sticky, which lets callers test once after a sequence of
 * reads. No allocation, no global state.
 */
#include <string.h>

#include "owls/private/thrift.h"

static bool fail(struct owls_thrift *t, const char *why)
{
    if (t->why == NULL)
        t->why = why;
    return false;
}

void owls_thrift_init(struct owls_thrift *t, const void *p, size_t n)
{
    memset(t, 0, sizeof(*t));
    t->start = p;
    t->p = p;
    t->end = t->p + n;
}

size_t owls_thrift_offset(const struct owls_thrift *t)
{
    return (size_t)(t->p - t->start);
}

static size_t left(const struct owls_thrift *t)
{
    return (size_t)(t->end - t->p);
}

const char *owls_thrift_uleb128(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    const char *why = "varint longer than 10 bytes";
    uint64_t r = 0;

    for (unsigned shift = 0; shift < 70; shift += 7) {
        uint8_t b;
        if (p == end) {
            why = "truncated varint";
            break;
        }
        b = *p++;
        if (shift == 63 && (b & 0x7e)) {
            why = "varint overflows 64 bits";
            break;
        }
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            why = NULL;
            break;
        }
    }
    *pp = p;
    return why;
}

int64_t owls_thrift_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static bool varint(struct owls_thrift *t, uint64_t *v)
{
    const char *why = owls_thrift_uleb128(&t->p, t->end, v);

    return why == NULL || fail(t, why);
}

static bool sint(struct owls_thrift *t, int64_t *v, int64_t lo, int64_t hi)
{
    uint64_t u;
    int64_t s;

    if (!varint(t, &u))
        return false;
    s = owls_thrift_unzigzag(u);
    if (s < lo || s > hi)
        return fail(t, "integer out of range for its type");
    *v = s;
    return true;
}

bool owls_thrift_struct_begin(struct owls_thrift *t, uint8_t type)
{
    if (t->why)
        return false;
    if (type != OWLS_THRIFT_STRUCT)
        return fail(t, "wrong type (struct expected)");
    if (t->depth + 1 >= OWLS_THRIFT_MAX_DEPTH)
        return fail(t, "structs nested too deeply");
    t->last_id[++t->depth] = 0;
    return true;
}

void owls_thrift_struct_end(struct owls_thrift *t)
{
    if (t->depth > 0)
        t->depth--;
}

bool owls_thrift_field(struct owls_thrift *t, int16_t *id, uint8_t *type)
{
    uint8_t b;
    int64_t fid;

    if (t->why)
        return false;
    if (t->p == t->end)
        return fail(t, "truncated struct");
    b = *t->p++;
    if (b == 0)
        return false; /* STOP */
    *type = b & 0x0f;
    if (*type > OWLS_THRIFT_STRUCT || *type == OWLS_THRIFT_STOP)
        return fail(t, "bad field type");
    if (b >> 4) {
        fid = t->last_id[t->depth] + (b >> 4);
        if (fid > INT16_MAX)
            return fail(t, "field id out of range");
    } else if (!sint(t, &fid, INT16_MIN, INT16_MAX)) {
        return false;
    }
    t->last_id[t->depth] = (int16_t)fid;
    *id = (int16_t)fid;
    return true;
}

bool owls_thrift_bool(struct owls_thrift *t, uint8_t type, bool *v)
{
    if (t->why)
        return false;
    if (type != OWLS_THRIFT_TRUE && type != OWLS_THRIFT_FALSE)
        return fail(t, "wrong type (bool expected)");
    *v = type == OWLS_THRIFT_TRUE;
    return true;
}

static bool integer(struct owls_thrift *t, uint8_t type, int64_t *v, uint8_t widest)
{
    if (t->why)
        return false;
    if (type < OWLS_THRIFT_BYTE || type > widest)
        return fail(t, "wrong type (integer expected)");
    switch (type) {
    case OWLS_THRIFT_BYTE:
        if (t->p == t->end)
            return fail(t, "truncated byte");
        *v = (int8_t)*t->p++;
        return true;
    case OWLS_THRIFT_I16:
        return sint(t, v, INT16_MIN, INT16_MAX);
    case OWLS_THRIFT_I32:
        return sint(t, v, INT32_MIN, INT32_MAX);
    default:
        return sint(t, v, INT64_MIN, INT64_MAX);
    }
}

bool owls_thrift_i32(struct owls_thrift *t, uint8_t type, int32_t *v)
{
    int64_t x;

    if (!integer(t, type, &x, OWLS_THRIFT_I32))
        return false;
    *v = (int32_t)x;
    return true;
}

bool owls_thrift_i64(struct owls_thrift *t, uint8_t type, int64_t *v)
{
    return integer(t, type, v, OWLS_THRIFT_I64);
}

bool owls_thrift_binary(struct owls_thrift *t, uint8_t type, const uint8_t **p, size_t *n)
{
    uint64_t len;

    if (t->why)
        return false;
    if (type != OWLS_THRIFT_BINARY)
        return fail(t, "wrong type (binary expected)");
    if (!varint(t, &len))
        return false;
    if (len > left(t))
        return fail(t, "binary length beyond the end of the data");
    *p = t->p;
    *n = (size_t)len;
    t->p += len;
    return true;
}

bool owls_thrift_list(struct owls_thrift *t, uint8_t type, uint8_t *etype, size_t *n)
{
    uint8_t b;
    uint64_t count;

    if (t->why)
        return false;
    if (type != OWLS_THRIFT_LIST && type != OWLS_THRIFT_SET)
        return fail(t, "wrong type (list expected)");
    if (t->p == t->end)
        return fail(t, "truncated list header");
    b = *t->p++;
    *etype = b & 0x0f;
    if (*etype > OWLS_THRIFT_STRUCT || *etype == OWLS_THRIFT_STOP)
        return fail(t, "bad list element type");
    count = b >> 4;
    if (count == 15 && !varint(t, &count))
        return false;
    /* Every element takes at least one byte on the wire. */
    if (count > left(t))
        return fail(t, "list count beyond the end of the data");
    *n = (size_t)count;
    return true;
}

static bool skip(struct owls_thrift *t, uint8_t type, bool elem, unsigned depth);

static bool skip_struct(struct owls_thrift *t, unsigned depth)
{
    int16_t id;
    uint8_t ft;

    if (!owls_thrift_struct_begin(t, OWLS_THRIFT_STRUCT))
        return false;
    while (owls_thrift_field(t, &id, &ft))
        if (!skip(t, ft, false, depth + 1))
            return false;
    owls_thrift_struct_end(t);
    return t->why == NULL;
}

static bool skip(struct owls_thrift *t, uint8_t type, bool elem, unsigned depth)
{
    int64_t i;
    uint64_t u;
    const uint8_t *p;
    size_t n;
    uint8_t et, kt, vt;

    if (t->why)
        return false;
    if (depth >= OWLS_THRIFT_MAX_DEPTH)
        return fail(t, "values nested too deeply");
    switch (type) {
    case OWLS_THRIFT_TRUE:
    case OWLS_THRIFT_FALSE:
        if (!elem)
            return true;
        /* list elements of type bool are one byte */
        __attribute__((fallthrough));
    case OWLS_THRIFT_BYTE:
        if (t->p == t->end)
            return fail(t, "truncated byte");
        t->p++;
        return true;
    case OWLS_THRIFT_I16:
    case OWLS_THRIFT_I32:
    case OWLS_THRIFT_I64:
        return varint(t, &u);
    case OWLS_THRIFT_DOUBLE:
        if (left(t) < 8)
            return fail(t, "truncated double");
        t->p += 8;
        return true;
    case OWLS_THRIFT_BINARY:
        return owls_thrift_binary(t, type, &p, &n);
    case OWLS_THRIFT_LIST:
    case OWLS_THRIFT_SET:
        if (!owls_thrift_list(t, type, &et, &n))
            return false;
        for (size_t k = 0; k < n; k++)
            if (!skip(t, et, true, depth + 1))
                return false;
        return true;
    case OWLS_THRIFT_MAP:
        if (!varint(t, &u))
            return false;
        if (u == 0)
            return true;
        if (u > left(t) / 2)
            return fail(t, "map count beyond the end of the data");
        if (t->p == t->end)
            return fail(t, "truncated map header");
        kt = *t->p >> 4;
        vt = *t->p++ & 0x0f;
        if (kt == 0 || kt > OWLS_THRIFT_STRUCT || vt == 0 || vt > OWLS_THRIFT_STRUCT)
            return fail(t, "bad map element type");
        for (i = 0; (uint64_t)i < u; i++)
            if (!skip(t, kt, true, depth + 1) || !skip(t, vt, true, depth + 1))
                return false;
        return true;
    case OWLS_THRIFT_STRUCT:
        return skip_struct(t, depth);
    default:
        return fail(t, "bad type");
    }
}

bool owls_thrift_skip(struct owls_thrift *t, uint8_t type)
{
    return skip(t, type, false, t->depth);
}

bool owls_thrift_skip_elem(struct owls_thrift *t, uint8_t etype)
{
    return skip(t, etype, true, t->depth);
}
