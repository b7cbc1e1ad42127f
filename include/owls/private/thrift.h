/*
 * private/thrift.h - a bounded reader for the Thrift compact protocol, the
 * encoding of Parquet's footer (FileMetaData) and page headers.
 *
 * It reads from a borrowed byte range and never reads past its end; every
 * length and element count is checked against the bytes that remain, and
 * struct nesting is bounded (OWLS_THRIFT_MAX_DEPTH), so hostile input costs
 * at most its own size in work. The first failure sticks: every later call
 * returns false, and t->why (static text) and owls_thrift_offset() say what
 * and where. Only the Parquet reader uses it. A cursor belongs to one thread.
 */
#ifndef OWLS_PRIVATE_THRIFT_H
#define OWLS_PRIVATE_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compact-protocol wire types. */
enum owls_thrift_type {
    OWLS_THRIFT_STOP = 0,
    OWLS_THRIFT_TRUE = 1, /* a bool field's value lives in its type */
    OWLS_THRIFT_FALSE = 2,
    OWLS_THRIFT_BYTE = 3,
    OWLS_THRIFT_I16 = 4,
    OWLS_THRIFT_I32 = 5,
    OWLS_THRIFT_I64 = 6,
    OWLS_THRIFT_DOUBLE = 7,
    OWLS_THRIFT_BINARY = 8,
    OWLS_THRIFT_LIST = 9,
    OWLS_THRIFT_SET = 10,
    OWLS_THRIFT_MAP = 11,
    OWLS_THRIFT_STRUCT = 12,
};

#define OWLS_THRIFT_MAX_DEPTH 24

struct owls_thrift {
    const uint8_t *start; /* borrowed */
    const uint8_t *p;
    const uint8_t *end;
    unsigned depth;
    int16_t last_id[OWLS_THRIFT_MAX_DEPTH]; /* field-id deltas are per struct */
    const char *why;                        /* NULL until the first failure */
};

void owls_thrift_init(struct owls_thrift *t, const void *p, size_t n);

/* The compact protocol's integer encodings, which Parquet's RLE run headers
 * and DELTA_BINARY_PACKED use as well. owls_thrift_uleb128() reads an
 * unsigned LEB128 varint of at most 10 bytes that fits 64 bits from *pp,
 * never at or past end, and moves *pp past the bytes it read: NULL on
 * success, else what is wrong (static text). owls_thrift_unzigzag() maps
 * 0, 1, 2, 3, ... to 0, -1, 1, -2, ... */
const char *owls_thrift_uleb128(const uint8_t **pp, const uint8_t *end, uint64_t *v);
int64_t owls_thrift_unzigzag(uint64_t u);
/* Byte offset of the cursor (of the failure, once failed). */
size_t owls_thrift_offset(const struct owls_thrift *t);

/* Enter a struct (type must be OWLS_THRIFT_STRUCT, or pass it for the
 * top-level struct); leave it after owls_thrift_field() returned false
 * without failing. */
bool owls_thrift_struct_begin(struct owls_thrift *t, uint8_t type);
void owls_thrift_struct_end(struct owls_thrift *t);

/* The next field of the current struct: true with its id and wire type, or
 * false at the struct's end (t->why == NULL) or on a failure. */
bool owls_thrift_field(struct owls_thrift *t, int16_t *id, uint8_t *type);

/* Values of the given wire type (a field's or a list element's). A value of
 * another type than asked for is a failure ("wrong type"). */
bool owls_thrift_bool(struct owls_thrift *t, uint8_t type, bool *v);   /* field bools only */
bool owls_thrift_i32(struct owls_thrift *t, uint8_t type, int32_t *v); /* BYTE, I16, I32 */
bool owls_thrift_i64(struct owls_thrift *t, uint8_t type, int64_t *v); /* BYTE..I64 */
/* *p borrows from the input. */
bool owls_thrift_binary(struct owls_thrift *t, uint8_t type, const uint8_t **p, size_t *n);
/* A list or set header: element type and count (count <= bytes left). */
bool owls_thrift_list(struct owls_thrift *t, uint8_t type, uint8_t *etype, size_t *n);

/* Skip a field value of the given type (nested values included). */
bool owls_thrift_skip(struct owls_thrift *t, uint8_t type);
/* Skip one list element of the given type. */
bool owls_thrift_skip_elem(struct owls_thrift *t, uint8_t etype);

#endif
