# x86_64: the host gcc. Runs natively (no emulator).
TARGET_CC = gcc
TARGET_CFLAGS = -O2 -fno-pie -fno-stack-protector -fcf-protection=none
TARGET_LDFLAGS = -nostdlib -static -no-pie -Wl,-z,noexecstack
TARGET_LIBS = -lgcc
TARGET_START = start_x86_64.S
TARGET_EMULATOR =
