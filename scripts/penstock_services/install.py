"""Downloads through Maven into a local cache folder that later runs reuse as is."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from .common import ServiceError, log, require_tool, run_checked

COMPLETE_MARKER = ".complete"


def cached(final_dir: Path, build: Callable[[Path], None], what: str) -> Path:
    """Return `final_dir`, building it first (into a temp folder, then renamed) unless cached."""
    if (final_dir / COMPLETE_MARKER).exists():
        return final_dir
    log(f"{what}: not cached yet, fetching into {final_dir}")
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    final_dir.parent.chmod(0o755)
    tmp = final_dir.with_name(f".{final_dir.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o755)
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (tmp / COMPLETE_MARKER).touch()
    shutil.rmtree(final_dir, ignore_errors=True)
    tmp.rename(final_dir)
    return final_dir


def maven_copy_dependencies(
    pom: Path,
    out_dir: Path,
    *,
    properties: dict[str, str],
    log_path: Path,
    profiles: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> None:
    """`mvn dependency:copy-dependencies` on one of the POMs in deploy/services (uses ~/.m2)."""
    argv = [require_tool("mvn"), "-B", "--no-transfer-progress", "-Dstyle.color=never", "-f", str(pom)]
    argv += [f"-D{key}={value}" for key, value in properties.items()]
    if profiles:
        argv += ["-P", ",".join(profiles)]
    argv += ["dependency:copy-dependencies", f"-DoutputDirectory={out_dir}", *extra]
    run_checked(argv, what=f"mvn on {pom.name}", log_path=log_path, cwd=pom.parent)


def unzip_with_modes(archive: Path, dest: Path) -> None:
    """Extract a zip keeping the Unix permission bits (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            if not target.resolve().is_relative_to(dest.resolve()):
                raise ServiceError(f"{archive} holds an unsafe path: {info.filename}")
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode | (0o755 if info.is_dir() else 0o444))
