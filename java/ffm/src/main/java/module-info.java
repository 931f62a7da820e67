/** The C core through java.lang.foreign (JDK 22+): a backend and a resolver, found as services. */
module org.lkmpre.ffm {
    requires org.lkmpre.core;

    provides org.lkmpre.preresolve.BackendProvider with org.lkmpre.ffm.FfmBackendProvider;
    provides org.lkmpre.simulate.ResolverProvider with org.lkmpre.ffm.FfmBackendProvider;
}
