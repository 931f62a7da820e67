package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lkmpre.InputFormatException;
import org.lkmpre.OneLine;
import org.lkmpre.testing.RawKernels;

/**
 * Raw kernels (no ELF headers) read by their structure: each layout's fixture reads back to the
 * exports it was built from, and an image whose structure leaves any doubt is refused, never
 * guessed. Debian's real images are checked against their -dbg vmlinux in the CLI's
 * RealArchitecturesTest.
 */
class RawImageTest {
    private static final long ARM64_BASE = 0xffff_8000_0800_0000L;
    private static final long ARM_BASE = 0xc000_8000L;
    private static final long S390_BASE = 0x10_0000L;

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of("ARM64 Image", RawKernels.arm64Image(ARM64_BASE), 183, 8, 12),
                Arguments.of("ARM zImage", RawKernels.zImage(ARM_BASE), 40, 4, 12),
                // Big-endian, 64-bit, and a third of the values 0 until the boot relocations fill them.
                Arguments.of("s390 image", RawKernels.s390Image(S390_BASE), 22, 8, 24));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void eachLayoutReadsAsBuilt(String layout, RawKernels.Built built, int machine, int wordSize, int entry) {
        KernelSymbols read = Vmlinuz.parse("image", built.image());
        assertEquals(built.exports(), read.exports());
        assertEquals(Optional.of(RawKernels.BANNER), read.identity().banner());
        assertEquals(Optional.of(RawKernels.BUILD_ID), read.identity().buildId());
        assertEquals(machine, read.machine());
        assertEquals(wordSize, read.wordSize());
        assertTrue(read.hasCrcs());
        long strings = built.exports().stream().map(ExportedSymbol::name).filter(n -> !n.equals("tail"))
                .mapToLong(n -> n.length() + 1).sum() + "FX_NAMESPACE".length() + 1; // "tail" is merged into "merged_tail"
        assertEquals(Map.of("__ksymtab", 32L * entry, "__ksymtab_gpl", 16L * entry, "__kcrctab", 32L * 4, "__kcrctab_gpl", 16L * 4,
                "__ksymtab_strings", strings), read.exportSections());
    }

    /** An s390 image whose vmlinux_info does not name the raw kernel's .rela.dyn cannot be relocated: refused. */
    @Test
    void s390WithoutItsBootInfoIsRefused() {
        byte[] image = RawKernels.s390Image(S390_BASE).image();
        ByteBuffer info = ByteBuffer.wrap(image).order(ByteOrder.BIG_ENDIAN);
        info.putLong(0x11050, info.getLong(0x11050) - 24); // .rela.dyn's end, one entry short
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinuz.parse("image", image));
        assertEquals("is an s390 kernel image whose export tables cannot be found without doubt: the boot image holds no"
                + " vmlinux_info naming its .rela.dyn; give the vmlinux of the kernel's -dbg package or build tree", e.reason());
    }

    /** Without the boot header's .bss size, the export that lies in .bss fails the address guard (and is never written). */
    @Test
    void bssComesFromTheBootHeader() {
        byte[] zImage = RawKernels.zImage(ARM_BASE).image();
        ByteBuffer.wrap(zImage).order(ByteOrder.LITTLE_ENDIAN).putInt(0x104, 0); // no KBSZ tag
        KernelSymbols read = Vmlinuz.parse("zImage", zImage);
        assertEquals(1, read.exports().stream().filter(ExportedSymbol::outsideKernel).count());
        assertTrue(read.exports().stream().filter(ExportedSymbol::outsideKernel).allMatch(e -> e.address() > ARM_BASE + (1 << 20)));
    }

    private static InputFormatException refused(byte[] image) {
        return assertThrows(InputFormatException.class, () -> Vmlinuz.parse("Image", image));
    }

    private static String why(byte[] image) {
        String reason = refused(image).reason();
        assertTrue(reason.startsWith("is an ARM64 Image whose export tables cannot be found without doubt: "), reason);
        assertTrue(reason.endsWith("; give the vmlinux of the kernel's -dbg package or build tree"), reason);
        return reason;
    }

    /** The names fall in two places: not two sorted tables. */
    @Test
    void unsortedNamesAreRefused() {
        byte[] image = RawKernels.arm64Image(ARM64_BASE).image();
        int tables = 0x5000;
        swapNames(image, tables + 3 * 12, tables + 4 * 12);
        assertTrue(why(image).contains("not two sorted tables"));
    }

    /** The names rise throughout (every GPL name sorts after every plain one): where the GPL table begins cannot be told. */
    @Test
    void aSplitThatCannotBeToldIsRefused() {
        byte[] image = RawKernels.arm64Image(ARM64_BASE).image();
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int tables = 0x5000;
        java.util.List<Long> names = new java.util.ArrayList<>();
        for (int i = 0; i < 48; i++) {
            names.add(tables + i * 12 + 4L + b.getInt(tables + i * 12 + 4));
        }
        names.sort(java.util.Comparator.comparing(at -> nameAt(image, at)));
        for (int i = 0; i < 48; i++) {
            b.putInt(tables + i * 12 + 4, (int) (names.get(i) - (tables + i * 12 + 4)));
        }
        assertTrue(why(image).contains("its export names rise throughout: where __ksymtab_gpl begins cannot be told"));
    }

    private static String nameAt(byte[] image, long at) {
        int end = (int) at;
        while (image[end] != 0) {
            end++;
        }
        return new String(image, (int) at, end - (int) at, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** The bytes between the entries and the strings are not one CRC per entry. */
    @Test
    void crcsThatDoNotMatchTheEntriesAreRefused() {
        byte[] image = RawKernels.arm64Image(ARM64_BASE).image();
        int tables = 0x5000;
        // The first entry overwritten: the run of entries starts one later, and 48 CRCs follow 47 entries.
        Arrays.fill(image, tables, tables + 12, (byte) 0xee);
        assertTrue(why(image).contains("are not one CRC per entry"));
    }

    /** An ARM64 Image whose relocations cannot tell its link address. */
    @Test
    void arm64WithoutItsRelocationsIsRefused() {
        byte[] image = RawKernels.arm64Image(ARM64_BASE).image();
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 8 <= image.length; at += 8) {
            if (b.getLong(at) == 1027) {
                b.putLong(at, 1025); // R_AARCH64_GLOB_DAT
            }
        }
        assertTrue(why(image).contains("no R_AARCH64_RELATIVE relocations found"));
        image = RawKernels.arm64Image(ARM64_BASE).image();
        // Every place filled with its neighbour's bytes: no base leaves them all 0.
        b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at + 24 <= image.length; at += 8) {
            if (b.getLong(at + 8) == 1027) {
                long place = b.getLong(at) - ARM64_BASE;
                b.putLong((int) place, 0x1234);
            }
        }
        assertTrue(why(image).contains("no link address fits its R_AARCH64_RELATIVE relocations"));
    }

    /** Exchanges the name fields (PREL32) of two entries, keeping each pointing at its name. */
    private static void swapNames(byte[] image, int a, int b) {
        ByteBuffer buf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        long nameA = a + 4 + buf.getInt(a + 4);
        long nameB = b + 4 + buf.getInt(b + 4);
        buf.putInt(a + 4, (int) (nameB - (a + 4)));
        buf.putInt(b + 4, (int) (nameA - (b + 4)));
    }

    /**
     * Hostile raw kernels: bytes flipped, runs zeroed, the image cut short. Each is read or
     * refused in one line naming the file; nothing else escapes.
     */
    @Test
    void hostileRawKernelsAreReadOrRefusedInOneLine() {
        byte[] arm64 = RawKernels.arm64Image(ARM64_BASE).image();
        byte[] zImage = RawKernels.zImage(ARM_BASE).image();
        byte[] s390 = RawKernels.s390Image(S390_BASE).image();
        Random random = new Random(22);
        int refusedCount = 0;
        for (int trial = 0; trial < 400; trial++) {
            byte[] image = (trial % 8 == 7 ? zImage : trial % 8 == 3 || trial % 8 == 6 ? s390 : arm64).clone();
            int cut = image.length;
            switch (trial % 4) {
                case 0 -> image[random.nextInt(image.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> {
                    int at = random.nextInt(image.length);
                    Arrays.fill(image, at, Math.min(image.length, at + random.nextInt(64)), (byte) random.nextInt(256));
                }
                case 2 -> cut = 0x40 + random.nextInt(image.length - 0x40);
                default -> {
                    for (int i = 0; i < 16; i++) {
                        image[random.nextInt(image.length)] = (byte) random.nextInt(256);
                    }
                }
            }
            byte[] input = Arrays.copyOf(image, cut);
            try {
                Vmlinuz.parse("hostile", input);
            } catch (InputFormatException e) {
                refusedCount++;
                assertEquals("hostile", e.file());
                assertEquals(OneLine.of(e.getMessage()), e.getMessage());
            }
        }
        assertTrue(refusedCount > 50, refusedCount + " refused");
    }
}
