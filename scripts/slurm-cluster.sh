#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine (Debian's slurm-wlm and munge): slurmctld and
# slurmd on 127.0.0.1, one partition "batch" with this host's cores, munge with a key of its own.
# Groundwork for sharded runs (issue #14): `sbatch --array` and `--dependency=afterok` work against it.
#
#   scripts/slurm-cluster.sh start    install the packages if missing, start munged, slurmctld, slurmd;
#                                     wait until the node is idle; print the SLURM_CONF path
#   scripts/slurm-cluster.sh stop     stop the daemons and delete the cluster's folder
#   scripts/slurm-cluster.sh status   sinfo against the cluster (exit 1 when it is not up)
#
# Clients need SLURM_CONF=$(scripts/slurm-cluster.sh conf). Ports $STRATA_SLURM_PORT (default 6917)
# and +1, folder $STRATA_SLURM_DIR (default /tmp/strata-slurm-<port>). No cgroups needed
# (proctrack/linuxproc, task/none), no accounting database.
set -euo pipefail
PORT="${STRATA_SLURM_PORT:-6917}"
DIR="${STRATA_SLURM_DIR:-/tmp/strata-slurm-$PORT}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

install_packages() {
    local missing=()
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    echo "slurm-cluster: installing ${missing[*]}" >&2
    local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
    local host mem user
    host="$(hostname -s)"
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
    user="$(id -un)"
    cat > "$CONF" <<CONF
ClusterName=strata
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$DIR/munge.sock
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

up() { sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

case "${1:-}" in
    start)
        install_packages
        if up; then echo "$CONF"; exit 0; fi
        mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
        if [ ! -f "$DIR/munge.key" ]; then
            dd if=/dev/urandom of="$DIR/munge.key" bs=1024 count=1 2>/dev/null
            chmod 0400 "$DIR/munge.key"
        fi
        write_config
        if ! munge -S "$DIR/munge.sock" -n >/dev/null 2>&1; then
            munged --force --key-file="$DIR/munge.key" --socket="$DIR/munge.sock" \
                --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munged.seed"
        fi
        slurmctld -f "$CONF"
        slurmd -f "$CONF"
        for _ in $(seq 1 60); do up && { echo "$CONF"; exit 0; }; sleep 0.5; done
        echo "slurm-cluster: the node did not come up; logs in $DIR/log" >&2
        exit 1
        ;;
    stop)
        [ -d "$DIR" ] || exit 0
        scontrol shutdown >/dev/null 2>&1 || true
        for f in slurmd slurmctld munged; do
            [ -f "$DIR/$f.pid" ] && kill "$(cat "$DIR/$f.pid")" 2>/dev/null || true
        done
        sleep 1
        rm -rf "$DIR"
        ;;
    status) sinfo ;;
    conf) echo "$CONF" ;;
    *) echo "usage: $0 start|stop|status|conf" >&2; exit 2 ;;
esac
