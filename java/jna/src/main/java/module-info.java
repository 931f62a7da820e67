/** The C core through JNA (JDK 17+): a backend and a resolver, found as services. */
module org.lkmpre.jna {
    requires org.lkmpre.core;
    requires com.sun.jna;

    // JNA implements the Core library interface with a proxy and reads it reflectively.
    opens org.lkmpre.jna to com.sun.jna;

    provides org.lkmpre.preresolve.BackendProvider with org.lkmpre.jna.JnaBackendProvider;
    provides org.lkmpre.simulate.ResolverProvider with org.lkmpre.jna.JnaBackendProvider;
}
