/* Division for big-endian sh4, which has no libgcc here (Debian's cross gcc ships none for
   -mb). gcc calls __udivsi3_i4i with its own convention: dividend r4, divisor r5, quotient
   r0, and it assumes every other register except r1, r4, r5, T and PR keeps its value. This
   wrapper saves all it may touch and calls the plain C rt_udiv32 (rt.c). */
    .text
    .globl __udivsi3_i4i
__udivsi3_i4i:
    sts.l pr, @-r15
    mov.l r1, @-r15
    mov.l r2, @-r15
    mov.l r3, @-r15
    mov.l r4, @-r15
    mov.l r5, @-r15
    mov.l r6, @-r15
    mov.l r7, @-r15
    mov.l r14, @-r15
    sts.l macl, @-r15
    sts.l mach, @-r15
    mov.l udiv32, r0
    jsr @r0
    nop
    lds.l @r15+, mach
    lds.l @r15+, macl
    mov.l @r15+, r14
    mov.l @r15+, r7
    mov.l @r15+, r6
    mov.l @r15+, r5
    mov.l @r15+, r4
    mov.l @r15+, r3
    mov.l @r15+, r2
    mov.l @r15+, r1
    lds.l @r15+, pr
    rts
    nop
    .align 2
udiv32:
    .long rt_udiv32
    .section .note.GNU-stack,"",@progbits
