/*
 * The screening index's candidate search (app/screening/index.py: Segment.candidates_py) and
 * the token skeletons (app/screening/normalize.py: skeleton_py), compiled. In a declaration's
 * assessment a new party's dozen numpy calls over the posting lists and the skeletons of its
 * words with letters swapped cost more than its scoring; issue 20 allows screening 1 ms p99.
 * The Python functions are the reference: this file does the same steps in the same order
 * (tests/screening/test_blocking.py compares the two), and the index and normalize.py fall
 * back to Python where this module is not built or a token is not plain [a-z0-9].
 *
 * skeleton(token: str) -> str | None
 * transposed(token: str) -> tuple[str, ...] | None
 * query_keys(key_ids, offsets, tokens, typo_probe) -> (n_keys, name_groups, exact_ids) | None
 *   a query's keys in one segment (index.Segment._name_groups; the ids of its words as
 *   written; the number of its name keys); None where a token is not plain
 * candidates(postings, offsets, schemas, name_groups, n_keys, ident_ids, exact_ids, year_id,
 *            schema_ok, max_candidates, common_key, ident_weight) -> list[int]
 *   postings (int32), offsets (int64), schemas (uint8): the segment's arrays; name_groups:
 *   per name key of the query,
 *   the key ids whose posting lists make its list (its own skeleton's, and the skeletons of
 *   the word with letters swapped); the other ids are posting-list ids, year_id -1 for none;
 *   schema_ok: 8 bytes, 1 where an entry schema code is compatible.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN 256

/* ---- skeletons (normalize.skeleton_py) ---- */

static const char *DIGRAPHS[][2] = {
    {"shch", "s"}, {"sch", "s"}, {"tch", "c"}, {"dzh", "j"}, {"kh", "k"}, {"gh", "k"},
    {"ph", "f"},   {"th", "t"},  {"dh", "d"},  {"zh", "j"},  {"dj", "j"}, {"sh", "s"},
    {"ch", "c"},   {"ts", "c"},  {"tz", "c"},  {"ck", "k"},
};

static int plain(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) return 0;
    return n > 0 && n <= MAX_TOKEN;
}

/* the skeleton of a plain token into out (room for 2 * n); its length */
static Py_ssize_t skeleton_of(const char *token, Py_ssize_t n, char *out) {
    int digits = 1;
    for (Py_ssize_t i = 0; i < n; i++) digits &= token[i] >= '0' && token[i] <= '9';
    if (digits) {
        memcpy(out, token, n);
        return n;
    }
    char a[MAX_TOKEN], b[MAX_TOKEN];
    memcpy(a, token, n);
    Py_ssize_t len = n;
    if (n >= 2 && a[0] == 'j' && (a[1] == 'a' || a[1] == 'e' || a[1] == 'u')) a[0] = 'y';
    /* str.replace of each digraph in turn: left to right, not overlapping */
    char *cur = a, *next = b;
    for (size_t d = 0; d < sizeof DIGRAPHS / sizeof DIGRAPHS[0]; d++) {
        const char *pair = DIGRAPHS[d][0];
        Py_ssize_t pl = (Py_ssize_t)strlen(pair), m = 0;
        int found = 0;
        for (Py_ssize_t i = 0; i < len;) {
            if (i + pl <= len && memcmp(cur + i, pair, pl) == 0) {
                next[m++] = DIGRAPHS[d][1][0];
                i += pl;
                found = 1;
            } else {
                next[m++] = cur[i++];
            }
        }
        if (found) {
            char *t = cur;
            cur = next;
            next = t;
            len = m;
        }
    }
    /* letter classes, vowels dropped (normalize._LETTERS), then repeats as one */
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        char ch = cur[i], c2 = 0;
        switch (ch) {
        case 'a': case 'e': case 'i': case 'o': case 'u': case 'y': continue;
        case 'q': case 'g': case 'c': ch = 'k'; break;
        case 'w': ch = 'v'; break;
        case 'z': ch = 's'; break;
        case 'x': ch = 'k'; c2 = 's'; break;
        default: break;
        }
        if (!m || out[m - 1] != ch) out[m++] = ch;
        if (c2 && out[m - 1] != c2) out[m++] = c2;
    }
    if (!m) {
        memcpy(out, token, n);
        return n;
    }
    return m;
}

/* the text of a plain token; NULL with *n -1 when the argument is none (the caller returns
 * None: Python handles it), NULL with *n 0 on an error */
static const char *plain_text(PyObject *arg, Py_ssize_t *n) {
    *n = -1;
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) return NULL;
    const char *s = PyUnicode_AsUTF8AndSize(arg, n);
    if (!s) {
        *n = 0;
        return NULL;
    }
    if (!plain(s, *n)) {
        *n = -1;
        return NULL;
    }
    return s;
}

static PyObject *skeleton(PyObject *self, PyObject *arg) {
    (void)self;
    Py_ssize_t n;
    const char *s = plain_text(arg, &n);
    if (!s) {
        if (n < 0) Py_RETURN_NONE;
        return NULL;
    }
    char out[2 * MAX_TOKEN];
    return PyUnicode_FromStringAndSize(out, skeleton_of(s, n, out));
}

typedef struct {
    char text[2 * MAX_TOKEN];
    Py_ssize_t len;
} Key;

static int key_order(const void *x, const void *y) {
    const Key *a = x, *b = y;
    Py_ssize_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* normalize.transposed_skeletons of a plain token into keys (room for n - 1): the distinct
 * skeletons of the token with two adjacent (different) letters swapped, other than its own,
 * sorted; their number */
static Py_ssize_t transposed_of(const char *s, Py_ssize_t n, Key *keys) {
    Key own;
    own.len = skeleton_of(s, n, own.text);
    char swapped[MAX_TOKEN];
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        if (s[i] == s[i + 1]) continue;
        memcpy(swapped, s, n);
        swapped[i] = s[i + 1];
        swapped[i + 1] = s[i];
        Key *k = &keys[count];
        k->len = skeleton_of(swapped, n, k->text);
        if (key_order(k, &own) != 0) count++;
    }
    qsort(keys, count, sizeof(Key), key_order);
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        if (!distinct || key_order(&keys[i], &keys[distinct - 1]) != 0) keys[distinct++] = keys[i];
    return distinct;
}

static PyObject *transposed(PyObject *self, PyObject *arg) {
    (void)self;
    Py_ssize_t n;
    const char *s = plain_text(arg, &n);
    if (!s) {
        if (n < 0) Py_RETURN_NONE;
        return NULL;
    }
    Key *keys = malloc(sizeof(Key) * (n > 1 ? n - 1 : 1));
    if (!keys) return PyErr_NoMemory();
    Py_ssize_t distinct = transposed_of(s, n, keys);
    PyObject *out = PyTuple_New(distinct);
    for (Py_ssize_t i = 0; out && i < distinct; i++) {
        PyObject *t = PyUnicode_FromStringAndSize(keys[i].text, keys[i].len);
        if (!t) Py_CLEAR(out);
        else PyTuple_SET_ITEM(out, i, t);
    }
    free(keys);
    return out;
}

/* ---- a query's keys (index.Segment._name_groups) ---- */

/* the id of a key in the segment's dict (key_ids), -1 where no entry has it, -2 on an error */
static long key_id(PyObject *key_ids, const char *text, Py_ssize_t len) {
    PyObject *key = PyUnicode_FromStringAndSize(text, len);
    if (!key) return -2;
    PyObject *v = PyDict_GetItemWithError(key_ids, key); /* borrowed */
    Py_DECREF(key);
    if (!v) return PyErr_Occurred() ? -2 : -1;
    long id = PyLong_AsLong(v);
    return id == -1 && PyErr_Occurred() ? -2 : id;
}

static int append_id(PyObject *list, long id) {
    PyObject *v = PyLong_FromLong(id);
    if (!v) return -1;
    int rc = PyList_Append(list, v);
    Py_DECREF(v);
    return rc;
}

/* query_keys(key_ids, offsets, tokens, typo_probe) -> (n_keys, name_groups, exact_ids) | None
 * of a query's tokens in one segment, as index.Segment._name_groups, len(prepared.keys) and
 * the ids of prepared.exact_keys give them: a party's words looked up here rather than in a
 * Python loop of dict look-ups (with a numpy scalar read per word); None where a token is not
 * plain (Python does those). */
static PyObject *query_keys(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *key_ids, *tokens;
    Py_buffer bo;
    Py_ssize_t typo_probe;
    if (!PyArg_ParseTuple(args, "O!y*O!n", &PyDict_Type, &key_ids, &bo, &PyTuple_Type, &tokens,
                          &typo_probe))
        return NULL;
    const int64_t *offsets = bo.buf;
    Py_ssize_t n_lists = bo.len / (Py_ssize_t)sizeof(int64_t) - 1;
    Py_ssize_t nt = PyTuple_GET_SIZE(tokens), n_keys = 0;
    PyObject *result = NULL, *groups = PyList_New(0), *exact = PyList_New(0), *ids = NULL;
    Key *seen = malloc(sizeof(Key) * (nt ? nt : 1)), *swapped = NULL;
    const char **texts = malloc(sizeof(char *) * (nt ? nt : 1));
    Py_ssize_t *lens = malloc(sizeof(Py_ssize_t) * (nt ? nt : 1)), longest = 1;
    if (!groups || !exact || !seen || !texts || !lens) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < nt; t++) {
        const char *s = plain_text(PyTuple_GET_ITEM(tokens, t), &lens[t]);
        if (!s) {
            if (lens[t] < 0) result = Py_NewRef(Py_None); /* not plain: the Python path */
            goto done;
        }
        texts[t] = s;
        if (lens[t] > longest) longest = lens[t];
    }
    swapped = malloc(sizeof(Key) * longest); /* a word's typing slips: fewer than its letters */
    if (!swapped) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < nt; t++) {
        const char *s = texts[t];
        Py_ssize_t n = lens[t];
        if (n <= 1) continue; /* initials are no key */
        int repeated = 0;
        for (Py_ssize_t u = 0; u < t && !repeated; u++)
            repeated = lens[u] == n && memcmp(texts[u], s, n) == 0;
        if (repeated) continue;
        /* the word as written ("=word") */
        char written[MAX_TOKEN + 1];
        written[0] = '=';
        memcpy(written + 1, s, n);
        long id = key_id(key_ids, written, n + 1);
        if (id == -2 || (id >= 0 && append_id(exact, id) < 0)) goto done;
        /* its skeleton, once per query */
        Key *key = &seen[n_keys];
        key->len = skeleton_of(s, n, key->text);
        int known = 0;
        for (Py_ssize_t k = 0; k < n_keys && !known; k++) known = key_order(&seen[k], key) == 0;
        if (known) continue;
        n_keys++;
        long own = key_id(key_ids, key->text, key->len);
        if (own == -2) goto done;
        if (own >= n_lists) {
            PyErr_SetString(PyExc_IndexError, "posting list id out of range");
            goto done;
        }
        ids = PyList_New(0);
        if (!ids || (own >= 0 && append_id(ids, own) < 0)) goto done;
        /* a rare word or one no entry has: its typing slips too (Segment._name_groups) */
        if (n >= 4 && (own < 0 || offsets[own + 1] - offsets[own] <= typo_probe)) {
            Py_ssize_t count = transposed_of(s, n, swapped);
            for (Py_ssize_t k = 0; k < count; k++) {
                long other = key_id(key_ids, swapped[k].text, swapped[k].len);
                if (other == -2 || (other >= 0 && append_id(ids, other) < 0)) goto done;
            }
        }
        if (PyList_GET_SIZE(ids) && PyList_Append(groups, ids) < 0) goto done;
        Py_CLEAR(ids);
    }
    result = Py_BuildValue("(nOO)", n_keys, groups, exact);
done:
    Py_XDECREF(ids);
    Py_XDECREF(groups);
    Py_XDECREF(exact);
    free(seen);
    free(swapped);
    free(texts);
    free(lens);
    PyBuffer_Release(&bo);
    return result;
}

/* ---- candidates (index.Segment.candidates_py) ---- */

typedef struct {
    const int32_t *p;
    Py_ssize_t n;
    int32_t *owned; /* freed with the search */
} List;

typedef struct {
    const int32_t *postings;
    const int64_t *offsets;
    Py_ssize_t n_keys; /* posting lists in the segment */
} Index;

static int posting(const Index *ix, long kid, List *out) {
    if (kid < 0 || kid >= ix->n_keys) {
        PyErr_SetString(PyExc_IndexError, "posting list id out of range");
        return -1;
    }
    out->p = ix->postings + ix->offsets[kid];
    out->n = (Py_ssize_t)(ix->offsets[kid + 1] - ix->offsets[kid]);
    out->owned = NULL;
    return 0;
}

/* the sorted union of sorted, distinct lists (index._union) */
static int union_of(const List *ls, Py_ssize_t k, List *out) {
    out->owned = NULL;
    if (k == 1) {
        *out = ls[0];
        out->owned = NULL;
        return 0;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < k; i++) total += ls[i].n;
    int32_t *a = malloc(sizeof(int32_t) * (total ? total : 1));
    int32_t *b = malloc(sizeof(int32_t) * (total ? total : 1));
    if (!a || !b) {
        free(a);
        free(b);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t len = 0;
    for (Py_ssize_t i = 0; i < k; i++) {
        /* merge ls[i] into a[0:len] -> b, then swap */
        const int32_t *x = a, *y = ls[i].p;
        Py_ssize_t nx = len, ny = ls[i].n, ix = 0, iy = 0, m = 0;
        while (ix < nx || iy < ny) {
            int32_t v;
            if (iy >= ny || (ix < nx && x[ix] < y[iy])) v = x[ix++];
            else if (ix >= nx || y[iy] < x[ix]) v = y[iy++];
            else {
                v = x[ix++];
                iy++;
            }
            if (!m || b[m - 1] != v) b[m++] = v;
        }
        int32_t *t = a;
        a = b;
        b = t;
        len = m;
    }
    free(b);
    out->p = a;
    out->n = len;
    out->owned = a;
    return 0;
}

/* the first index from lo whose value is >= v: galloping (1, 2, 4 ... ahead, then a binary
 * search), so walking one sorted list through another costs the shorter's length times the
 * log of the gaps, and reads the longer in order (a list of 45,000 namesakes against one
 * of 40,000 by plain binary search was ~0.6 ms, by marks in an array of a million ~1 ms) */
static Py_ssize_t gallop(const int32_t *p, Py_ssize_t lo, Py_ssize_t n, int32_t v) {
    Py_ssize_t step = 1, hi = lo;
    while (hi < n && p[hi] < v) {
        lo = hi + 1;
        hi += step;
        step <<= 1;
    }
    if (hi > n) hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (p[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* add `by` to hits[i] for each found[i] on the list (index._member) */
static void member_add(const List *list, const int32_t *found, Py_ssize_t nf, int32_t *hits,
                       int32_t by) {
    Py_ssize_t at = 0;
    if (list->n < nf) {
        for (Py_ssize_t i = 0; i < list->n && at < nf; i++) {
            at = gallop(found, at, nf, list->p[i]);
            if (at < nf && found[at] == list->p[i]) hits[at] += by;
        }
    } else {
        for (Py_ssize_t i = 0; i < nf && at < list->n; i++) {
            at = gallop(list->p, at, list->n, found[i]);
            if (at < list->n && list->p[at] == found[i]) hits[i] += by;
        }
    }
}

/* the entries on both lists (index.Segment._both); n 0 when none */
static int both_of(const List *a, const List *b, List *out) {
    const List *shorter = a->n <= b->n ? a : b, *other = a->n <= b->n ? b : a;
    int32_t *buf = malloc(sizeof(int32_t) * (shorter->n ? shorter->n : 1));
    if (!buf) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t m = 0, at = 0;
    if (shorter->n * 8 >= other->n) {
        /* of about the same length: one merge, without a branch to mispredict per step */
        const int32_t *x = shorter->p, *y = other->p;
        Py_ssize_t i = 0, j = 0, nx = shorter->n, ny = other->n;
        while (i < nx && j < ny) {
            int32_t u = x[i], v = y[j];
            buf[m] = u;
            m += u == v;
            i += u <= v;
            j += v <= u;
        }
    } else {
        for (Py_ssize_t i = 0; i < shorter->n && at < other->n; i++) {
            at = gallop(other->p, at, other->n, shorter->p[i]);
            if (at < other->n && other->p[at] == shorter->p[i]) buf[m++] = shorter->p[i];
        }
    }
    out->p = buf;
    out->n = m;
    out->owned = buf;
    return 0;
}

static int list_len_order(const void *x, const void *y) {
    const List *a = x, *b = y;
    return (a->n > b->n) - (a->n < b->n);
}

static int read_ids(PyObject *seq, const Index *ix, List *out, Py_ssize_t *n) {
    *n = PyList_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < *n; i++) {
        long kid = PyLong_AsLong(PyList_GET_ITEM(seq, i));
        if (kid == -1 && PyErr_Occurred()) return -1;
        if (posting(ix, kid, &out[i]) < 0) return -1;
    }
    return 0;
}

static void free_lists(List *ls, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) free(ls[i].owned);
}

static PyObject *candidates(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer bp, bo, bs, bok;
    PyObject *groups, *idents, *exacts;
    Py_ssize_t n_keys, max_cand, common_key;
    long year_id, ident_weight;
    if (!PyArg_ParseTuple(args, "y*y*y*O!nO!O!ly*nnl", &bp, &bo, &bs, &PyList_Type, &groups,
                          &n_keys, &PyList_Type, &idents, &PyList_Type, &exacts, &year_id, &bok,
                          &max_cand, &common_key, &ident_weight))
        return NULL;
    PyObject *result = NULL;
    Index ix = {bp.buf, bo.buf, bo.len / (Py_ssize_t)sizeof(int64_t) - 1};
    const uint8_t *schemas = bs.buf, *schema_ok = bok.buf;
    Py_ssize_t n_entries = bs.len, ng = PyList_GET_SIZE(groups);
    Py_ssize_t ni = PyList_GET_SIZE(idents), ne = PyList_GET_SIZE(exacts);
    /* every array sized up front: a failure frees what is owned and returns */
    List *names = calloc(ng + 1, sizeof(List)), *ident = calloc(ni + 1, sizeof(List));
    List *exact = calloc(ne + 1, sizeof(List)), *parts = NULL, both = {NULL, 0, NULL};
    List found = {NULL, 0, NULL};
    int32_t *counts = NULL, *flag = NULL, *order = NULL, *taken_pos = NULL;
    Py_ssize_t *hist = NULL;
    Py_ssize_t n_names = 0, n_ident = 0, n_exact = 0;
    if (!names || !ident || !exact || bok.len < 8) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad candidate search arguments");
        goto done;
    }
    /* the name lists: each group's posting lists as one */
    for (Py_ssize_t g = 0; g < ng; g++) {
        PyObject *ids = PyList_GET_ITEM(groups, g);
        if (!PyList_Check(ids) || !PyList_GET_SIZE(ids)) {
            PyErr_SetString(PyExc_ValueError, "a name group is a non-empty list of ids");
            goto done;
        }
        Py_ssize_t k;
        List *tmp = calloc(PyList_GET_SIZE(ids), sizeof(List));
        if (!tmp || read_ids(ids, &ix, tmp, &k) < 0 || union_of(tmp, k, &names[n_names]) < 0) {
            free(tmp);
            if (!PyErr_Occurred()) PyErr_NoMemory();
            goto done;
        }
        free(tmp);
        n_names++;
    }
    if (read_ids(idents, &ix, ident, &n_ident) < 0 || read_ids(exacts, &ix, exact, &n_exact) < 0)
        goto done;
    if (!n_names && !n_ident) {
        result = PyList_New(0);
        goto done;
    }
    /* by length, stable (list.sort(key=len)): an insertion sort of a handful */
    for (Py_ssize_t i = 1; i < n_names; i++) {
        List v = names[i];
        Py_ssize_t j = i;
        while (j > 0 && list_len_order(&names[j - 1], &v) > 0) {
            names[j] = names[j - 1];
            j--;
        }
        names[j] = v;
    }
    Py_ssize_t need = n_keys - 1 > 1 ? n_keys - 1 : 1;
    Py_ssize_t n_first = n_keys - need + 1 < n_names ? n_keys - need + 1 : n_names;
    parts = calloc(n_names + ni + ne + 1, sizeof(List));
    if (!parts) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t np_ = 0, n_within = 0; /* within: the first n_within name lists */
    for (Py_ssize_t i = 0; i < n_first; i++)
        if (names[i].n <= common_key) parts[np_++] = names[i];
    if (np_ || !n_names) {
        for (Py_ssize_t i = 0; i < n_ident; i++) parts[np_++] = ident[i];
    } else {
        for (Py_ssize_t i = 0; i < n_exact; i++)
            if (exact[i].n <= common_key) parts[np_++] = exact[i];
        int small = np_ > 0;
        /* a word no entry has (n_names < n_keys): not from the common words' namesakes */
        if (!small && n_names > 1 && n_names >= n_keys) {
            if (both_of(&names[0], &names[1], &both) < 0) goto done;
            if (both.n) parts[np_++] = both;
        }
        if (np_) {
            n_within = small || n_ident ? 0 : 2;
        } else if (n_names < n_keys) {
            /* one common word and a word no entry has: the identifiers only */
        } else {
            parts[np_++] = names[0];
            n_within = n_ident ? 0 : 1;
        }
        for (Py_ssize_t i = 0; i < n_ident; i++) parts[np_++] = ident[i];
    }
    if (!np_) {
        result = PyList_New(0);
        goto done;
    }
    if (union_of(parts, np_, &found) < 0) goto done;
    Py_ssize_t nf = found.n;
    counts = malloc(sizeof(int32_t) * (nf ? nf : 1));
    flag = n_ident ? calloc(nf ? nf : 1, sizeof(int32_t)) : NULL;
    if (!counts || (n_ident && !flag)) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nf; i++) counts[i] = (int32_t)n_within;
    for (Py_ssize_t i = n_within; i < n_names; i++) member_add(&names[i], found.p, nf, counts, 1);
    for (Py_ssize_t i = 0; i < n_ident; i++) member_add(&ident[i], found.p, nf, flag, 1);
    /* keep: enough name keys, or an identifier (then ranked above any name); the rank:
     * skeletons shared, then words shared as written, then the birth year */
    Py_ssize_t kept = 0;
    int32_t *fpos = malloc(sizeof(int32_t) * (nf ? nf : 1));
    if (!fpos) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nf; i++) {
        int f = flag && flag[i];
        if (counts[i] >= need || f) {
            fpos[kept] = found.p[i];
            counts[kept++] = (counts[i] + (f ? (int32_t)ident_weight : 0)) * 16;
        }
    }
    free(found.owned);
    found.owned = fpos;
    for (Py_ssize_t i = 0; i < n_exact; i++) member_add(&exact[i], fpos, kept, counts, 2);
    if (year_id >= 0) {
        List year;
        if (posting(&ix, year_id, &year) < 0) goto done;
        member_add(&year, fpos, kept, counts, 1);
    }
    /* The best max_cand of a compatible schema, ties in position order: the same entries as
     * filtering on the schema first and ranking what is left (Segment.candidates_py), but
     * the schema is read of the entries in contention only (of 45,000 namesakes of "Li",
     * each one's is a cache miss). From the top rank down, a band of ranks holding enough
     * entries for the places left is sorted (counting sort, stable) and walked; a lower band
     * only when too many of the band are of another schema. */
    int32_t top = 0;
    for (Py_ssize_t i = 0; i < kept; i++)
        if (counts[i] > top) top = counts[i];
    hist = calloc((size_t)top + 1, sizeof(Py_ssize_t));
    order = malloc(sizeof(int32_t) * (kept ? kept : 1));
    taken_pos = malloc(sizeof(int32_t) * (max_cand > 0 ? max_cand : 1));
    if (!hist || !order || !taken_pos) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < kept; i++) hist[counts[i]]++;
    Py_ssize_t taken = 0;
    int32_t upper = top + 1; /* ranks >= upper are walked */
    while (taken < max_cand && upper > 0) {
        Py_ssize_t in_band = 0;
        int32_t lower = upper;
        while (lower > 0 && in_band < max_cand - taken) in_band += hist[--lower];
        /* offsets of each rank in the band, highest first */
        Py_ssize_t width = upper - lower, *start = calloc((size_t)width + 1, sizeof(Py_ssize_t));
        if (!start) {
            PyErr_NoMemory();
            goto done;
        }
        for (int32_t r = upper - 1, k = 0; r >= lower; r--, k++) start[k + 1] = start[k] + hist[r];
        for (Py_ssize_t i = 0; i < kept; i++)
            if (counts[i] >= lower && counts[i] < upper) order[start[upper - 1 - counts[i]]++] = (int32_t)i;
        free(start);
        for (Py_ssize_t k = 0; k < in_band && taken < max_cand; k++) {
            int32_t e = fpos[order[k]];
            uint8_t code = e >= 0 && e < n_entries ? schemas[e] : 255;
            if (code < 8 && schema_ok[code]) taken_pos[taken++] = e;
        }
        upper = lower;
    }
    kept = taken;
    fpos = taken_pos;
    result = PyList_New(kept);
    for (Py_ssize_t i = 0; result && i < kept; i++) {
        PyObject *v = PyLong_FromLong(fpos[i]);
        if (!v) Py_CLEAR(result);
        else PyList_SET_ITEM(result, i, v);
    }
done:
    if (names) free_lists(names, n_names);
    free(names);
    free(ident);
    free(exact);
    free(parts);
    free(both.owned);
    free(found.owned);
    free(counts);
    free(flag);
    free(order);
    free(taken_pos);
    free(hist);
    PyBuffer_Release(&bp);
    PyBuffer_Release(&bo);
    PyBuffer_Release(&bs);
    PyBuffer_Release(&bok);
    return result;
}

static PyMethodDef methods[] = {
    {"skeleton", skeleton, METH_O, "normalize.skeleton_py of a plain token, else None"},
    {"transposed", transposed, METH_O, "normalize.transposed_skeletons of a plain token, else None"},
    {"query_keys", query_keys, METH_VARARGS, "index.Segment._name_groups and the query's key ids"},
    {"candidates", candidates, METH_VARARGS, "index.Segment.candidates_py on the segment's arrays"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blocking", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__blocking(void) { return PyModule_Create(&module); }
