package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.OneLine;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.kernel.Vmlinuz;
import org.lkmpre.module.KernelModule;
import org.lkmpre.module.ModuleCompression;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.testing.Fixtures;

/**
 * Coverage-guided fuzzing (Jazzer) of the Java reference, with the C core run on the same input
 * wherever it has a twin: both accept or both reject, and what both accept comes out byte-equal.
 * Any exception other than {@link InputFormatException} escaping the Java reference is a finding.
 *
 * <p>Under {@code mvn test} each harness replays its inputs in {@code DifferentialFuzzTestInputs/}
 * (seeds, and every finding kept as a regression test). {@code ci/fuzz-java NAME SECONDS} fuzzes
 * one harness (docs/fuzzing.md).
 */
class DifferentialFuzzTest {
    private static final Target X86_64 = Target.load("x86_64");
    private static final Target SH4EB = Target.load("sh4eb");
    /** Names every index query looks up: the fixture kernel's exports, and two it lacks. */
    private static final List<byte[]> NAMES = queryNames();

    /** A fixture kernel, its Java reference preresolver and the C core's backend over the same index. */
    private record Target(Preresolver java, Backend c) {
        static Target load(String arch) {
            try {
                KernelSymbols kernel = new Vmlinux(Fixtures.x86_64().resolveSibling(arch).resolve("boot/vmlinux")).read();
                Preresolver java = Preresolver.create(kernel, new PreresolveOptions(true, false));
                return new Target(java, new FfmBackend(java));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A module: same report and same bytes from the reference and the C core; the result is a valid module. */
    @FuzzTest(maxDuration = "30s")
    void module(byte[] data) {
        Target t = data.length > 4 && data[4] == 1 ? SH4EB : X86_64;
        Outcome java = t.java().preresolve("fuzz.ko", data);
        Outcome c = t.c().preresolve("fuzz.ko", data);
        assertEquals(java.report(), c.report());
        assertEquals(java.getClass(), c.getClass());
        if (java instanceof Outcome.Preresolved p) {
            byte[] out = p.patch().apply(data);
            assertArrayEquals(out, ((Outcome.Preresolved) c).patch().apply(data));
            assertTrue(KernelModule.parse("fuzz.ko (patched)", out).isPreresolved());
        }
        assertOneLine(java.report().line());
    }

    /** An index: both open it or both refuse it; then the same answers and counts for every strategy. */
    @FuzzTest(maxDuration = "30s")
    void index(byte[] data) {
        ByteArrayNames names = new ByteArrayNames(NAMES);
        TableSet set = new TableSet(List.of(data), names.bytes);
        Optional<Resolver> java = open(() -> Resolver.java(set));
        Optional<Resolver> c = open(() -> new FfmResolver(set));
        assertEquals(java.isPresent(), c.isPresent(), "one implementation accepts the index, the other refuses it");
        if (java.isEmpty()) {
            return;
        }
        try (Resolver j = java.get(); Resolver n = c.get()) {
            for (Strategy s : Strategy.values()) {
                for (boolean prehashed : new boolean[] {false, true}) {
                    int[] jOut = new int[2 * names.queries.size()];
                    int[] nOut = new int[jOut.length];
                    LookupStats jStats = new LookupStats();
                    LookupStats nStats = new LookupStats();
                    j.resolve(names.queries, 0, names.queries.size(), s, prehashed, jOut, jStats);
                    n.resolve(names.queries, 0, names.queries.size(), s, prehashed, nOut, nStats);
                    assertArrayEquals(jOut, nOut, s + (prehashed ? " prehashed" : ""));
                    assertArrayEquals(counts(jStats), counts(nStats), s + (prehashed ? " prehashed" : ""));
                }
            }
        }
    }

    /**
     * A kernel image: the reference reads its exports, or refuses it; the C core's index builder
     * refuses it too, or writes the index the reference writes, byte for byte. The embedded
     * configuration, which only Java reads, must parse or be refused as well.
     */
    @FuzzTest(maxDuration = "30s")
    void kernel(byte[] data) {
        byte[] java;
        try {
            java = KernelIndex.write(Vmlinux.readExports("fuzz-vmlinux", data));
        } catch (InputFormatException e) {
            assertOneLine(e.getMessage());
            java = null;
        }
        byte[] c = NativeIndex.build(data);
        assertEquals(java != null, c != null, "one implementation accepts the kernel, the other refuses it");
        if (java != null) {
            assertArrayEquals(java, c);
        }
        try {
            Vmlinux.parse("fuzz-vmlinux", data);
        } catch (InputFormatException e) {
            assertOneLine(e.getMessage());
        }
    }

    /** A compressed module (Java only): decompresses within the cap, or is refused. */
    @FuzzTest(maxDuration = "30s")
    void compressedModule(byte[] data) {
        try {
            byte[] plain = ModuleCompression.detect("fuzz.ko.xz", data).decompress("fuzz.ko.xz", data);
            assertTrue(plain.length <= ModuleCompression.MAX_MODULE_BYTES);
        } catch (InputFormatException e) {
            assertOneLine(e.getMessage());
        }
    }

    /** A compressed kernel image (Java only): an ELF payload comes out, or it is refused; and so are its exports. */
    @FuzzTest(maxDuration = "30s")
    void vmlinuz(byte[] data) {
        try {
            assertTrue(ElfFile.hasElfMagic(Vmlinuz.extract("fuzz-vmlinuz", data)));
        } catch (InputFormatException e) {
            assertOneLine(e.getMessage());
        }
        try {
            Vmlinuz.parse("fuzz-vmlinuz", data); // a bzImage's payload read from its first part, or whole
        } catch (InputFormatException e) {
            assertOneLine(e.getMessage());
        }
    }

    /**
     * A boot image whose kernel may be raw (Java only; seeds: an ARM64 Image and an ARM zImage):
     * its exports are read, or it is refused in one line naming the file.
     */
    @FuzzTest(maxDuration = "30s")
    void rawKernel(byte[] data) {
        try {
            assertTrue(Vmlinuz.parse("fuzz-raw", data).exports().size() > 0);
        } catch (InputFormatException e) {
            assertTrue(e.file().startsWith("fuzz-raw"), e.file());
            assertOneLine(e.getMessage());
        }
    }

    private static void assertOneLine(String message) {
        assertEquals(OneLine.of(message), message);
    }

    private static long[] counts(LookupStats s) {
        return new long[] {s.lookups, s.stringCompares, s.bloomRejections, s.chainSteps};
    }

    private interface Opener {
        Resolver open();
    }

    private static Optional<Resolver> open(Opener o) {
        try {
            return Optional.of(o.open());
        } catch (InputFormatException e) {
            return Optional.empty();
        }
    }

    private static List<byte[]> queryNames() {
        List<byte[]> out = new ArrayList<>();
        for (ExportedSymbol e : X86_64.java().kernel().exports()) {
            out.add(e.name().getBytes(StandardCharsets.ISO_8859_1));
        }
        out.add("not_exported".getBytes(StandardCharsets.ISO_8859_1));
        out.add(new byte[0]);
        return out;
    }

    /** The query names back to back, and one query per name over table 0. */
    private static final class ByteArrayNames {
        final byte[] bytes;
        final Queries queries = new Queries();

        ByteArrayNames(List<byte[]> names) {
            bytes = new byte[names.stream().mapToInt(n -> n.length).sum()];
            int at = 0;
            for (byte[] n : names) {
                System.arraycopy(n, 0, bytes, at, n.length);
                queries.add(n, at, 0, 0, 1);
                at += n.length;
            }
        }
    }

    /** {@code lkmpre_index_build} through FFM: the C core's reading of a kernel image. */
    private static final class NativeIndex {
        private static final MethodHandle BUILD = Core.downcall("lkmpre_index_build", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

        /** @return the index, or null if the core refuses the image */
        static byte[] build(byte[] vmlinux) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment in = arena.allocate(Math.max(1, vmlinux.length));
                MemorySegment.copy(vmlinux, 0, in, JAVA_BYTE, 0, vmlinux.length);
                MemorySegment needs = arena.allocate(JAVA_LONG, 2);
                MemorySegment err = arena.allocate(NativeLibrary.ERROR_SIZE);
                MemorySegment out = MemorySegment.NULL;
                MemorySegment scratch = MemorySegment.NULL;
                while (true) {
                    int st = (int) BUILD.invokeExact(in, (long) vmlinux.length, 0, out, out.byteSize(), needs,
                            scratch, scratch.byteSize(), needs.asSlice(8), err);
                    if (st == NativeLibrary.ERR_SPACE) {
                        out = arena.allocate(Math.max(8, needs.get(JAVA_LONG, 0)), 8);
                        scratch = arena.allocate(Math.max(8, needs.get(JAVA_LONG, 8)), 8);
                        continue;
                    }
                    return st == 0 ? out.asSlice(0, needs.get(JAVA_LONG, 0)).toArray(JAVA_BYTE) : null;
                }
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
        }
    }
}
