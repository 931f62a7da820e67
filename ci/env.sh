# Sourced by the ci/ scripts: the JDK and Maven settings every build uses.
# JDK 25 (Temurin) builds; the core still targets Java 17 (--release 17).
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"2[5-9]'; then
    for jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64; do
        if [ -x "$jdk/bin/java" ]; then
            export JAVA_HOME=$jdk
            break
        fi
    done
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
    echo "ci: no JDK 25 found (looked in /usr/lib/jvm); set JAVA_HOME" >&2
    exit 2
fi
export PATH=$JAVA_HOME/bin:$PATH
# Maven 3.8 on JDK 25 warns about sun.misc.Unsafe in its own guava; silence only that.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
