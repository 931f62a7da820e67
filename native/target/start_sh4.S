/* Entry point and system calls for SuperH Linux: number in r3, arguments in r4..r7,
   trapa #0x10 + argument count, result in r0. */
    .text
    .globl _start
_start:
    mov.l @r15, r4
    mov r15, r5
    add #4, r5
    mov.l main_addr, r0
    jsr @r0
    nop
    mov r0, r4
    mov.l exit_nr, r3
    trapa #0x11
    .align 2
main_addr:
    .long rt_main
exit_nr:
    .long 252

    .globl rt_syscall3
rt_syscall3:
    mov r4, r3
    mov r5, r4
    mov r6, r5
    mov r7, r6
    trapa #0x13
    rts
    nop

    .globl rt_syscall4
rt_syscall4:
    mov r4, r3
    mov r5, r4
    mov r6, r5
    mov r7, r6
    mov.l @r15, r7
    trapa #0x14
    rts
    nop
    .section .note.GNU-stack,"",@progbits
