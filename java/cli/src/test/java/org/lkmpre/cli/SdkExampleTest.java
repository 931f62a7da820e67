package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/sdk.md's example compiles against the SDK and does what the page says, in a JVM given only the class path. */
class SdkExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theDocumentedExampleCompilesAndRuns() throws Exception {
        Path root = Path.of(System.getProperty("lkmpre.toolchains")).getParent();
        String page = Files.readString(root.resolve("docs/sdk.md"));
        int start = page.indexOf("```java\n") + "```java\n".length();
        String source = page.substring(start, page.indexOf("```", start));
        Files.writeString(tmp.resolve("Example.java"), source);
        int javac = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", tmp.toString(),
                "-cp", CliRun.classPath(), tmp.resolve("Example.java").toString());
        assertEquals(0, javac, "docs/sdk.md's example does not compile");

        Path fx = CliRun.fixtures();
        List<String> cmd = CliRun.freshJvm("-Dlkmpre.cache=" + tmp.resolve("cache"));
        int cp = cmd.indexOf("-cp") + 1;
        cmd.set(cp, tmp + java.io.File.pathSeparator + cmd.get(cp));
        cmd.addAll(List.of("Example", fx.resolve("boot/vmlinux").toString(),
                fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel").toString(), tmp.resolve("out").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("LKMPRE_NATIVE_LIBRARY");
        Process p = pb.redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, p.waitFor(), String.join("\n", lines));
        assertEquals("backend: " + CliRun.nativeBackends().get(0) + ", 10 exports", lines.get(0));
        assertEquals("PRERESV fx_good.ko (8/8 *fully* preresolved)", lines.get(1));
        assertTrue(lines.get(2).matches("patched: \\d+ bytes"), lines.get(2));
        assertEquals(13, lines.stream().filter(l -> l.matches("\\[\\d+/13\\] (PRERESV|SKIPPED|REFUSED) .*")).count(),
                String.join("\n", lines));
        assertTrue(lines.get(lines.size() - 1).startsWith("lkmpre: 13 modules: 10 preresolved"), lines.get(lines.size() - 1));
        assertTrue(Files.isRegularFile(tmp.resolve("out/drivers/fx/fx_good.ko")));
    }
}
