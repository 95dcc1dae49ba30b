"""What can be known about a file connector's ``file`` before a task opens it.

Checked when a connector is created or validated, so a path that cannot work is a 400 naming
``file`` and what to change, instead of a task that fails (and, were the error transient,
restarts) later. Each check answers None when the path can work, else the reason in Kafka
Connect's wording (``Invalid value <v> for configuration file: <reason>``).

The source waits for a missing file to appear (as Kafka Connect's does), so a missing file is
fine there, but only in a directory that exists: a typo in the directory would otherwise wait
forever without a word. The sink creates a missing file, so its directory must exist and be
writable. Relative paths start at the worker's working directory, which the message shows.
A worker's ``file.allowed.paths`` is checked first, and again when a task opens the file
(:func:`permitted_path`). The checks run on the worker that answers the request; like Kafka Connect's file connectors,
a distributed cluster needs the same path on every worker that may run the task.
"""

from __future__ import annotations

import os
import stat

from connectors.sdk.config import ConfigValueInfo, java_trim
from connectors.sdk.errors import ConfigError
from connectors.sdk.filesystem import worker_paths

KEY = "file"
_USER = "for the user running Penstock"


def _relative_note(path: str) -> str:
    """Relative paths are easy to get wrong: say where they start."""
    if os.path.isabs(path):
        return ""
    return f" (a relative path starts at the worker's working directory, {os.getcwd()})"


def _invalid(value: str, reason: str) -> str:
    return f"Invalid value {value} for configuration {KEY}: {reason}"


def _directory_problem(path: str, *, write: bool, missing_hint: str) -> str | None:
    """Why files cannot be looked up (or, with ``write``, created) in the directory of ``path``.

    The messages say "its directory" rather than quoting it: the value may come from a config
    provider, and only the value as a whole is masked in what the REST API answers."""
    directory = os.path.dirname(path) or "."
    try:
        info = os.stat(directory)
    except FileNotFoundError:
        return f"its directory does not exist{_relative_note(path)}; {missing_hint}"
    except NotADirectoryError:
        return "a part of its path is a file, not a directory; correct the path"
    except PermissionError:
        return f"its directory cannot be reached (permission denied {_USER})"
    if not stat.S_ISDIR(info.st_mode):
        return "a part of its path is a file, not a directory; correct the path"
    if write and not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"files cannot be created in its directory (permission denied {_USER}); "
            "make the directory writable, or choose another one"
        )
    if not os.access(directory, os.X_OK):
        return f"its directory cannot be searched (permission denied {_USER})"
    return None


def sink_file_problem(path: str) -> str | None:
    """The sink appends to ``path``, creating it if missing."""
    hint = "create it, or choose a file in an existing directory"
    try:
        info = os.stat(path)
    except OSError as exc:  # missing, or a parent is a file or cannot be searched
        problem = _directory_problem(path, write=True, missing_hint=hint)
        return problem if problem is not None or isinstance(exc, FileNotFoundError) else str(exc)
    if stat.S_ISDIR(info.st_mode):
        return "it is a directory; give the path of a file to append to"
    if not os.access(path, os.W_OK):
        return f"it cannot be written (permission denied {_USER}); make it writable, or choose another file"
    return None


def source_file_problem(path: str) -> str | None:
    """The source reads ``path``; a file that does not exist yet is waited for."""
    hint = (
        "create it, or correct the path (the source waits for a missing file to appear, "
        "but only in a directory that exists)"
    )
    try:
        info = os.stat(path)
    except OSError as exc:
        problem = _directory_problem(path, write=False, missing_hint=hint)
        return problem if problem is not None or isinstance(exc, FileNotFoundError) else str(exc)
    if stat.S_ISDIR(info.st_mode):
        return "it is a directory; give the path of a file to read"
    if not os.access(path, os.R_OK):
        return f"it cannot be read (permission denied {_USER}); make it readable, or choose another file"
    return None


def check_file(values: list[ConfigValueInfo], props: dict[str, str], sink: bool) -> list[ConfigValueInfo]:
    """Add the path problem, if any, to the ``file`` entry of a connector's validation result.
    An empty ``file`` means standard output (sink) or input (source): nothing to check."""
    path = java_trim(props.get(KEY) or "")
    if not path:
        return values
    for info in values:
        if info.name == KEY and not info.errors:
            problem = worker_paths().refusal(path)
            if problem is None:
                problem = sink_file_problem(path) if sink else source_file_problem(path)
            if problem is not None:
                info.errors.append(_invalid(props[KEY], problem))
    return values


def permitted_path(path: str) -> str:
    """The real path to open (symlinks and ``..`` resolved), once the worker's
    ``file.allowed.paths`` allows it; a ConfigError (no automatic restart) if not. Checked again
    when a task opens the file: the value may come from a config provider, or the setting may
    have changed since the connector was created."""
    problem = worker_paths().refusal(path)
    if problem is not None:
        raise ConfigError(f"Cannot open the file: {problem}")
    return os.path.realpath(path)
