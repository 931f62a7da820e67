/**
 * The {@code lkmpre} command line. Shipped as one class-path jar (java/cli/bin/lkmpre); as a
 * module it reads the core's API only, and picocli reflects on its commands.
 */
module org.lkmpre.cli {
    requires org.lkmpre.core;
    requires info.picocli;
    requires com.fasterxml.jackson.core;

    opens org.lkmpre.cli to info.picocli;
}
