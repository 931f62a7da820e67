#!/bin/sh
# Preresolve the modules `make modules_install` has just installed, in place:
#
#   make modules && make modules_install INSTALL_MOD_PATH="$STAGING"
#   docs/kbuild/lkmpre-modules-install.sh "$KBUILD_OUTPUT" "$STAGING" "$(make -s kernelrelease)"
#
# Runs after stripping (INSTALL_MOD_STRIP), signing (CONFIG_MODULE_SIG_ALL) and compression
# (CONFIG_MODULE_COMPRESS_*), all of which modules_install does: lkmpre decompresses each module,
# drops the old signature, preresolves, signs again with the build's key and compresses as before.
# depmod need not run again (docs/kbuild.md). Set LKMPRE to the command that runs lkmpre.
# Exit status: 0 done (a module lkmpre refuses, e.g. one built for another kernel, stays as it was);
# 2 the kernel or a path is unusable; 1 a module failed.
set -eu
objtree=$1
staging=$2
release=$3
set -- --kernel "$objtree/vmlinux"
if [ -f "$objtree/certs/signing_key.pem" ]; then
    set -- "$@" --strip-signature --sign-key "$objtree/certs/signing_key.pem" --sign-cert "$objtree/certs/signing_key.x509"
fi
# Without CONFIG_RANDOMIZE_BASE, or when the target boots with nokaslr, absolute addresses hold.
[ "${LKMPRE_ASSUME_NOKASLR:-}" = 1 ] && set -- "$@" --assume-nokaslr
log=$(mktemp)
trap 'rm -f "$log" "$log.rc"' EXIT
# shellcheck disable=SC2086 # LKMPRE may be a command with arguments
echo 0 > "$log.rc"
{ ${LKMPRE:-lkmpre} preresolve "$@" "$staging/lib/modules/$release/kernel" || echo $? > "$log.rc"; } | tee "$log"
status=$(cat "$log.rc")
if [ "$status" -eq 1 ] && ! grep -q '^FAILED ' "$log"; then
    status=0 # refused modules only: left as they were, they load as before
fi
exit "$status"
