# sh4, big endian: the same compiler with -mb. gcc cannot link big-endian sh4 (no big-endian
# emulation in its spec) and Debian ships no big-endian libgcc, so the objects are linked by ld
# directly, and the three division helpers the core needs come from native/target
# (divide_sh4eb.S, rt.c). -O0 for the same miscompile as sh4 (sh4.mk). Run with qemu-sh4eb.
TARGET_CC = sh4-linux-gnu-gcc
TARGET_CFLAGS = -mb -O0 -fno-pie -fno-stack-protector
TARGET_LD = sh4-linux-gnu-ld -m shlelf_linux -EB --oformat elf32-shbig-linux -static -z noexecstack
TARGET_START = start_sh4.S divide_sh4eb.S
TARGET_EMULATOR = qemu-sh4eb
