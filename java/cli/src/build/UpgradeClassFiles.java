import java.io.IOException;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Rewrites the class files of one package in a jar from a pre-Java-6 class file version to
 * Java 8's (52), with stack map frames, so that class data sharing can archive them: the JVM
 * does not archive classes older than version 50 once it has linked them, and picocli is
 * compiled for Java 5, so the CLI loaded and verified its 150 classes from the jar on every run
 * (about 65 ms of a run; docs/cli.md, START-UP). Only the version and the frames change; every
 * rewritten class is checked by the class file verifier of the JDK that runs this, and the build
 * fails on any error. Entries keep their order and times, so the jar stays reproducible.
 *
 * <p>Run by the cli module's {@code cds} profile (JDK 24+, for java.lang.classfile) after the
 * jar is shaded: {@code java UpgradeClassFiles.java JAR PACKAGE_PREFIX}.
 */
public final class UpgradeClassFiles {
    private static final int TARGET = ClassFile.JAVA_8_VERSION;
    /** The first version whose classes the JVM archives after linking them. */
    private static final int ARCHIVABLE = 50;

    public static void main(String[] args) throws IOException {
        Path jar = Path.of(args[0]);
        String prefix = args[1];
        Path tmp = jar.resolveSibling(jar.getFileName() + ".upgrading");
        int upgraded = 0;
        try (JarFile in = new JarFile(jar.toFile());
             URLClassLoader classes = new URLClassLoader(new java.net.URL[] {jar.toUri().toURL()}, null);
             OutputStream file = Files.newOutputStream(tmp);
             JarOutputStream out = new JarOutputStream(file)) {
            ClassFile cf = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
                            .orElse(ClassHierarchyResolver.ofResourceParsing(classes))));
            for (JarEntry e : Collections.list(in.entries())) {
                byte[] bytes = in.getInputStream(e).readAllBytes();
                if (e.getName().startsWith(prefix) && e.getName().endsWith(".class")) {
                    ClassModel model = cf.parse(bytes);
                    if (model.majorVersion() < ARCHIVABLE) {
                        bytes = upgrade(cf, model);
                        upgraded++;
                    }
                }
                JarEntry copy = new JarEntry(e.getName());
                copy.setTime(e.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        }
        Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("UpgradeClassFiles: " + upgraded + " classes under " + prefix + " in " + jar.getFileName()
                + " now class file version " + TARGET);
    }

    /** @return the class at version {@link #TARGET}, its methods' code rebuilt with frames and verified */
    private static byte[] upgrade(ClassFile cf, ClassModel model) {
        ClassTransform version = (builder, element) -> {
            if (element instanceof ClassFileVersion) {
                builder.withVersion(TARGET, 0);
            } else {
                builder.with(element);
            }
        };
        byte[] bytes = cf.transformClass(model, ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                .andThen(version));
        List<VerifyError> errors = cf.verify(bytes);
        if (!errors.isEmpty()) {
            throw new IllegalStateException(model.thisClass().asInternalName() + " does not verify at version "
                    + TARGET + ": " + errors);
        }
        return bytes;
    }
}
