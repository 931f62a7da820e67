# 32-bit arm (EABI, hard float): Debian's gcc-arm-linux-gnueabihf, run with qemu-arm. The
# driver is freestanding and static, so qemu needs no -L sysroot.
TARGET_CC = arm-linux-gnueabihf-gcc
TARGET_CFLAGS = -O2 -fno-pie -fno-stack-protector
TARGET_LDFLAGS = -nostdlib -static -no-pie -Wl,-z,noexecstack
TARGET_LIBS = -lgcc
TARGET_START = start_arm.S
TARGET_EMULATOR = qemu-arm
