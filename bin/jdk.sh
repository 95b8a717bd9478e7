# Sourced by ./tailor and ./test.sh: find_jdk prints the home of a JDK >= 25 (with javac), looking at
# JAVA_HOME, then `java` on PATH, then the newest under /usr/lib/jvm; it fails when there is none.

java_major() {
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1
}

is_jdk25() {
    local java="$1" v
    [ -x "$java" ] && [ -x "$(dirname "$java")/javac" ] || return 1
    v="$(java_major "$java")"
    [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null
}

find_jdk() {
    if [ -n "${JAVA_HOME:-}" ] && is_jdk25 "$JAVA_HOME/bin/java"; then
        echo "$JAVA_HOME"; return 0
    fi
    if command -v java >/dev/null 2>&1; then
        local j
        j="$(readlink -f "$(command -v java)")"
        if is_jdk25 "$j"; then dirname "$(dirname "$j")"; return 0; fi
    fi
    local best="" best_v=0 d v
    for d in /usr/lib/jvm/*/; do
        d="${d%/}"
        is_jdk25 "$d/bin/java" || continue
        v="$(java_major "$d/bin/java")"; v="${v%%.*}"
        if [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
    done
    [ -n "$best" ] && echo "$best"
}

require_jdk() {
    if ! JAVA_HOME="$(find_jdk)" || [ -z "$JAVA_HOME" ]; then
        echo "tailor: needs a JDK 25 or newer (with javac); none found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
        echo "Install one (e.g. Eclipse Temurin 25: 'apt-get install temurin-25-jdk' from the Adoptium repository)" >&2
        echo "and set JAVA_HOME to it." >&2
        exit 2
    fi
    export JAVA_HOME
    command -v mvn >/dev/null 2>&1 || { echo "tailor: building needs Apache Maven (apt-get install maven)." >&2; exit 2; }
}
