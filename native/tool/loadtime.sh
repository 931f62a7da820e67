#!/bin/sh
# lkmpre-loadtime: times module loading inside the running kernel, on a board or in qemu. POSIX
# sh and busybox tools only (no JVM on the device); root, and a kernel with function_graph.
#
#   loadtime.sh [-r ROUNDS] [-w WALL_ROUNDS] MODULE.ko...      (modules in load order)
#
# Traced pass: each round loads every module with insmod, then unloads them in reverse order.
# Around each insmod the function_graph tracer records the module-loading functions this kernel
# lets it trace (load_module, resolve_symbol, do_init_module and their traceable neighbours:
# see `traced` in the output), and the script sums count and time per function. Untraced pass:
# WALL_ROUNDS more rounds with tracing off, timing the whole load loop, so that the tracer's own
# cost is known. Tracing is left as it was found. Output on stdout, one record a line:
#   lkmpre-loadtime 1
#   kernel RELEASE
#   traced FUNCTION...
#   T ROUND MODULE FUNCTION COUNT NS     (traced pass; per module, per traced function called)
#   L ROUND MODULE STATUS                (insmod's exit status)
#   W ROUND NS                           (untraced pass: the whole load loop)
# `lkmpre measure` reads it (docs/measure.md).
set -u
rounds=3
wall_rounds=3
while getopts r:w: opt; do
    case $opt in
        r) rounds=$OPTARG ;;
        w) wall_rounds=$OPTARG ;;
        *) echo "usage: loadtime.sh [-r ROUNDS] [-w WALL_ROUNDS] MODULE.ko..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "loadtime.sh: no modules given" >&2; exit 2; }

T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T 2>/dev/null
[ -e $T/trace ] || T=/sys/kernel/debug/tracing
[ -e $T/trace ] || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
[ -e $T/trace ] || { echo "loadtime.sh: no tracefs (CONFIG_FTRACE?)" >&2; exit 2; }
grep -qw function_graph $T/available_tracers || { echo "loadtime.sh: no function_graph tracer" >&2; exit 2; }

# What the kernel lets us trace: a function inlined or marked notrace is not in the list.
candidates="load_module resolve_symbol find_symbol simplify_symbols apply_relocate_add apply_relocate
 module_frob_arch_sections module_finalize module_alloc layout_symtab add_kallsyms mod_sysfs_setup
 do_init_module"
traced=""
for f in $candidates; do
    if awk -v f="$f" '$1 == f {found = 1; exit} END {exit !found}' $T/available_filter_functions; then
        traced="$traced $f"
    fi
done
case " $traced " in *" load_module "*) ;; *) echo "loadtime.sh: load_module is not traceable here" >&2; exit 2 ;; esac

# The state to restore.
old_tracer=$(cat $T/current_tracer)
old_on=$(cat $T/tracing_on)
old_filter=$(grep -v '^#' $T/set_ftrace_filter)
old_tail=$(cat $T/options/funcgraph-tail 2>/dev/null || echo "")
restore() {
    echo 0 > $T/tracing_on
    echo "$old_tracer" > $T/current_tracer
    echo > $T/set_ftrace_filter
    for f in $old_filter; do echo "$f" >> $T/set_ftrace_filter; done
    [ -z "$old_tail" ] || echo "$old_tail" > $T/options/funcgraph-tail
    echo "$old_on" > $T/tracing_on
}
trap restore EXIT INT TERM

name_of() { # the module name insmod registers: the file name without .ko, '-' as '_'
    basename "$1" .ko | tr - _
}

unload_all() {
    for m in "$@"; do echo "$m"; done | sed -n '1!G;h;$p' | while read -r m; do
        rmmod "$(name_of "$m")" 2>/dev/null
    done
}

now_ns() { # the kernel's clock in ns (/proc/timer_list), else /proc/uptime (centiseconds)
    if [ -r /proc/timer_list ]; then
        awk '/^now at [0-9]+ nsecs/ {print $3; exit}' /proc/timer_list
    else
        awk '{printf "%d\n", $1 * 1000000000}' /proc/uptime
    fi
}

echo "lkmpre-loadtime 1"
echo "kernel $(uname -r)"
echo "traced$traced"

echo 0 > $T/tracing_on
echo nop > $T/current_tracer
echo > $T/set_ftrace_filter
for f in $traced; do echo "$f" >> $T/set_ftrace_filter; done
echo 1 > $T/options/funcgraph-tail 2>/dev/null
echo function_graph > $T/current_tracer
r=1
while [ $r -le "$rounds" ]; do
    for m in "$@"; do
        echo > $T/trace
        echo 1 > $T/tracing_on
        insmod "$m" 2>/dev/null
        status=$?
        echo 0 > $T/tracing_on
        echo "L $r $(basename "$m") $status"
        # function_graph lines: "CPU) [marker] DURATION us | name();" for a call without traced
        # callees, "... | } /* name */" (funcgraph-tail) where one with traced callees returns.
        awk -v r="$r" -v m="$(basename "$m")" -F'|' '
            NF >= 2 && match($1, /[0-9]+\.[0-9]+ us/) {
                us = substr($1, RSTART, RLENGTH - 3)
                f = $2
                if (f ~ /\/\* .* \*\//) { sub(/.*\/\* /, "", f); sub(/ \*\/.*/, "", f) }
                else if (f ~ /\(\);/) { sub(/\(\);.*/, "", f); gsub(/[ \t]/, "", f) }
                else next
                n[f]++; ns[f] += us * 1000
            }
            END { for (f in n) printf "T %s %s %s %d %.0f\n", r, m, f, n[f], ns[f] }' $T/trace
    done
    unload_all "$@"
    r=$((r + 1))
done

echo 0 > $T/tracing_on
echo nop > $T/current_tracer
r=1
while [ $r -le "$wall_rounds" ]; do
    t0=$(now_ns)
    for m in "$@"; do insmod "$m" 2>/dev/null; done
    t1=$(now_ns)
    echo "W $r $((t1 - t0))"
    unload_all "$@"
    r=$((r + 1))
done
