/* Regression test for Debian 12's sh4 gcc 12.2, which at -O1 and above compiles this loop
   into a branch to itself with no load. Built with each target's flags: exits 0 when the loop
   works; a miscompiled build never returns (the caller's timeout catches it). */
#include "rt.h"

char **skip_to_end(char **p);

__attribute__((noinline)) char **skip_to_end(char **p) {
    while (*p++ != 0)
        ;
    return p;
}

int rt_main(int argc, char **argv);

int rt_main(int argc, char **argv) {
    (void)argc;
    char *v[] = {argv[0], argv[0], argv[0], 0, argv[0]};
    return skip_to_end(v) == v + 4 ? 0 : 1;
}
