# Sourced by the ci/ scripts that check outcomes one by one. Set checks_name first.
#   check DESCRIPTION COMMAND...   counts COMMAND's success; a failure prints "NAME: FAILED: DESCRIPTION"
#   checks_done                    prints "NAME: N passed, N failed" (the line CI reads); fails if any failed
passed=0
failed=0
check() {
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "$checks_name: FAILED: $what" >&2; fi
}
checks_done() {
    echo "$checks_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
