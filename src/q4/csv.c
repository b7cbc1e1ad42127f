/*
 * DESIGN: two passes over the input bytes, both driven by one record
 * iterator (struct rec_iter):
 *
 *   read:  header -> column names; every data record -> field count check
 *          and typing evidence + values for the columns that may be numeric;
 *   write: (write_split) header, then each record copied to Q_keep.csv or
 *          Q_discard.csv.
 *
 * The iterator yields a record either as a plain line (REC_FAST: no '"', no
 * CR except a final CRLF, so its fields are the bytes between commas and
 * the line can be copied out verbatim) or as fields decoded by libcsv
 * (REC_SLOW). libcsv runs in strict mode with CSV_REPALL_NL, is fed one
 * terminator-delimited chunk at a time from the start of a record, and the
 * record ends exactly when libcsv reports it. While every column may still
 * be numeric, the read pass first tries the whole record as plain numbers
 * (take_numeric_line: no search for the line end) and falls back to the
 * iterator for anything else.
 *
 * The table keeps no per-row state: the write pass simply walks the records
 * again. With the owner's release callback (a mapped file) the pages behind
 * the read position are dropped as both passes go, so peak memory is about
 * the numeric values plus a window of input.
 */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "owls/buf.h"
#include "owls/csv.h"
#include "owls/numparse.h"
#include "owls/util.h"

enum rec_kind { REC_END, REC_FAST, REC_SLOW, REC_ERROR };

struct rec_iter {
    const char *data;
    size_t len;
    size_t pos;  /* next unread byte */
    size_t line; /* 1-based line number at pos */
    bool force_slow;
    size_t next_quote; /* offset of the next '"' at or after pos (len: none) */
    size_t next_cr;    /* offset of the next CR at or after pos (len: none) */
    /* the current record */
    size_t rec_line;
    const char *start;  /* REC_FAST: first byte of the line */
    size_t content_len; /* REC_FAST: bytes before CR/LF */
    size_t raw_len;     /* REC_FAST: bytes including a final LF */
    bool verbatim;      /* REC_FAST: the raw bytes end in a bare LF: copy them as they are */
    /* REC_SLOW: fields decoded by libcsv */
    struct csv_parser parser;
    struct owls_buf store;
    size_t *foff, *flen;
    size_t nf, fcap;
    bool ended;
    /* REC_ERROR: what went wrong */
    char errtext[160];
};

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* RFC 4180: spaces are part of a field */
}

static void slow_field(void *s, size_t n, void *data)
{
    struct rec_iter *it = data;

    if (it->nf == it->fcap) {
        it->fcap = it->fcap ? 2 * it->fcap : 16;
        it->foff = owls_xreallocarray(it->foff, it->fcap, sizeof(*it->foff));
        it->flen = owls_xreallocarray(it->flen, it->fcap, sizeof(*it->flen));
    }
    it->foff[it->nf] = it->store.len;
    it->flen[it->nf] = n;
    it->nf++;
    owls_buf_append(&it->store, s, n);
}

static void slow_record(int c, void *data)
{
    struct rec_iter *it = data;

    (void)c;
    if (it->ended)
        return; /* the LF of a CRLF after the record already ended */
    if (it->nf == 0)
        slow_field("", 0, it); /* a blank line: one empty field */
    it->ended = true;
}

/* Offset of the next c at or after from, or len. */
static size_t find_next(const struct rec_iter *it, size_t from, char c)
{
    const char *q = memchr(it->data + from, c, it->len - from);
    return q ? (size_t)(q - it->data) : it->len;
}

static void iter_init(struct rec_iter *it, const char *data, size_t len, bool force_slow)
{
    memset(it, 0, sizeof(*it));
    it->data = data;
    it->len = len;
    it->line = 1;
    it->force_slow = force_slow;
    owls_buf_init(&it->store);
    if (csv_init(&it->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
        abort(); /* only fails on a NULL pointer */
    csv_set_space_func(&it->parser, no_space);
    /* Skip a UTF-8 byte order mark before the header. */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        it->pos = 3;
    it->next_quote = find_next(it, it->pos, '"');
    it->next_cr = find_next(it, it->pos, '\r');
}

static void iter_cleanup(struct rec_iter *it)
{
    csv_free(&it->parser);
    owls_buf_cleanup(&it->store);
    free(it->foff);
    free(it->flen);
}

static enum rec_kind iter_slow(struct rec_iter *it)
{
    it->nf = 0;
    it->ended = false;
    owls_buf_reset(&it->store);
    while (it->pos < it->len) {
        const char *p = it->data + it->pos;
        size_t rem = it->len - it->pos, chunk = rem;
        /* Up to and including the next CR or LF: a record can end only there. */
        for (size_t i = 0; i < rem; i++) {
            if (p[i] == '\n' || p[i] == '\r') {
                chunk = i + 1;
                break;
            }
        }
        if (csv_parse(&it->parser, p, chunk, slow_field, slow_record, it) != chunk) {
            int e = csv_error(&it->parser);
            snprintf(it->errtext, sizeof(it->errtext), "line %zu: %s", it->line,
                     e == CSV_EPARSE ? "malformed quoted field (a quote must open and close "
                                       "the whole field, inner quotes doubled)"
                                     : csv_strerror(e));
            return REC_ERROR;
        }
        it->pos += chunk;
        if (p[chunk - 1] == '\n')
            it->line++;
        if (it->ended) {
            if (p[chunk - 1] == '\r' && it->pos < it->len && it->data[it->pos] == '\n') {
                it->pos++; /* CRLF ends one record */
                it->line++;
            }
            return REC_SLOW;
        }
    }
    if (csv_fini(&it->parser, slow_field, slow_record, it) != 0 ||
        csv_error(&it->parser) == CSV_EPARSE) {
        snprintf(it->errtext, sizeof(it->errtext),
                 "line %zu: unterminated quoted field (end of file inside quotes)", it->rec_line);
        return REC_ERROR;
    }
    if (!it->ended)
        slow_record(-1, it);
    return REC_SLOW;
}

static enum rec_kind iter_next(struct rec_iter *it)
{
    const char *p, *lf;
    size_t rem, linelen, content;

    if (it->pos >= it->len)
        return REC_END;
    it->rec_line = it->line;
    p = it->data + it->pos;
    rem = it->len - it->pos;
    lf = memchr(p, '\n', rem);
    linelen = lf ? (size_t)(lf - p) : rem;
    content = linelen;
    if (content > 0 && p[content - 1] == '\r')
        content--;
    /* Quotes and CRs are rare: find each once, not once per line. */
    if (it->next_quote < it->pos)
        it->next_quote = find_next(it, it->pos, '"');
    if (it->next_cr < it->pos)
        it->next_cr = find_next(it, it->pos, '\r');
    if (it->force_slow || it->next_quote < it->pos + content || it->next_cr < it->pos + content)
        return iter_slow(it);
    it->start = p;
    it->content_len = content;
    it->raw_len = lf ? linelen + 1 : linelen;
    it->verbatim = lf && content == linelen;
    it->pos += it->raw_len;
    if (lf)
        it->line++;
    return REC_FAST;
}

/* --- the read pass ---------------------------------------------------------- */

struct reader {
    struct owls_table *t;
    size_t cap; /* rows the value arrays can hold */
};

static void grow_values(struct reader *r, size_t need)
{
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < need)
        cap *= 2;
    for (size_t j = 0; j < r->t->ncols; j++) {
        struct owls_column *c = &r->t->cols[j];
        if (c->all_numeric) {
            c->values = owls_xreallocarray(c->values, cap, sizeof(double));
        }
    }
    r->cap = cap;
}

static inline void take_field(struct owls_column *c, size_t row, const char *f, size_t n)
{
    double v;

    if (!c->all_numeric)
        return;
    if (n == 0) {
        if (c->first_empty_row == 0)
            c->first_empty_row = row + 1;
        c->values[row] = 0;
        return;
    }
    if (owls_num_parse(f, n, &v)) {
        c->values[row] = v;
        c->any_value = true;
        return;
    }
    c->all_numeric = false;
    free(c->values);
    c->values = NULL;
}

/* Split a plain line at commas; returns the number of fields seen. Numeric
 * candidates are scanned and split in one go (owls_num_scan_field). */
static size_t take_fast(struct owls_table *t, size_t row, const char *s, size_t n,
                        const char *limit)
{
    const char *end = s + n;
    size_t j = 0;

    for (;; j++) {
        const char *fe = NULL;
        if (j < t->ncols && t->cols[j].all_numeric) {
            struct owls_column *c = &t->cols[j];
            fe = owls_num_scan_field(s, end, limit, ',', &c->values[row]);
            if (fe)
                c->any_value = true;
        }
        if (fe == NULL) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            fe = comma ? comma : end;
            if (j < t->ncols)
                take_field(&t->cols[j], row, s, (size_t)(fe - s));
        }
        if (fe == end)
            return j + 1;
        s = fe + 1;
    }
}

/*
 * The commonest record of all: every field a plain number, the line ending
 * in LF, CRLF or the end of the input. Scans it with no search for the line
 * end first; returns the bytes it spans (with its line end), or 0 for
 * anything else -- the caller then takes the record the general way, which
 * rewrites the same values (a field the scanner accepted is split and read
 * identically there: it holds no quote, CR or comma).
 */
static size_t take_numeric_line(struct owls_table *t, size_t row, const char *line,
                                const char *limit)
{
    const char *p = line;

    for (size_t j = 0; j < t->ncols; j++) {
        const char *q = owls_num_scan_field(p, limit, limit, ',', &t->cols[j].values[row]);
        if (q == NULL)
            return 0;
        if (j + 1 < t->ncols) {
            if (q == limit || *q != ',')
                return 0;
            p = q + 1;
            continue;
        }
        if (q == limit)
            p = q;
        else if (*q == '\n')
            p = q + 1;
        else if (*q == '\r' && q + 1 < limit && q[1] == '\n')
            p = q + 2;
        else
            return 0;
    }
    for (size_t j = 0; j < t->ncols; j++)
        t->cols[j].any_value = true;
    return (size_t)(p - line);
}

static bool all_columns_numeric(const struct owls_table *t)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (!t->cols[j].all_numeric)
            return false;
    return true;
}

/* Rows to expect, from the line density of the first 64 KiB. */
static size_t estimate_rows(const char *data, size_t len)
{
    size_t sample = OWLS_MIN(len, (size_t)65536), lines = 0;
    for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + sample - p))) != NULL; p++)
        lines++;
    if (lines == 0)
        return 16;
    return (size_t)((double)len / (double)sample * (double)lines * 1.05) + 16;
}

static enum owls_err read_header(struct rec_iter *it, const char *source, struct owls_table **out,
                                 struct owls_errmsg *em)
{
    enum rec_kind k = iter_next(it);
    struct owls_table *t;

    *out = NULL;
    if (k == REC_END)
        return owls_errmsg_set(em, OWLS_EBAD_CSV, "%s: line 1: empty file, no header", source);
    if (k == REC_ERROR)
        return owls_errmsg_set(em, OWLS_EBAD_CSV, "%s: %s", source, it->errtext);
    if (k == REC_FAST) {
        size_t n = 1;
        for (size_t i = 0; i < it->content_len; i++)
            n += it->start[i] == ',';
        t = owls_table_new(n);
        const char *s = it->start, *end = it->start + it->content_len;
        for (size_t j = 0; j < n; j++) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *fe = comma ? comma : end;
            t->cols[j].name = owls_xstrndup(s, (size_t)(fe - s));
            s = fe + 1;
        }
    } else {
        t = owls_table_new(it->nf);
        for (size_t j = 0; j < it->nf; j++)
            t->cols[j].name = owls_xstrndup(it->store.data + it->foff[j], it->flen[j]);
    }
    *out = t;
    return OWLS_OK;
}

struct csv_impl {
    const char *data;
    size_t len;
    bool force_slow;
    owls_csv_release_fn release;
    void *release_arg;
};

#define RELEASE_STEP ((size_t)8 << 20)

/* Tell the owner of data every RELEASE_STEP bytes what has been read. */
static void maybe_release(owls_csv_release_fn fn, void *arg, const char *data, size_t pos,
                          size_t *released)
{
    if (fn && pos - *released >= RELEASE_STEP) {
        fn(arg, data, pos);
        *released = pos;
    }
}

static const struct owls_table_ops s_csv_ops;

enum owls_err owls_csv_read(const char *data, size_t len, const char *source,
                            const struct owls_csv_opts *opts, struct owls_table **out,
                            struct owls_errmsg *em)
{
    enum owls_err rc;
    struct rec_iter it;
    struct reader r = {0};
    struct owls_table *t = NULL;
    struct csv_impl *impl;
    bool force_slow = opts && opts->force_libcsv;
    owls_csv_release_fn release = opts ? opts->release : NULL;
    void *release_arg = opts ? opts->release_arg : NULL;
    size_t row = 0, released = 0, misses = 0;
    bool numeric;

    *out = NULL;
    iter_init(&it, data, len, force_slow);
    rc = read_header(&it, source, &t, em);
    if (rc != OWLS_OK)
        goto out;
    r.t = t;
    grow_values(&r, estimate_rows(data, len));
    numeric = !force_slow && all_columns_numeric(t);
    for (;;) {
        enum rec_kind k;
        size_t nf, used;

        if (row == r.cap)
            grow_values(&r, row + 1);
        if (numeric && it.pos < len &&
            (used = take_numeric_line(t, row, data + it.pos, data + len)) != 0) {
            it.line += data[it.pos + used - 1] == '\n';
            it.pos += used;
            row++;
            maybe_release(release, release_arg, data, it.pos, &released);
            misses = 0;
            continue;
        }
        /* A column the shortcut never takes (exponents, 17 digits) would
         * make every row scan its leading fields twice: give up on it. */
        if (numeric && ++misses >= 64)
            numeric = false;
        k = iter_next(&it);
        if (k == REC_END)
            break;
        if (k == REC_ERROR) {
            rc = owls_errmsg_set(em, OWLS_EBAD_CSV, "%s: %s", source, it.errtext);
            goto out;
        }
        if (k == REC_FAST) {
            nf = take_fast(t, row, it.start, it.content_len, data + len);
        } else {
            nf = it.nf;
            for (size_t j = 0; j < nf && j < t->ncols; j++)
                take_field(&t->cols[j], row, it.store.data + it.foff[j], it.flen[j]);
        }
        if (nf != t->ncols) {
            rc = owls_errmsg_set(em, OWLS_EBAD_CSV, "%s: line %zu: %zu field%s, the header has %zu",
                                 source, it.rec_line, nf, nf == 1 ? "" : "s", t->ncols);
            goto out;
        }
        row++;
        maybe_release(release, release_arg, data, it.pos, &released);
        numeric = numeric && all_columns_numeric(t);
    }
    t->nrows = row;
    impl = owls_xmalloc(sizeof(*impl));
    impl->data = data;
    impl->len = len;
    impl->force_slow = force_slow;
    impl->release = release;
    impl->release_arg = release_arg;
    t->impl = impl;
    t->ops = &s_csv_ops;
    rc = owls_table_decide(t, source, em);
    if (rc != OWLS_OK)
        goto out;
    /* Give back the slack of the estimate. */
    for (size_t j = 0; j < t->ncols; j++)
        if (t->cols[j].values)
            t->cols[j].values = owls_xreallocarray(t->cols[j].values, row, sizeof(double));
    *out = t;
    t = NULL;
out:
    iter_cleanup(&it);
    owls_table_free(t);
    return rc;
}

/* --- the write pass --------------------------------------------------------- */

static enum owls_err csv_write_split(const struct owls_table *t, const uint8_t *keep,
                                     owls_row_sink_fn sink, void *keep_sink, void *discard_sink,
                                     struct owls_errmsg *em)
{
    const struct csv_impl *impl = t->impl;
    enum owls_err rc = OWLS_OK;
    struct rec_iter it;
    struct owls_buf line;
    size_t row = 0, released = 0;

    owls_buf_init(&line);
    owls_table_put_header(t, &line);
    if ((rc = sink(keep_sink, line.data, line.len)) != OWLS_OK ||
        (rc = sink(discard_sink, line.data, line.len)) != OWLS_OK)
        goto io;

    iter_init(&it, impl->data, impl->len, impl->force_slow);
    (void)iter_next(&it); /* the header, already written */
    for (enum rec_kind k; (k = iter_next(&it)) != REC_END; row++) {
        void *dst;
        if (k == REC_ERROR || row >= t->nrows) {
            rc = owls_errmsg_set(em, OWLS_EINTERNAL, "input changed between passes");
            goto out;
        }
        dst = keep[row] ? keep_sink : discard_sink;
        if (k == REC_FAST && it.verbatim) {
            rc = sink(dst, it.start, it.raw_len); /* the line as it is, with its LF */
        } else if (k == REC_FAST) {
            if ((rc = sink(dst, it.start, it.content_len)) == OWLS_OK)
                rc = sink(dst, "\n", 1);
        } else {
            owls_buf_reset(&line);
            for (size_t j = 0; j < it.nf; j++) {
                if (j)
                    owls_buf_putc(&line, ',');
                owls_csv_put_field(&line, it.store.data + it.foff[j], it.flen[j]);
            }
            owls_buf_putc(&line, '\n');
            rc = sink(dst, line.data, line.len);
        }
        if (rc != OWLS_OK)
            break;
        maybe_release(impl->release, impl->release_arg, impl->data, it.pos, &released);
    }
out:
    iter_cleanup(&it);
io:
    if (rc == OWLS_EIO)
        owls_errmsg_set(em, rc, "writing the CSV artifacts failed");
    owls_buf_cleanup(&line);
    return rc;
}

static const struct owls_table_ops s_csv_ops = {
    .write_split = csv_write_split,
    .free_impl = free,
};
