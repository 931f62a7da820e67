# sh4, little endian: Debian's gcc-sh4-linux-gnu 12.2, run with qemu-sh4.
# -O0: at -O1 and above this gcc drops the load from loops such as
#   char **f(char **p) { while (*p++ != 0); return p; }
# leaving a branch to itself (the SH back end's sh_treg_combine passes; no -f/-m flag tried
# here avoids it: see docs/targets.md). The core is correct at -O0, proven by conformance,
# and native/target/miscompile.c catches the bug if these flags change.
TARGET_CC = sh4-linux-gnu-gcc
TARGET_CFLAGS = -O0 -fno-pie -fno-stack-protector
TARGET_LDFLAGS = -nostdlib -static -no-pie -Wl,-z,noexecstack
TARGET_LIBS = -lgcc
TARGET_START = start_sh4.S
TARGET_EMULATOR = qemu-sh4
