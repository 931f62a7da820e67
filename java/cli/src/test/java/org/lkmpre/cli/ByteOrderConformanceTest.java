package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Backends;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.testing.SyntheticElf;
import static org.lkmpre.testing.Outcomes.patched;

/**
 * The C core on every ELF class and byte order (the host toolchain builds only ELF64 LE): a
 * synthetic kernel with absolute-pointer exports and CRCs, and a module with __versions,
 * .modinfo and undefined symbols, preresolved by every backend.
 */
class ByteOrderConformanceTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "ELF{0} msb={1}")
    @CsvSource({"32,false", "32,true", "64,false", "64,true"})
    void everyBackendAgreesOnEveryClassAndByteOrder(int bits, boolean msb) throws Exception {
        boolean is64 = bits == 64;
        long base = is64 ? 0xffffffff80001000L : 0xc0001000L;
        SyntheticElf k = new SyntheticElf(is64, msb);
        byte[] strings = "ok_fn\0gpl_fn\0ns_fn\0NS1\0bad_crc\0".getBytes(StandardCharsets.ISO_8859_1);
        long str = base + 0x1000;
        k.add(new SyntheticElf.Sec(".text", 1, 6, base, new byte[0x100], 0, 0, 0));
        k.add(new SyntheticElf.Sec("__ksymtab_strings", 1, 2, str, strings, 0, 0, 1));
        k.add(new SyntheticElf.Sec("__ksymtab", 1, 2, base + 0x2000,
                k.words(base + 0x10, str, 0, base + 0x30, str + 13, str + 19, base + 0x40, str + 23, 0), 0, 0, 0));
        k.add(new SyntheticElf.Sec("__ksymtab_gpl", 1, 2, base + 0x3000, k.words(base + 0x20, str + 6, 0), 0, 0, 0));
        ByteBuffer crcs = ByteBuffer.allocate(12).order(k.order()).putInt(0x11111111).putInt(0x22222222).putInt(0x33333333);
        k.add(new SyntheticElf.Sec("__kcrctab", 1, 2, base + 0x4000, crcs.array(), 0, 0, 0));
        k.add(new SyntheticElf.Sec("__kcrctab_gpl", 1, 2, base + 0x5000,
                ByteBuffer.allocate(4).order(k.order()).putInt(0x44444444).array(), 0, 0, 0));
        byte[] vmlinux = k.build(ElfFile.ET_EXEC, 42);
        KernelSymbols kernel = Vmlinux.parse("vmlinux", vmlinux);
        // The C core reads the same kernel into the same index bytes.
        Path in = tmp.resolve("vmlinux");
        Path out = tmp.resolve("c.lkmidx");
        Files.write(in, vmlinux);
        Process p = new ProcessBuilder(System.getProperty("lkmpre.native.driver"), "index", in.toString(), out.toString())
                .inheritIO().start();
        assertEquals(0, p.waitFor());
        assertArrayEquals(KernelIndex.write(kernel), Files.readAllBytes(out));

        SyntheticElf m = new SyntheticElf(is64, msb);
        m.add(new SyntheticElf.Sec(".modinfo", 1, 2, 0, "license=Proprietary\0name=m\0".getBytes(StandardCharsets.ISO_8859_1), 0, 0, 0));
        int w = m.wordSize();
        ByteBuffer versions = ByteBuffer.allocate(64 * 4).order(m.order());
        long[] crc = {0x11111111L, 0x44444444L, 0x22222222L, 0x12345678L};
        String[] names = {"ok_fn", "gpl_fn", "ns_fn", "bad_crc"};
        for (int i = 0; i < 4; i++) {
            if (is64) {
                versions.putLong(64 * i, crc[i]);
            } else {
                versions.putInt(64 * i, (int) crc[i]);
            }
            versions.put(64 * i + w, names[i].getBytes(StandardCharsets.ISO_8859_1));
        }
        m.add(new SyntheticElf.Sec("__versions", 1, 2, 0, versions.array(), 0, 0, 0));
        m.addSymbols(List.of(new SyntheticElf.Sym("local", 4, 0x02, 1), new SyntheticElf.Sym("ok_fn", 0, 0x10, 0),
                new SyntheticElf.Sym("gpl_fn", 0, 0x10, 0), new SyntheticElf.Sym("ns_fn", 0, 0x10, 0),
                new SyntheticElf.Sym("bad_crc", 0, 0x10, 0), new SyntheticElf.Sym("other_module_fn", 0, 0x20, 0)));
        byte[] module = m.build(ElfFile.ET_REL, 42);

        Preresolver reference = Preresolver.create(kernel, PreresolveOptions.DEFAULTS);
        Outcome expected = reference.preresolve("m.ko", module);
        assertEquals("PRERESV m.ko (1/5 preresolved)", expected.report().line());
        assertEquals(ModuleStatus.PRERESOLVED, expected.report().status());
        for (String name : CliRun.nativeBackends()) {
            try (Backend b = Backends.open(name, reference)) {
                Outcome got = b.preresolve("m.ko", module);
                assertEquals(expected.report(), got.report(), name);
                assertArrayEquals(patched(expected, module), patched(got, module), name);
                // A damaged copy: both reject it the same way.
                byte[] bad = module.clone();
                bad[4] = 7;
                assertEquals(reference.preresolve("bad.ko", bad).report(), b.preresolve("bad.ko", bad).report(), name);
            }
        }
    }
}
