"""ConfigHistory: a git repository with a commit for every merged configuration, and
for every change virtui saw made outside the desk ("drift").

git itself does the work (its command line; no history store of our own). The
repository is bare and written with plumbing: each commit is built in a private index
and the branch is moved with a compare-and-swap (``update-ref NEW OLD``), so two
processes committing at once never lose each other's commit. One file per object:
``HOST/domain/NAME.xml``, the canonical inactive XML with its secrets redacted (the
repository is shared; the store keeps the secrets).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from virtui.review.model import ChangeRequest
from virtui.review.secrets import redact
from virtui.review.xmlsafe import sha256
from virtui.text import visible, visible_lines

BRANCH = "refs/heads/main"
_FIELD, _RECORD = "\x1f", "\x1e"


class HistoryError(Exception):
    """git could not do what was asked; the message says what and why."""


class HistoryRefused(HistoryError):
    """The repository's config holds a key virtui does not allow: git was not run."""


@dataclass(frozen=True, slots=True)
class Version:
    """One commit touching one object's file."""

    commit: str
    author: str
    email: str
    when: float
    subject: str
    body: str


def object_path(host: str, name: str, kind: str = "domain") -> str:
    """The file of an object in the repository."""
    return f"{_safe(host)}/{kind}/{_safe(name)}.xml"


def merge_message(change: ChangeRequest, merged_by: str) -> str:
    """The commit message of a merge: what, why, who reviewed and approved it (trailers,
    as libvirt's own history records them) and the hashes the desk checked."""
    reviewers = sorted({c.author for c in change.comments if c.author != change.author})
    approvers = sorted({a.user for a in change.valid_approvals})
    # Written into a file people read with git log in a terminal: the users' words with
    # their control characters made visible, the subject on one line.
    subject = f"{visible(change.host)}/{visible(change.domain_name)}: {visible(change.title)}"
    lines = [subject, ""]
    if change.description:
        lines += [visible_lines(change.description.strip()), ""]
    lines += [
        f"Change-Request: #{change.id}",
        f"Author: {change.author}",
        # Hashes of what the commit publishes (the redacted texts): a hash of the text
        # with its secrets in would let anyone who reads the history try passwords
        # against it offline, a VNC password of eight characters within minutes.
        f"Base-SHA256: {sha256(redact(change.base_xml))}",
        f"Proposed-SHA256: {sha256(redact(change.proposed_xml))}",
    ]
    lines += [f"Reviewed-by: {user}" for user in reviewers]
    lines += [f"Approved-by: {user}" for user in approvers]
    lines.append(f"Merged-by: {merged_by}")
    return "\n".join(lines) + "\n"


def drift_message(host: str, name: str, seen_by: str, when: float) -> str:
    """The commit message of a change made outside the desk."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(when))
    return (
        f"{visible(host)}/{visible(name)}: outside virtui: drift seen at {stamp}\n\n"
        "The live configuration changed without a change request of this desk.\n\n"
        f"Seen-by: {seen_by}\n"
    )


def _safe(part: str) -> str:
    return "".join(c if c.isalnum() or c in "._-@" else "_" for c in part) or "_"


class ConfigHistory:
    """One repository (it must exist: ``init`` makes it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def init(path: Path, *, shared: bool = False) -> ConfigHistory:
        """Create the bare repository (group-writable objects when ``shared``)."""
        args = ["init", "--bare", "-q", "--initial-branch=main"]
        if shared:
            args.append("--shared=group")
        _git(path.parent, [*args, str(path)], create=True)
        return ConfigHistory(path)

    def exists(self) -> bool:
        """True when the repository is there."""
        return (self.path / "HEAD").is_file()

    def _run(self, args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> str:
        return _git(self.path, args, stdin=stdin, env=env)

    def head(self) -> str:
        """The branch's commit ("" before the first)."""
        try:
            return self._run(["rev-parse", "-q", "--verify", BRANCH]).strip()
        except HistoryRefused:
            raise
        except HistoryError:
            return ""

    def latest(self, path: str) -> str | None:
        """The file as last committed (None: never committed)."""
        head = self.head()
        return self._file_at(head, path) if head else None

    def _file_at(self, commit: str, path: str) -> str | None:
        try:
            return self._run(["show", f"{commit}:{path}"])
        except HistoryError:
            return None  # not in that commit

    def commit(self, path: str, xml: str, message: str, user: str) -> str:
        """Commit ``xml`` (redacted) as ``path``; returns the commit, or "" when the file
        already holds exactly that."""
        text = redact(xml).rstrip("\n") + "\n"
        name, _, host = user.partition("@")
        email = user if host else f"{name}@localhost"
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        for _attempt in range(20):  # another process moved the branch meanwhile: again
            parent = self.head()
            # Compared with the parent itself, the commit this one is built on (the branch
            # may move in between; then update-ref refuses and this round starts again).
            if parent and self._file_at(parent, path) == text:
                return ""
            blob = self._run(["hash-object", "-w", "--stdin"], stdin=text).strip()
            with tempfile.TemporaryDirectory(prefix="virtui-history-") as folder:
                index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
                if parent:
                    self._run(["read-tree", parent], env=index)
                self._run(
                    ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], env=index
                )
                tree = self._run(["write-tree"], env=index).strip()
            parents = ["-p", parent] if parent else []
            commit = self._run(
                ["commit-tree", "--no-gpg-sign", tree, *parents], stdin=message, env=env
            ).strip()
            try:
                self._run(["update-ref", BRANCH, commit, parent or "0" * 40])
            except HistoryError:
                time.sleep(0.05)
                continue
            return commit
        raise HistoryError(f"{self.path}: the branch kept moving; nothing committed")

    def log(self, path: str) -> list[Version]:
        """The commits of one file, newest first."""
        if not self.head():
            return []
        fields = _FIELD.join(["%H", "%an", "%ae", "%at", "%s", "%b"])
        out = self._run(["log", f"--format={fields}{_RECORD}", BRANCH, "--", path])
        versions = []
        for record in out.split(_RECORD):
            parts = record.strip("\n").split(_FIELD)
            if len(parts) == 6:
                commit, author, email, when, subject, body = parts
                versions.append(Version(commit, author, email, float(when), subject, body))
        return versions

    def diff(self, commit: str, path: str) -> str:
        """What ``commit`` changed in the file (a patch, with its message)."""
        return self._run(
            ["show", "--no-ext-diff", "--no-textconv", "--format=medium", commit, "--", path]
        )

    def version(self, commit: str, path: str) -> str:
        """The file as it was at ``commit``."""
        return self._run(["show", f"{commit}:{path}"])


# What a repository's own config may hold: what ``git init`` writes. Anything else (a
# signature program, a pager, an include, an alias) would be someone's program run by
# whoever reads the history: refused, not filtered.
ALLOWED_CONFIG = frozenset(
    {
        "core.repositoryformatversion",
        "core.filemode",
        "core.bare",
        "core.sharedrepository",
        "core.logallrefupdates",
        "core.ignorecase",
        "core.precomposeunicode",
        "receive.denynonfastforwards",
        "extensions.objectformat",
    }
)
_checked: dict[Path, tuple[int, int, int]] = {}


def _clean_environment() -> dict[str, str]:
    # Never the user's own or the system's config, hooks, pager or editor: this is a
    # machine's history.
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    base.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
    )
    return base


def _run_git(
    command: list[str], stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One git command in the clean environment (HistoryError when it cannot run)."""
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            errors="replace",
            env={**_clean_environment(), **(env or {})},
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HistoryError(f"git: {error}") from error


def check_config(repository: Path) -> None:
    """Raise HistoryError unless the repository's config holds only ALLOWED_CONFIG keys
    (read as a file: its includes are not followed, nothing runs)."""
    path = repository / "config"
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise HistoryError(f"{path}: {error.strerror}") from error
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    if _checked.get(path) == stamp:
        return
    done = _run_git(["git", "config", "--file", str(path), "--null", "--name-only", "--list"])
    if done.returncode != 0:
        raise HistoryError(f"{path}: git cannot read it: {done.stderr.strip()}")
    keys = {key.lower() for key in done.stdout.split("\0") if key}
    foreign = sorted(key for key in keys if key not in ALLOWED_CONFIG)
    if foreign:
        raise HistoryRefused(
            f"{path} sets {', '.join(visible(k) for k in foreign)}: a history's config may "
            "hold only what git init writes; git was not run (remove those lines)"
        )
    _checked[path] = stamp


def _git(
    where: Path,
    args: list[str],
    *,
    stdin: str = "",
    env: dict[str, str] | None = None,
    create: bool = False,
) -> str:
    # A team's repository is writable by the whole group and owned by root, so git's
    # ownership check is turned off; what that check guards against is turned off
    # instead: nothing a member writes into the repository's config or hooks runs a
    # program in another member's virtui (an allow-list of config keys, no hooks, no
    # fsmonitor, no signing, no external diffs).
    command = [
        "git",
        "-c",
        "safe.directory=*",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
    ]
    if not create:
        check_config(where)
        command += ["--git-dir", str(where)]
    done = _run_git([*command, *args], stdin, env)
    if done.returncode != 0:
        raise HistoryError(f"git {args[0]}: {done.stderr.strip() or done.returncode}")
    return done.stdout
