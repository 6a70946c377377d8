/* The R client's embedded mode: with no daemon running, libtfevents
 * executes the client's JSON lines in this process (tfevents_exec_json:
 * the daemon's decoder, limits, step policy and refusals) and writes the
 * files itself.
 *
 * The library is loaded at run time (dlopen), and the few declarations of
 * tfevents.h used here are repeated below, so that the package builds and
 * installs on a machine without libtfevents; embedded mode then says what
 * is missing when it is asked for. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The first fields of struct tfevents_options (tfevents.h, libtfevents.so.1):
 * the library reads .size bytes and gives later fields their defaults. */
struct tfd_options {
    size_t size;
    int mode;                    /* enum tfevents_mode */
    const char *socket_path;
    const char *logdir;
    size_t batch_bytes;
    double flush_interval;
    bool any_step;
    double reconnect_timeout;
};
#define TFD_MODE_EMBEDDED 2

/* A reply line: the daemon's are short (an error sentence is cut at 1 KiB). */
#define TFD_REPLY_SIZE 65536

struct tfd_lib {
    void *dl;
    int (*open)(void **ret, const struct tfd_options *opts);
    int (*close)(void *h);
    int (*exec_json)(void *h, const char *line, size_t len, char *reply, size_t size,
                     size_t *ret_len);
    const char *(*strerror)(int err);
    const char *(*version)(void);
};

/* One library per process, loaded at the first open. */
static struct tfd_lib lib;

static const char *load(const char *path)
{
    if (lib.dl)
        return NULL;
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        return dlerror();
    lib.open = (int (*)(void **, const struct tfd_options *))dlsym(dl, "tfevents_open");
    lib.close = (int (*)(void *))dlsym(dl, "tfevents_close");
    lib.exec_json = (int (*)(void *, const char *, size_t, char *, size_t, size_t *))dlsym(
        dl, "tfevents_exec_json");
    lib.strerror = (const char *(*)(int))dlsym(dl, "tfevents_strerror");
    lib.version = (const char *(*)(void))dlsym(dl, "tfevents_version");
    if (!lib.open || !lib.close || !lib.exec_json || !lib.strerror || !lib.version) {
        dlclose(dl);
        memset(&lib, 0, sizeof lib);
        return "it lacks tfevents_exec_json (libtfevents 0.5 or later is needed)";
    }
    lib.dl = dl;
    return NULL;
}

static void finalize(SEXP ptr)
{
    void *h = R_ExternalPtrAddr(ptr);
    if (h && lib.close)
        lib.close(h);
    R_ClearExternalPtr(ptr);
}

/* An embedded handle (an external pointer), or an R error saying why not. */
static SEXP tfd_open(SEXP path)
{
    if (!isString(path) || LENGTH(path) != 1)
        error("tfeventsd: the library path must be one string");
    const char *why = load(CHAR(STRING_ELT(path, 0)));
    if (why)
        error("cannot load %s: %s", CHAR(STRING_ELT(path, 0)), why);
    struct tfd_options o = {.size = sizeof o, .mode = TFD_MODE_EMBEDDED,
                            .flush_interval = 1.0};
    void *h = NULL;
    int r = lib.open(&h, &o);
    if (r < 0)
        error("libtfevents %s: tfevents_open: %s", lib.version(), lib.strerror(r));
    SEXP ptr = PROTECT(R_MakeExternalPtr(h, install("tfeventsd_embedded"), R_NilValue));
    R_RegisterCFinalizerEx(ptr, finalize, FALSE);   /* at exit: tfd_close from R */
    UNPROTECT(1);
    return ptr;
}

/* Execute the lines of text (separated by "\n"); the replies, one string
 * each (fire-and-forget lines that succeeded have none). */
static SEXP tfd_exec(SEXP ptr, SEXP text)
{
    void *h = R_ExternalPtrAddr(ptr);
    if (!h)
        error("tfeventsd: the embedded handle is closed");
    if (!isString(text) || LENGTH(text) != 1)
        error("tfeventsd: text must be one string");
    const char *s = CHAR(STRING_ELT(text, 0));
    size_t n_lines = 0;
    for (const char *p = s; *p; p++)
        n_lines += *p == '\n';
    n_lines++;
    SEXP out = PROTECT(allocVector(STRSXP, (R_xlen_t)n_lines));
    char *reply = R_alloc(TFD_REPLY_SIZE, 1);
    R_xlen_t k = 0;
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len) {
            size_t rl = 0;
            int r = lib.exec_json(h, p, len, reply, TFD_REPLY_SIZE, &rl);
            if (r < 0 && rl == 0)   /* not executed at all (a forked child's handle) */
                error("tfeventsd: libtfevents: %s", lib.strerror(r));
            if (rl)
                SET_STRING_ELT(out, k++, mkCharCE(reply, CE_UTF8));
        }
        p += len + (nl != NULL);
    }
    out = PROTECT(lengthgets(out, k));
    UNPROTECT(2);
    return out;
}

/* Write everything and close; the library's status (0 or a negative errno
 * with its sentence). */
static SEXP tfd_close(SEXP ptr)
{
    void *h = R_ExternalPtrAddr(ptr);
    R_ClearExternalPtr(ptr);
    int r = h ? lib.close(h) : 0;
    return mkString(r < 0 ? lib.strerror(r) : "");
}

static SEXP tfd_version(void)
{
    return mkString(lib.version ? lib.version() : "");
}

static const R_CallMethodDef calls[] = {
    {"tfd_open", (DL_FUNC)&tfd_open, 1},
    {"tfd_exec", (DL_FUNC)&tfd_exec, 2},
    {"tfd_close", (DL_FUNC)&tfd_close, 1},
    {"tfd_version", (DL_FUNC)&tfd_version, 0},
    {NULL, NULL, 0},
};

void R_init_tfeventsd(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, calls, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
