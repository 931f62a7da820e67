/**
 * The C core through java.lang.foreign (JDK 22+): a backend and a resolver, found as services;
 * and the system's liblzma as a fast xz decoder for kernel images.
 */
module org.lkmpre.ffm {
    requires org.lkmpre.core;

    provides org.lkmpre.preresolve.BackendProvider with org.lkmpre.ffm.FfmBackendProvider;
    provides org.lkmpre.simulate.ResolverProvider with org.lkmpre.ffm.FfmBackendProvider;
    provides org.lkmpre.internal.XzDecoder with org.lkmpre.ffm.FfmXzDecoder;
}
