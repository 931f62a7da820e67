package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.testing.Fixtures;
import org.lkmpre.testing.SyntheticElf;

class KernelSourceTest {
    @TempDir
    Path tmp;

    /** name -> "address kind namespace crc", from oracles lkmpre did not write: nm and exports.tsv. */
    private static Map<String, String> expectedExports() throws Exception {
        Map<String, Long> nm = new HashMap<>();
        for (String line : Files.readAllLines(Fixtures.x86_64().resolve("System.map"))) {
            String[] f = line.split(" ");
            nm.put(f[2], Long.parseUnsignedLong(f[0], 16));
        }
        Map<String, String> out = new HashMap<>();
        for (String[] row : Fixtures.symversRows()) {
            if (row[2].equals("vmlinux")) {
                out.put(row[1], Long.toHexString(nm.get(row[1])) + " " + row[3] + " " + row[4] + " " + row[0]);
            }
        }
        return out;
    }

    private static Map<String, String> describe(KernelSymbols k) {
        return k.exports().stream().collect(Collectors.toMap(ExportedSymbol::name, e -> Long.toHexString(e.address())
                + " " + e.kind() + " " + e.namespace() + " " + String.format("0x%08x", e.crc().orElseThrow())));
    }

    @Test
    void vmlinuxExportsMatchNmAndExportsTable() throws Exception {
        KernelSymbols k = new Vmlinux(Fixtures.vmlinux()).read();
        Map<String, String> expected = expectedExports();
        assertEquals(10, expected.size());
        assertEquals(expected, describe(k));
        assertEquals(0x10, k.find("fx_cpu_number").orElseThrow().address(), "per-CPU offset, masked");
        assertEquals(8, k.wordSize());
        assertEquals(62, k.machine());
        assertTrue(k.hasCrcs());
        // The kernel's bsearch needs each table sorted by name; the layout keeps that order.
        List<String> plain = k.exports().stream().filter(e -> !e.kind().gplOnly()).map(ExportedSymbol::name).toList();
        assertEquals(plain.stream().sorted().toList(), plain);
        assertTrue(k.config().isEmpty());
    }

    @Test
    void identityMatchesReadelf() throws Exception {
        KernelSymbols k = new Vmlinux(Fixtures.vmlinux()).read();
        String notes = Fixtures.run("readelf", "-n", Fixtures.vmlinux().toString());
        String buildId = notes.lines().filter(l -> l.contains("Build ID:")).map(l -> l.replaceAll(".*Build ID: ", "").trim())
                .findFirst().orElseThrow();
        assertEquals(Optional.of(buildId), k.identity().buildId());
        assertEquals(Optional.of(Fixtures.RELEASE), k.identity().release());
    }

    @ParameterizedTest
    @ValueSource(strings = {"vmlinuz/vmlinuz.gz", "vmlinuz/vmlinuz.xz", "vmlinuz/vmlinuz.zst", "vmlinuz/vmlinuz.lzma",
        "vmlinuz/vmlinuz.lz4", "vmlinuz/vmlinuz.bz2", "boot/vmlinuz-" + Fixtures.RELEASE})
    void compressedImagesGiveTheSameTable(String image) throws Exception {
        KernelSource source = KernelSource.detect(Fixtures.x86_64().resolve(image));
        assertInstanceOf(Vmlinuz.class, source);
        KernelSymbols k = source.read();
        assertEquals(expectedExports(), describe(k));
        assertEquals(new Vmlinux(Fixtures.vmlinux()).read().identity(), k.identity());
    }

    @Test
    void configFoundBesideImageOrEmbedded() throws Exception {
        KernelSymbols besides = KernelSource.detect(Fixtures.x86_64().resolve("boot/vmlinuz-" + Fixtures.RELEASE))
                .read(Optional.empty());
        assertTrue(besides.config().orElseThrow().randomizesBase());
        assertTrue(besides.config().get().origin().endsWith("config-" + Fixtures.RELEASE));

        KernelSymbols embedded = new Vmlinux(Fixtures.x86_64().resolve("boot/vmlinux-ikconfig-kaslr")).read();
        assertTrue(embedded.config().orElseThrow().randomizesBase());
        assertTrue(embedded.config().get().origin().startsWith("embedded IKCONFIG"));

        Path config = tmp.resolve("my.config");
        Files.writeString(config, "# CONFIG_RANDOMIZE_BASE is not set\nCONFIG_MODVERSIONS=y\n");
        KernelSymbols explicit = new Vmlinux(Fixtures.x86_64().resolve("boot/vmlinux-ikconfig-kaslr")).read(Optional.of(config));
        assertFalse(explicit.config().orElseThrow().randomizesBase());
        assertTrue(explicit.config().get().isEnabled("MODVERSIONS"));
    }

    @Test
    void symversAndSystemMapGiveTheSameTable() throws Exception {
        KernelSymbols k = new SymversMap(Fixtures.x86_64().resolve("Module.symvers"), Fixtures.x86_64().resolve("System.map")).read();
        assertEquals(expectedExports(), describe(k));
        assertEquals(Optional.of("drivers/fx/fx_provider"), k.exportingModule("fx_provider_fn"));
        assertTrue(k.find("fx_provider_fn").isEmpty(), "a module's export never gets an absolute address");
        assertEquals(8, k.wordSize());
    }

    @Test
    void symversErrorsNameTheFile() throws Exception {
        Path symvers = Fixtures.x86_64().resolve("Module.symvers");
        Path placeholder = tmp.resolve("System.map");
        Files.writeString(placeholder, "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n");
        InputFormatException e = assertThrows(InputFormatException.class, () -> new SymversMap(symvers, placeholder).read());
        assertEquals(placeholder.toString(), e.file());

        Path partial = tmp.resolve("partial.map");
        Files.writeString(partial, "ffffffff81000000 T fx_printk\n");
        e = assertThrows(InputFormatException.class, () -> new SymversMap(symvers, partial).read());
        assertTrue(e.reason().contains("has no address for"), e.reason());

        Path badCrc = tmp.resolve("Module.symvers");
        Files.writeString(badCrc, "12345678\tfx_printk\tvmlinux\tEXPORT_SYMBOL\t\n");
        e = assertThrows(InputFormatException.class,
                () -> new SymversMap(badCrc, Fixtures.x86_64().resolve("System.map")).read());
        assertTrue(e.reason().contains("line 1"), e.reason());

        e = assertThrows(InputFormatException.class,
                () -> new SymversMap(tmp.resolve("missing"), Fixtures.x86_64().resolve("System.map")).read());
        assertTrue(e.reason().contains("no such file"), e.reason());
    }

    @Test
    void rejectsImagesWithoutKernel() throws Exception {
        byte[] junk = new byte[100_000];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) (i * 31 + 7);
        }
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinuz.extract("junk", junk));
        assertTrue(e.reason().contains("no compressed vmlinux payload"), e.reason());
        // A magic number followed by garbage is tried and rejected, not trusted.
        junk[500] = (byte) 0xfd;
        System.arraycopy("7zXZ\0".getBytes(StandardCharsets.ISO_8859_1), 0, junk, 501, 5);
        e = assertThrows(InputFormatException.class, () -> Vmlinuz.extract("junk", junk));
        assertTrue(e.reason().contains("tried xz x1"), e.reason());

        Path module = Fixtures.module("fx_good");
        e = assertThrows(InputFormatException.class, () -> new Vmlinux(module).read());
        assertTrue(e.reason().contains("relocatable"), e.reason());
    }

    /**
     * Boot images whose kernel is a raw image (no ELF headers: arm64, arm, s390) have no vmlinux
     * to extract, and say so; an image of no such format whose only payload decompresses to
     * something other than ELF is refused with what to give instead; a small non-ELF stream (a
     * stray match in boot code) is not taken for a kernel.
     */
    @Test
    void rawImagesHaveNoVmlinuxToExtract() throws Exception {
        byte[] arm64 = new byte[1 << 16];
        System.arraycopy(new byte[] {'A', 'R', 'M', 0x64}, 0, arm64, 0x38, 4);
        byte[] zImage = new byte[1 << 16];
        java.nio.ByteBuffer.wrap(zImage).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0x24, 0x016f2818);
        byte[] s390 = new byte[0x20000];
        System.arraycopy("S390EP".getBytes(StandardCharsets.ISO_8859_1), 0, s390, 0x10008, 6);
        for (var c : List.of(Map.entry(arm64, "an ARM64 Image"), Map.entry(zImage, "an ARM zImage"),
                Map.entry(s390, "an s390 kernel image"))) {
            InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinuz.extract("boot", c.getKey()));
            assertEquals("is " + c.getValue() + ": its kernel is a raw image, with no vmlinux to extract (lkmpre reads its"
                    + " exports from the image itself; a vmlinux comes from the kernel's -dbg package or build tree)", e.reason());
        }
        for (int size : new int[] {(1 << 20) - 1, 1 << 20}) {
            byte[] raw = new byte[size];
            new java.util.Random(size).nextBytes(raw);
            raw[0] = 0; // not ELF
            java.io.ByteArrayOutputStream image = new java.io.ByteArrayOutputStream();
            image.write(new byte[4096]);
            try (var xz = new org.tukaani.xz.XZOutputStream(image, new org.tukaani.xz.LZMA2Options(0))) {
                xz.write(raw);
            }
            InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinuz.extract("image", image.toByteArray()));
            assertEquals(size < 1 << 20 ? "no compressed vmlinux payload found (tried xz x1)"
                    : "is a compressed kernel image whose payload (xz at offset 4096, 1048576 bytes) is a raw image without"
                    + " ELF section headers, through which lkmpre finds the export tables; give the vmlinux of the"
                    + " kernel's -dbg package or build tree", e.reason());
        }
    }

    /**
     * An embedded configuration (IKCONFIG) that inflates past 16 MiB is refused as it streams. It
     * is looked for in .rodata, where kernel/configs.c puts it: the same bytes after the last
     * section are no configuration of the kernel's, until .rodata's header says they are its own.
     */
    @Test
    void capsEmbeddedConfig() throws Exception {
        byte[] vmlinux = Files.readAllBytes(Fixtures.vmlinux());
        java.io.ByteArrayOutputStream image = new java.io.ByteArrayOutputStream();
        image.writeBytes(vmlinux);
        image.writeBytes("IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1));
        try (var gz = new java.util.zip.GZIPOutputStream(image)) {
            byte[] lines = "# padding\n".repeat(1 << 16).getBytes(StandardCharsets.ISO_8859_1);
            for (long written = 0; written <= 16 << 20; written += lines.length) {
                gz.write(lines);
            }
            gz.finish();
            image.writeBytes("IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1));
        }
        byte[] bytes = image.toByteArray();
        assertEquals(Vmlinux.parse("vmlinux", vmlinux).config(), Vmlinux.parse("vmlinux", bytes).config());
        // The fixture is ELF64, little-endian: .rodata's sh_offset and sh_size now span the bomb.
        int rodata = ElfFile.parse("vmlinux", vmlinux).section(".rodata").orElseThrow().index();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int header = (int) b.getLong(0x28) + rodata * (b.getShort(0x3a) & 0xffff);
        b.putLong(header + 0x18, vmlinux.length).putLong(header + 0x20, bytes.length - vmlinux.length);
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinux.parse("vmlinux", bytes));
        assertEquals("decompressed data exceeds the limit of 16777216 bytes", e.reason());
    }

    @Test
    void capsDecompressedSize() throws Exception {
        byte[] image = Files.readAllBytes(Fixtures.x86_64().resolve("vmlinuz/vmlinuz.xz"));
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinuz.extract("bomb", image, 4096));
        assertTrue(e.reason().contains("exceeds the limit of 4096 bytes"), e.reason());
    }

    /** A 32-bit kernel with absolute-pointer entries, as arm and sh4 lay them out, in either byte order. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsAbsolutePointerTables(boolean msb) {
        long base = 0xc0008000L;
        SyntheticElf w = new SyntheticElf(false, msb);
        byte[] strings = "foo\0bar\0NS1\0\0".getBytes(StandardCharsets.ISO_8859_1);
        long strAddr = base + 0x1000;
        long ksymAddr = base + 0x2000;
        w.add(new SyntheticElf.Sec(".text", 1, 6, base, new byte[64], 0, 0, 0));
        w.add(new SyntheticElf.Sec("__ksymtab_strings", 1, 2, strAddr, strings, 0, 0, 1));
        // {value, name, namespace}: foo has no namespace (NULL), bar is in NS1.
        w.add(new SyntheticElf.Sec("__ksymtab", 1, 2, ksymAddr,
                w.words(base + 0x10, strAddr, 0, base + 0x20, strAddr + 4, strAddr + 8), 0, 0, 0));
        ByteBuffer crcs = ByteBuffer.allocate(8).order(w.order()).putInt(0xdeadbeef).putInt(0x01020304);
        w.add(new SyntheticElf.Sec("__kcrctab", 1, 2, base + 0x3000, crcs.array(), 0, 0, 0));
        KernelSymbols k = Vmlinux.parse("vmlinux32", w.build(ElfFile.ET_EXEC, 42));
        assertEquals(2, k.exports().size());
        ExportedSymbol foo = k.find("foo").orElseThrow();
        assertEquals(base + 0x10, foo.address());
        assertEquals("", foo.namespace());
        assertEquals(0xdeadbeefL, foo.crc().orElseThrow());
        ExportedSymbol bar = k.find("bar").orElseThrow();
        assertEquals("NS1", bar.namespace());
        assertEquals(0x01020304L, bar.crc().orElseThrow());
        assertEquals(4, k.wordSize());
    }

    @Test
    void rejectsUnknownTableLayouts() {
        SyntheticElf w = new SyntheticElf(true, false);
        w.add(new SyntheticElf.Sec("__ksymtab_strings", 1, 2, 0x1000, "foo\0".getBytes(StandardCharsets.ISO_8859_1), 0, 0, 1));
        w.add(new SyntheticElf.Sec("__ksymtab", 1, 2, 0x2000, new byte[13], 0, 0, 0));
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinux.parse("odd", w.build(ElfFile.ET_EXEC, 62)));
        assertTrue(e.reason().contains("no known struct kernel_symbol layout"), e.reason());
    }
}
