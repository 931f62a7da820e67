package org.lkmpre.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;

/**
 * What s390's decompressor does to the raw kernel before it jumps to it
 * ({@code arch/s390/boot/startup.c}, {@code handle_relocs}): it applies the kernel's
 * {@code .rela.dyn} against its {@code .dynsym}, both inside the raw kernel, which it finds
 * through {@code vmlinux_info}, a struct the boot image keeps uncompressed. Some
 * {@code __ksymtab} words are 0 until then (an {@code R_390_64} against a symbol), so the tables
 * are read only after this, here with a KASLR offset of zero, as {@link BootRelocations} does for
 * the vmlinux.
 *
 * <ol>
 *   <li>{@code .rela.dyn} is the longest run of 24-byte big-endian entries of the types the
 *       kernel uses ({@code R_390_RELATIVE}, {@code R_390_64}, {@code R_390_GLOB_DAT});</li>
 *   <li>{@code vmlinux_info} is where the boot image holds that run's start and end addresses
 *       side by side: their difference is the run's length, and the start's address minus its
 *       offset is the link address. The word before is {@code .dynsym}'s address; before that,
 *       the image size (the raw kernel's, rounded up) is followed by the size of
 *       {@code .bss};</li>
 *   <li>each relocation sets its place to its addend, plus the value of its symbol when the
 *       symbol is defined (an undefined one adds nothing).</li>
 * </ol>
 */
final class S390Boot {
    private static final int R_390_GLOB_DAT = 10;
    private static final int R_390_RELATIVE = 12;
    private static final int R_390_64 = 22;
    /** Bytes of an {@code Elf64_Sym}. */
    private static final int SYM = 24;
    /** How far before {@code .dynsym}'s address {@code vmlinux_info}'s image size is sought. */
    private static final int INFO_REACH = 0x80;
    /** The image size is the raw kernel's length rounded up to a page or a segment: at most this more. */
    private static final long IMAGE_ROUNDING = 1 << 20;

    private S390Boot() {
    }

    /**
     * @param raw   the raw kernel, relocated
     * @param base  its link address
     * @param bss   the size of its {@code .bss}, 0 when {@code vmlinux_info} does not say
     */
    record Relocated(byte[] raw, long base, long bss) {
    }

    /**
     * @param file the image, for messages
     * @param boot the boot image (holding {@code vmlinux_info})
     * @param raw  its decompressed raw kernel
     * @return a relocated copy of {@code raw}, with its link address and {@code .bss} size
     * @throws org.lkmpre.InputFormatException if the relocations or {@code vmlinux_info} cannot be found without doubt
     */
    static Relocated relocate(String file, byte[] boot, byte[] raw) {
        ByteBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.BIG_ENDIAN);
        RelaRun rela = RelaRun.longest(in, info -> (int) info == R_390_RELATIVE || (int) info == R_390_64
                || (int) info == R_390_GLOB_DAT)
                .orElseThrow(() -> refuse(file, "no .rela.dyn found, whose relocations the boot code applies"));
        int start = rela.start();
        int count = rela.count();
        ByteBuffer b = ByteBuffer.wrap(boot).order(ByteOrder.BIG_ENDIAN);
        int info = -1;
        OptionalLong base = OptionalLong.empty();
        for (int at = 8; at + 16 <= boot.length; at += 8) {
            long first = b.getLong(at);
            if (b.getLong(at + 8) - first == (long) RelaRun.ENTRY * count && first >= start) {
                if (base.isPresent() && base.getAsLong() != first - start) {
                    throw refuse(file, "two vmlinux_info structs name its .rela.dyn at different addresses");
                }
                base = OptionalLong.of(first - start);
                info = at;
            }
        }
        if (info < 0) {
            throw refuse(file, "the boot image holds no vmlinux_info naming its .rela.dyn");
        }
        long link = base.getAsLong();
        long dynsym = b.getLong(info - 8) - link;
        if (dynsym <= 0 || dynsym >= start || (start - dynsym) % SYM != 0) {
            throw refuse(file, "vmlinux_info's .dynsym (0x" + Long.toHexString(dynsym + link)
                    + ") does not end where .rela.dyn begins");
        }
        long symbols = (start - dynsym) / SYM;
        for (int i = 0; i < SYM; i++) {
            if (raw[(int) dynsym + i] != 0) {
                throw refuse(file, ".dynsym's first entry is not the null symbol");
            }
        }
        long bss = 0;
        for (int at = info - 16; at >= Math.max(0, info - INFO_REACH); at -= 8) {
            long size = b.getLong(at);
            if (size >= raw.length && size - raw.length < IMAGE_ROUNDING) {
                bss = Math.max(0, Math.min(b.getLong(at + 8), Decompression.MAX_KERNEL_BYTES));
                break;
            }
        }

        byte[] out = raw.clone();
        ByteBuffer o = ByteBuffer.wrap(out).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < count; i++) {
            int at = rela.entry(i);
            long place = in.getLong(at) - link;
            long symbol = in.getLong(at + 8) >>> 32;
            long value = in.getLong(at + 16);
            if (symbol >= symbols) {
                throw refuse(file, "a relocation names symbol " + symbol + ", which .dynsym (" + symbols + " entries) lacks");
            }
            if (symbol != 0) {
                int sym = (int) (dynsym + SYM * symbol);
                value += (in.getShort(sym + 6) != 0 ? in.getLong(sym + 8) : 0); // st_shndx, st_value
            }
            if (place >= 0 && place <= out.length - 8) {
                o.putLong((int) place, value);
            }
        }
        return new Relocated(out, link, bss);
    }

    private static org.lkmpre.InputFormatException refuse(String file, String why) {
        return RawImage.refuse(file, RawImage.Kind.S390_IMAGE, why);
    }
}
