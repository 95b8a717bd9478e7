#!/usr/bin/env bash
# Runs Tailor's whole test suite (all modules) with a JDK >= 25, found as ./tailor finds it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/bin/jdk.sh"
require_jdk
cd "$here"
exec mvn -B -ntp test "$@"
