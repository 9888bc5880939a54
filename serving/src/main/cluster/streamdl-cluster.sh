#!/usr/bin/env bash
# A standalone Flink session cluster on this machine, from the jars the build put in lib/ beside
# this script: one JobManager (StandaloneSessionClusterEntrypoint) and N TaskManagers
# (TaskManagerRunner), each its own JVM, every socket but the Prometheus endpoints on 127.0.0.1.
# Memory flags come from Flink's BashJavaUtils, as in a Flink distribution's bin/ scripts.
# Run without arguments for the usage.
set -euo pipefail

HOME_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB_DIR="$HOME_DIR/lib"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

usage() {
    cat <<EOF
usage: $(basename "$0") COMMAND [options]

commands:
  start              start a JobManager and --taskmanagers TaskManagers; prints the REST address
  start-taskmanager  start one more TaskManager for the running cluster (a replacement, say)
  stop               stop exactly the processes this script started for --dir, by their pids
  status             the processes of --dir, alive or not, and their addresses
  flink ARGS...      Flink's command-line client (CliFrontend) on this cluster: flink run JAR ...

options:
  --dir DIR                 configuration, logs, pids, checkpoints, savepoints (default $HOME_DIR/run)
  --taskmanagers N          TaskManager processes (default 2)
  --slots N                 slots per TaskManager (default 1)
  --task-heap-mb N          task heap per TaskManager (default 256 per slot)
  --off-heap-per-slot-mb N  task off-heap memory per slot, for StreamDL's native tensors (default 512)
  --jobmanager-mb N         the JobManager's process size (default 1024)
  --cores N                 cores the TaskManagers share; each slot's oneDNN gets
                            cores / (taskmanagers x slots) threads, at least one
                            (default: this machine's, $(nproc 2>/dev/null || echo 1))
  -D KEY=VALUE              any other Flink option, written to the configuration (repeatable)
EOF
}

die() {
    echo "error: $*" >&2
    exit 2
}

DIR="$HOME_DIR/run"
TASKMANAGERS=2
SLOTS=1
TASK_HEAP_MB=""
OFF_HEAP_PER_SLOT_MB=512
JOBMANAGER_MB=1024
CORES=$(nproc 2>/dev/null || echo 1)
EXTRA_CONF=()

number() {   # number OPTION VALUE: VALUE, a whole number >= 1, or the option named in an error
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "option $1 must be a whole number >= 1 but was '$2'"
    echo "$2"
}

parse_options() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --dir) [[ $# -ge 2 ]] || die "option --dir needs a value"; DIR="$2"; shift 2 ;;
            --taskmanagers) TASKMANAGERS=$(number "$1" "${2:-}"); shift 2 ;;
            --slots) SLOTS=$(number "$1" "${2:-}"); shift 2 ;;
            --task-heap-mb) TASK_HEAP_MB=$(number "$1" "${2:-}"); shift 2 ;;
            --off-heap-per-slot-mb) OFF_HEAP_PER_SLOT_MB=$(number "$1" "${2:-}"); shift 2 ;;
            --jobmanager-mb) JOBMANAGER_MB=$(number "$1" "${2:-}"); shift 2 ;;
            --cores) CORES=$(number "$1" "${2:-}"); shift 2 ;;
            -D) [[ "${2:-}" == *=* ]] || die "option -D needs KEY=VALUE but was '${2:-}'"; EXTRA_CONF+=("$2"); shift 2 ;;
            -D*=*) EXTRA_CONF+=("${1#-D}"); shift ;;
            *) die "unknown option '$1' (run without arguments for the usage)" ;;
        esac
    done
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    CONF_DIR="$DIR/conf"
    LOG_DIR="$DIR/log"
    PID_DIR="$DIR/pids"
}

# The JDK 17 module flags a Flink distribution passes to every process (its env.java.default-opts.all):
# Flink's runtime, Kryo and the REST handlers reflect into these packages.
JDK_MODULE_FLAGS=(
    --add-exports=java.base/sun.net.util=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
    --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.text=ALL-UNNAMED
    --add-opens=java.base/java.time=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port nothing listens on now, not among those already handed out by this run.
TAKEN_PORTS=" "
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if [[ "$TAKEN_PORTS" != *" $port "* ]] && ! port_in_use "$port"; then
            TAKEN_PORTS="$TAKEN_PORTS$port "
            echo "$port"
            return
        fi
    done
    die "found no free port on 127.0.0.1"
}

alive() {   # alive PIDFILE: the pid in it runs and is one of this cluster's processes
    local pid
    [[ -f "$1" ]] || return 1
    pid=$(cat "$1")
    [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF_DIR"
}

rest_port() {
    sed -n 's/^rest.port: *//p' "$CONF_DIR/config.yaml"
}

http_get() {   # http_get PORT PATH: the response body, or nothing
    local port=$1 path=$2
    {
        exec 3<>"/dev/tcp/127.0.0.1/$port" || return 0
        printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
        sed '1,/^\r\{0,1\}$/d' <&3
        exec 3<&-
    } 2>/dev/null || true
}

setting() {   # setting KEY VALUE: one line of config.yaml, unless -D gave KEY (YAML refuses a key twice)
    local kv
    for kv in "${EXTRA_CONF[@]+"${EXTRA_CONF[@]}"}"; do
        [[ "${kv%%=*}" == "$1" ]] && return
    done
    echo "$1: $2"
}

write_configuration() {
    local task_heap_mb=${TASK_HEAP_MB:-$((256 * SLOTS))}
    mkdir -p "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$DIR/checkpoints" "$DIR/savepoints" "$DIR/tmp" "$DIR/javacpp-cache"
    cp "$HOME_DIR/log4j2-cluster.properties" "$CONF_DIR/log4j2.properties"
    {
        echo "# written by streamdl-cluster.sh start; a restart rewrites it"
        setting jobmanager.rpc.address "127.0.0.1"
        setting jobmanager.rpc.port "$(free_port)"
        setting jobmanager.bind-host "127.0.0.1"
        setting jobmanager.memory.process.size "${JOBMANAGER_MB}m"
        setting blob.server.port "$(free_port)"
        setting rest.address "127.0.0.1"
        setting rest.bind-address "127.0.0.1"
        setting rest.port "$(free_port)"
        setting taskmanager.host "127.0.0.1"
        setting taskmanager.bind-host "127.0.0.1"
        setting taskmanager.numberOfTaskSlots "$SLOTS"
        setting taskmanager.memory.task.heap.size "${task_heap_mb}m"
        # StreamDL's tensors live off the JVM heap: declared so that Flink raises
        # -XX:MaxDirectMemorySize and the process size by as much
        setting taskmanager.memory.task.off-heap.size "$((OFF_HEAP_PER_SLOT_MB * SLOTS))m"
        # keyed state lives on the heap (hashmap backend); nothing here uses managed memory
        setting taskmanager.memory.managed.size "0m"
        setting state.backend.type "hashmap"
        setting execution.checkpointing.dir "file://$DIR/checkpoints"
        setting execution.checkpointing.savepoint-dir "file://$DIR/savepoints"
        setting io.tmp.dirs "$DIR/tmp"
        setting web.tmpdir "$DIR/tmp"
        setting blob.storage.directory "$DIR/tmp"
        setting restart-strategy.type "fixed-delay"
        setting restart-strategy.fixed-delay.attempts "10"
        setting restart-strategy.fixed-delay.delay "1 s"
        setting metrics.reporter.prom.factory.class "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
        local kv
        for kv in "${EXTRA_CONF[@]+"${EXTRA_CONF[@]}"}"; do
            echo "${kv%%=*}: ${kv#*=}"
        done
    } >"$CONF_DIR/config.yaml"
}

# resource_params COMMAND [-D key=value...]: sets JVM_PARAMS and DYNAMIC_PARAMS from BashJavaUtils'
# last two result lines, as Flink's config.sh does
resource_params() {
    local output results
    output=$("$JAVA" -classpath "$LIB_DIR/*" -Dlog4j.configurationFile="file:$CONF_DIR/log4j2.properties" \
        -Dlog.file="$LOG_DIR/bash-java-utils.log" \
        org.apache.flink.runtime.util.bash.BashJavaUtils "$@" --configDir "$CONF_DIR" 2>&1) || {
        echo "$output" >&2
        die "Flink's BashJavaUtils $1 refused the configuration in $CONF_DIR/config.yaml (see above)"
    }
    results=$(echo "$output" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' | tail -n 2)
    [[ $(echo "$results" | wc -l) -eq 2 ]] || { echo "$output" >&2; die "BashJavaUtils $1 gave no result"; }
    JVM_PARAMS=$(echo "$results" | head -n 1)
    DYNAMIC_PARAMS=$(echo "$results" | tail -n 1)
}

launch() {   # launch NAME MAIN_CLASS JVM_FLAGS... -- PROGRAM_ARGS...
    local name=$1 main=$2
    shift 2
    local jvm=()
    while [[ $1 != -- ]]; do jvm+=("$1"); shift; done
    shift
    # setsid: the process outlives the shell that started it and gets no terminal's signals
    OMP_NUM_THREADS=$OMP_THREADS setsid "$JAVA" "${JDK_MODULE_FLAGS[@]}" "${jvm[@]}" \
        -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j2.properties" \
        -classpath "$LIB_DIR/*" "$main" --configDir "$CONF_DIR" "$@" \
        >"$LOG_DIR/$name.out" 2>&1 </dev/null &
    echo $! >"$PID_DIR/$name.pid"
}

start_taskmanager() {   # start_taskmanager INDEX
    local name="taskmanager-$1" prom
    prom=$(free_port)
    resource_params GET_TM_RESOURCE_PARAMS
    # word splitting intended: the parameters are space-separated flags
    # shellcheck disable=SC2086
    launch "$name" org.apache.flink.runtime.taskexecutor.TaskManagerRunner $JVM_PARAMS \
        -Dorg.bytedeco.javacpp.cachedir="$DIR/javacpp-cache" -Dorg.bytedeco.javacpp.cachedir.nosubdir=true \
        -- $DYNAMIC_PARAMS -D "metrics.reporter.prom.port=$prom"
    echo "$prom" >"$PID_DIR/$name.prometheus-port"
    echo "$name: pid $(cat "$PID_DIR/$name.pid"), Prometheus metrics at http://127.0.0.1:$prom/metrics, log $LOG_DIR/$name.log"
}

registered_taskmanagers() {
    http_get "$(rest_port)" /overview | sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p'
}

await_taskmanagers() {   # await_taskmanagers N: until N TaskManagers have registered, at most 180 s
    local deadline=$((SECONDS + 180)) n
    while true; do
        n=$(registered_taskmanagers)
        [[ "${n:-0}" -ge "$1" ]] && return
        alive "$PID_DIR/jobmanager.pid" || die "the JobManager exited; see $LOG_DIR/jobmanager.log and .out"
        [[ $SECONDS -lt $deadline ]] || die "only ${n:-0} of $1 TaskManagers registered after 180 s; see $LOG_DIR"
        sleep 0.5
    done
}

running_pids() {
    local f
    for f in "$PID_DIR"/*.pid; do
        [[ -e "$f" ]] || continue
        alive "$f" && echo "$(basename "$f" .pid)"
    done
    return 0
}

next_taskmanager_index() {
    local max=0 f i
    for f in "$PID_DIR"/taskmanager-*.pid; do
        [[ -e "$f" ]] || continue
        i=${f##*/taskmanager-}
        i=${i%.pid}
        [[ $i -gt $max ]] && max=$i
    done
    echo $((max + 1))
}

cmd_start() {
    [[ -z "$(running_pids)" ]] || die "a cluster in $DIR is running ($(running_pids | tr '\n' ' ')); stop it first"
    rm -f "$PID_DIR"/*.pid "$PID_DIR"/*.prometheus-port 2>/dev/null || true
    local start_ns
    start_ns=$(date +%s%N)
    write_configuration
    # every slot of every TaskManager on this machine gets its share of the cores, at least one
    OMP_THREADS=$((CORES / (SLOTS * TASKMANAGERS)))
    [[ $OMP_THREADS -ge 1 ]] || OMP_THREADS=1
    echo "$OMP_THREADS" >"$PID_DIR/omp-threads"
    resource_params GET_JM_RESOURCE_PARAMS
    # shellcheck disable=SC2086
    launch jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint $JVM_PARAMS \
        -- $DYNAMIC_PARAMS -D "metrics.reporter.prom.port=$(free_port)"
    echo "jobmanager: pid $(cat "$PID_DIR/jobmanager.pid"), log $LOG_DIR/jobmanager.log"
    local i
    for ((i = 1; i <= TASKMANAGERS; i++)); do
        start_taskmanager "$i"
    done
    await_taskmanagers "$TASKMANAGERS"
    local millis=$((($(date +%s%N) - start_ns) / 1000000))
    echo "REST http://127.0.0.1:$(rest_port)"
    echo "cluster in $DIR: $TASKMANAGERS TaskManagers x $SLOTS slots, $OMP_THREADS oneDNN threads per slot, started in $millis ms"
}

cmd_start_taskmanager() {
    alive "$PID_DIR/jobmanager.pid" || die "no running JobManager in $DIR; run start first"
    OMP_THREADS=$(cat "$PID_DIR/omp-threads")
    local index deadline
    index=$(next_taskmanager_index)
    start_taskmanager "$index"
    # its own log says when it has registered: the JobManager's count may still hold a lost one
    deadline=$((SECONDS + 180))
    until grep -q "Successful registration at resource manager" "$LOG_DIR/taskmanager-$index.log" 2>/dev/null; do
        alive "$PID_DIR/taskmanager-$index.pid" || die "taskmanager-$index exited; see $LOG_DIR/taskmanager-$index.log and .out"
        [[ $SECONDS -lt $deadline ]] || die "taskmanager-$index did not register within 180 s; see $LOG_DIR"
        sleep 0.5
    done
}

cmd_stop() {
    local f pid name stopped=0
    for f in "$PID_DIR"/*.pid; do
        [[ -e "$f" ]] || continue
        name=$(basename "$f" .pid)
        if alive "$f"; then
            pid=$(cat "$f")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                alive "$f" || break
                sleep 0.1
            done
            if alive "$f"; then
                kill -9 "$pid" 2>/dev/null || true
                echo "$name (pid $pid) did not stop within 10 s: killed"
            else
                echo "$name (pid $pid) stopped"
            fi
            stopped=$((stopped + 1))
        fi
        rm -f "$f"
    done
    echo "stopped $stopped processes of $DIR"
}

cmd_status() {
    local f name
    [[ -f "$CONF_DIR/config.yaml" ]] || die "no cluster was started in $DIR"
    for f in "$PID_DIR"/*.pid; do
        [[ -e "$f" ]] || continue
        name=$(basename "$f" .pid)
        if alive "$f"; then
            echo "$name: running, pid $(cat "$f")"
        else
            echo "$name: not running (pid $(cat "$f"))"
        fi
    done
    echo "REST http://127.0.0.1:$(rest_port), $(registered_taskmanagers) TaskManagers registered"
}

cmd_flink() {
    [[ -f "$CONF_DIR/config.yaml" ]] || die "no cluster was started in $DIR"
    FLINK_CONF_DIR="$CONF_DIR" exec "$JAVA" "${JDK_MODULE_FLAGS[@]}" \
        -Dlog.file="$LOG_DIR/client.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j2.properties" \
        -classpath "$LIB_DIR/*" org.apache.flink.client.cli.CliFrontend "$@"
}

[[ $# -ge 1 ]] || { usage; exit 2; }
COMMAND=$1
shift
case "$COMMAND" in
    start) parse_options "$@"; cmd_start ;;
    start-taskmanager) parse_options "$@"; cmd_start_taskmanager ;;
    stop) parse_options "$@"; cmd_stop ;;
    status) parse_options "$@"; cmd_status ;;
    flink)
        # cluster options first, then the client's own
        args=()
        while [[ $# -gt 0 && "$1" == --dir ]]; do args+=("$1" "$2"); shift 2; done
        parse_options "${args[@]+"${args[@]}"}"
        cmd_flink "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; die "unknown command '$COMMAND'" ;;
esac
