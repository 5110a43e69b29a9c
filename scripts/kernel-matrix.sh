#!/usr/bin/env bash
# Runs the exactness tests of k-means (Hamerly's bounds against plain Lloyd, the kernel-independent
# nearest-centre rule) under every OpenBLAS kernel this CPU can execute, with both the system OpenBLAS
# and the runtime scipy-openblas library, and prints one table. OPENBLAS_CORETYPE is set in each test
# process only; nothing else on the machine changes. AVX-512 kernels are reported as skipped on a CPU
# without avx512f (they would die with SIGILL).
#
#   scripts/kernel-matrix.sh [FILTER]      (default filter: BoundedKMeansTests|NearestCentreTests)
#
# Needs a release build with tests: swift build -c release --build-tests -Xswiftc -enable-testing
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-"BoundedKMeansTests|NearestCentreTests"}
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); avx2=$(has avx2 && echo yes || echo no) avx512f=$(has avx512f && echo yes || echo no)"
echo "OPENBLAS_CORETYPE in this shell: ${OPENBLAS_CORETYPE:-<unset>}"
rows=()
for lib in system runtime; do
    blas=$([ "$lib" = system ] && echo system || echo "")
    for kernel in "" Prescott Core2 Nehalem Sandybridge Haswell Zen SkylakeX Cooperlake SapphireRapids; do
        label=${kernel:-"(own choice)"}
        case $kernel in
            SkylakeX|Cooperlake|SapphireRapids)
                if ! has avx512f; then rows+=("$lib|$label|-|skipped: CPU lacks AVX-512"); continue; fi ;;
            Haswell|Zen) has avx2 || { rows+=("$lib|$label|-|skipped: CPU lacks AVX2"); continue; } ;;
        esac
        env_args=(STRATA_BLAS="$blas")
        [ -n "$kernel" ] && env_args+=(OPENBLAS_CORETYPE="$kernel")
        picked=$(env "${env_args[@]}" .build/release/strata --version 2>&1 | sed -n 's/.*kernel \([^,]*\),.*/\1/p')
        log=$(mktemp)
        if env "${env_args[@]}" swift test -c release --skip-build -Xswiftc -enable-testing --filter "$filter" >"$log" 2>&1; then
            result="passed ($(grep -Eo 'Test run with [0-9]+ tests' "$log" | grep -Eo '[0-9]+') tests)"
        else
            result="FAILED: $(grep -E 'failed|error' "$log" | head -3 | tr '\n' ' ')"
        fi
        rm -f "$log"
        rows+=("$lib|$label|${picked:-?}|$result")
        echo "  $lib / $label → kernel ${picked:-?}: $result" >&2
    done
done
echo
echo "| library | OPENBLAS_CORETYPE | kernel run | $filter |"
echo "|---|---|---|---|"
for r in "${rows[@]}"; do IFS='|' read -r a b c d <<<"$r"; echo "| $a | $b | $c | $d |"; done
