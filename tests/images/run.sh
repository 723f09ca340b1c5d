#!/usr/bin/env bash
# make test-images: tests/images against a Docker daemon of its own, started here and removed at the end with
# every container, network and mount it made. Needs root; without it, says so in one line and skips.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
    echo "test-images: skipped: starting a private Docker daemon needs root"
    exit 0
fi

# Debian's daemon and compose, mmdebstrap for base images without a registry, unshare (util-linux) for netns.
missing=""
for pair in dockerd:docker.io docker-compose:docker-compose mmdebstrap:mmdebstrap unshare:util-linux; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# The SageMaker SDK (test-only) in a venv of its own, so that `make test` never downloads it.
VENV=.venv-images
if [ ! -f $VENV/.installed ] || [ requirements-images.txt -nt $VENV/.installed ]; then
    log=$(mktemp)
    python3 -m venv $VENV
    if ! $VENV/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-images.txt >"$log" 2>&1
    then
        tail -n 20 "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
    touch $VENV/.installed
fi

WORK=$(mktemp -d /tmp/sm-train-images.XXXXXX)
export DOCKER_HOST="unix://$WORK/docker.sock" SM_TRAIN_IMAGES_WORK="$WORK"
export SM_TRAIN_PYZ="${SM_TRAIN_PYZ:-$PWD/dist/sm-train.pyz}"
DAEMON=""
PYTEST=""

teardown() {
    if [ -n "$PYTEST" ]; then
        kill -TERM "$PYTEST" 2>/dev/null || true
        wait "$PYTEST" 2>/dev/null || true
    fi
    if [ -n "$DAEMON" ]; then
        containers=$(docker ps -aq 2>/dev/null || true)
        [ -z "$containers" ] || docker rm -f $containers >/dev/null 2>&1 || true
        docker network prune -f >/dev/null 2>&1 || true  # the SDK's sagemaker-local
        stop_daemon
    fi
    # The daemon's mounts live in its own mount namespace and end with it; unmount anything that escaped.
    awk -v w="$WORK" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m" || true
    done
    rm -rf "$WORK"
}
# SIGTERM to the daemon by its PID (it stops its containerd); SIGKILL if it has not ended within 30 s.
stop_daemon() {
    kill -TERM "$DAEMON" 2>/dev/null || true
    for _ in $(seq 120); do
        kill -0 "$DAEMON" 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL "$DAEMON" 2>/dev/null || true
    wait "$DAEMON" 2>/dev/null || true
    DAEMON=""
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# dockerd in a network namespace holding only loopback: its containers reach each other and nothing else,
# and in a mount namespace of its own, so no overlay or netns mount outlives it.
start_daemon() {
    unshare --net --mount --propagation private dockerd --data-root "$WORK/data-$1" --exec-root "$WORK/exec" \
        --pidfile "$WORK/docker.pid" -H "$DOCKER_HOST" --storage-driver="$1" \
        --iptables=false --ip-masq=false --bridge=none >"$WORK/dockerd-$1.log" 2>&1 &
    DAEMON=$!
    for _ in $(seq 240); do
        if docker version >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$DAEMON" 2>/dev/null; then
            DAEMON=""
            return 1
        fi
        sleep 0.25
    done
    echo "test-images: dockerd did not answer within 60 s" >&2
    stop_daemon
    return 1
}
if ! start_daemon overlay2 && ! start_daemon vfs; then
    echo "test-images: no Docker daemon could be started; its log:" >&2
    tail -n 5 "$WORK"/dockerd-*.log >&2
    exit 1
fi
echo "test-images: dockerd $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST ($(docker info --format '{{.Driver}}'))"

# Extra arguments go to pytest (for example -k mpi); `--command CMD ARG...` runs CMD with this daemon instead (the
# recorders that need an image: tests/recorders/record_sdk_job_golden.py). It runs in the background so that a
# SIGTERM or Ctrl-C here tears down at once rather than after the tests.
if [ "${1:-}" = "--command" ]; then
    shift
    "$@" &
else
    $VENV/bin/python -m pytest -q -p no:cacheprovider -o tmp_path_retention_policy=failed --confcutdir=tests/images --durations=0 tests/images "$@" &
fi
PYTEST=$!
status=0
wait $PYTEST || status=$?
PYTEST=""
exit $status
