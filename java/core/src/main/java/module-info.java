/**
 * lkmpre's core: the ELF layer, the kernel symbol sources, the export index, the Java reference
 * preresolver and the loader simulator. The native bindings ({@code org.lkmpre.ffm},
 * {@code org.lkmpre.jna}) provide the C core's backends and resolvers as services (and FFM a
 * fast xz decoder); what they share with this module ({@code org.lkmpre.internal}: the
 * library's location, the result decoder, the report builder, the whole-file run's and the xz
 * decoder's interfaces) is exported to them alone.
 */
module org.lkmpre.core {
    requires org.apache.commons.compress;
    requires org.tukaani.xz;
    requires com.github.luben.zstd_jni;
    requires org.bouncycastle.pkix;
    requires org.bouncycastle.provider;

    exports org.lkmpre;
    exports org.lkmpre.elf;
    exports org.lkmpre.index;
    exports org.lkmpre.kernel;
    exports org.lkmpre.measure;
    exports org.lkmpre.module;
    exports org.lkmpre.preresolve;
    exports org.lkmpre.simulate;
    exports org.lkmpre.internal to org.lkmpre.ffm, org.lkmpre.jna;

    uses org.lkmpre.preresolve.BackendProvider;
    uses org.lkmpre.simulate.ResolverProvider;
    uses org.lkmpre.internal.XzDecoder;
}
