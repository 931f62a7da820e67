package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Backends;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.testing.SyntheticElf;
import static org.lkmpre.testing.Outcomes.output;

/**
 * Inputs built to exhaust resources: huge section and symbol counts, long and unterminated
 * strings, and hostile paths. Each gets a clean answer, the same from every backend, or a
 * one-line error. (Decompression bombs: KernelSourceTest and ModuleCompressionTest in the core.)
 * The timeouts only stop a hang; speed is measured elsewhere.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LimitsTest {
    private static final int EM_X86_64 = 62;
    private static List<Backend> backends;
    private static long printkCrc;

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        backends.forEach(Backend::close);
    }

    @BeforeAll
    static void open() throws Exception {
        Preresolver java = Preresolver.create(new Vmlinux(CliRun.fixtures().resolve("boot/vmlinux")).read(),
                new PreresolveOptions(true, false));
        backends = new java.util.ArrayList<>(List.of(java));
        CliRun.nativeBackends().forEach(name -> backends.add(Backends.open(name, java)));
        printkCrc = java.kernel().find("fx_printk").orElseThrow().crc().orElseThrow();
    }

    /** Runs every backend; they must agree on the report and the bytes. @return the Java outcome */
    private static Outcome everyBackend(byte[] module) {
        Outcome java = backends.get(0).preresolve("limit.ko", module);
        byte[] javaBytes = output(java, module);
        for (Backend b : backends.subList(1, backends.size())) {
            Outcome o = b.preresolve("limit.ko", module);
            assertEquals(java.report(), o.report(), b.name());
            assertArrayEquals(javaBytes, output(o, module), b.name());
        }
        return java;
    }

    private static SyntheticElf.Sym undefined(String name) {
        return new SyntheticElf.Sym(name, 0, 0x10, 0);
    }

    /** A GPL module whose {@code __versions} carries fx_printk's CRC: fx_printk resolves, other names do not. */
    private static SyntheticElf module() {
        SyntheticElf m = new SyntheticElf(true, false);
        m.add(new SyntheticElf.Sec(".modinfo", 1, 2, 0, "license=GPL\0".getBytes(StandardCharsets.ISO_8859_1), 0, 0, 0));
        ByteBuffer versions = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(printkCrc)
                .put("fx_printk".getBytes(StandardCharsets.ISO_8859_1));
        m.add(new SyntheticElf.Sec("__versions", 1, 2, 0, versions.array(), 0, 0, 0));
        return m;
    }

    @Test
    void sixtyFiveThousandSections() {
        SyntheticElf m = module();
        for (int i = 0; i < 65_000; i++) {
            m.add(new SyntheticElf.Sec(".text." + i, 1, 6, 0, new byte[] {(byte) 0xc3}, 0, 0, 0));
        }
        m.addSymbols(List.of(undefined("fx_printk"), undefined("absent")));
        Outcome o = everyBackend(m.build(ElfFile.ET_REL, EM_X86_64));
        assertEquals("PRERESV limit.ko (1/2 preresolved)", o.report().line());
    }

    @Test
    void sectionCountThatDoesNotFit() {
        byte[] good = module().build(ElfFile.ET_REL, EM_X86_64);
        byte[] lie = good.clone();
        ByteBuffer.wrap(lie).order(ByteOrder.LITTLE_ENDIAN).putShort(60, (short) 0xfeff); // e_shnum
        Outcome o = everyBackend(lie);
        assertEquals(ModuleStatus.FAILED, o.report().status());
        assertTrue(o.report().message().contains("section header table"), o.report().message());
    }

    @Test
    void aMillionUndefinedSymbols() {
        List<SyntheticElf.Sym> syms = new ArrayList<>();
        for (int i = 0; i < 1_000_000; i++) {
            syms.add(undefined(i % 2 == 0 ? "fx_printk" : "absent_" + i));
        }
        SyntheticElf m = module();
        m.addSymbols(syms);
        Outcome o = everyBackend(m.build(ElfFile.ET_REL, EM_X86_64));
        assertEquals("PRERESV limit.ko (500000/1000000 preresolved)", o.report().line());
    }

    @Test
    void aSixteenMegabyteSymbolName() {
        SyntheticElf m = module();
        m.addSymbols(List.of(undefined("x".repeat(16 << 20)), undefined("fx_printk")));
        Outcome o = everyBackend(m.build(ElfFile.ET_REL, EM_X86_64));
        assertEquals("PRERESV limit.ko (1/2 preresolved)", o.report().line());
        assertEquals(16 << 20, o.report().unresolved().get(0).symbol().length());
    }

    @Test
    void aNameThatRunsOffTheStringTable() {
        SyntheticElf m = module();
        m.addSymbols(List.of(undefined("fx_printk")));
        byte[] data = m.build(ElfFile.ET_REL, EM_X86_64);
        ElfFile elf = ElfFile.parse("m", data);
        var strtab = elf.section(".strtab").orElseThrow();
        data[(int) (strtab.offset() + strtab.size() - 1)] = 'z'; // the table's last NUL
        Outcome o = everyBackend(data);
        assertEquals(ModuleStatus.FAILED, o.report().status(), o.report().line());
    }

    @Test
    void symbolicLinkLoopAsAnArgument() throws Exception {
        Files.createSymbolicLink(tmp.resolve("a"), tmp.resolve("b"));
        Files.createSymbolicLink(tmp.resolve("b"), tmp.resolve("a"));
        CliRun r = CliRun.of("preresolve", "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString(), "--dry-run",
                tmp.resolve("a").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("lkmpre: error: " + tmp.resolve("a") + ": Too many levels of symbolic links"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    /** Links inside a tree are not followed: a loop is harmless, and each module is found once. */
    @Test
    void symbolicLinkLoopInsideATree() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.copy(CliRun.fixtures().resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko"),
                tree.resolve("fx_good.ko"));
        Files.createSymbolicLink(tree.resolve("up"), Path.of(".."));
        Files.createSymbolicLink(tree.resolve("again.ko"), tree.resolve("fx_good.ko"));
        CliRun r = CliRun.of("preresolve", "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString(), "--dry-run",
                tmp.resolve("tree").toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("PRERESV sub/fx_good.ko (8/8 *fully* preresolved)", r.lines().get(0));
        assertEquals(2, r.lines().size(), r.out());
    }

    /** Deeper than PATH_MAX (4096): the walk stops with one line naming the directory. */
    @Test
    void treeDeeperThanPathMax() throws Exception {
        String name = "d".repeat(200);
        Path deep = Files.createDirectories(tmp.resolve("deep"));
        assertEquals(0, shell(deep, "mkdir -p " + (name + "/").repeat(30) + "; cd " + (name + "/").repeat(15) + "; : > " + (name + "/").repeat(15) + "m.ko"));
        CliRun r = CliRun.of("preresolve", "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString(), "--dry-run",
                tmp.resolve("deep").toString());
        // rm walks with openat(); the JDK (and @TempDir's clean-up) cannot reach past PATH_MAX.
        assertEquals(0, shell(tmp, "rm -rf deep"));
        assertEquals(2, r.status(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("lkmpre: error: " + tmp.resolve("deep")) && r.err().strip().endsWith("File name too long"),
                r.err());
    }

    /** Deep but legal: a thousand levels are walked without recursion. */
    @Test
    void aThousandLevels() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("t"));
        Path module = CliRun.fixtures().resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko");
        assertEquals(0, shell(dir, "mkdir -p " + "d/".repeat(1000) + "; cp " + module + " " + "d/".repeat(1000)));
        CliRun r = CliRun.of("preresolve", "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString(), "--dry-run",
                dir.toString());
        assertEquals(0, shell(tmp, "rm -rf t"));
        assertEquals(0, r.status(), r.err());
        assertEquals("PRERESV " + "d/".repeat(1000) + "fx_good.ko (8/8 *fully* preresolved)", r.lines().get(0));
    }

    private static int shell(Path dir, String script) throws Exception {
        return new ProcessBuilder("bash", "-ec", script).directory(dir.toFile()).inheritIO().start().waitFor();
    }
}
