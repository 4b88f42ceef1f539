#!/usr/bin/env bash
# The steps of the composite action (action.yml), runnable on any machine:
#   conductor-audit.sh install   install ai-conductor into a venv (or find `conductor` on PATH)
#   conductor-audit.sh analyze   analyze -> SARIF (+ Markdown job summary), record the gate
#   conductor-audit.sh gate      exit 1 when the gate failed (runs after the SARIF upload)
#   conductor-audit.sh improve   analyse, fix, tidy; with INPUT_PUBLISH=true one pull request
# Inputs come from the environment (INPUT_*), never from text pasted into the script; results go
# to $GITHUB_OUTPUT as key=value lines. Outside GitHub, GITHUB_OUTPUT defaults to /dev/null.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
action_path="${CONDUCTOR_ACTION_PATH:-$(cd "$here/../.." && pwd)}"
out="${GITHUB_OUTPUT:-/dev/null}"
tmp_root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

fail() {
    echo "::error title=ai-conductor::$*" >&2
    exit 2
}

install() {
    local conductor
    if [[ "${INPUT_INSTALL:-true}" != "true" ]]; then
        conductor="$(command -v conductor || true)"
        [[ -n "$conductor" ]] || fail "install is false but no 'conductor' is on PATH"
    else
        local from="${INPUT_INSTALL_FROM:-$action_path}"
        # improve mode publishes through githubkit: the github extra (for a directory; a
        # requirement given in install-from names its own extras)
        if [[ "${INPUT_MODE:-audit}" == "improve" && -d "$from" ]]; then
            from="${from}[github]"
        fi
        local venv="$tmp_root/ai-conductor-venv"
        local constraints=()
        if [[ -f "$action_path/constraints.txt" ]]; then
            constraints=(-c "$action_path/constraints.txt")
        fi
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "${constraints[@]}" "$from"
        # the taint engine (Semgrep CE) in its own environment beside this one
        "$venv/bin/python" -m ai_conductor.analysis.taint.install
        conductor="$venv/bin/conductor"
    fi
    "$conductor" --help >/dev/null || fail "$conductor does not run"
    echo "ai-conductor: $conductor"
    echo "conductor=$conductor" >>"$out"
}

analyze() {
    local conductor="${CONDUCTOR:-conductor}"
    local codebase="${INPUT_CODEBASE:-.}"
    local fail_on="${INPUT_FAIL_ON:-high}"
    local category="${INPUT_CATEGORY:-ai-conductor}"
    local sarif="${INPUT_OUTPUT:-$tmp_root/ai-conductor/results.sarif}"
    local args=(analyze --codebase "$codebase" --output "$sarif" --format sarif
        --fail-on "$fail_on" --category "$category")
    if [[ -n "${INPUT_MIN_COVERAGE:-}" ]]; then
        args+=(--min-coverage "$INPUT_MIN_COVERAGE")
    fi
    local focus=()
    IFS=$', \n' read -r -d '' -a focus <<<"${INPUT_FOCUS:-}" || true
    for area in "${focus[@]}"; do
        args+=(--focus "$area")
    done
    mkdir -p "$(dirname "$sarif")"
    rm -f "$sarif"
    local rc=0
    "$conductor" "${args[@]}" || rc=$?
    local gate
    case "$rc" in
        0) gate=passed ;;
        # 1 is the gate, but only once the report is written: a crash before that is an error
        1) [[ -s "$sarif" ]] || fail "conductor analyze failed (exit 1) before writing $sarif"
           gate=failed ;;
        *) fail "conductor analyze failed (exit $rc)" ;;
    esac
    local findings
    findings="$(python3 "$here/sarif_paths.py" "$sarif" \
        --codebase "$codebase" --workspace "${GITHUB_WORKSPACE:-$PWD}")"
    sarif="$(cd "$(dirname "$sarif")" && pwd)/$(basename "$sarif")"
    {
        echo "sarif=$sarif"
        echo "findings=$findings"
        echo "gate=$gate"
    } >>"$out"
    echo "ai-conductor: $findings finding(s) in $sarif; gate (fail-on $fail_on): $gate"
}

gate() {
    local fail_on="${INPUT_FAIL_ON:-high}"
    case "${GATE:-}" in
        passed)
            echo "ai-conductor quality gate passed (fail-on $fail_on)"
            ;;
        failed)
            local msg="ai-conductor quality gate failed: findings at or above $fail_on"
            if [[ -n "${INPUT_MIN_COVERAGE:-}" ]]; then
                msg+=", or a tool read less than ${INPUT_MIN_COVERAGE}% of the files (see the log)"
            fi
            if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
                printf '**%s** (%s finding(s) in the report)\n\n' "$msg" "${FINDINGS:-?}" \
                    >>"$GITHUB_STEP_SUMMARY"
            fi
            echo "::error title=ai-conductor::$msg"
            exit 1
            ;;
        *) fail "no gate result from the analyze step (got '${GATE:-}')" ;;
    esac
}

improve() {
    local conductor="${CONDUCTOR:-conductor}"
    local result="$tmp_root/ai-conductor/improve.json"
    local args=(improve --codebase "${INPUT_CODEBASE:-.}" --spec "$action_path/workflows/improve.yaml"
        --json)
    if [[ "${INPUT_PUBLISH:-true}" == "true" ]]; then
        [[ -n "${CONDUCTOR_GITHUB_TOKEN:-}" ]] || fail "publish needs a token (input token)"
        args+=(--publish --forge github)
        if [[ "${INPUT_DRAFT:-false}" == "true" ]]; then
            args+=(--draft)
        fi
    fi
    mkdir -p "$(dirname "$result")"
    local rc=0
    "$conductor" "${args[@]}" >"$result" || rc=$?
    [[ "$rc" == 0 ]] || fail "conductor improve failed (exit $rc)"
    local pr
    pr="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("pull_request") or "")' \
        "$result")"
    echo "pull-request=$pr" >>"$out"
    if [[ -n "$pr" ]]; then
        echo "ai-conductor: pull request $pr"
        if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
            printf 'ai-conductor opened or updated %s\n' "$pr" >>"$GITHUB_STEP_SUMMARY"
        fi
    else
        echo "ai-conductor: no pull request (nothing verified and kept, or publish is off)"
    fi
}

case "${1:-}" in
    install | analyze | gate | improve) "$1" ;;
    *) fail "usage: $0 install|analyze|gate|improve" ;;
esac
