#!/usr/bin/env bash
# Install ai-conductor's services on a plain Linux host with systemd: the equivalent of the
# seed's Pulumi stack (which provisioned a VM and ran the same steps). See deployments/README.md.
#
#   sudo deployments/install.sh                      # this checkout, into /opt/ai-conductor
#   deployments/install.sh --root /tmp/img           # lay the files into an image (DESTDIR)
#   deployments/install.sh --dry-run                 # print every step, change nothing
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: install.sh [options]

  --root DIR          install into DIR instead of / (DESTDIR-style image): files, the user
                      (systemd-sysusers --root) and the enabled units (systemctl --root);
                      no venv (it could not be moved), no daemon-reload
  --prefix DIR        where the venv goes (default /opt/ai-conductor; units are rewritten)
  --source SPEC       what pip installs (default: this checkout when run from one, else
                      the ai-conductor package)
  --extras LIST       pip extras (default: server)
  --python PYTHON     interpreter for the venv (default: python3, 3.11 or newer)
  --no-prefect-server do not install prefect-server.service (Prefect Cloud or a server
                      elsewhere: set PREFECT_API_URL in the environment file)
  --dry-run           print each step, change nothing
  -h, --help          this help

Steps: the `conductor` system user (sysusers.d), a venv under PREFIX with
ai-conductor[EXTRAS], the systemd units, /etc/ai-conductor/conductor.env from the template
(kept when it exists), systemctl daemon-reload and enable. Nothing is started: edit the
environment file, then `systemctl start prefect-server ai-conductor conductor-mcp
conductor-metrics`.
EOF
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT=/
PREFIX=/opt/ai-conductor
SOURCE=""
EXTRAS=server
PYTHON=python3
DRY_RUN=0
UNITS=(prefect-server.service ai-conductor.service conductor-mcp.service conductor-metrics.service)

while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
        --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
        --source) SOURCE="${2:?--source needs a pip requirement or path}"; shift 2 ;;
        --extras) EXTRAS="${2?--extras needs a list}"; shift 2 ;;
        --python) PYTHON="${2:?--python needs an interpreter}"; shift 2 ;;
        --no-prefect-server) UNITS=("${UNITS[@]:1}"); shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 2 ;; esac
if [ "$ROOT" != / ]; then
    [ "$DRY_RUN" = 1 ] || mkdir -p "$ROOT"
    ROOT="$(cd "$ROOT" 2>/dev/null && pwd || echo "$ROOT")"  # systemctl --root wants it absolute
fi
R="${ROOT%/}"  # prefix for paths: "" for /
if [ -z "$SOURCE" ]; then
    if [ -f "$HERE/../pyproject.toml" ]; then SOURCE="$(cd "$HERE/.." && pwd)"; else SOURCE=ai-conductor; fi
fi
SPEC="$SOURCE${EXTRAS:+[$EXTRAS]}"

# Every step that changes something goes through run: printed, and executed unless --dry-run.
run() {
    printf '+ %s\n' "$*"
    if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}
note() { printf '  (%s)\n' "$*"; }

if [ "$R" = "" ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: installing into / needs root (sudo), or use --root DIR / --dry-run" >&2
    exit 2
fi

echo "== user: conductor (systemd-sysusers)"
run install -D -m 0644 "$HERE/systemd/ai-conductor.sysusers" "$R/etc/sysusers.d/ai-conductor.conf"
if command -v systemd-sysusers >/dev/null; then
    if [ "$R" = "" ]; then
        run systemd-sysusers /etc/sysusers.d/ai-conductor.conf
    else
        run systemd-sysusers "--root=$ROOT" "$R/etc/sysusers.d/ai-conductor.conf"
    fi
elif [ "$R" = "" ]; then
    getent passwd conductor >/dev/null || run useradd --system --user-group \
        --home-dir /var/lib/ai-conductor --shell /usr/sbin/nologin conductor
else
    note "no systemd-sysusers: the image creates the user at boot from sysusers.d"
fi

echo "== venv: $PREFIX/venv with $SPEC"
if [ "$R" = "" ]; then
    run "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
    run "$PYTHON" -m venv "$PREFIX/venv"
    run "$PREFIX/venv/bin/python" -m pip install --upgrade pip
    run "$PREFIX/venv/bin/python" -m pip install "$SPEC"
    # the taint engine (Semgrep CE) cannot share the venv: its own, beside it
    run "$PREFIX/venv/bin/python" -m ai_conductor.analysis.taint.install
else
    note "skipped under --root: a venv cannot be moved; run install.sh on the host, or build"
    note "the image with $PYTHON -m venv $PREFIX/venv && $PREFIX/venv/bin/pip install '$SPEC'"
    note "&& $PREFIX/venv/bin/python -m ai_conductor.analysis.taint.install"
fi

echo "== units: $R/etc/systemd/system"
for unit in "${UNITS[@]}"; do
    run install -D -m 0644 "$HERE/systemd/$unit" "$R/etc/systemd/system/$unit"
    if [ "$PREFIX" != /opt/ai-conductor ]; then
        run sed -i "s#/opt/ai-conductor/#$PREFIX/#g" "$R/etc/systemd/system/$unit"
    fi
done

echo "== settings: $R/etc/ai-conductor/conductor.env"
run install -d -m 0755 "$R/etc/ai-conductor"
run install -m 0644 "$HERE/conductor.env.example" "$R/etc/ai-conductor/conductor.env.example"
if [ -e "$R/etc/ai-conductor/conductor.env" ]; then
    note "kept the existing conductor.env; compare it with conductor.env.example"
else
    # read by systemd (as root) before the services drop privileges: root-only is enough
    run install -m 0600 "$HERE/conductor.env.example" "$R/etc/ai-conductor/conductor.env"
fi

echo "== systemd: enable ${UNITS[*]}"
if [ "$R" = "" ]; then
    run systemctl daemon-reload
    run systemctl enable "${UNITS[@]}"
else
    run systemctl "--root=$ROOT" enable "${UNITS[@]}"
fi

cat <<EOF
== done. Next: edit /etc/ai-conductor/conductor.env (PREFECT_API_URL, *_BLOCK names or
   secrets), start the units: systemctl start ${UNITS[*]}
   and register the block types once, as the conductor user with that environment:
   sudo -u conductor sh -c 'set -a; . /etc/ai-conductor/conductor.env; $PREFIX/venv/bin/prefect block register -m ai_conductor.blocks'
EOF
