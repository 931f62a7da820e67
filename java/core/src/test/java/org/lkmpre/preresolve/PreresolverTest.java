package org.lkmpre.preresolve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Symbol;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.SymversMap;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;
import org.lkmpre.testing.SyntheticElf;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.lkmpre.testing.Outcomes.patched;

class PreresolverTest {
    private static KernelSymbols kernel;
    private static Preresolver preresolver;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        kernel = new Vmlinux(Fixtures.vmlinux()).read();
        preresolver = Preresolver.create(kernel, new PreresolveOptions(true, false));
    }

    private static Outcome run(String module) throws Exception {
        return preresolver.preresolve(module + ".ko", Files.readAllBytes(Fixtures.module(module)));
    }

    /** module, preresolved, undefined, the symbols left UND as name=reason (';'-separated) */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "fx_good            | 8 | 8 | ",
        "fx_signed          | 8 | 8 | ",
        "fx_crc_mismatch    | 1 | 2 | fx_kfree=crc-mismatch",
        "fx_proprietary     | 1 | 2 | fx_gpl_register=gpl-only",
        "fx_no_license      | 0 | 1 | fx_gpl_unregister=gpl-only",
        "fx_no_import       | 1 | 2 | fx_usb_thing=namespace-not-imported",
        "fx_unresolvable    | 1 | 2 | fx_does_not_exist=not-exported-by-vmlinux",
        "fx_consumer        | 1 | 2 | fx_provider_fn=not-exported-by-vmlinux",
        "fx_provider        | 1 | 1 | ",
        "fx_no_versions     | 0 | 1 | fx_printk=no-modversions",
        "fx_missing_version | 1 | 2 | fx_kfree=missing-version",
    })
    void decidesEachSymbolAsTheKernelWould(String module, int preresolved, int undefined, String left) throws Exception {
        Outcome o = run(module);
        ModuleReport r = o.report();
        assertEquals(ModuleStatus.PRERESOLVED, r.status(), r.message());
        assertEquals(preresolved, r.preresolved());
        assertEquals(undefined, r.undefined());
        String got = r.unresolved().stream().map(u -> u.symbol() + "=" + u.reason().code()).collect(Collectors.joining(";"));
        assertEquals(left == null ? "" : left, got);
        assertEquals(preresolved == undefined, r.fully());
        assertInstanceOf(Outcome.Preresolved.class, o);
    }

    @Test
    void patchedSymbolsMatchSystemMapPerReadelf() throws Exception {
        Map<String, String> nm = new HashMap<>();
        for (String line : Files.readAllLines(Fixtures.x86_64().resolve("System.map"))) {
            String[] f = line.split(" ");
            nm.put(f[2], f[0].replaceFirst("^0+(?=.)", ""));
        }
        byte[] original = Files.readAllBytes(Fixtures.module("fx_good"));
        Path out = tmp.resolve("fx_good.ko");
        Files.write(out, patched(run("fx_good"), original));
        String readelf = Fixtures.run("readelf", "-sW", out.toString());
        Map<String, String> abs = new LinkedHashMap<>();
        readelf.lines().map(String::trim).map(l -> l.split("\\s+"))
                .filter(f -> f.length == 8 && f[6].equals("ABS")).forEach(f -> abs.put(f[7], f[1].replaceFirst("^0+(?=.)", "")));
        abs.keySet().retainAll(nm.keySet());
        assertEquals(8, abs.size(), readelf);
        abs.forEach((name, value) -> assertEquals(nm.get(name), value, name));
        assertTrue(Fixtures.run("readelf", "-SW", out.toString()).contains(".preresolved"));
    }

    /** The identity check: a module built for another kernel release is refused before it is written. */
    @Test
    void refusesModulesBuiltForAnotherKernel() throws Exception {
        Outcome o = run("fx_other_kernel");
        assertEquals(ModuleStatus.REFUSED, o.report().status());
        assertEquals("module is built for kernel 6.1.0-56-amd64, kernel is 6.1.0-lkmpre-fixture: its addresses would be wrong",
                o.report().message());
        assertInstanceOf(Outcome.Refused.class, o);
    }

    @Test
    void markedModuleIsLeftAlone() throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.module("fx_good"));
        byte[] once = patched(run("fx_good"), original);
        Outcome again = preresolver.preresolve("fx_good.ko", once);
        assertEquals(ModuleStatus.ALREADY_PRERESOLVED, again.report().status());
        assertInstanceOf(Outcome.AlreadyPreresolved.class, again);
        assertEquals(ModuleStatus.ALREADY_PRERESOLVED, run("fx_already").report().status());
    }

    @Test
    void strippingTheSignatureGivesTheUnsignedResult() throws Exception {
        byte[] good = patched(run("fx_good"), Files.readAllBytes(Fixtures.module("fx_good")));
        byte[] signed = patched(run("fx_signed"), Files.readAllBytes(Fixtures.module("fx_signed")));
        assertArrayEquals(good, signed);

        Preresolver strict = Preresolver.create(kernel, PreresolveOptions.DEFAULTS);
        Outcome o = strict.preresolve("fx_signed.ko", Files.readAllBytes(Fixtures.module("fx_signed")));
        assertEquals(ModuleStatus.REFUSED, o.report().status());
        assertTrue(o.report().message().contains("--strip-signature"));
        assertInstanceOf(Outcome.Refused.class, o);
    }

    @Test
    void symversSourceNamesTheExportingModule() throws Exception {
        KernelSymbols symvers = new SymversMap(Fixtures.x86_64().resolve("Module.symvers"), Fixtures.x86_64().resolve("System.map")).read();
        Preresolver p = Preresolver.create(symvers, PreresolveOptions.DEFAULTS);
        byte[] data = Files.readAllBytes(Fixtures.module("fx_consumer"));
        Outcome o = p.preresolve("fx_consumer.ko", data);
        assertEquals("exported by drivers/fx/fx_provider", o.report().unresolved().get(0).detail());
        // Same kernel, other source: the same bytes.
        assertArrayEquals(patched(run("fx_consumer"), data), patched(o, data));
    }

    @Test
    void refusesKaslrKernelsUnlessTold() throws Exception {
        KernelSymbols kaslr = new Vmlinux(Fixtures.x86_64().resolve("boot/vmlinux-ikconfig-kaslr")).read();
        InputFormatException e = assertThrows(InputFormatException.class, () -> Preresolver.create(kaslr, PreresolveOptions.DEFAULTS));
        assertTrue(e.reason().contains("CONFIG_RANDOMIZE_BASE=y"), e.reason());
        assertDoesNotThrow(() -> Preresolver.create(kaslr, new PreresolveOptions(false, true)));
    }

    @Test
    void refusesModulesForAnotherArchitecture() {
        SyntheticElf w = new SyntheticElf(false, true);
        w.addSymbols(List.of(new SyntheticElf.Sym("fx_printk", 0, 0x10, 0)));
        Outcome o = preresolver.preresolve("sh4.ko", w.build(ElfFile.ET_REL, 42));
        assertEquals(ModuleStatus.REFUSED, o.report().status());
        assertTrue(o.report().message().contains("ELF32 module for an ELF64 kernel"), o.report().message());
    }

    @Test
    void preresolvesBigEndian32BitModules() {
        long base = 0x8c001000L;
        SyntheticElf k = new SyntheticElf(false, true);
        k.add(new SyntheticElf.Sec(".text", 1, 6, 0x8c000000L, new byte[0x100], 0, 0, 0));
        k.add(new SyntheticElf.Sec("__ksymtab_strings", 1, 2, base, "sh_fn\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, 0, 1));
        k.add(new SyntheticElf.Sec("__ksymtab", 1, 2, base + 0x100, k.words(0x8c000040L, base, 0), 0, 0, 0));
        KernelSymbols sh4 = Vmlinux.parse("vmlinux-sh4eb", k.build(ElfFile.ET_EXEC, 42));
        SyntheticElf m = new SyntheticElf(false, true);
        m.add(new SyntheticElf.Sec(".modinfo", 1, 2, 0, "license=GPL\0".getBytes(StandardCharsets.ISO_8859_1), 0, 0, 0));
        m.addSymbols(List.of(new SyntheticElf.Sym("sh_fn", 0, 0x10, 0), new SyntheticElf.Sym("other", 0, 0x10, 0)));
        byte[] module = m.build(ElfFile.ET_REL, 42);
        Outcome o = Preresolver.create(sh4, PreresolveOptions.DEFAULTS).preresolve("m.ko", module);
        assertEquals("PRERESV m.ko (1/2 preresolved)", o.report().line());
        ElfFile patched = ElfFile.parse("m.ko", patched(o, module));
        Symbol s = patched.symbols(patched.symbolTable().orElseThrow()).get(1);
        assertEquals(0x8c000040L, s.value());
        assertEquals(Symbol.SHN_ABS, s.shndx());
    }

    /** Random damage to a real module: a clean FAILED report or a valid patch, never an exception. */
    @Test
    void survivesRandomCorruption() throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.module("fx_good"));
        Random random = new Random(20261202);
        int failed = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] data = original.clone();
            int flips = 1 + random.nextInt(8);
            for (int f = 0; f < flips; f++) {
                // Aim at the headers half the time: that is where damage matters most.
                int at = random.nextBoolean() ? random.nextInt(64) : random.nextInt(data.length);
                data[at] = (byte) random.nextInt(256);
            }
            Outcome o = preresolver.preresolve("mutant.ko", data);
            if (o instanceof Outcome.Failed) {
                failed++;
                assertTrue(!o.report().message().isEmpty() && !o.report().message().contains("\n"));
            } else if (o instanceof Outcome.Preresolved p) {
                byte[] out = p.patch().apply(data);
                assertDoesNotThrow(() -> ElfFile.parse("out.ko", out));
            }
        }
        assertTrue(failed > 100, "mutations should often break the module: " + failed);
    }

    @Test
    void reportLines() {
        assertEquals("PRERESV drivers/ata/libata.ko (205/232 preresolved)",
                new ModuleReport("drivers/ata/libata.ko", ModuleStatus.PRERESOLVED, 232, 205, List.of(), "").line());
        assertEquals("PRERESV drivers/i2c/i2c-core.ko (47/47 *fully* preresolved)",
                new ModuleReport("drivers/i2c/i2c-core.ko", ModuleStatus.PRERESOLVED, 47, 47, List.of(), "").line());
    }
}
