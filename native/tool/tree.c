/* lkmpre-tree: preresolves every .ko under a directory with the C core, in place, without a JVM.
 *
 *   lkmpre-tree INDEX DIR [--dry-run] [--strip-signature] [--assume-nokaslr] [-j N]
 *
 * INDEX is an index written by `lkmpre index` (or `lkmpre-native index`). Output is the Java CLI's:
 * one line per module (PRERESV, SKIPPED, REFUSED, FAILED) in sorted path order, names relative to
 * DIR, then the summary; exit 0, 1 when a module was refused or failed, 2 for a usage or index
 * error. Compressed modules and re-signing are the Java CLI's (this tool reports them FAILED).
 *
 * The work is one call of the library's whole-file run (lkmpre_files.h, native/hosted/files.c:
 * threads, locks, and the in-place protocol); this file walks the tree and words the results.
 */
#define _GNU_SOURCE /* _SC_NPROCESSORS_ONLN */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lkmpre.h"
#include "internal.h"
#include "lkmpre_files.h"
#include "index.h" /* the index's machine and banner, for refusal texts */

enum { ST_PRERESV, ST_SKIPPED, ST_REFUSED, ST_FAILED };

typedef struct job {
    char *path;
    char *line;
    int status, fully;
    uint32_t undefined, preresolved;
} job;

static void *must(void *p) {
    if (!p) {
        fprintf(stderr, "lkmpre-tree: out of memory\n");
        exit(2);
    }
    return p;
}

/* A module's line, made safe as the Java CLI's OneLine makes it: every control character (C0,
   DEL, and C1, which UTF-8 spells C2 80-9F) written as \xNN. The path is the file name's bytes
   (UTF-8 for Java); detail is ASCII, or UTF-8 made by latin1() from .modinfo text. */
static char *format(const char *fmt, const char *path, const char *detail) {
    size_t n = strlen(fmt) + strlen(path) + strlen(detail) + 1;
    char *raw = must(malloc(n)), *s = must(malloc(4 * n)), *o = s;
    snprintf(raw, n, fmt, path, detail);
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        unsigned c = *p;
        if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            c = *++p;
        else if (c >= 0x20 && c != 0x7f) {
            *o++ = (char)c;
            continue;
        }
        o += sprintf(o, "\\x%02x", c);
    }
    *o = 0;
    free(raw);
    return s;
}

/* .modinfo bytes as the Java CLI reads them (ISO-8859-1), in UTF-8, NUL-terminated. */
static char *latin1(const uint8_t *v, size_t n) {
    char *s = must(malloc(2 * n + 1)), *o = s;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x80) {
            *o++ = (char)v[i];
        } else {
            *o++ = (char)(0xc0 | v[i] >> 6);
            *o++ = (char)(0x80 | (v[i] & 0x3f));
        }
    }
    *o = 0;
    return s;
}

/* Why the core refused the module, in the Java CLI's words (Preresolver's refusal texts). */
static char *refusal(const lkmpre_index *index, const lkmpre_file_result *f) {
    static const char signed_[] = "module signature appended; --strip-signature removes it, and the module then "
                                  "loads unsigned";
    char buf[160];
    switch (f->module.refusal) {
    case LKMPRE_REFUSED_SIGNED:
        return must(strdup(signed_));
    case LKMPRE_REFUSED_CLASS:
        snprintf(buf, sizeof buf, "ELF%u module for an ELF%u kernel", f->module.module_class,
                 lkmpre_index_flags(index) & LKMPRE_INDEX_ELF64 ? 64u : 32u);
        return must(strdup(buf));
    case LKMPRE_REFUSED_MACHINE:
        snprintf(buf, sizeof buf, "module is for machine %u, kernel for machine %u", f->module.module_machine,
                 index->machine);
        return must(strdup(buf));
    default: {
        const char *release = "";
        size_t rlen = lk_banner_release(lk_index_banner(index), &release);
        char *built = latin1(f->detail ? f->detail : (const uint8_t *)"", (size_t)f->detail_len);
        size_t n = strlen(built) + rlen + 80;
        char *s = must(malloc(n));
        snprintf(s, n, "module is built for kernel %s, kernel is %.*s: its addresses would be wrong", built, (int)rlen,
                 release);
        free(built);
        return s;
    }
    }
}

static void fail(job *j, const char *name, const char *why) {
    j->status = ST_FAILED;
    j->line = format("FAILED  %s (%s)", name, why);
}

/* A module's line and counts from its result. */
static void word(const lkmpre_index *index, job *j, const char *name, const lkmpre_file_result *f) {
    char why[400];
    switch (f->step) {
    case LKMPRE_FILE_DONE:
        break;
    case LKMPRE_FILE_LOCK:
        fail(j, name, "cannot lock: locked by another run for 60 s");
        return;
    case LKMPRE_FILE_READ:
        fail(j, name, "cannot read");
        return;
    case LKMPRE_FILE_WRITE:
        snprintf(why, sizeof why, "cannot write %s: %s", j->path, strerror(f->error));
        fail(j, name, why);
        return;
    case LKMPRE_FILE_MEMORY:
        fprintf(stderr, "lkmpre-tree: out of memory\n");
        exit(2);
    default:
        snprintf(why, sizeof why, "cannot open: %s", strerror(f->error));
        fail(j, name, why);
        return;
    }
    const lkmpre_module_result *m = &f->module;
    char detail[64];
    switch (m->status) {
    case LKMPRE_MODULE_PRERESOLVED:
        j->status = ST_PRERESV;
        j->undefined = m->undefined;
        j->preresolved = m->preresolved;
        j->fully = m->undefined == m->preresolved;
        snprintf(detail, sizeof detail, "%u/%u%s", m->preresolved, m->undefined, j->fully ? " *fully*" : "");
        j->line = format("PRERESV %s (%s preresolved)", name, detail);
        break;
    case LKMPRE_MODULE_ALREADY:
        j->status = ST_SKIPPED;
        j->line = format("SKIPPED %s (already preresolved)%s", name, "");
        break;
    case LKMPRE_MODULE_REFUSED: {
        j->status = ST_REFUSED;
        char *r = refusal(index, f);
        j->line = format("REFUSED %s (%s)", name, r);
        free(r);
        break;
    }
    default: {
        /* The core's message quotes the file's bytes (section names), which Java reads as ISO-8859-1. */
        char *r = latin1(f->detail ? f->detail : (const uint8_t *)"", (size_t)f->detail_len);
        fail(j, name, r);
        free(r);
    }
    }
}

int main(int argc, char **argv) {
    const lkmpre_index *index = NULL;
    uint32_t flags = 0;
    int jobs = (int)sysconf(_SC_NPROCESSORS_ONLN), dry = 0, nokaslr = 0;
    const char *args[2];
    int nargs = 0;
    static const char usage[] =
        "usage: lkmpre-tree INDEX DIR [--dry-run] [--strip-signature] [--assume-nokaslr] [-j N]\n"
        "Preresolves every .ko under DIR against INDEX (`lkmpre index`), patching each where it lies.\n"
        "  --dry-run          report what would be done; write nothing\n"
        "  --strip-signature  remove appended module signatures (the modules then load unsigned)\n"
        "  --assume-nokaslr   accept a kernel built with CONFIG_RANDOMIZE_BASE=y: it will boot with nokaslr\n"
        "  -j N               modules processed at once (default: the number of CPUs)\n"
        "Exit status: 0 all done; 1 some module refused or failed; 2 usage, index or directory error.\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (!strcmp(argv[i], "--assume-nokaslr"))
            nokaslr = 1;
        else if (!strcmp(argv[i], "--strip-signature"))
            flags |= LKMPRE_STRIP_SIGNATURE;
        else if (!strcmp(argv[i], "-j") && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (argv[i][0] != '-' && nargs < 2)
            args[nargs++] = argv[i];
        else
            nargs = 3;
    }
    if (nargs != 2 || jobs < 1) {
        fputs(usage, stderr);
        return 2;
    }
    flags |= dry ? 0 : LKMPRE_FILES_WRITE;
    FILE *f = fopen(args[0], "rb");
    uint8_t *ibuf = NULL;
    long ilen = -1;
    if (f && !fseek(f, 0, SEEK_END) && (ilen = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
        ibuf = malloc(ilen ? (size_t)ilen : 1);
        if (!ibuf || fread(ibuf, 1, (size_t)ilen, f) != (size_t)ilen)
            ilen = -1;
    }
    if (f)
        fclose(f);
    static uint64_t handle[32];
    lkmpre_error err = {"cannot read"};
    if (ilen < 0 || lkmpre_index_handle_size() > sizeof handle ||
        lkmpre_index_open(ibuf, (size_t)ilen, handle, sizeof handle, &index, &err)) {
        fprintf(stderr, "lkmpre-tree: %s: %s\n", args[0], err.message);
        return 2;
    }
    if ((lkmpre_index_flags(index) & LKMPRE_INDEX_KASLR) && !nokaslr) {
        fprintf(stderr, "lkmpre-tree: %s: kernel is built with CONFIG_RANDOMIZE_BASE=y (KASLR): absolute addresses "
                        "move at boot; boot it with 'nokaslr' and pass --assume-nokaslr\n", args[0]);
        return 2;
    }
    struct stat st;
    if (stat(args[1], &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lkmpre-tree: %s: not a directory\n", args[1]);
        return 2;
    }
    /* The directory itself may be a symbolic link (as for the Java CLI); links under it are not followed. */
    char *root = realpath(args[1], NULL);
    lkmpre_walk *walk = NULL;
    size_t cap = 0, needed = 1 << 20;
    int error = errno;
    lkmpre_status walked = LKMPRE_ERR_SPACE;
    while (root && walked == LKMPRE_ERR_SPACE) {
        free(walk);
        walk = must(malloc(cap = needed));
        walked = lkmpre_files_walk(root, walk, cap, &needed, &error);
    }
    if (!root || walked) {
        fprintf(stderr, "lkmpre-tree: %s: cannot walk: %s\n", args[1], strerror(error));
        return 2;
    }
    size_t root_len = strlen(root) + (strcmp(root, "/") != 0); /* and the separator after it */
    size_t walk_n = 0;
    job *walk_jobs = must(calloc(walk->count + 1, sizeof *walk_jobs));
    for (uint64_t i = 0; i < walk->count; i++) {
        if (walk->files[i].kind != LKMPRE_WALK_MODULE)
            continue;
        const char *name = (const char *)walk + walk->files[i].name;
        size_t len = root_len + strlen(name) + 1;
        char *path = must(malloc(len));
        snprintf(path, len, "%s%s%s", root, root_len > strlen(root) ? "/" : "", name);
        walk_jobs[walk_n++].path = path;
    }
    free(walk);
    free(root);
    /* Compressed modules are the Java CLI's; the others go to the library in one call. */
    const char **paths = must(calloc(walk_n + 1, sizeof *paths));
    size_t *at = must(calloc(walk_n + 1, sizeof *at)), n = 0;
    for (size_t i = 0; i < walk_n; i++) {
        size_t len = strlen(walk_jobs[i].path);
        if (len > 3 && !strcmp(walk_jobs[i].path + len - 3, ".ko")) {
            at[n] = i;
            paths[n++] = walk_jobs[i].path;
        } else {
            fail(&walk_jobs[i], walk_jobs[i].path + root_len, "compressed module: lkmpre preresolve (Java) handles it");
        }
    }
    lkmpre_file_result *results = must(calloc(n + 1, sizeof *results));
    if (lkmpre_files_preresolve(index, paths, n, flags, jobs > 0 ? (unsigned)jobs : 1u, results)) {
        fprintf(stderr, "lkmpre-tree: the library refused the run\n");
        return 2;
    }
    for (size_t k = 0; k < n; k++)
        word(index, &walk_jobs[at[k]], walk_jobs[at[k]].path + root_len, &results[k]);
    lkmpre_files_release(results, n);
    free(results);
    free(paths);
    free(at);
    size_t count[4] = {0}, fully = 0;
    uint64_t undefined = 0, preresolved = 0;
    for (size_t i = 0; i < walk_n; i++) {
        job *j = &walk_jobs[i];
        puts(j->line);
        count[j->status]++;
        fully += j->status == ST_PRERESV && j->fully;
        undefined += j->undefined;
        preresolved += j->preresolved;
        free(j->line);
        free(j->path);
    }
    printf("lkmpre: %zu modules: %zu preresolved (%zu fully), %zu already preresolved, %zu refused, %zu failed; "
           "%llu/%llu symbols preresolved\n",
           walk_n, count[ST_PRERESV], fully, count[ST_SKIPPED], count[ST_REFUSED], count[ST_FAILED],
           (unsigned long long)preresolved, (unsigned long long)undefined);
    free(walk_jobs);
    free(ibuf);
    return count[ST_REFUSED] + count[ST_FAILED] ? 1 : 0;
}
