/**
 * The SDK: the one dependency a tool adds. It reads the core's API; the native bindings
 * ({@code org.lkmpre.ffm}, {@code org.lkmpre.jna}), which this artifact brings along, are
 * bound as service providers.
 */
module org.lkmpre.sdk {
    requires transitive org.lkmpre.core;
}
