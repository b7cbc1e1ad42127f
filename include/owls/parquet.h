/*
 * parquet.h - the Parquet input reader: a whole file in memory becomes a
 * struct owls_table (see table.h), the same contract as the CSV reader's.
 *
 * Supported: flat schemas (every column a top-level REQUIRED or OPTIONAL
 * leaf); physical types BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE,
 * BYTE_ARRAY, and FIXED_LEN_BYTE_ARRAY when it is a DECIMAL; encodings
 * PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (levels, booleans),
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
 * BYTE_STREAM_SPLIT; data pages v1 and v2, dictionary pages, any number of
 * row groups and pages; codecs UNCOMPRESSED, SNAPPY, GZIP and ZSTD.
 *
 * Column typing (SPEC section 3, applied by owls_table_decide()):
 *   numeric  INT32, INT64 (signed or unsigned INTEGER/INT_x/UINT_x), FLOAT,
 *            DOUBLE and DECIMAL (value = unscaled * 10^-scale, rounded once
 *            to the nearest double, as strtod() reads "<unscaled>e-<scale>");
 *            a NaN or an infinity makes the column a text column, as in CSV;
 *   ignored  strings and other BYTE_ARRAYs, BOOLEAN, DATE, TIME, TIMESTAMP,
 *            INT96 (legacy timestamps);
 *   nulls    are empty values: a numeric column with a null fails with
 *            missing_value, an all-null column is ignored.
 *
 * Output rows (ops->write_split), one CSV field per column:
 *   INT32/INT64     the exact integer ("-12", "18446744073709551615");
 *   FLOAT/DOUBLE/DECIMAL  owls_num_format(): the shortest text that parses
 *                   back to the same double (a FLOAT is widened to double
 *                   first, so 0.1f prints as 0.10000000149011612); NaN and
 *                   infinities as "nan", "inf", "-inf";
 *   strings         the bytes as stored (RFC 4180 quoting where needed);
 *   BOOLEAN         "true" / "false";
 *   DATE            "YYYY-MM-DD" (proleptic Gregorian);
 *   TIME            "HH:MM:SS" plus ".fff", ".ffffff" or ".fffffffff" (the
 *                   unit's digits) when the fraction is not zero;
 *   TIMESTAMP       ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fraction]" as for TIME,
 *                   with a "Z" suffix when isAdjustedToUTC (UTC instants);
 *   INT96           as a nanosecond TIMESTAMP without "Z" (legacy writers
 *                   store wall-clock time);
 *   null            an empty field.
 *
 * Limits (hostile input never crashes or exhausts memory): every length is
 * checked against the bytes that remain; decoded sizes (the table itself,
 * decompressed pages, string bytes) are bounded by OWLS_PARQUET_EXPANSION
 * times the file size plus OWLS_PARQUET_SLACK; each page's declared
 * uncompressed size is checked against its value count before anything is
 * allocated. Anything malformed or unsupported is OWLS_EBAD_PARQUET with a
 * message naming the column, row group and page.
 */
#ifndef OWLS_PARQUET_H
#define OWLS_PARQUET_H

#include <stdbool.h>
#include <stddef.h>

#include "owls/err.h"
#include "owls/table.h"

#define OWLS_PARQUET_EXPANSION 1024u
#define OWLS_PARQUET_SLACK     ((size_t)64 << 20)

/*
 * Read the Parquet file data[0..len) into *out (caller frees with
 * owls_table_free()), then apply owls_table_decide(). data is borrowed and
 * need not outlive the call (the table keeps copies of what it prints).
 * source names the input in messages. Errors: OWLS_EBAD_PARQUET, and those of
 * owls_table_decide() (OWLS_EMISSING_VALUE, OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS,
 * OWLS_ENOT_ENOUGH_ROWS); em says where. *out is NULL on error.
 * Thread-safe (no shared state); one call per table.
 */
enum owls_err owls_parquet_read(const char *data, size_t len, const char *source,
                                struct owls_table **out, struct owls_errmsg *em);

/* True when data[0..len) starts with the Parquet magic "PAR1". */
bool owls_parquet_sniff(const char *data, size_t len);

#endif
