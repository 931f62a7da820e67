/* Entry point and system calls for x86_64 Linux: argc at (%rsp), argv after it. */
    .text
    .globl _start
_start:
    xor %ebp, %ebp
    mov (%rsp), %rdi
    lea 8(%rsp), %rsi
    and $-16, %rsp
    call rt_main
    mov %eax, %edi
    mov $231, %eax
    syscall
    hlt

    .globl rt_syscall3
rt_syscall3:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    syscall
    ret

    .globl rt_syscall4
rt_syscall4:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    syscall
    ret
    .section .note.GNU-stack,"",@progbits
