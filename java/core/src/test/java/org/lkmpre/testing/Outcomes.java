package org.lkmpre.testing;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.lkmpre.preresolve.Outcome;

/** What the tests read from an {@link Outcome}: the patched module. */
public final class Outcomes {
    private Outcomes() {
    }

    /** @return the module patched by a preresolved outcome; fails the test for any other outcome */
    public static byte[] patched(Outcome outcome, byte[] module) {
        return assertInstanceOf(Outcome.Preresolved.class, outcome, outcome.report().line()).patch().apply(module);
    }

    /** @return the module patched, or null when the outcome carries no patch */
    public static byte[] output(Outcome outcome, byte[] module) {
        return outcome instanceof Outcome.Preresolved p ? p.patch().apply(module) : null;
    }
}
