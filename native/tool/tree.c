/* lkmpre-tree: preresolves every .ko under a directory with the C core, in place, without a JVM.
 *
 *   lkmpre-tree INDEX DIR [--dry-run] [--strip-signature] [--assume-nokaslr] [-j N]
 *
 * INDEX is an index written by `lkmpre index` (or `lkmpre-native index`). Output is the Java CLI's:
 * one line per module (PRERESV, SKIPPED, REFUSED, FAILED) in sorted path order, names relative to
 * DIR, then the summary; exit 0, 1 when a module was refused or failed, 2 for a usage or index
 * error. Compressed modules and re-signing are the Java CLI's (this tool reports them FAILED).
 *
 * Modules are patched where they are, writing only what changes, in an order that keeps the file
 * a correct module at every step (docs/native.md, "lkmpre-tree"):
 *   1. a stripped signature is cut off (the old module, unsigned);
 *   2. the tail (grown .shstrtab, undo record, grown section headers) is appended: nothing
 *      references it yet;
 *   3. the ELF header is written: the module is marked and has its undo record;
 *   4. every symbol's st_value, then every symbol's st_shndx: a symbol is SHN_UNDEF (the kernel
 *      resolves it) until its value is in place.
 * A run killed in step 4 leaves a marked module with symbols still undefined; the next run sees
 * that in the undo record and finishes it. One killed after step 2 leaves the whole tail
 * unreferenced: the next run recognizes it by its undo record and writes over it. Only a kill
 * inside step 2's write (between two pages of the tail) leaves stray bytes that the next run
 * keeps after the module: harmless to every ELF reader, but that module's bytes then differ from
 * an uninterrupted run's. No fsync: a crash of the machine is not covered.
 *
 * Concurrent runs (this tool or the Java CLI, in any mode) patch each module once: a writer holds
 * an exclusive lock on the module from before it reads it until after its last write (an
 * open-file-description lock, which conflicts with the Java CLI's fcntl locks and dies with its
 * descriptor), waits up to LOCK_WAIT_MS for a module another run holds, then reports it failed.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lkmpre.h"
#include "internal.h"
#include "index.h" /* the index's machine and banner, for refusal texts */
#include "undo.h"

enum { ST_PRERESV, ST_SKIPPED, ST_REFUSED, ST_FAILED };

typedef struct job {
    char *path;
    char *line;
    int status, fully;
    uint32_t undefined, preresolved;
} job;

typedef struct run {
    const lkmpre_index *index;
    job *jobs;
    size_t njobs;
    atomic_size_t next;
    size_t root_len;
    int write, strip;
} run;

/* Per-thread buffers, grown as needed. */
typedef struct buffers {
    uint8_t *data, *out, *pass;
    size_t data_cap, out_cap, pass_cap;
    uint64_t *scratch; /* lk_elf_open's */
    size_t scratch_cap;
    lkmpre_symbol_result *res;
    size_t res_cap;
} buffers;

static void *grow(void *p, size_t *cap, size_t need, size_t unit) {
    if (need <= *cap)
        return p;
    size_t n = need > 2 * *cap ? need : 2 * *cap;
    void *q = realloc(p, n * unit);
    if (!q) {
        fprintf(stderr, "lkmpre-tree: out of memory\n");
        exit(2);
    }
    *cap = n;
    return q;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, off_t at) {
    while (len) {
        ssize_t n = pwrite(fd, buf, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        at += n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *buf, size_t len) {
    for (size_t at = 0; at < len;) {
        ssize_t n = pread(fd, buf + at, len - at, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        at += (size_t)n;
    }
    return 0;
}

/* Steps 1-4 of the header comment: e is the file as it is now (opened by the core's lk_elf_open);
   out is the core's LKMPRE_OUT_SPARSE output (total bytes): the tail, the new e_shoff and e_shnum,
   and each preresolved symbol's fields; res says which symbols. */
static int patch_in_place(buffers *b, int fd, const lk_elf *e, const uint8_t *out, size_t total,
                          const lkmpre_symbol_result *res, uint32_t nres) {
    const lk_layout *l = e->l;
    lk_elf o = lk_elf_alike(e, out, total);
    lk_shdr symtab, names;
    uint64_t shoff;
    /* The tail starts with the grown .shstrtab: its header in the grown table says where. */
    if (lk_elf_find_type(e, SHT_SYMTAB, &symtab) || lk_get(&o, l->e_shoff, l->word, &shoff) ||
        shoff > UINT64_MAX - (uint64_t)e->shstrndx * e->shentsize ||
        lk_elf_section_at(&o, shoff + (uint64_t)e->shstrndx * e->shentsize, &names))
        return -1;
    size_t image = (size_t)names.offset;
    uint8_t header[64];
    memcpy(header, e->data, e->ehsize);
    memcpy(header + l->e_shoff, out + l->e_shoff, l->word);
    memcpy(header + l->e_shnum, out + l->e_shnum, 2);
    int marked = !memcmp(header, e->data, e->ehsize);
    if (image > total || (!marked && e->len > image && ftruncate(fd, (off_t)image)))
        return -1;
    if (pwrite_all(fd, out + image, total - image, (off_t)image) || pwrite_all(fd, header, e->ehsize, 0))
        return -1;
    uint64_t lo = UINT64_MAX, hi = 0;
    unsigned entsize = l->sym_entsize;
    for (uint32_t j = 0; j < nres; j++) {
        if (res[j].reason != LKMPRE_RESOLVED)
            continue;
        uint64_t at = symtab.offset + (uint64_t)res[j].symbol * entsize;
        lo = at < lo ? at : lo;
        hi = at + entsize > hi ? at + entsize : hi;
    }
    if (lo >= hi)
        return 0;
    if (hi > e->len || hi > total || hi > symtab.offset + symtab.size)
        return -1;
    size_t span = (size_t)(hi - lo);
    b->pass = grow(b->pass, &b->pass_cap, span, 1);
    memcpy(b->pass, e->data + lo, span);
    for (int field = 0; field < 2; field++) {
        unsigned off = field ? l->st_shndx : l->st_value, size = field ? 2 : l->word;
        for (uint32_t j = 0; j < nres; j++) {
            if (res[j].reason == LKMPRE_RESOLVED) {
                uint64_t at = symtab.offset + (uint64_t)res[j].symbol * entsize + off;
                memcpy(b->pass + (at - lo), out + at, size);
            }
        }
        if (pwrite_all(fd, b->pass, span, (off_t)lo))
            return -1;
    }
    return 0;
}

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
static char *refusal(const run *r, const lk_elf *e, int elf, const lkmpre_module_result *m) {
    static const char signed_[] = "module signature appended; --strip-signature removes it, and the module then "
                                  "loads unsigned";
    char buf[160];
    switch (m->refusal) {
    case LKMPRE_REFUSED_SIGNED:
        return must(strdup(signed_));
    case LKMPRE_REFUSED_CLASS:
        snprintf(buf, sizeof buf, "ELF%u module for an ELF%u kernel", m->module_class,
                 lkmpre_index_flags(r->index) & LKMPRE_INDEX_ELF64 ? 64u : 32u);
        return must(strdup(buf));
    case LKMPRE_REFUSED_MACHINE:
        snprintf(buf, sizeof buf, "module is for machine %u, kernel for machine %u", m->module_machine,
                 r->index->machine);
        return must(strdup(buf));
    default: {
        const char *release = "";
        size_t rlen = lk_banner_release(lk_index_banner(r->index), &release), vlen = 0, first = 0;
        const uint8_t *v = NULL;
        if (elf)
            (void)lk_modinfo_first(e, "vermagic", &v, &vlen);
        while (first < vlen && v[first] != ' ')
            first++;
        char *built = latin1(v ? v : (const uint8_t *)"", first);
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

/* A failure the core reported: its message quotes the file's bytes (section names), which Java
   reads as ISO-8859-1. */
static void fail_core(job *j, const char *name, const lkmpre_error *err) {
    char *why = latin1((const uint8_t *)err->message, strnlen(err->message, sizeof err->message));
    fail(j, name, why);
    free(why);
}

/* How long a run waits for a module another run holds (the Java CLI's ModuleLock.WAIT). */
#define LOCK_WAIT_MS 60000

/* Opens path for writing, locked: the lock is on the file the path names once it is granted (a
   run that renamed a new file over the path meanwhile leaves it to be locked instead). Returns
   the descriptor and its stat; -1 with errno set; -2 if another run held it for LOCK_WAIT_MS. */
static int open_locked(const char *path, struct stat *st) {
    struct timespec start, now, nap = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int fd = open(path, O_RDWR);
        if (fd < 0)
            return -1;
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_OFD_SETLK, &lock) == 0) {
            struct stat there;
            if (fstat(fd, st) == 0 && stat(path, &there) == 0 && st->st_dev == there.st_dev &&
                st->st_ino == there.st_ino)
                return fd;
            close(fd);
            continue;
        }
        int e = errno;
        close(fd);
        if (e != EAGAIN && e != EACCES) {
            errno = e;
            return -1;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= LOCK_WAIT_MS)
            return -2;
        nanosleep(&nap, NULL);
    }
}

static void process(const run *r, buffers *b, job *j) {
    const char *name = j->path + r->root_len;
    size_t n = strlen(j->path);
    if (n < 3 || strcmp(j->path + n - 3, ".ko")) {
        fail(j, name, "compressed module: lkmpre preresolve (Java) handles it");
        return;
    }
    struct stat st;
    int fd = r->write ? open_locked(j->path, &st) : open(j->path, O_RDONLY);
    if (fd == -2) {
        fail(j, name, "cannot lock: locked by another run for 60 s");
        return;
    }
    if (fd < 0 || (!r->write && fstat(fd, &st))) {
        char why[300];
        snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
        fail(j, name, why);
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    b->data = grow(b->data, &b->data_cap, len ? len : 1, 1);
    uint8_t *data = b->data;
    if (read_all(fd, data, len)) {
        fail(j, name, "cannot read");
        close(fd);
        return;
    }
    /* What the tool reads of the file itself, through the core's ELF view; a file that does not
       open is the core's to report. */
    lk_elf e;
    b->scratch = grow(b->scratch, &b->scratch_cap, lk_elf_scratch_words(data, len), sizeof *b->scratch);
    int elf = !lk_elf_open(&e, data, len, b->scratch, b->scratch_cap, NULL);
    const uint8_t *module = data;
    size_t module_len = len, image = elf ? lk_undo_stale_tail(&e) : 0;
    if (image)
        module_len = image;
    lkmpre_module_result m;
    lkmpre_error err;
    size_t out_need, res_need;
    uint32_t flags = (r->strip ? LKMPRE_STRIP_SIGNATURE : 0) | LKMPRE_OUT_SPARSE;
    for (;;) {
        lkmpre_status s;
        while ((s = lkmpre_preresolve(r->index, module, module_len, flags, b->out,
                                      b->out_cap, &out_need, b->res, b->res_cap, &res_need, &m, &err)) ==
               LKMPRE_ERR_SPACE) {
            b->out = grow(b->out, &b->out_cap, out_need, 1);
            b->res = grow(b->res, &b->res_cap, res_need, sizeof *b->res);
        }
        if (s) {
            fail_core(j, name, &err);
            goto done;
        }
        /* A module cut off in step 4 of an earlier run: preresolve its original image again. */
        lk_undo u;
        lk_shdr symtab;
        if (m.status != LKMPRE_MODULE_ALREADY || module != data || image || !elf ||
            !lk_undo_interrupted(&e, &u, &symtab))
            break;
        uint8_t *restored = malloc(u.image_len ? (size_t)u.image_len : 1);
        if (!restored) {
            fprintf(stderr, "lkmpre-tree: out of memory\n");
            exit(2);
        }
        lk_undo_restore(&e, &u, &symtab, restored);
        module_len = (size_t)u.image_len;
        module = restored;
    }
    char detail[64];
    switch (m.status) {
    case LKMPRE_MODULE_PRERESOLVED:
        j->status = ST_PRERESV;
        j->undefined = m.undefined;
        j->preresolved = m.preresolved;
        j->fully = m.undefined == m.preresolved;
        snprintf(detail, sizeof detail, "%u/%u%s", m.preresolved, m.undefined, j->fully ? " *fully*" : "");
        j->line = format("PRERESV %s (%s preresolved)", name, detail);
        if (r->write && (!elf || patch_in_place(b, fd, &e, b->out, m.out_len, b->res, m.undefined))) {
            free(j->line);
            char why[300];
            snprintf(why, sizeof why, "cannot write %s: %s", j->path, strerror(errno));
            fail(j, name, why);
        }
        break;
    case LKMPRE_MODULE_ALREADY:
        j->status = ST_SKIPPED;
        j->line = format("SKIPPED %s (already preresolved)%s", name, "");
        break;
    case LKMPRE_MODULE_REFUSED:
        j->status = ST_REFUSED;
    {
        char *why = refusal(r, &e, elf, &m);
        j->line = format("REFUSED %s (%s)", name, why);
        free(why);
        break;
    }
    default:
        fail_core(j, name, &err);
    }
done:
    if (module != data)
        free((void *)module);
    close(fd);
}

static void *worker(void *arg) {
    run *r = arg;
    buffers b = {0};
    for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->njobs;)
        process(r, &b, &r->jobs[i]);
    free(b.data);
    free(b.out);
    free(b.pass);
    free(b.res);
    free(b.scratch);
    return NULL;
}

/* nftw has no user pointer: the walk collects into this, then hands it to the run. */
static job *walk_jobs;
static size_t walk_n, walk_cap;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    size_t n = strlen(path);
    int ko = (n > 3 && !strcmp(path + n - 3, ".ko")) || (n > 6 && !strcmp(path + n - 6, ".ko.xz")) ||
             (n > 7 && !strcmp(path + n - 7, ".ko.zst")) || (n > 6 && !strcmp(path + n - 6, ".ko.gz"));
    if (type != FTW_F || !ko)
        return 0;
    walk_jobs = grow(walk_jobs, &walk_cap, walk_n + 1, sizeof *walk_jobs);
    memset(&walk_jobs[walk_n], 0, sizeof *walk_jobs);
    walk_jobs[walk_n].path = strdup(path);
    return walk_jobs[walk_n++].path ? 0 : -1;
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const job *)a)->path, ((const job *)b)->path);
}

int main(int argc, char **argv) {
    run r = {0};
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
            r.strip = 1;
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
    r.write = !dry;
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
        lkmpre_index_open(ibuf, (size_t)ilen, handle, sizeof handle, &r.index, &err)) {
        fprintf(stderr, "lkmpre-tree: %s: %s\n", args[0], err.message);
        return 2;
    }
    if ((lkmpre_index_flags(r.index) & LKMPRE_INDEX_KASLR) && !nokaslr) {
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
    if (!root || nftw(root, visit, 32, FTW_PHYS)) {
        fprintf(stderr, "lkmpre-tree: %s: cannot walk: %s\n", args[1], strerror(errno));
        return 2;
    }
    qsort(walk_jobs, walk_n, sizeof *walk_jobs, by_path);
    r.jobs = walk_jobs;
    r.njobs = walk_n;
    r.root_len = strlen(root) + (strcmp(root, "/") != 0); /* and the separator after it */
    free(root);
    pthread_t t[64];
    int nt = jobs < 64 ? jobs : 64;
    for (int i = 1; i < nt; i++)
        if (pthread_create(&t[i], NULL, worker, &r)) {
            nt = i;
            break;
        }
    worker(&r);
    for (int i = 1; i < nt; i++)
        pthread_join(t[i], NULL);
    size_t count[4] = {0}, fully = 0;
    uint64_t undefined = 0, preresolved = 0;
    for (size_t i = 0; i < r.njobs; i++) {
        job *j = &r.jobs[i];
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
           r.njobs, count[ST_PRERESV], fully, count[ST_SKIPPED], count[ST_REFUSED], count[ST_FAILED],
           (unsigned long long)preresolved, (unsigned long long)undefined);
    free(walk_jobs);
    free(ibuf);
    return count[ST_REFUSED] + count[ST_FAILED] ? 1 : 0;
}
