"""``publish()``: a publication's verified changes pushed on one stable branch, and one pull
request opened, or the open one updated.

Order: the remote and its forge are resolved (before anything is pushed, so a missing token
fails first); the base is the checked-out branch when the remote has it, else the remote's
default; the remote branch, when it exists, must hold only the conductor's commits; the chain
is built (:mod:`.chain`) and pushed only when it differs, with a lease on the tip read before.
Nothing kept: nothing is pushed and an open pull request is left as it is. Every publish is in
the audit log (action ``publish``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ai_conductor.errors import ConductorError, ForgeError, UsageError
from ai_conductor.forge.config import detect, forge_config
from ai_conductor.forge.models import PullRequestDraft
from ai_conductor.forge.registry import open_forge
from ai_conductor.implement.workspace import _toplevel
from ai_conductor.publish import body as pr_body
from ai_conductor.publish.chain import build, check_ours
from ai_conductor.publish.gitops import Credentials, Git, read_remote
from ai_conductor.publish.models import Publication, PublishOptions, PublishResult
from ai_conductor.settings import Settings, get_settings
from ai_conductor.store import events as ev
from ai_conductor.store import open_audit_log

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
_log = logging.getLogger("ai_conductor.publish")
BASE_REF, TIP_REF = "refs/conductor/publish/base", "refs/conductor/publish/tip"


def _base(git: Git, options: PublishOptions, branch: str) -> tuple[str, str | None]:
    """The base branch and the remote's tip of the publication ``branch`` (if any)."""
    local = git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip()
    wanted = [b for b in (options.base, local) if b]
    heads = git.remote_heads(*wanted, branch)
    base = options.base or (local if local in heads else heads.get("HEAD"))
    if not base or base not in heads:
        raise ForgeError(
            f"the remote {git.remote.name!r} has no branch {base or '(default)'!r} to open the "
            "pull request against: push it, or name the base"
        )
    return base, heads.get(branch)


def publish(repo: Path, publication: Publication, options: PublishOptions | None = None, *,
            settings: Settings | None = None, log: Logger | None = None,
            credentials: Credentials | None = None) -> PublishResult:  # fmt: skip
    """Push ``publication`` and open or update its pull request (see the module docstring).

    ``credentials`` replace the forge token for git (e.g. a clone URL's own user and token).
    """
    options, settings, log = options or PublishOptions(), settings or get_settings(), log or _log
    try:
        return _publish(repo, publication, options, settings, log, credentials)
    except ConductorError as exc:
        sink = open_audit_log(settings)
        sink.record(ev.AuditEvent(
            workflow_id=publication.workflow_id, task_id="+".join(publication.tasks)[:255],
            run_id=publication.run_id, agent_role=ev.CONDUCTOR_ROLE, action="publish",
            status=ev.FAILED_STATUS, error_message=str(exc)[:2000],
            metadata={"branch": publication.branch, "remote": options.remote},
        ))  # fmt: skip
        sink.flush()
        if log is not _log:  # a run's logger (the CLI prints the error itself)
            log.error("publishing failed: %s", exc)
        raise


def _publish(repo: Path, publication: Publication, options: PublishOptions, settings: Settings,
             log: Logger, credentials: Credentials | None) -> PublishResult:  # fmt: skip
    started = time.monotonic()
    top = _toplevel(repo.resolve())
    if top is None:
        raise UsageError(f"--publish needs a git repository with a remote; {repo} is not one")
    remote = read_remote(top, options.remote)
    config = forge_config(detect(remote, options.forge, settings), remote, settings)
    git = Git(top, remote, credentials or config.git_credentials(settings))
    result = PublishResult(status="nothing", branch=publication.branch, forge=config.kind,
                           remote=remote.url)  # fmt: skip
    if not publication.changes:
        result.note = "no verified change: nothing pushed; an open pull request is left as it is"
        return _done(result, publication, settings, log, started)
    base, remote_tip = _base(git, options, publication.branch)
    result.base = base
    base_sha = git.fetch(base, BASE_REF)
    if remote_tip is not None:
        remote_tip = git.fetch(publication.branch, TIP_REF)
        check_ours(git, base_sha, remote_tip, publication.branch)
    name = f"{publication.workflow_id}/{'+'.join(publication.tasks)}"
    chain = build(git, base_sha, publication.changes, name)
    result.commits, result.left_out = chain.commits, chain.left_out
    if not chain.commits:
        result.note = "no verified change applies to the base: nothing pushed"
        return _done(result, publication, settings, log, started)
    result.pushed = chain.tip != remote_tip
    if result.pushed:
        git.push(chain.tip, publication.branch, remote_tip)
    draft = PullRequestDraft(
        head=publication.branch, base=base, title=pr_body.title(publication, len(chain.commits)),
        body=pr_body.render(publication, chain.commits, chain.left_out), draft=options.draft,
        labels=options.labels,
    )  # fmt: skip
    forge = open_forge(config)
    try:
        found = forge.find_pull_request(publication.branch, base)
        if found is None:
            result.pull_request, result.status = forge.open_pull_request(draft), "opened"
        else:
            result.pull_request = forge.update_pull_request(found.number, draft)
            result.status = "updated" if result.pushed else "unchanged"
    finally:
        forge.close()
    return _done(result, publication, settings, log, started)


def _done(result: PublishResult, publication: Publication, settings: Settings, log: Logger,
          started: float) -> PublishResult:  # fmt: skip
    result.duration_s = round(time.monotonic() - started, 3)
    pr = result.pull_request
    if pr is not None:
        log.info("pull request %s %s: %s (%d commit(s) on %s%s)", result.status, f"#{pr.number}",
                 pr.url, len(result.commits), result.branch,
                 "" if result.pushed else ", branch unchanged")  # fmt: skip
    else:
        log.info("nothing published on %s: %s", result.branch, result.note)
    for group, why in result.left_out.items():
        log.info("left out of the pull request: %s: %s", group, why)
    sink = open_audit_log(settings)
    sink.record(ev.AuditEvent(
        workflow_id=publication.workflow_id, task_id="+".join(publication.tasks)[:255],
        run_id=publication.run_id, agent_role=ev.CONDUCTOR_ROLE, action="publish",
        status=result.status,
        metadata={"branch": result.branch, "base": result.base, "forge": result.forge,
                  "remote": result.remote, "pushed": result.pushed, "commits": result.commits,
                  "left_out": result.left_out, "pull_request": pr.url if pr else None,
                  "number": pr.number if pr else None, "duration_s": result.duration_s},
    ))  # fmt: skip
    sink.flush()
    return result
