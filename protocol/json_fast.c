/* The fast path of the JSON decoder (json_fast.h). */
#include "json_fast.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Longest number text the fast path reads; cJSON copies at most 63 bytes
 * of a number before converting it, so longer ones go the full way. */
#define FAST_MAX_NUMBER 63u
/* Digits of an integer read exactly (< 2^53, so no rounding anywhere). */
#define FAST_MAX_INT_DIGITS 15u

struct fast {
    const char *p, *end;
};

static inline void fast_ws(struct fast *f)
{
    /* Compact JSON has no whitespace: one test in the usual case. */
    if (f->p < f->end && (unsigned char)*f->p > ' ')
        return;
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\r'))
        f->p++;
}

/* Bytes that end the fast scan of a string: the closing quote, and
 * those it leaves to the full decoder (a backslash, control bytes). */
static const unsigned char string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x00 - 0x0f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x10 - 0x1f */
    ['"'] = 1, ['\\'] = 1,
};

/* A string without escapes or control bytes: its bytes (unterminated). */
static bool fast_string(struct fast *f, const char **ret, size_t *ret_len)
{
    const char *p = f->p, *end = f->end;
    if (p >= end || *p != '"')
        return false;
    const char *s = ++p;
    while (p < end && !string_stop[(unsigned char)*p])
        p++;
    if (p >= end || *p != '"')
        return false;
    *ret = s;
    *ret_len = (size_t)(p - s);
    f->p = p + 1;
    return true;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Exact powers of ten: every one up to 1e22 is a double. */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* A number in strict JSON grammar, converted to the double cJSON would
 * give (strtod of the same text in the C locale, correctly rounded).
 * Short numbers are converted here: a mantissa below 2^53 times or
 * divided by an exact power of ten is one correctly rounded operation,
 * so the result is strtod's. *is_int: only digits (no sign, fraction or
 * exponent, no leading zero), at most FAST_MAX_INT_DIGITS of them. */
/* The extension's bare NaN, Infinity, -Infinity (json_nonfinite.h),
 * ending where a value ends, as the full decoder reads them. */
static bool fast_nonfinite(struct fast *f, double *ret)
{
    static const struct {
        const char *text;
        size_t len;
        double value;
    } tokens[] = {{"NaN", 3, NAN}, {"Infinity", 8, INFINITY}, {"-Infinity", 9, -INFINITY}};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        if ((size_t)(f->end - f->p) < tokens[i].len ||
            memcmp(f->p, tokens[i].text, tokens[i].len) != 0)
            continue;
        const char *p = f->p + tokens[i].len;
        if (p < f->end && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\r')
            return false;
        *ret = tokens[i].value;
        f->p = p;
        return true;
    }
    return false;
}

static bool fast_number(struct fast *f, double *ret, bool *is_int)
{
    const char *s = f->p, *p = s, *end = f->end;
    bool neg = false;
    if (p < end && (*p == 'N' || *p == 'I' || (*p == '-' && p + 1 < end && p[1] == 'I'))) {
        *is_int = false;
        return fast_nonfinite(f, ret);
    }
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || (unsigned)(*p - '0') > 9)
        return false;
    /* The digits go into mant as they come; with at most 19 of them in
     * all it cannot overflow, and with more the number goes to strtod. */
    uint64_t mant = 0;
    const char *int_start = p;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && (unsigned)(*p - '0') <= 9; p++)
            mant = mant * 10 + (uint64_t)(*p - '0');
    }
    size_t int_len = (size_t)(p - int_start), frac_len = 0;
    int exp10 = 0;
    bool plain = !neg;
    if (p < end && *p == '.') {
        plain = false;
        const char *frac = ++p;
        for (; p < end && (unsigned)(*p - '0') <= 9; p++)
            mant = mant * 10 + (uint64_t)(*p - '0');
        frac_len = (size_t)(p - frac);
        if (frac_len == 0)
            return false;
        exp10 = -(int)(frac_len < 10000 ? frac_len : 10000);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        plain = false;
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || (unsigned)(*p - '0') > 9)
            return false;
        int e = 0;
        for (; p < end && (unsigned)(*p - '0') <= 9; p++)
            e = e < 10000 ? e * 10 + (*p - '0') : e;
        exp10 += eneg ? -e : e;
    }
    size_t n = (size_t)(p - s);
    if (n > FAST_MAX_NUMBER)
        return false;
    /* The number must end where JSON says a value ends. */
    if (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\r')
        return false;
    *is_int = plain && int_len <= FAST_MAX_INT_DIGITS;
#if FLT_EVAL_METHOD == 0
    if (int_len + frac_len <= 19 && mant <= ((uint64_t)1 << 53) && exp10 >= -22 &&
        exp10 <= 22) {
        double d = (double)mant;
        d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
        *ret = neg ? -d : d;
        f->p = p;
        return true;
    }
#endif
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale == (locale_t)0)
        return false;
    char buf[FAST_MAX_NUMBER + 1];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *after;
    *ret = strtod_l(buf, &after, c_locale);
    if (after != buf + n || !isfinite(*ret))   /* 1e400: refused by the guard */
        return false;
    f->p = p;
    return true;
}

/* Which members the line had. */
enum {
    S_V = 1, S_OP = 2, S_ID = 4, S_LOGDIR = 8, S_STEP = 16, S_WALL = 32, S_VALUES = 64
};

static unsigned member_bit(const char *key, size_t klen)
{
    switch (klen) {
    case 1:
        return key[0] == 'v' ? S_V : 0;
    case 2:
        return memcmp(key, "op", 2) == 0 ? S_OP : memcmp(key, "id", 2) == 0 ? S_ID : 0;
    case 4:
        return memcmp(key, "step", 4) == 0 ? S_STEP : 0;
    case 6:
        return memcmp(key, "logdir", 6) == 0   ? S_LOGDIR
               : memcmp(key, "values", 6) == 0 ? S_VALUES
                                               : 0;
    case 9:
        return memcmp(key, "wall_time", 9) == 0 ? S_WALL : 0;
    default:
        return 0;
    }
}

/* The id is echoed as cJSON prints it: the same text for a plain integer
 * of up to 15 digits and for a string of printable ASCII without quotes
 * or backslashes. */
static inline bool fast_id(struct fast *f, struct request *m)
{
    const char *s;
    size_t slen;
    if (*f->p == '"') {
        if (!fast_string(f, &s, &slen) || slen + 2 > REQUEST_MAX_ID)
            return false;
        for (size_t i = 0; i < slen; i++)
            if ((unsigned char)s[i] >= 0x7f)
                return false;
        m->id[0] = '"';
        memcpy(m->id + 1, s, slen);
        m->id[slen + 1] = '"';
        m->id[slen + 2] = '\0';
    } else {
        double d;
        bool is_int;
        s = f->p;
        if (!fast_number(f, &d, &is_int) || !is_int)
            return false;
        slen = (size_t)(f->p - s);
        memcpy(m->id, s, slen);
        m->id[slen] = '\0';
    }
    m->has_id = true;
    return true;
}

/* "values": {"tag": number, ...}, each a scalar in run ".". */
static inline bool fast_values(struct fast *f, struct request *m)
{
    if (*f->p++ != '{')
        return false;
    for (;;) {
        char tag[SUMMARY_MAX_TAG + 1];
        const char *key;
        size_t klen;
        double d;
        bool is_int;
        fast_ws(f);
        if (!fast_string(f, &key, &klen) || klen == 0 || key[0] == '$' ||
            klen > SUMMARY_MAX_TAG)
            return false;
        fast_ws(f);
        if (f->p >= f->end || *f->p++ != ':')
            return false;
        fast_ws(f);
        if (!fast_number(f, &d, &is_int))
            return false;
        memcpy(tag, key, klen);
        tag[klen] = '\0';
        struct summary_value *v;
        if (request_add_value(m, ".", &v) < 0 || summary_scalar(v, tag, d, NULL) < 0)
            return false;
        fast_ws(f);
        if (f->p >= f->end)
            return false;
        if (*f->p == '}') {
            f->p++;
            return true;
        }
        if (*f->p++ != ',')
            return false;
    }
}

/* One member's value (after the colon). */
static inline bool fast_member(struct fast *f, struct request *m, unsigned bit,
                               const char **ldname, size_t *ldname_len)
{
    double d;
    bool is_int;
    const char *s;
    size_t slen;
    switch (bit) {
    case S_V:
        return fast_number(f, &d, &is_int) && d == PROTOCOL_VERSION;
    case S_OP:
        return fast_string(f, &s, &slen) && slen == 3 && memcmp(s, "log", 3) == 0;
    case S_ID:
        return fast_id(f, m);
    case S_LOGDIR:
        return fast_string(f, ldname, ldname_len);
    case S_STEP:
        if (*f->p == '"') {
            if (!fast_string(f, &s, &slen) || slen != 7 || memcmp(s, "current", 7) != 0)
                return false;
            m->step_mode = LOGDIR_STEP_CURRENT;
        } else {
            if (!fast_number(f, &d, &is_int) || !is_int)
                return false;
            m->step_mode = LOGDIR_STEP_AT;
            m->step = (int64_t)d;
        }
        return true;
    case S_WALL:
        if (!fast_number(f, &d, &is_int) || !(d >= 0 && d < REQUEST_MAX_WALL_TIME))
            return false;
        m->has_wall_time = true;
        m->wall_time = d;
        return true;
    case S_VALUES:
        return fast_values(f, m);
    default:
        return false;
    }
}

/* The logdir last, as the full decoder checks it. A plain name (one
 * component of printable ASCII, not starting with '.' or '$') is valid
 * UTF-8 and its own normal form: copied as it is. */
static bool fast_logdir(struct request *m, const char *ldname, size_t ldname_len)
{
    bool plain = ldname_len > 0 && ldname_len <= LOGDIR_MAX_COMPONENT && ldname[0] != '.' &&
                 ldname[0] != '$';
    for (size_t i = 0; plain && i < ldname_len; i++)
        plain = ldname[i] >= 0x20 && ldname[i] < 0x7f && ldname[i] != '/';
    if (plain) {
        memcpy(m->logdir, ldname, ldname_len);
        m->logdir[ldname_len] = '\0';
    } else if (!utf8_valid(ldname, ldname_len) ||
               logdir_normalize(ldname, ldname_len, m->logdir, LOGDIR_MAX_NAME + 1, NULL) < 0) {
        return false;
    }
    m->has_logdir = true;
    return true;
}

int jd_decode_fast(struct request *m, const char *line, size_t len)
{
    struct fast f = {.p = line, .end = line + len};
    unsigned seen = 0;
    const char *ldname = NULL;
    size_t ldname_len = 0;

    request_recycle(m);
    m->op = REQUEST_LOG;
    m->step_mode = LOGDIR_STEP_NEXT;
    strcpy(m->run, ".");
    fast_ws(&f);
    if (f.p >= f.end || *f.p++ != '{')
        return 1;
    for (;;) {
        const char *key;
        size_t klen;
        fast_ws(&f);
        if (!fast_string(&f, &key, &klen))
            return 1;
        fast_ws(&f);
        if (f.p >= f.end || *f.p++ != ':')
            return 1;
        fast_ws(&f);
        if (f.p >= f.end)
            return 1;
        unsigned bit = member_bit(key, klen);
        if (!bit || (seen & bit))
            return 1;
        seen |= bit;
        if (!fast_member(&f, m, bit, &ldname, &ldname_len))
            return 1;
        fast_ws(&f);
        if (f.p >= f.end)
            return 1;
        if (*f.p == '}') {
            f.p++;
            break;
        }
        if (*f.p++ != ',')
            return 1;
    }
    fast_ws(&f);
    if (f.p != f.end || !(seen & S_LOGDIR) || !(seen & S_VALUES))
        return 1;
    return fast_logdir(m, ldname, ldname_len) ? 0 : 1;
}
