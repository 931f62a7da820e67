/*
 * lkmpre's whole-file run: preresolves many module files where they lie, on threads, with the
 * in-place protocol of docs/native.md ("lkmpre-tree"): lock, read, preresolve, then write only
 * what changes, in an order that keeps each file a loadable module at every step. lkmpre-tree
 * and the Java bindings (for plain modules in place or dry) make one call per batch of files.
 *
 * Unlike the rest of the core this part is hosted: it opens files, starts POSIX threads and
 * allocates. Nothing is printed; every file gets a result, the caller words it.
 */
#ifndef LKMPRE_FILES_H
#define LKMPRE_FILES_H

#include "lkmpre.h"

LKMPRE_BEGIN_DECLS

#define LKMPRE_FILES_WRITE 0x100u /* flag: patch each file where it lies (else decide only) */

/* Which step of a file failed (result.module.status is then LKMPRE_MODULE_FAILED). */
typedef enum lkmpre_file_step {
    LKMPRE_FILE_DONE = 0,   /* the core decided: module.status says what */
    LKMPRE_FILE_OPEN = 1,   /* error: errno of open(2) or fstat(2) */
    LKMPRE_FILE_LOCK = 2,   /* another run held the module's lock for LKMPRE_FILES_LOCK_WAIT_MS */
    LKMPRE_FILE_READ = 3,   /* error: errno of read(2), 0 for a file that shrank */
    LKMPRE_FILE_WRITE = 4,  /* error: errno of the write; the file is in a state the next run finishes */
    LKMPRE_FILE_MEMORY = 5  /* out of memory */
} lkmpre_file_step;

/* How long a run waits for a module another run holds (the Java CLI's ModuleLock.WAIT). */
#define LKMPRE_FILES_LOCK_WAIT_MS 60000

/* What became of one file. detail (malloc'd, detail_len bytes, freed by lkmpre_files_release):
 *   PRERESOLVED: a uint32_t count, 4 bytes of zero, then count lkmpre_symbol_result for the
 *                symbols left SHN_UNDEF (symbol-table order; name_offset is an offset into
 *                detail), then their NUL-terminated names and the license value
 *                (module.license_offset is an offset into detail, 0 if the module has none);
 *   REFUSED with LKMPRE_REFUSED_VERMAGIC: the release the module is built for (the first word of
 *                its vermagic, the module's bytes);
 *   FAILED by the core (step LKMPRE_FILE_DONE): the core's message;
 *   otherwise empty. */
typedef struct lkmpre_file_result {
    lkmpre_module_result module; /* as lkmpre_preresolve() returns it; out_len is 0 */
    uint32_t step;               /* lkmpre_file_step */
    int32_t error;               /* errno of the failed step, if any */
    uint64_t detail_len;
    uint8_t *detail;
} lkmpre_file_result;

/*
 * Preresolves the module files paths[0 .. n) against index, threads at a time (at least 1),
 * and writes results[i] for paths[i]. flags: LKMPRE_STRIP_SIGNATURE, LKMPRE_FILES_WRITE.
 * A file whose name does not end in ".ko" is read as a module all the same. Returns LKMPRE_OK
 * (per-file problems are in the results) or LKMPRE_ERR_ARG.
 */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_files_preresolve(const lkmpre_index *index, const char *const *paths,
                                                        size_t n, uint32_t flags, unsigned threads,
                                                        lkmpre_file_result *results);

/* Frees the details of results[0 .. n). */
void lkmpre_files_release(lkmpre_file_result *results, size_t n);

/* A regular file lkmpre_files_walk found. */
typedef struct lkmpre_walk_file {
    uint64_t size; /* st_size (0 for a temporary file: only its name is reported) */
    uint64_t dev;  /* st_dev and st_ino: what tells two names of one file apart (0 for a temporary file) */
    uint64_t ino;
    uint32_t name; /* offset in the walk's block of the file's path below the root, NUL-terminated */
    uint32_t kind; /* LKMPRE_WALK_MODULE or LKMPRE_WALK_TEMPORARY */
} lkmpre_walk_file;

#define LKMPRE_WALK_MODULE 1u    /* named *.ko, *.ko.xz, *.ko.zst or *.ko.gz */
#define LKMPRE_WALK_TEMPORARY 2u /* named .*.tmp: perhaps the temporary file of a killed run (the caller decides) */

/* What lkmpre_files_walk writes into the caller's buffer: this header, the files, then their names. */
typedef struct lkmpre_walk {
    uint64_t count; /* files[0 .. count), sorted by name as strcmp orders them */
    uint64_t size;  /* bytes of the whole block */
    lkmpre_walk_file files[];
} lkmpre_walk;

/*
 * Walks the directory root and writes into out (cap bytes, 8-byte aligned) the regular files under
 * it that are modules or may be temporary files: the walk ModuleTree (Java) and lkmpre-tree make
 * of a tree. No symbolic link is followed (root itself is opened as named); the file type comes
 * from readdir where it says (else from a stat), and each module found is stat'ed once; an entry
 * that is gone by then is skipped. It recurses, one open directory a level. Returns LKMPRE_OK;
 * LKMPRE_ERR_SPACE with *needed the block's size when cap is smaller (call again with a buffer that
 * large: the tree is walked again, and may have grown); LKMPRE_ERR_ARG; or LKMPRE_ERR_SYSTEM with
 * *error the errno of the step that failed (a directory that cannot be opened or read, a file that
 * cannot be stat'ed, the limit of open files, a path of PATH_MAX bytes or more, no memory).
 */
LKMPRE_MUST_CHECK lkmpre_status lkmpre_files_walk(const char *root, void *out, size_t cap, size_t *needed, int *error);

LKMPRE_END_DECLS
#endif
