package org.lkmpre.kernel;

import java.util.Objects;
import java.util.Optional;

/**
 * What identifies a kernel build, so that a report records which kernel its addresses belong to.
 *
 * @param banner  the {@code linux_banner} string ("Linux version 6.1.0-57-amd64 ..."), if found
 * @param buildId the GNU build ID from the kernel's notes, as lower-case hex, if present
 */
public record KernelIdentity(Optional<String> banner, Optional<String> buildId) {
    /** Checks that no component is null. */
    public KernelIdentity {
        Objects.requireNonNull(banner);
        Objects.requireNonNull(buildId);
    }

    /** An identity with nothing known. */
    public static final KernelIdentity UNKNOWN = new KernelIdentity(Optional.empty(), Optional.empty());

    /** @return the release ("6.1.0-57-amd64"): the banner's third word, if the banner is known */
    public Optional<String> release() {
        return banner.map(b -> b.split(" ")).filter(w -> w.length > 2).map(w -> w[2]).filter(r -> !r.isEmpty());
    }
}
