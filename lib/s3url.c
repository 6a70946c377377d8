#include "s3url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool bucket_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* A prefix is a key fragment: no empty, "." or ".." segment, so that
 * PREFIX/<relative path> can never point outside PREFIX. */
static bool prefix_ok(const char *p, size_t len)
{
    size_t seg = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        size_t n = i - seg;
        if (n == 0 || (n == 1 && p[seg] == '.') || (n == 2 && p[seg] == '.' && p[seg + 1] == '.'))
            return false;
        seg = i + 1;
    }
    return true;
}

int s3url_parse(const char *url, struct s3_location *ret)
{
    if (!url || strncmp(url, "s3://", 5) != 0)
        return -EINVAL;
    const char *b = url + 5;
    size_t blen = strcspn(b, "/");
    if (blen < 3 || blen > S3_MAX_BUCKET)
        return -EINVAL;
    for (size_t i = 0; i < blen; i++)
        if (!bucket_char(b[i]))
            return -EINVAL;
    const char *p = b + blen;
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    if (plen > S3_MAX_KEY || (plen > 0 && !prefix_ok(p, plen)))
        return -EINVAL;
    memcpy(ret->bucket, b, blen);
    ret->bucket[blen] = '\0';
    memcpy(ret->prefix, p, plen);
    ret->prefix[plen] = '\0';
    return 0;
}

int s3url_key(char *out, size_t out_size, const char *prefix, const char *rel)
{
    int n = snprintf(out, out_size, "%s%s%s", prefix, *prefix ? "/" : "", rel);
    if (n < 0 || (size_t)n >= out_size || n > S3_MAX_KEY)
        return -ENAMETOOLONG;
    return 0;
}

int s3url_encode(struct buf *out, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int r = buf_reserve(out, len * 3 + 1);
    if (r < 0)
        return r;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        if (plain) {
            out->data[out->len++] = c;
        } else {
            out->data[out->len++] = '%';
            out->data[out->len++] = (uint8_t)hex[c >> 4];
            out->data[out->len++] = (uint8_t)hex[c & 15];
        }
    }
    out->data[out->len] = '\0';
    return 0;
}

int s3url_xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
                   const char **ret_val, size_t *ret_len)
{
    char open[80], close[82];
    int no = snprintf(open, sizeof open, "<%s>", tag);
    int nc = snprintf(close, sizeof close, "</%s>", tag);
    if (no < 0 || (size_t)no >= sizeof open || nc < 0 || (size_t)nc >= sizeof close)
        return 0;
    if (*pos > len)
        return 0;
    const char *start = memmem(xml + *pos, len - *pos, open, (size_t)no);
    if (!start)
        return 0;
    const char *val = start + no;
    const char *end = memmem(val, (size_t)(xml + len - val), close, (size_t)nc);
    if (!end)
        return 0;
    *ret_val = val;
    *ret_len = (size_t)(end - val);
    *pos = (size_t)(end - xml) + (size_t)nc;
    return 1;
}

int s3url_xml_text(char *out, size_t out_size, const char *val, size_t len)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = val[i];
        if (c == '&') {
            const char *e = val + i + 1;
            size_t left = len - i - 1;
            bool found = false;
            for (size_t k = 0; k < sizeof ents / sizeof ents[0] && !found; k++) {
                size_t el = strlen(ents[k].name);
                if (left >= el && memcmp(e, ents[k].name, el) == 0) {
                    c = ents[k].c;
                    i += el;
                    found = true;
                }
            }
            if (!found && left >= 3 && e[0] == '#') {
                const char *semi = memchr(e, ';', left);
                char *endp;
                if (!semi || semi - e > 10)
                    return -EINVAL;
                bool hexref = e[1] == 'x' || e[1] == 'X';
                long v = strtol(e + (hexref ? 2 : 1), &endp, hexref ? 16 : 10);
                if (endp != semi || v <= 0 || v >= 128)
                    return -EINVAL;
                c = (char)v;
                i += (size_t)(semi - e) + 1;
                found = true;
            }
            if (!found)
                return -EINVAL;
        }
        if (n + 1 >= out_size)
            return -ENAMETOOLONG;
        out[n++] = c;
    }
    if (out_size == 0)
        return -ENAMETOOLONG;
    out[n] = '\0';
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Where a credentials key goes: NULL for keys we do not use. */
static char *field_of(struct s3_credentials *c, const char *key, size_t *ret_size)
{
    static const struct {
        const char *names[2];
        size_t off, size;
    } map[] = {
#define M(a, b, f) {{a, b}, offsetof(struct s3_credentials, f), sizeof ((struct s3_credentials *)0)->f}
        M("aws_access_key_id", NULL, access_key),
        M("aws_secret_access_key", NULL, secret_key),
        M("aws_session_token", NULL, session_token),
        M("region", "aws_region", region),
        M("endpoint_url", "aws_endpoint_url", endpoint),
#undef M
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        for (int k = 0; k < 2; k++)
            if (map[i].names[k] && strcasecmp(key, map[i].names[k]) == 0) {
                *ret_size = map[i].size;
                return (char *)c + map[i].off;
            }
    return NULL;
}

int s3url_read_credentials(const char *path, struct s3_credentials *c)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[S3_MAX_CREDENTIAL + 128];
    bool in_default = true;   /* lines before any section count */
    int r = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n') && !feof(f)) {
            r = -EINVAL;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            in_default = strcmp(s, "[default]") == 0;
            continue;
        }
        if (!in_default)
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        size_t size;
        char *field = field_of(c, key, &size);
        if (!field)
            continue;
        if (strlen(val) >= size) {
            r = -EINVAL;
            break;
        }
        memcpy(field, val, strlen(val) + 1);
    }
    if (r == 0 && ferror(f))
        r = -EIO;
    fclose(f);
    return r;
}
