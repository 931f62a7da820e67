# Sourced by the ci/ scripts: the JDK and Maven settings every build uses.
# The JDK: JAVA_HOME when it is set, else the newest JDK under /usr/lib/jvm (by the JAVA_VERSION
# of its release file). JDK 22 or newer builds everything; JDK 17-21 builds all but the FFM
# binding (Maven says so in one line), and the JNA binding serves the C core. The core targets
# Java 17 (--release 17) either way.
jdk_feature() { # JDK_DIR -> its feature version (17, 25, ...), or nothing
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null || true
}
if [ -z "${JAVA_HOME:-}" ]; then
    best=0
    for jdk in /usr/lib/jvm/*/; do
        jdk=${jdk%/}
        v=$(jdk_feature "$jdk")
        if [ -x "$jdk/bin/javac" ] && [ -n "$v" ] && [ "$v" -gt "$best" ]; then
            best=$v
            JAVA_HOME=$jdk
        fi
    done
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/javac" ]; then
    echo "ci: no JDK found (looked in /usr/lib/jvm; JAVA_HOME=${JAVA_HOME:-unset}); install JDK 17 or newer or set JAVA_HOME" >&2
    exit 2
fi
export JAVA_HOME
export PATH=$JAVA_HOME/bin:$PATH
LKMPRE_JDK=$(jdk_feature "$JAVA_HOME")
if [ "${LKMPRE_JDK:-0}" -lt 17 ]; then
    echo "ci: $JAVA_HOME is JDK ${LKMPRE_JDK:-of unknown version}; lkmpre needs JDK 17 or newer" >&2
    exit 2
fi
# Maven 3.8 on JDK 23+ warns about sun.misc.Unsafe in its own guava; silence only that. Older
# JDKs do not know the option, so it is taken out of an inherited MAVEN_OPTS (ci/jdk17 runs
# from ci/test, which set it for JDK 25).
unsafe=--sun-misc-unsafe-memory-access=allow
MAVEN_OPTS=${MAVEN_OPTS:-}
MAVEN_OPTS=${MAVEN_OPTS//$unsafe/}
if [ "$LKMPRE_JDK" -ge 23 ]; then
    MAVEN_OPTS="$MAVEN_OPTS $unsafe"
fi
export MAVEN_OPTS
