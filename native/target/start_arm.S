/* Entry point and system calls for 32-bit arm (EABI) Linux: number in r7, svc #0. */
    .syntax unified
    .arm
    .text
    .globl _start
    .type _start, %function
_start:
    ldr r0, [sp]
    add r1, sp, #4
    bic sp, sp, #7
    bl rt_main
    ldr r7, =248
    svc #0

    .globl rt_syscall3
    .type rt_syscall3, %function
rt_syscall3:
    push {r7, lr}
    mov r7, r0
    mov r0, r1
    mov r1, r2
    mov r2, r3
    svc #0
    pop {r7, pc}

    .globl rt_syscall4
    .type rt_syscall4, %function
rt_syscall4:
    push {r4, r5, r7, lr}
    mov r7, r0
    mov r0, r1
    mov r1, r2
    mov r2, r3
    ldr r3, [sp, #16]
    svc #0
    pop {r4, r5, r7, pc}
    .section .note.GNU-stack,"",%progbits
