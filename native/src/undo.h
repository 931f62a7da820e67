/* The undo record (section .lkmpre.undo) and the checks of the in-place protocol built on it:
   the one C description of both. The core writes the record (module.c); lkmpre-tree reads it to
   recognize what a killed run left (tool/tree.c, docs/native.md "lkmpre-tree"). The Java side
   reads and writes the same bytes (UndoRecord.java).

   Layout, little-endian whatever the module's byte order:
     0   "LKMPUNDO"                    8 bytes
     8   version 1                     u32
     12  count                         u32   entries that follow
     16  image length                  u64   the module before preresolution (no signature)
     24  e_shoff, 32 e_shnum (u32)           its section header table
     36  0                             u32
     40  count entries of 16 bytes:    u32 symbol index, u16 st_shndx, u16 0, u64 st_value
   The entries hold each preresolved symbol's original fields, in symbol table order. */
#ifndef LKMPRE_UNDO_H
#define LKMPRE_UNDO_H

#include "internal.h"

#define LK_UNDO_SECTION ".lkmpre.undo"
#define LK_UNDO_HEADER 40u
#define LK_UNDO_ENTRY 16u

/* A record's header; entries is where its entries start (NULL in one being written). */
typedef struct lk_undo {
    uint32_t count, shnum;
    uint64_t image_len, shoff;
    const uint8_t *entries;
} lk_undo;

/* One entry: a symbol and its original st_shndx and st_value. */
typedef struct lk_undo_entry {
    uint32_t symbol;
    uint16_t shndx;
    uint64_t value;
} lk_undo_entry;

static inline size_t lk_undo_size(uint32_t count) {
    return LK_UNDO_HEADER + LK_UNDO_ENTRY * (size_t)count;
}

/* Writes u's header and zeroes its count entries at rec (lk_undo_size(u->count) bytes). */
void lk_undo_write(uint8_t *rec, const lk_undo *u);
/* Writes entry k of the record at rec. */
void lk_undo_write_entry(uint8_t *rec, uint32_t k, const lk_undo_entry *x);
/* Entry k (< u->count) of a record read by lk_undo_last. */
void lk_undo_entry_at(const lk_undo *u, uint32_t k, lk_undo_entry *x);

/* The record named by e's last bytes read as a section header, where lkmpre puts the grown table
   and the record's header last: in a tail that nothing references yet (a run killed between
   writing the tail and the ELF header), or in a marked module's own table. 0 if there is a
   record there whose entries fit its section and whose image length is a proper prefix. */
int lk_undo_last(const lk_elf *e, lk_undo *u);

/* An unmarked module followed by a whole tail that nothing references (a run killed before it
   wrote the ELF header): the tail's record names e's own header table. Returns the module's
   length without the tail, or 0. */
size_t lk_undo_stale_tail(const lk_elf *e);

/* A marked module whose record lists a symbol that is not SHN_ABS (a run killed while it wrote
   the symbols): 1 with the record in *u and the symbol table in *symtab, or 0 (also when an
   entry names a symbol outside the table or the original image). */
int lk_undo_interrupted(const lk_elf *e, lk_undo *u, lk_shdr *symtab);

/* Rebuilds the original module of an interrupted one (u and symtab from lk_undo_interrupted)
   into out, u->image_len bytes: e's first bytes with the old e_shoff and e_shnum and every listed
   symbol's old st_shndx and st_value. */
void lk_undo_restore(const lk_elf *e, const lk_undo *u, const lk_shdr *symtab, uint8_t *out);

#endif
