/* The whole-file run of lkmpre_files.h: lkmpre-tree's work as a library call.
 *
 * A module is patched where it lies, writing only what changes, in an order that keeps the file a
 * correct module at every step (docs/native.md, "lkmpre-tree"):
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
 * Concurrent runs (lkmpre-tree or the Java CLI, in any mode) patch each module once: a writer
 * holds an exclusive lock on the module from before it reads it until after its last write (an
 * open-file-description lock, which conflicts with the Java CLI's fcntl locks and dies with its
 * descriptor), and waits up to LKMPRE_FILES_LOCK_WAIT_MS for a module another run holds.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lkmpre_files.h"
#include "internal.h"
#include "index.h" /* lk_modinfo_first, for the vermagic of a refused module */
#include "undo.h"

typedef struct run {
    const lkmpre_index *index;
    const char *const *paths;
    lkmpre_file_result *results;
    size_t n;
    atomic_size_t next;
    uint32_t flags;
} run;

/* A thread's buffers, grown as needed. */
typedef struct buffers {
    uint8_t *data, *out, *pass;
    size_t data_cap, out_cap, pass_cap;
    uint64_t *scratch; /* lk_elf_open's */
    size_t scratch_cap;
    lkmpre_symbol_result *res;
    size_t res_cap;
} buffers;

/* p grown to hold need units (at least one) of unit bytes; NULL when out of memory (p is then
   unchanged and still the caller's). */
static void *grow(void *p, size_t *cap, size_t need, size_t unit) {
    if (p && need <= *cap)
        return p;
    size_t n = need > 2 * *cap ? need : 2 * *cap;
    n = n ? n : 1;
    void *q = n <= SIZE_MAX / unit ? realloc(p, n * unit) : NULL;
    if (q)
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
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
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
        lk_elf_section_at(&o, shoff + (uint64_t)e->shstrndx * e->shentsize, &names)) {
        errno = EINVAL;
        return -1;
    }
    size_t image = (size_t)names.offset;
    uint8_t header[64];
    memcpy(header, e->data, e->ehsize);
    memcpy(header + l->e_shoff, out + l->e_shoff, l->word);
    memcpy(header + l->e_shnum, out + l->e_shnum, 2);
    int marked = !memcmp(header, e->data, e->ehsize);
    if (image > total) {
        errno = EINVAL;
        return -1;
    }
    if ((!marked && e->len > image && ftruncate(fd, (off_t)image)) ||
        pwrite_all(fd, out + image, total - image, (off_t)image) || pwrite_all(fd, header, e->ehsize, 0))
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
    if (hi > e->len || hi > total || hi > symtab.offset + symtab.size) {
        errno = EINVAL;
        return -1;
    }
    size_t span = (size_t)(hi - lo);
    uint8_t *pass = grow(b->pass, &b->pass_cap, span, 1);
    if (!pass) {
        errno = ENOMEM;
        return -1;
    }
    b->pass = pass;
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

/* Opens path for writing, locked: the lock is on the file the path names once it is granted (a
   run that renamed a new file over the path meanwhile leaves it to be locked instead). Returns
   the descriptor and its stat; -1 with errno set; -2 if another run held it for the wait. */
static int open_locked(const char *path, struct stat *st) {
    struct timespec start, now, nap = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
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
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= LKMPRE_FILES_LOCK_WAIT_MS)
            return -2;
        nanosleep(&nap, NULL);
    }
}

/* Sets the result's detail to a copy of n bytes; 0, or -1 out of memory. */
static int set_detail(lkmpre_file_result *f, const void *bytes, size_t n) {
    if (!n)
        return 0;
    if (!(f->detail = malloc(n)))
        return -1;
    memcpy(f->detail, bytes, n);
    f->detail_len = n;
    return 0;
}

/* The detail of a preresolved module (lkmpre_files.h): the symbols left undefined, their names
   and the license, read from the module (data). */
static int preresolved_detail(lkmpre_file_result *f, const uint8_t *data, size_t len,
                              const lkmpre_symbol_result *res, uint32_t nres) {
    uint32_t left = nres - f->module.preresolved;
    size_t size = 8 + (size_t)left * sizeof *res + f->module.license_len;
    /* The core checked these offsets; the checks keep the copies below in bounds regardless. */
    if (f->module.license_offset > len || f->module.license_len > len - f->module.license_offset)
        return -1;
    for (uint32_t j = 0; j < nres; j++) {
        if (res[j].reason == LKMPRE_RESOLVED)
            continue;
        if (res[j].name_offset >= len)
            return -1;
        size += strnlen((const char *)data + res[j].name_offset, len - res[j].name_offset) + 1;
    }
    uint8_t *d = f->detail = calloc(1, size);
    if (!d)
        return -1;
    f->detail_len = size;
    memcpy(d, &left, 4);
    size_t at = 8 + (size_t)left * sizeof *res;
    lkmpre_symbol_result *to = (lkmpre_symbol_result *)(d + 8);
    for (uint32_t j = 0; j < nres; j++) {
        if (res[j].reason == LKMPRE_RESOLVED)
            continue;
        size_t n = strnlen((const char *)data + res[j].name_offset, len - res[j].name_offset);
        *to = res[j];
        to->name_offset = (uint32_t)at;
        to++;
        memcpy(d + at, data + res[j].name_offset, n);
        at += n + 1;
    }
    if (f->module.license_offset) {
        memcpy(d + at, data + f->module.license_offset, f->module.license_len);
        f->module.license_offset = (uint32_t)at;
    }
    return 0;
}

/* The release a refused module is built for: its vermagic's first word. */
static int vermagic_detail(lkmpre_file_result *f, const lk_elf *e) {
    const uint8_t *v = NULL;
    size_t vlen = 0, first = 0;
    (void)lk_modinfo_first(e, "vermagic", &v, &vlen);
    while (first < vlen && v[first] != ' ')
        first++;
    return set_detail(f, v, first);
}

/* Marks f failed at a step before the core decided, with that step's errno. */
static void fail(lkmpre_file_result *f, uint32_t step, int error) {
    f->module.status = LKMPRE_MODULE_FAILED;
    f->step = step;
    f->error = error;
}

static void process(const run *r, buffers *b, const char *path, lkmpre_file_result *f) {
    int write = (r->flags & LKMPRE_FILES_WRITE) != 0;
    struct stat st;
    int fd = write ? open_locked(path, &st) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -2) {
        fail(f, LKMPRE_FILE_LOCK, 0);
        return;
    }
    if (fd < 0 || (!write && fstat(fd, &st))) {
        fail(f, LKMPRE_FILE_OPEN, errno);
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *restored = NULL;
    uint8_t *data = grow(b->data, &b->data_cap, len, 1);
    if (!data) {
        fail(f, LKMPRE_FILE_MEMORY, ENOMEM);
        goto done;
    }
    b->data = data;
    if (read_all(fd, data, len)) {
        fail(f, LKMPRE_FILE_READ, errno);
        goto done;
    }
    /* What the run reads of the file itself, through the core's ELF view; a file that does not
       open is the core's to report. */
    lk_elf e;
    uint64_t *scratch = grow(b->scratch, &b->scratch_cap, lk_elf_scratch_words(data, len), sizeof *b->scratch);
    if (!scratch) {
        fail(f, LKMPRE_FILE_MEMORY, ENOMEM);
        goto done;
    }
    b->scratch = scratch;
    int elf = !lk_elf_open(&e, data, len, b->scratch, b->scratch_cap, NULL);
    const uint8_t *module = data;
    size_t module_len = len, image = elf ? lk_undo_stale_tail(&e) : 0;
    if (image)
        module_len = image;
    lkmpre_module_result *m = &f->module;
    lkmpre_error err;
    size_t out_need, res_need;
    uint32_t flags = (r->flags & LKMPRE_STRIP_SIGNATURE) | LKMPRE_OUT_SPARSE;
    for (;;) {
        lkmpre_status s;
        while ((s = lkmpre_preresolve(r->index, module, module_len, flags, b->out, b->out_cap, &out_need, b->res,
                                      b->res_cap, &res_need, m, &err)) == LKMPRE_ERR_SPACE) {
            uint8_t *out = grow(b->out, &b->out_cap, out_need, 1);
            b->out = out ? out : b->out;
            lkmpre_symbol_result *res = out ? grow(b->res, &b->res_cap, res_need, sizeof *b->res) : NULL;
            if (!res) {
                fail(f, LKMPRE_FILE_MEMORY, ENOMEM);
                goto done;
            }
            b->res = res;
        }
        if (s) {
            m->status = LKMPRE_MODULE_FAILED;
            break;
        }
        /* A module cut off in step 4 of an earlier run: preresolve its original image again. */
        lk_undo u;
        lk_shdr symtab;
        if (m->status != LKMPRE_MODULE_ALREADY || restored || image || !elf || !lk_undo_interrupted(&e, &u, &symtab))
            break;
        if (!(restored = malloc(u.image_len ? (size_t)u.image_len : 1))) {
            fail(f, LKMPRE_FILE_MEMORY, ENOMEM);
            goto done;
        }
        lk_undo_restore(&e, &u, &symtab, restored);
        module_len = (size_t)u.image_len;
        module = restored;
    }
    uint64_t out_len = m->out_len;
    m->out_len = 0;
    int oom = 0;
    switch (m->status) {
    case LKMPRE_MODULE_PRERESOLVED:
        oom = preresolved_detail(f, module, module_len, b->res, m->undefined);
        if (!oom && write && (!elf || patch_in_place(b, fd, &e, b->out, (size_t)out_len, b->res, m->undefined))) {
            free(f->detail);
            f->detail = NULL;
            f->detail_len = 0;
            fail(f, LKMPRE_FILE_WRITE, errno);
        }
        break;
    case LKMPRE_MODULE_REFUSED:
        if (m->refusal == LKMPRE_REFUSED_VERMAGIC)
            oom = elf && vermagic_detail(f, &e);
        break;
    case LKMPRE_MODULE_FAILED:
        oom = set_detail(f, err.message, strnlen(err.message, sizeof err.message));
        break;
    default:
        break;
    }
    if (oom)
        fail(f, LKMPRE_FILE_MEMORY, ENOMEM);
done:
    free(restored);
    close(fd);
}

static void *worker(void *arg) {
    run *r = arg;
    buffers b = {0};
    for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->n;)
        process(r, &b, r->paths[i], &r->results[i]);
    free(b.data);
    free(b.out);
    free(b.pass);
    free(b.res);
    free(b.scratch);
    return NULL;
}

lkmpre_status lkmpre_files_preresolve(const lkmpre_index *index, const char *const *paths, size_t n,
                                      uint32_t flags, unsigned threads, lkmpre_file_result *results) {
    if (!index || (n && (!paths || !results)) || threads < 1)
        return LKMPRE_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (!paths[i])
            return LKMPRE_ERR_ARG;
    memset(results, 0, n * sizeof *results);
    run r = {.index = index, .paths = paths, .results = results, .n = n, .flags = flags};
    atomic_init(&r.next, 0);
    enum { MAX_THREADS = 64 };
    pthread_t t[MAX_THREADS];
    unsigned nt = threads < MAX_THREADS ? threads : MAX_THREADS;
    if (nt > n)
        nt = n ? (unsigned)n : 1;
    for (unsigned i = 1; i < nt; i++)
        if (pthread_create(&t[i], NULL, worker, &r)) {
            nt = i;
            break;
        }
    worker(&r);
    for (unsigned i = 1; i < nt; i++)
        pthread_join(t[i], NULL);
    return LKMPRE_OK;
}

void lkmpre_files_release(lkmpre_file_result *results, size_t n) {
    for (size_t i = 0; results && i < n; i++) {
        free(results[i].detail);
        results[i].detail = NULL;
        results[i].detail_len = 0;
    }
}

/* lkmpre_files_walk: the files gathered, and the path of the directory being read. */
typedef struct walker {
    lkmpre_walk_file *files;
    size_t n, cap;
    char *names; /* each found file's path below the root, NUL-terminated, at files[i].name */
    size_t names_len, names_cap;
    char path[PATH_MAX]; /* the root, then the directories below it: path[root_len + 1 ..] is a name's prefix */
    size_t root_len;
} walker;

static int ends_with(const char *s, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

/* LKMPRE_WALK_MODULE, LKMPRE_WALK_TEMPORARY, or 0 for a file name the walk does not report. */
static uint32_t walk_kind(const char *name, size_t n) {
    if (ends_with(name, n, ".ko") || ends_with(name, n, ".ko.xz") || ends_with(name, n, ".ko.zst") ||
        ends_with(name, n, ".ko.gz"))
        return LKMPRE_WALK_MODULE;
    return name[0] == '.' && ends_with(name, n, ".tmp") ? LKMPRE_WALK_TEMPORARY : 0;
}

/* Adds the file whose path is w->path[0 .. len) and whose stat is st; 0 or ENOMEM. */
static int walk_add(walker *w, size_t len, const struct stat *st, uint32_t kind) {
    size_t rel = len - w->root_len - 1;
    lkmpre_walk_file *files = grow(w->files, &w->cap, w->n + 1, sizeof *files);
    char *names = files ? grow(w->names, &w->names_cap, w->names_len + rel + 1, 1) : NULL;
    if (files)
        w->files = files;
    if (!names)
        return ENOMEM;
    w->names = names;
    memcpy(names + w->names_len, w->path + w->root_len + 1, rel);
    names[w->names_len + rel] = 0;
    int module = kind == LKMPRE_WALK_MODULE; /* a temporary file is reported by name alone */
    w->files[w->n++] = (lkmpre_walk_file){.size = module ? (uint64_t)st->st_size : 0,
                                          .dev = module ? (uint64_t)st->st_dev : 0,
                                          .ino = module ? (uint64_t)st->st_ino : 0,
                                          .name = (uint32_t)w->names_len, .kind = kind};
    w->names_len += rel + 1;
    return 0;
}

/* Walks the directory open at fd (closed here), whose path is w->path[0 .. len); 0 or an errno. */
static int walk_dir(walker *w, int fd, size_t len) {
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return e;
    }
    int err = 0;
    struct dirent *e;
    for (errno = 0; !err && (e = readdir(d)); errno = 0) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        if (name[0] == '.' && (n == 1 || (n == 2 && name[1] == '.')))
            continue;
        uint32_t kind = walk_kind(name, n);
        unsigned char type = e->d_type;
        if (type != DT_DIR && type != DT_UNKNOWN && !(type == DT_REG && kind))
            continue; /* a link, a device, or a file the walk does not report */
        if (len + 1 + n >= sizeof w->path) {
            err = ENAMETOOLONG;
            break;
        }
        /* A temporary file's name is all its caller reads; readdir's type is enough for it. */
        struct stat st = {0};
        if (type == DT_UNKNOWN || (type == DT_REG && kind == LKMPRE_WALK_MODULE)) {
            if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW)) {
                if (errno == ENOENT)
                    continue; /* gone since readdir listed it: another run's temporary file, renamed */
                err = errno;
                break;
            }
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        w->path[len] = '/';
        memcpy(w->path + len + 1, name, n + 1);
        if (type == DT_DIR) {
            int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
                continue; /* gone, or replaced by a file or a link, since readdir listed it */
            err = sub < 0 ? errno : walk_dir(w, sub, len + 1 + n);
        } else if (type == DT_REG && kind) {
            err = walk_add(w, len + 1 + n, &st, kind);
        }
    }
    if (!err && errno)
        err = errno; /* readdir failed */
    closedir(d);
    return err;
}

/* Orders the walk's files by name; each holds the name's address while it is sorted. */
typedef struct named {
    const char *name;
    lkmpre_walk_file file;
} named;

static int by_name(const void *a, const void *b) {
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* The layout the Java bindings read (NativeWalk). */
_Static_assert(sizeof(lkmpre_walk) == 16 && sizeof(lkmpre_walk_file) == 32, "lkmpre_walk layout");
_Static_assert(offsetof(lkmpre_walk_file, name) == 24 && offsetof(lkmpre_walk_file, kind) == 28, "lkmpre_walk_file layout");

lkmpre_status lkmpre_files_walk(const char *root, void *out, size_t cap, size_t *needed, int *error) {
    if (needed)
        *needed = 0;
    if (error)
        *error = 0;
    if (!root || (!out && cap) || ((uintptr_t)out & 7) || !needed || !error)
        return LKMPRE_ERR_ARG;
    walker *w = calloc(1, sizeof *w);
    if (!w) {
        *error = ENOMEM;
        return LKMPRE_ERR_SYSTEM;
    }
    w->root_len = strlen(root);
    while (w->root_len > 1 && root[w->root_len - 1] == '/')
        w->root_len--; /* "dir/" names the same directory as "dir" */
    int err = w->root_len + 1 >= sizeof w->path ? ENAMETOOLONG : 0;
    if (!err) {
        memcpy(w->path, root, w->root_len);
        if (w->root_len == 1 && root[0] == '/')
            w->root_len = 0; /* below "/", a path is "/name": the separator is the root's */
        w->path[w->root_len] = 0;
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        err = fd < 0 ? errno : walk_dir(w, fd, w->root_len);
    }
    size_t size = sizeof(lkmpre_walk) + w->n * sizeof(lkmpre_walk_file) + w->names_len;
    if (!err && size > UINT32_MAX)
        err = EOVERFLOW; /* a name's offset would not fit its field */
    named *sorted = err || size > cap ? NULL : calloc(w->n ? w->n : 1, sizeof *sorted);
    if (!err && size <= cap && !sorted)
        err = ENOMEM;
    if (!err && sorted) {
        for (size_t i = 0; i < w->n; i++)
            sorted[i] = (named){w->names + w->files[i].name, w->files[i]};
        qsort(sorted, w->n, sizeof *sorted, by_name);
        lkmpre_walk *walk = out;
        walk->count = w->n;
        walk->size = size;
        size_t at = sizeof(lkmpre_walk) + w->n * sizeof(lkmpre_walk_file);
        for (size_t i = 0; i < w->n; i++) {
            size_t n = strlen(sorted[i].name) + 1;
            walk->files[i] = sorted[i].file;
            walk->files[i].name = (uint32_t)at;
            memcpy((char *)out + at, sorted[i].name, n);
            at += n;
        }
    }
    free(sorted);
    free(w->files);
    free(w->names);
    free(w);
    *error = err;
    *needed = err ? 0 : size;
    return err ? LKMPRE_ERR_SYSTEM : size > cap ? LKMPRE_ERR_SPACE : LKMPRE_OK;
}
