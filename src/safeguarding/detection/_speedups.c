/* Optional C accelerator for the detector's hot path: the text part of a message's score.
 *
 * text_dot(norm, weights, n_buckets) computes exactly what the pure-Python path computes
 * (safeguarding.detection.features.text_dot): the hashed unigram + bigram counts of an already
 * normalised message, L2-normalised, dotted with the text weights. Same tokens
 * ([a-z0-9]+(?:'[a-z]+)?|[^\s\w], with Python's own \w and \s), same CRC-32 buckets of the same
 * UTF-8 bytes, same summation order (buckets in order of first occurrence), same IEEE double
 * operations: the result is bit-identical (a test checks it on random text of every script). A very
 * long text returns None and the caller uses the Python path.
 *
 * Built by setup.py as an optional extension: if there is no C compiler, the package installs and
 * scores in pure Python. Compiled with -ffp-contract=off so no fused multiply-add changes a bit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_LEN 8192      /* longer text: Python path (normalise caps messages at 2000 chars) */
#define SMALL_GRAMS 512   /* stack buffers up to this many n-grams, heap beyond */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

/* Running CRC-32 (zlib's): start with crc_update(0, ...), continue with the returned value. */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, Py_ssize_t n) {
    crc = ~crc;
    for (Py_ssize_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static int is_alnum(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static int is_lower(Py_UCS4 c) { return c >= 'a' && c <= 'z'; }
/* Python's \w and \s in str patterns (what the re module itself calls). */
static int is_word(Py_UCS4 c) { return Py_UNICODE_ISALNUM(c) || c == '_'; }
static int is_space(Py_UCS4 c) { return Py_UNICODE_ISSPACE(c); }

/* Feed one code point's UTF-8 bytes (surrogates as 3 bytes, as "surrogatepass" encodes them). */
static uint32_t crc_char(uint32_t crc, Py_UCS4 c) {
    unsigned char b[4];
    Py_ssize_t n;
    if (c < 0x80) {
        b[0] = (unsigned char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (unsigned char)(0xC0 | (c >> 6));
        b[1] = (unsigned char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (c >> 12));
        b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (c >> 18));
        b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (c & 0x3F));
        n = 4;
    }
    return crc_update(crc, b, n);
}

typedef struct {
    uint32_t *bucket; /* unique buckets, in order of first occurrence */
    int32_t *count;
    int32_t *slot;    /* open-addressing table: index into bucket[] or -1 */
    Py_ssize_t n, mask;
    int64_t sq;       /* sum of squared counts */
} Counts;

static void add(Counts *c, uint32_t b) {
    Py_ssize_t h = (Py_ssize_t)((b * 2654435761u) & (uint32_t)c->mask);
    for (;;) {
        int32_t s = c->slot[h];
        if (s < 0) {
            c->slot[h] = (int32_t)c->n;
            c->bucket[c->n] = b;
            c->count[c->n] = 1;
            c->n++;
            c->sq += 1;
            return;
        }
        if (c->bucket[s] == b) {
            c->sq += 2 * (int64_t)c->count[s] + 1; /* (k+1)^2 - k^2 */
            c->count[s]++;
            return;
        }
        h = (h + 1) & c->mask;
    }
}

/* The bucket of every n-gram of the text, in hashed_normalised's order (unigram and bigram with the
 * previous token per token, then the end bigram), written to out (room for 2 * len + 1); returns how
 * many. */
static Py_ssize_t scan(int kind, const void *data, Py_ssize_t len, uint32_t nb, uint32_t *out) {
    static const unsigned char start[] = "<s>", space[] = " ", end[] = " </s>";
    /* CRC-32 chains: crc(a + b) == crc_update(crc(a), b). So a token's unigram and its bigram with the
     * previous token ("prev cur") are both computed in one pass over the token, without copying it. */
    uint32_t prev_space = crc_update(crc_update(0, start, 3), space, 1); /* crc("<s> ") */
    uint32_t uni = 0; /* CRC of the latest token */
    Py_ssize_t n = 0, i = 0;
    while (i < len) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        uint32_t bi = prev_space, cur = 0;
        if (is_alnum(ch)) {
            Py_ssize_t j = i;
            while (j < len && is_alnum(PyUnicode_READ(kind, data, j))) j++;
            if (j + 1 < len && PyUnicode_READ(kind, data, j) == '\'' &&
                is_lower(PyUnicode_READ(kind, data, j + 1))) {
                j += 2;
                while (j < len && is_lower(PyUnicode_READ(kind, data, j))) j++;
            }
            for (; i < j; i++) {
                unsigned char b = (unsigned char)PyUnicode_READ(kind, data, i); /* ASCII */
                cur = crc_update(cur, &b, 1);
                bi = crc_update(bi, &b, 1);
            }
        } else if (!is_space(ch) && !is_word(ch)) {
            cur = crc_char(0, ch);
            bi = crc_char(bi, ch);
            i++;
        } else {
            i++;
            continue;
        }
        uni = cur;
        out[n++] = uni % nb;
        out[n++] = bi % nb;
        prev_space = crc_update(uni, space, 1);
    }
    if (n > 0) out[n++] = crc_update(uni, end, 5) % nb;
    return n;
}

/* The distinct buckets of a text with their counts, in scratch space on the stack for ordinary
 * messages and on the heap (d->heap, to PyMem_Free) past SMALL_GRAMS n-grams. */
typedef struct {
    Counts c;
    void *heap;
    uint32_t grams[SMALL_GRAMS], bucket[SMALL_GRAMS];
    int32_t count[SMALL_GRAMS], slot[2 * SMALL_GRAMS];
} Distinct;

/* Fills d from the text's n-grams; -1 when out of memory (nothing to free then). */
static int count_distinct(PyObject *norm, Py_ssize_t len, uint32_t nb, Distinct *d) {
    /* At most one token per character: 2 n-grams per token plus the end bigram. */
    Py_ssize_t max_grams = 2 * len + 1;
    Py_ssize_t table = 1;
    while (table < 2 * max_grams) table <<= 1;
    uint32_t *grams = d->grams;
    d->heap = NULL;
    d->c = (Counts){d->bucket, d->count, d->slot, 0, table - 1, 0};
    if (table > 2 * SMALL_GRAMS) {
        d->heap = PyMem_Malloc((size_t)max_grams * (2 * sizeof(uint32_t) + sizeof(int32_t)) +
                               (size_t)table * sizeof(int32_t));
        if (d->heap == NULL) return -1;
        grams = (uint32_t *)d->heap;
        d->c.bucket = grams + max_grams;
        d->c.count = (int32_t *)(d->c.bucket + max_grams);
        d->c.slot = d->c.count + max_grams;
    }
    memset(d->c.slot, 0xFF, (size_t)table * sizeof(int32_t));
    Py_ssize_t n = scan(PyUnicode_KIND(norm), PyUnicode_DATA(norm), len, nb, grams);
    for (Py_ssize_t k = 0; k < n; k++) add(&d->c, grams[k]);
    return 0;
}

static PyObject *text_dot(PyObject *self, PyObject *args) {
    PyObject *norm;
    Py_buffer wbuf;
    Py_ssize_t n_buckets;
    if (!PyArg_ParseTuple(args, "Uy*n:text_dot", &norm, &wbuf, &n_buckets)) return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(norm);
    if (len > MAX_LEN || n_buckets <= 0 || n_buckets > 0xFFFFFFFFLL ||
        wbuf.len != n_buckets * (Py_ssize_t)sizeof(double)) {
        PyBuffer_Release(&wbuf);
        Py_RETURN_NONE;
    }
    const double *w = (const double *)wbuf.buf;
    Distinct d;
    if (count_distinct(norm, len, (uint32_t)n_buckets, &d) < 0) {
        PyBuffer_Release(&wbuf);
        return PyErr_NoMemory();
    }
    const Counts c = d.c;
    double dot = 0.0;
    for (Py_ssize_t k = 0; k < c.n; k++) dot += w[c.bucket[k]] * (double)c.count[k];
    double inv = c.sq ? 1.0 / sqrt((double)c.sq) : 0.0;
    PyMem_Free(d.heap);
    PyBuffer_Release(&wbuf);
    return PyFloat_FromDouble(dot * inv);
}

static PyObject *buckets(PyObject *self, PyObject *args) {
    PyObject *norm;
    Py_ssize_t n_buckets;
    if (!PyArg_ParseTuple(args, "Un:buckets", &norm, &n_buckets)) return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(norm);
    if (len > MAX_LEN || n_buckets <= 0 || n_buckets > 0xFFFFFFFFLL) Py_RETURN_NONE;
    uint32_t small[SMALL_GRAMS];
    uint32_t *grams = small;
    if (2 * len + 1 > SMALL_GRAMS) {
        grams = PyMem_Malloc((size_t)(2 * len + 1) * sizeof(uint32_t));
        if (grams == NULL) return PyErr_NoMemory();
    }
    Py_ssize_t n = scan(PyUnicode_KIND(norm), PyUnicode_DATA(norm), len, (uint32_t)n_buckets, grams);
    PyObject *list = PyList_New(n);
    for (Py_ssize_t k = 0; list != NULL && k < n; k++) {
        PyObject *v = PyLong_FromUnsignedLong(grams[k]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, k, v);
    }
    if (grams != small) PyMem_Free(grams);
    return list;
}

/* row_sums(norm, weights, n_cols, n_buckets): the distinct n-gram buckets of the text in order of first
 * occurrence, and per column the sum of the weight rows of those buckets, added one row after another
 * (weights: float64, row-major, n_cols per row, at least n_buckets rows). The stage tagger's scores. */
static PyObject *row_sums(PyObject *self, PyObject *args) {
    PyObject *norm;
    Py_buffer wbuf;
    Py_ssize_t n_cols, n_buckets;
    if (!PyArg_ParseTuple(args, "Uy*nn:row_sums", &norm, &wbuf, &n_cols, &n_buckets)) return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(norm);
    if (len > MAX_LEN || n_cols <= 0 || n_cols > 64 || n_buckets <= 0 || n_buckets > 0xFFFFFFFFLL ||
        wbuf.len < n_buckets * n_cols * (Py_ssize_t)sizeof(double)) {
        PyBuffer_Release(&wbuf);
        Py_RETURN_NONE;
    }
    const double *w = (const double *)wbuf.buf;
    Distinct d;
    if (count_distinct(norm, len, (uint32_t)n_buckets, &d) < 0) {
        PyBuffer_Release(&wbuf);
        return PyErr_NoMemory();
    }
    const Counts c = d.c;
    double sums[64] = {0.0};
    for (Py_ssize_t k = 0; k < c.n; k++) {
        const double *row = w + (Py_ssize_t)c.bucket[k] * n_cols;
        for (Py_ssize_t j = 0; j < n_cols; j++) sums[j] += row[j];
    }
    PyMem_Free(d.heap);
    PyBuffer_Release(&wbuf);
    PyObject *list = PyList_New(n_cols);
    if (list == NULL) return NULL;
    for (Py_ssize_t j = 0; j < n_cols; j++) {
        PyObject *v = PyFloat_FromDouble(sums[j]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, j, v);
    }
    return Py_BuildValue("(Nn)", list, c.n);
}

static PyMethodDef methods[] = {
    {"text_dot", text_dot, METH_VARARGS,
     "text_dot(norm, weights, n_buckets) -> float | None: the L2-normalised hashed n-gram vector of an "
     "already normalised message dotted with float64 weights; None when the Python path must run."},
    {"row_sums", row_sums, METH_VARARGS,
     "row_sums(norm, weights, n_cols, n_buckets) -> (list[float], int) | None: per column, the sum of the "
     "float64 weight rows of the text's distinct n-gram buckets (in order of first occurrence), and how "
     "many distinct buckets; None when the Python path must run."},
    {"buckets", buckets, METH_VARARGS,
     "buckets(norm, n_buckets) -> list[int] | None: hashed_normalised(norm, n_buckets), or None when the "
     "Python path must run."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc_init();
    return PyModule_Create(&module);
}
