package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.InputFormatException;

/**
 * Module.symvers and System.map combinations that cannot give the kernel's addresses are refused
 * or their exports marked: a Thumb-2 arm kernel (System.map clears the Thumb bit), an arm kernel
 * whose configuration is unknown, files of two builds, addresses outside the kernel's image.
 */
class SymversMapRulesTest {
    @TempDir
    Path tmp;

    private SymversMap write(String symvers, String systemMap) throws Exception {
        Path s = tmp.resolve("Module.symvers");
        Path m = tmp.resolve("System.map");
        Files.writeString(s, symvers);
        Files.writeString(m, systemMap);
        return new SymversMap(s, m);
    }

    private Optional<Path> config(String text) throws Exception {
        Path c = tmp.resolve("config");
        Files.writeString(c, text);
        return Optional.of(c);
    }

    private static final String SYMVERS = "0x12345678\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"
            + "0x9abcdef0\tbar\tvmlinux\tEXPORT_SYMBOL_GPL\t\n";

    private static final String ARM_MAP = "c0208000 T _text\nc0300000 T _stext\nc0300100 T foo\nc0300200 T __aeabi_uidiv\n"
            + "c0400000 D bar\nc0500000 r __ksymtab_foo\nc050000c r __ksymtab_bar\nc1000000 D __per_cpu_start\n"
            + "c1010000 D __per_cpu_end\nc1600000 B _end\n";

    @Test
    void thumb2ArmKernelIsRefused() throws Exception {
        SymversMap k = write(SYMVERS, ARM_MAP);
        InputFormatException e = assertThrows(InputFormatException.class,
                () -> k.read(config("CONFIG_ARM=y\nCONFIG_THUMB2_KERNEL=y\n")));
        assertTrue(e.getMessage().contains("is a Thumb-2 arm kernel's (CONFIG_THUMB2_KERNEL=y)"), e.getMessage());
        e = assertThrows(InputFormatException.class, () -> k.read(Optional.empty()));
        assertTrue(e.getMessage().contains("without its configuration (--config) lkmpre cannot tell whether it is Thumb-2"),
                e.getMessage());
        KernelSymbols arm = k.read(config("CONFIG_ARM=y\n# CONFIG_THUMB2_KERNEL is not set\n"));
        assertEquals(0xc0300100L, arm.find("foo").orElseThrow().address());
    }

    @Test
    void filesOfTwoBuildsAreRefused() throws Exception {
        SymversMap k = write(SYMVERS + "0x11111111\tbaz\tvmlinux\tEXPORT_SYMBOL\t\n",
                ARM_MAP.replace("c0300200 T __aeabi_uidiv\n", "") + "c0300300 T baz\n");
        InputFormatException e = assertThrows(InputFormatException.class, k::read);
        assertTrue(e.getMessage().endsWith("come from different builds: 1 exports are in one and not the other"
                + " (for example baz)"), e.getMessage());
    }

    @Test
    void anAddressOutsideTheImageIsMarked() throws Exception {
        String map = ARM_MAP.replace("c0300200 T __aeabi_uidiv\n", "").replace("c0400000 D bar", "00000000 D bar");
        KernelSymbols k = write(SYMVERS, map).read();
        assertTrue(k.find("bar").orElseThrow().outsideKernel());
        assertFalse(k.find("foo").orElseThrow().outsideKernel());
        assertEquals(0, k.machine(), "no __aeabi_ helper: not known to be arm");
    }
}
