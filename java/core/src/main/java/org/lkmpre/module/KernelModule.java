package org.lkmpre.module;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfBytes;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;

/**
 * A loadable kernel module ({@code .ko}): its ELF image, its appended signature if any, its
 * {@code .modinfo}, and its modversions table ({@code __versions}).
 */
public final class KernelModule {
    /** Name of the section that marks a module as preresolved. */
    public static final String PRERESOLVED_SECTION = ".preresolved";
    /** Size of one {@code struct modversion_info}: {@code unsigned long crc; char name[64 - sizeof(long)]}. */
    private static final int MODVERSION_SIZE = 64;
    private static final byte[] MAGIC = ModuleSignature.MAGIC.getBytes(StandardCharsets.ISO_8859_1);
    /** {@code offsetof(struct module_signature, id_type)}: after {@code algo} and {@code hash}. */
    private static final int ID_TYPE_AT = 2;
    /** {@code offsetof(struct module_signature, sig_len)}: a big-endian u32 after five u8 and {@code __pad[3]}. */
    private static final int SIG_LEN_AT = 8;

    private final byte[] data;
    private final ElfFile elf;
    private final Optional<ModuleSignature> signature;
    private final ModInfo modinfo;
    private final Optional<Map<String, Long>> versions;

    private KernelModule(byte[] data, ElfFile elf, Optional<ModuleSignature> signature, ModInfo modinfo,
                         Optional<Map<String, Long>> versions) {
        this.data = data;
        this.elf = elf;
        this.signature = signature;
        this.modinfo = modinfo;
        this.versions = versions;
    }

    /**
     * Parses a module.
     *
     * @param file name for messages
     * @param data the whole file; not copied, must not change afterwards
     * @return the module
     * @throws InputFormatException if the file is not a well-formed relocatable ELF module
     */
    public static KernelModule parse(String file, byte[] data) {
        Optional<ModuleSignature> signature = signature(file, data);
        int imageLength = signature.map(ModuleSignature::imageLength).orElse(data.length);
        ElfFile elf = ElfFile.parse(file, data, imageLength);
        if (elf.type() != ElfFile.ET_REL) {
            throw new InputFormatException(file, "is not a relocatable object (e_type " + elf.type() + "), so not a module");
        }
        if (elf.symbolTable().isEmpty()) {
            throw new InputFormatException(file, "has no symbol table");
        }
        ModInfo modinfo = new ModInfo(elf.section(".modinfo").map(s -> modinfo(elf, s)).orElse(List.of()));
        Optional<Map<String, Long>> versions = elf.section("__versions").map(s -> versions(elf, s));
        return new KernelModule(data, elf, signature, modinfo, versions);
    }

    private static Optional<ModuleSignature> signature(String file, byte[] data) {
        int magicAt = data.length - MAGIC.length;
        if (magicAt < 0 || !java.util.Arrays.equals(data, magicAt, data.length, MAGIC, 0, MAGIC.length)) {
            return Optional.empty();
        }
        int infoAt = magicAt - ModuleSignature.INFO_SIZE;
        if (infoAt < 0) {
            throw new InputFormatException(file, "signature trailer is truncated");
        }
        ElfBytes info = ElfBytes.bigEndian(file, data);
        int idType = info.u8(infoAt + ID_TYPE_AT);
        long sigLen = info.u32(infoAt + SIG_LEN_AT);
        if (sigLen > infoAt) {
            throw new InputFormatException(file, "signature length " + sigLen + " exceeds the file");
        }
        return Optional.of(new ModuleSignature((int) (infoAt - sigLen), idType, (int) sigLen));
    }

    private static List<Map.Entry<String, String>> modinfo(ElfFile elf, Section s) {
        byte[] bytes = elf.contents(s);
        List<Map.Entry<String, String>> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == 0) {
                if (i > start) {
                    String entry = new String(bytes, start, i - start, StandardCharsets.ISO_8859_1);
                    int eq = entry.indexOf('=');
                    if (eq > 0) {
                        out.add(new AbstractMap.SimpleImmutableEntry<>(entry.substring(0, eq), entry.substring(eq + 1)));
                    }
                }
                start = i + 1;
            }
        }
        return out;
    }

    private static Map<String, Long> versions(ElfFile elf, Section s) {
        if (s.size() % MODVERSION_SIZE != 0) {
            throw new InputFormatException(elf.file(), "__versions size " + s.size() + " is not a multiple of "
                    + MODVERSION_SIZE);
        }
        // An empty table has no bytes to lie anywhere; any other must lie in the file, checked
        // without overflow (the C core's lk_in): offset + size may wrap around.
        if (s.size() != 0 && (Long.compareUnsigned(s.offset(), elf.length()) > 0
                || Long.compareUnsigned(s.size(), elf.length() - s.offset()) > 0)) {
            throw new InputFormatException(elf.file(), "__versions lies outside the file");
        }
        Map<String, Long> out = new LinkedHashMap<>();
        for (long at = s.offset(); at < s.offset() + s.size(); at += MODVERSION_SIZE) {
            long crc = elf.word(at);
            String name = elf.stringAtOffset(at + elf.wordSize(), at + MODVERSION_SIZE);
            out.putIfAbsent(name, crc);
        }
        return Collections.unmodifiableMap(out);
    }

    /** @return the whole file, signature included; do not modify */
    public byte[] data() {
        return data;
    }

    /** @return the ELF image */
    public ElfFile elf() {
        return elf;
    }

    /** @return the appended signature, if the module is signed */
    public Optional<ModuleSignature> signature() {
        return signature;
    }

    /** @return the {@code .modinfo} entries */
    public ModInfo modinfo() {
        return modinfo;
    }

    /**
     * @return symbol name to CRC ({@code unsigned long}, as stored) from {@code __versions}, or
     *         empty if the module has no such section
     */
    public Optional<Map<String, Long>> versions() {
        return versions;
    }

    /** @return true if an earlier run marked this module with a {@code .preresolved} section */
    public boolean isPreresolved() {
        return elf.section(PRERESOLVED_SECTION).isPresent();
    }
}
