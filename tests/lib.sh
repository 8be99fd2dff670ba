# shellcheck shell=sh disable=SC2034 # (what it sets is for the tests that source it)
# tests/lib.sh: the helpers the shell tests of tests/cli and tests/interop share. POSIX sh
# (dash); sourced, never run. A test sets `me` (the first word of its messages) and sources
# it after its usage and skip checks:
#
#     me=resume
#     # shellcheck source=SCRIPTDIR/../lib.sh
#     . "$(dirname "$0")/../lib.sh"
#
# Sourcing sets bad=0 and pids="" and defines the functions below; nothing else runs.
# Their own variables start with lib_, so that they clobber none of the test's.
#
#   make_tmp                 tmp: a new directory ${TMPDIR:-/tmp}/mica-$me.XXXXXX (exit 2
#                            when it cannot be made). On exit every process in $pids is
#                            killed and tmp removed (KEEP=1 keeps it and prints its path);
#                            HUP, INT, PIPE and TERM exit 1 (through the same cleanup).
#   use_timeout CLIENT [SERVER]
#                            to="timeout CLIENT" (put before every client) and
#                            to_srv="timeout --foreground SERVER" (before every server; empty without
#                            SERVER); both empty when timeout(1) is not installed
#   fail WHAT...             prints "$me: FAIL: WHAT" and sets bad=1 (the test goes on)
#   excerpt FILE             FILE's first 25 lines, indented, for a failure message
#   has FILE ERE WHAT        fails (WHAT: ...) unless FILE has a line matching ERE
#   hasnt FILE ERE WHAT      fails (WHAT: ...) when FILE has a line matching ERE
#   await FILE ERE [N]       waits (at most 5 s) until FILE has N (default 1) lines
#                            matching ERE; no failure of its own
#   rm_pid PID               PID (waited for) no longer needs killing at exit
#   spawn_server [-a] [-i FILE] [-n N] LOG ERE CMD...
#                            starts a server (under $to_srv) on $port and waits until it
#                            listens (see below)
#   stop_server PID LOG      SIGTERM to the mica server PID (stderr in LOG); it must exit 0
#                            within 10 s with no sanitizer report in LOG; sets st
#   lib_reap PID LOG         waits (at most 10 s) for a server sent SIGTERM to exit; fails
#                            and kills it (saying where it hangs) when it does not
: "${me:?set me=NAME before sourcing tests/lib.sh}"

bad=0
pids=""

# lib_cleanup: the EXIT trap of make_tmp
lib_cleanup() {
    for lib_p in $pids; do
        kill "$lib_p" 2>/dev/null
    done
    if [ -n "${KEEP:-}" ]; then
        echo "$me: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}

make_tmp() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-$me.XXXXXX") || exit 2
    trap lib_cleanup EXIT
    trap 'exit 1' HUP INT PIPE TERM
}

use_timeout() {
    to=""
    to_srv=""
    if command -v timeout >/dev/null 2>&1; then
        to="timeout $1"
        if [ $# -ge 2 ]; then
            # --foreground: the stop signal goes to the server alone. Without it timeout(1)
            # also sends it, and then SIGCONT, to its whole process group; a SIGCONT that
            # lands while the sanitizers' leak check is attaching to the exiting server
            # (under ptrace) cancels that attach's SIGSTOP, and the check then waits for
            # ever: the server "still running 10 s after SIGTERM" seen under load in CI
            to_srv="timeout --foreground $2"
        fi
    fi
}

fail() {
    echo "$me: FAIL: $*"
    bad=1
}

excerpt() {
    if [ -s "$1" ]; then
        printf '\n'
        sed -n '1,25p' "$1" | sed 's/^/      | /'
    else
        printf ' (%s is empty)' "${1##*/}"
    fi
}

has() {
    grep -Eq -- "$2" "$1" || fail "$3: no line /$2/ in ${1##*/}:$(excerpt "$1")"
}

hasnt() {
    if grep -Eq -- "$2" "$1"; then
        fail "$3: a line /$2/ in ${1##*/}:$(excerpt "$1")"
    fi
}

# lib_count FILE ERE: the number of FILE's lines matching ERE (0 when there is no FILE)
lib_count() {
    if [ -f "$1" ]; then
        grep -Ec -- "$2" "$1"
    else
        echo 0
    fi
}

await() {
    lib_i=0
    while [ "$(lib_count "$1" "$2")" -lt "${3:-1}" ] && [ $lib_i -lt 50 ]; do
        sleep 0.1
        lib_i=$((lib_i + 1))
    done
}

rm_pid() {
    pids=$(printf ' %s ' "$pids" | sed "s/ $1 / /")
}

# lib_subst TEXT: lib_s is TEXT with every @PORT@ replaced by $port
lib_subst() {
    lib_s=$1
    lib_r=""
    while :; do
        case $lib_s in
        *@PORT@*)
            lib_r=$lib_r${lib_s%%@PORT@*}$port
            lib_s=${lib_s#*@PORT@}
            ;;
        *)
            lib_s=$lib_r$lib_s
            return 0
            ;;
        esac
    done
}

# spawn_server [-a] [-i FILE] [-n N] LOG ERE CMD...: runs CMD in the background under
# $to_srv (see use_timeout), every @PORT@ in its arguments and in ERE replaced by $port,
# its standard input /dev/null (with -i: FILE), its stderr (with -a: its stdout too) in
# LOG, and waits (at most 10 s) until LOG has a line (with -n: N lines) matching ERE. A
# server that says the address is "in use" is stopped and started again with port moved
# up by 7, 5 times at most. Once it listens: srv_pid is its process (added to $pids),
# srv_port=$port, and port moves up by 1 for the next server. Status 1 when it did not
# start (it is stopped; LOG says why): the caller says so, and fails or exits.
spawn_server() {
    lib_all=0
    lib_in=/dev/null
    lib_want=1
    while :; do
        case $1 in
        -a)
            lib_all=1
            shift
            ;;
        -i)
            lib_in=$2
            shift 2
            ;;
        -n)
            lib_want=$2
            shift 2
            ;;
        *) break ;;
        esac
    done
    lib_log=$1
    lib_ere=$2
    shift 2
    lib_tries=0
    while :; do
        : >"$lib_log" # (not the last try's "in use")
        # in a subshell, which exec makes the server itself (so that srv_pid is the
        # server's), the arguments with the port
        (
            lib_n=$#
            for lib_a in "$@"; do
                lib_subst "$lib_a"
                set -- "$@" "$lib_s"
            done
            shift "$lib_n"
            # shellcheck disable=SC2086 # to_srv: a command and its argument, or nothing
            if [ $lib_all = 1 ]; then
                exec ${to_srv:-} "$@" <"$lib_in" >"$lib_log" 2>&1
            else
                exec ${to_srv:-} "$@" <"$lib_in" 2>"$lib_log"
            fi
        ) &
        srv_pid=$!
        pids="$pids $srv_pid"
        lib_subst "$lib_ere"
        lib_i=0
        while [ $lib_i -lt 200 ]; do
            # "in use" first: a failed server's output may match a loose ERE too (openssl
            # s_server's "Address already in use" has "ready" in it)
            grep -qsi 'in use' "$lib_log" && break
            if [ "$(lib_count "$lib_log" "$lib_s")" -ge "$lib_want" ]; then
                srv_port=$port
                port=$((port + 1))
                return 0
            fi
            kill -0 "$srv_pid" 2>/dev/null || break
            sleep 0.05
            lib_i=$((lib_i + 1))
        done
        kill "$srv_pid" 2>/dev/null
        wait "$srv_pid" 2>/dev/null
        rm_pid "$srv_pid"
        if grep -qsi 'in use' "$lib_log" && [ $lib_tries -lt 5 ]; then
            lib_tries=$((lib_tries + 1))
            port=$((port + 7))
            continue
        fi
        return 1
    done
}

# lib_exited PID: PID (a child of this shell) has exited: it is gone, or a zombie waiting
# for wait (kill -0 succeeds on a zombie, so it cannot tell)
lib_exited() {
    lib_state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -z "$lib_state" ] || [ "$lib_state" = Z ]
}

# lib_reap PID LOG: after a SIGTERM, waits (at most 10 s) for PID to exit. A server that
# does not is a failure that says where it and its children are stuck (their state and
# kernel wait channel, from /proc), then gets SIGKILL, so that a hang costs 10 s and a
# message instead of the test's whole time limit
lib_reap() {
    lib_i=0
    while ! lib_exited "$1" && [ $lib_i -lt 100 ]; do
        sleep 0.1
        lib_i=$((lib_i + 1))
    done
    if ! lib_exited "$1"; then
        lib_where=""
        # the process and its children (timeout(1) runs the server as its child)
        for lib_p in "$1" $(grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null |
            cut -d/ -f3); do
            lib_where="$lib_where$(printf '\n      | pid %s %s: %s, wchan %s' "$lib_p" \
                "$(tr '\0' ' ' <"/proc/$lib_p/cmdline" 2>/dev/null | cut -c1-60)" \
                "$(grep '^State' "/proc/$lib_p/status" 2>/dev/null)" \
                "$(cat "/proc/$lib_p/wchan" 2>/dev/null)")"
            kill -KILL "$lib_p" 2>/dev/null
        done
        fail "server ${2##*/} still running 10 s after SIGTERM:$lib_where$(excerpt "$2")"
    fi
}

stop_server() {
    kill "$1" 2>/dev/null
    lib_reap "$1" "$2"
    wait "$1"
    st=$?
    rm_pid "$1"
    [ "$st" = 0 ] || fail "mica server ${2##*/} exited $st after SIGTERM:$(excerpt "$2")"
    if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
        "$2"; then
        fail "mica server ${2##*/}: sanitizer report:$(excerpt "$2")"
    fi
}
