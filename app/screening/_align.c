/*
 * The screening matcher's name alignment (app/screening/matcher.py: token_sim, name_score,
 * best_name), compiled: a party on a list of a million entries meets about twenty candidate
 * entries of two or three names each, and aligning them in Python cost 0.1-1.3 ms a party,
 * most of a declaration's screening. matcher.py is the reference: this file does the same
 * operations in the same order (tests/screening/test_align.py compares the two on every
 * name pair of the quality set and on generated ones), and matcher.best_names falls back to
 * Python where this module is not built or a name is not plain ASCII.
 *
 * best_names(query: tuple[str], names: list[str], prefix: bool, skeleton, patronymic)
 *   -> list[(score, paired, entry_tokens, line)] or None
 * ``names``: each entry's names as the index keeps them (tokens joined by spaces, names by
 * tabs). ``skeleton`` and ``patronymic`` are matcher.py's own functions (cached), called
 * for the few token pairs that need them, so their rules live in one place. None: a token
 * is not ASCII or a name has more than 62 tokens; the caller scores in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* matcher.py's constants (checked against it at import: see matcher.best_names) */
#define MIN_PAIR 0.75
#define SKELETON_SIM 0.85
#define SKELETON_MIN_EDIT 0.55
#define PREFIX_SIM 0.8
#define UNPAIRED_PATRONYMIC 0.3
#define SUBSTITUTION_FACTOR 0.9
#define MAX_TOKENS 62

typedef struct {
    const char *text;
    Py_ssize_t len;
} Token;

typedef struct {
    double sim;
    uint64_t qbits, ebits;
    Py_ssize_t size;
} Pair;

typedef struct {
    PyObject *skeleton, *patronymic;
    int prefix;
    int failed; /* a callback raised */
    Pair *pairs;
    Py_ssize_t cap;
    char *buf;
    Py_ssize_t buf_cap;
    int *dp;
    Py_ssize_t dp_cap;
} Ctx;

static int grow_dp(Ctx *c, Py_ssize_t need) {
    if (need <= c->dp_cap) return 0;
    int *p = realloc(c->dp, sizeof(int) * need);
    if (!p) return -1;
    c->dp = p;
    c->dp_cap = need;
    return 0;
}

/* optimal string alignment distance (a transposition of adjacent letters is one edit), as
 * rapidfuzz.distance.OSA */
static Py_ssize_t osa(Ctx *c, const char *a, Py_ssize_t la, const char *b, Py_ssize_t lb) {
    Py_ssize_t w = lb + 1;
    if (grow_dp(c, (la + 1) * w) < 0) return -1;
    int *d = c->dp;
    for (Py_ssize_t j = 0; j <= lb; j++) d[j] = (int)j;
    for (Py_ssize_t i = 1; i <= la; i++) {
        d[i * w] = (int)i;
        for (Py_ssize_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[(i - 1) * w + j] + 1;
            int ins = d[i * w + j - 1] + 1;
            int sub = d[(i - 1) * w + j - 1] + cost;
            if (ins < best) best = ins;
            if (sub < best) best = sub;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                int tr = d[(i - 2) * w + j - 2] + 1;
                if (tr < best) best = tr;
            }
            d[i * w + j] = best;
        }
    }
    return d[la * w + lb];
}

/* rapidfuzz's normalized similarity: 1 - distance / the longer length */
static double osa_sim(Ctx *c, const char *a, Py_ssize_t la, const char *b, Py_ssize_t lb) {
    Py_ssize_t longer = la > lb ? la : lb;
    if (!longer) return 1.0;
    Py_ssize_t dist = osa(c, a, la, b, lb);
    if (dist < 0) return -1.0;
    return 1.0 - (double)dist / (double)longer;
}

static int same_skeleton(Ctx *c, const char *a, Py_ssize_t la, const char *b, Py_ssize_t lb) {
    PyObject *sa = PyUnicode_FromStringAndSize(a, la);
    PyObject *sb = sa ? PyUnicode_FromStringAndSize(b, lb) : NULL;
    PyObject *ka = sb ? PyObject_CallOneArg(c->skeleton, sa) : NULL;
    PyObject *kb = ka ? PyObject_CallOneArg(c->skeleton, sb) : NULL;
    int out = kb ? PyObject_RichCompareBool(ka, kb, Py_EQ) : -1;
    Py_XDECREF(sa);
    Py_XDECREF(sb);
    Py_XDECREF(ka);
    Py_XDECREF(kb);
    if (out < 0) c->failed = 1;
    return out > 0;
}

static int starts_with(const char *a, Py_ssize_t la, const char *b, Py_ssize_t lb) {
    return la >= lb && memcmp(a, b, lb) == 0;
}

/* matcher.token_sim */
static double token_sim(Ctx *c, const char *a, Py_ssize_t la, const char *b, Py_ssize_t lb) {
    if (la == lb && memcmp(a, b, la) == 0) return 1.0;
    double full = osa_sim(c, a, la, b, lb);
    if (full < -0.5) {
        c->failed = 1;
        return 0.0;
    }
    double sim = full >= MIN_PAIR ? full : 0.0;
    Py_ssize_t longer = la > lb ? la : lb, fifth = longer / 5;
    if (sim < SKELETON_SIM && la > 2 && lb > 2 && (la > lb ? la - lb : lb - la) <= (fifth > 1 ? fifth : 1) &&
        full >= SKELETON_MIN_EDIT && same_skeleton(c, a, la, b, lb))
        sim = SKELETON_SIM;
    if (c->prefix && sim < PREFIX_SIM && (la < lb ? la : lb) >= 3 &&
        (starts_with(a, la, b, lb) || starts_with(b, lb, a, la)))
        sim = PREFIX_SIM;
    return sim >= MIN_PAIR ? sim : 0.0;
}

static int add_pair(Ctx *c, Py_ssize_t *n, double sim, uint64_t q, uint64_t e, Py_ssize_t size) {
    if (*n == c->cap) {
        Py_ssize_t cap = c->cap ? c->cap * 2 : 64;
        Pair *p = realloc(c->pairs, sizeof(Pair) * cap);
        if (!p) return -1;
        c->pairs = p;
        c->cap = cap;
    }
    c->pairs[(*n)++] = (Pair){sim, q, e, size};
    return 0;
}

/* Python's sort of (sim, qbits, ebits, size) tuples, reversed */
static int pair_order(const void *x, const void *y) {
    const Pair *a = x, *b = y;
    if (a->sim != b->sim) return a->sim < b->sim ? 1 : -1;
    if (a->qbits != b->qbits) return a->qbits < b->qbits ? 1 : -1;
    if (a->ebits != b->ebits) return a->ebits < b->ebits ? 1 : -1;
    if (a->size != b->size) return a->size < b->size ? 1 : -1;
    return 0;
}

static void greedy(Ctx *c, Py_ssize_t n, uint64_t *used_q, uint64_t *used_e, double *weight) {
    qsort(c->pairs, n, sizeof(Pair), pair_order);
    for (Py_ssize_t k = 0; k < n; k++) {
        Pair *p = &c->pairs[k];
        if ((*used_q & p->qbits) || (*used_e & p->ebits)) continue;
        *used_q |= p->qbits;
        *used_e |= p->ebits;
        *weight += p->sim * (double)p->size;
    }
}

static char *joined(Ctx *c, const Token *x, const Token *y) {
    Py_ssize_t need = x->len + y->len;
    if (need > c->buf_cap) {
        char *p = realloc(c->buf, need + 1);
        if (!p) return NULL;
        c->buf = p;
        c->buf_cap = need;
    }
    memcpy(c->buf, x->text, x->len);
    memcpy(c->buf + x->len, y->text, y->len);
    return c->buf;
}

/* matcher._merge_pass: adjacent unpaired tokens of one side as one word against the
 * other side's unpaired tokens */
static int merge_pass(Ctx *c, const Token *q, Py_ssize_t nq, const Token *e, Py_ssize_t ne,
                      uint64_t *used_q, uint64_t *used_e, double *weight) {
    Py_ssize_t n = 0;
    for (int side = 0; side < 2; side++) {
        const Token *merged = side ? e : q, *other = side ? q : e;
        Py_ssize_t nm = side ? ne : nq, no = side ? nq : ne;
        uint64_t m_used = side ? *used_e : *used_q, o_used = side ? *used_q : *used_e;
        for (Py_ssize_t i = 0; i + 1 < nm; i++) {
            uint64_t bits = (uint64_t)3 << i;
            if (m_used & bits) continue;
            Py_ssize_t lt = merged[i].len + merged[i + 1].len;
            for (Py_ssize_t j = 0; j < no; j++) {
                Py_ssize_t lo = other[j].len;
                if ((o_used & ((uint64_t)1 << j)) || (lt > lo ? lt - lo : lo - lt) > lo / 3 + 1)
                    continue;
                char *text = joined(c, &merged[i], &merged[i + 1]);
                if (!text) return -1;
                double sim = token_sim(c, text, lt, other[j].text, lo);
                if (c->failed) return -1;
                if (sim) {
                    uint64_t qb = side ? (uint64_t)1 << j : bits, eb = side ? bits : (uint64_t)1 << j;
                    if (add_pair(c, &n, sim, qb, eb, lt + lo) < 0) return -1;
                }
            }
        }
    }
    if (n) greedy(c, n, used_q, used_e, weight);
    return 0;
}

static int is_patronymic(Ctx *c, const Token *t) {
    PyObject *s = PyUnicode_FromStringAndSize(t->text, t->len);
    PyObject *r = s ? PyObject_CallOneArg(c->patronymic, s) : NULL;
    int out = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(s);
    Py_XDECREF(r);
    if (out < 0) c->failed = 1;
    return out > 0;
}

/* matcher.name_score: (score, paired query tokens); -1 on failure */
static int name_score(Ctx *c, const Token *q, Py_ssize_t nq, const Token *e, Py_ssize_t ne,
                      double *score, int *paired) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < nq; i++)
        for (Py_ssize_t j = 0; j < ne; j++) {
            double sim = token_sim(c, q[i].text, q[i].len, e[j].text, e[j].len);
            if (c->failed) return -1;
            if (sim && add_pair(c, &n, sim, (uint64_t)1 << i, (uint64_t)1 << j, q[i].len + e[j].len) < 0)
                return -1;
        }
    uint64_t used_q = 0, used_e = 0;
    double weight = 0.0;
    greedy(c, n, &used_q, &used_e, &weight);
    uint64_t full_q = ((uint64_t)1 << nq) - 1, full_e = ((uint64_t)1 << ne) - 1;
    if (used_q != full_q && used_e != full_e && nq + ne > 2)
        if (merge_pass(c, q, nq, e, ne, &used_q, &used_e, &weight) < 0) return -1;
    double total = 0.0;
    for (Py_ssize_t i = 0; i < nq; i++) total += (double)q[i].len;
    int query_whole = used_q == full_q;
    for (Py_ssize_t j = 0; j < ne; j++) {
        if (used_e & ((uint64_t)1 << j))
            total += (double)e[j].len;
        else if (query_whole && is_patronymic(c, &e[j]))
            total += (double)e[j].len * UNPAIRED_PATRONYMIC;
        else
            total += (double)e[j].len;
        if (c->failed) return -1;
    }
    double s = weight / total;
    if (used_q != full_q && used_e != full_e) s *= SUBSTITUTION_FACTOR;
    *score = s;
    *paired = __builtin_popcountll(used_q);
    return 0;
}

/* one entry's encoded names: matcher.best_name; Py_None when not ASCII or too long */
static PyObject *best_name(Ctx *c, const Token *q, Py_ssize_t nq, PyObject *encoded) {
    if (!PyUnicode_Check(encoded) || !PyUnicode_IS_ASCII(encoded)) Py_RETURN_NONE;
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(encoded, &len);
    if (!text) return NULL;
    double best = 0.0;
    int best_paired = 0;
    Py_ssize_t best_tokens = 0, best_start = 0, best_end = 0;
    Token e[MAX_TOKENS];
    Py_ssize_t start = 0;
    while (start <= len) {
        Py_ssize_t end = start;
        while (end < len && text[end] != '\t') end++;
        /* the line's tokens (split on single spaces, as str.split(" ")) */
        Py_ssize_t ne = 0, t = start;
        for (Py_ssize_t k = start; k <= end; k++) {
            if (k == end || text[k] == ' ') {
                if (ne == MAX_TOKENS) Py_RETURN_NONE;
                e[ne++] = (Token){text + t, k - t};
                t = k + 1;
            }
        }
        double score = 0.0;
        int paired = 0;
        if (nq && name_score(c, q, nq, e, ne, &score, &paired) < 0) {
            if (!PyErr_Occurred()) PyErr_NoMemory();
            return NULL;
        }
        if (score > best) {
            best = score;
            best_paired = paired;
            best_tokens = ne;
            best_start = start;
            best_end = end;
        }
        start = end + 1;
    }
    PyObject *line = PyUnicode_Substring(encoded, best_start, best_end);
    if (!line) return NULL;
    return Py_BuildValue("(dinN)", best, best_paired, best_tokens, line);
}

static PyObject *best_names(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *query, *names, *skeleton, *patronymic;
    int prefix;
    if (!PyArg_ParseTuple(args, "O!O!pOO", &PyTuple_Type, &query, &PyList_Type, &names, &prefix,
                          &skeleton, &patronymic))
        return NULL;
    Py_ssize_t nq = PyTuple_GET_SIZE(query);
    if (nq > MAX_TOKENS) Py_RETURN_NONE;
    Token q[MAX_TOKENS];
    for (Py_ssize_t i = 0; i < nq; i++) {
        PyObject *tok = PyTuple_GET_ITEM(query, i);
        if (!PyUnicode_Check(tok) || !PyUnicode_IS_ASCII(tok)) Py_RETURN_NONE;
        q[i].text = PyUnicode_AsUTF8AndSize(tok, &q[i].len);
        if (!q[i].text) return NULL;
    }
    Ctx c = {skeleton, patronymic, prefix, 0, NULL, 0, NULL, 0, NULL, 0};
    Py_ssize_t count = PyList_GET_SIZE(names);
    PyObject *out = PyList_New(count);
    for (Py_ssize_t k = 0; out && k < count; k++) {
        PyObject *best = best_name(&c, q, nq, PyList_GET_ITEM(names, k));
        if (!best || best == Py_None) {
            Py_XDECREF(best);
            Py_CLEAR(out);
            if (best) out = Py_NewRef(Py_None);
            break;
        }
        PyList_SET_ITEM(out, k, best);
    }
    free(c.pairs);
    free(c.buf);
    free(c.dp);
    return out;
}

static PyMethodDef methods[] = {
    {"best_names", best_names, METH_VARARGS, "matcher.best_name of each entry's names"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_align", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__align(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObject(m, "MIN_PAIR", PyFloat_FromDouble(MIN_PAIR)) < 0 ||
        PyModule_AddObject(m, "SKELETON_SIM", PyFloat_FromDouble(SKELETON_SIM)) < 0 ||
        PyModule_AddObject(m, "SKELETON_MIN_EDIT", PyFloat_FromDouble(SKELETON_MIN_EDIT)) < 0 ||
        PyModule_AddObject(m, "PREFIX_SIM", PyFloat_FromDouble(PREFIX_SIM)) < 0 ||
        PyModule_AddObject(m, "UNPAIRED_PATRONYMIC", PyFloat_FromDouble(UNPAIRED_PATRONYMIC)) < 0 ||
        PyModule_AddObject(m, "SUBSTITUTION_FACTOR", PyFloat_FromDouble(SUBSTITUTION_FACTOR)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
