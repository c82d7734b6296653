#!/usr/bin/env python3
"""Packs a built ``rlwatch`` binary into a platform wheel: ``rlwatch_server-<version>-py3-none-<platform>.whl``.

Usage: ``pack_wheel.py --binary PATH --out DIR [--platform TAG]`` (``scripts/build-wheel`` builds the binary, checks
what it links, then calls this). Prints the wheel's path.

The wheel holds:
- ``rlwatch_server-<v>.data/scripts/rlwatch``: the binary itself. Installers copy ``.data/scripts`` into the
  environment's scripts directory (``<venv>/bin``) and mark it executable, so ``rlwatch`` is on PATH with no Python
  wrapper in front of it (start-up stays that of a native program).
- ``rlwatch_server/``: a tiny Python package whose ``binary_path()`` finds that binary when the environment is not
  on PATH (the Python client's ``attach()`` uses it), and ``python -m rlwatch_server``.
- ``rlwatch_server-<v>.dist-info/``: METADATA, WHEEL (``Root-Is-Purelib: false``, the platform tag) and RECORD.

Why this writes the zip itself rather than going through a build backend: the wheel format (PEP 427 / the binary
distribution format spec) is a zip with three metadata files, and what it must contain here is one prebuilt
executable plus two small Python files. setuptools' ``build_scripts`` reads scripts as text (an ELF file breaks
it) and would need a ``bdist_wheel`` subclass for the ``py3-none-<platform>`` tag; hatchling would need a download
and a custom build hook for the tag. Writing it with :mod:`zipfile` needs nothing but the standard library (it
works offline, in CI before any venv exists), and its output is reproducible: fixed timestamps and order, so the
same binary gives a byte-identical wheel. maturin (ruff's and uv's packager) writes its wheels the same way. The
tests install the result with pip and check the RECORD hashes independently.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Tuple

NAME = "rlwatch-server"
#: The distribution name as it appears in file names (PEP 427: `-` becomes `_`).
FILE_NAME = "rlwatch_server"
PACKAGE_DIR = Path(__file__).resolve().parent / "rlwatch_server"
#: 1980-01-01, the earliest time a zip entry can hold: the wheel does not depend on when it was packed.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: PEP 440 versions of the shape rlwatch uses (`0.1.0`, `1.2.0rc1`, `1.2.0.dev3`).
VERSION_PATTERN = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?")

SUMMARY = "The rlwatch monitor for GRPO/PPO training runs, as a self-contained binary (no Swift toolchain needed)."
DESCRIPTION = """\
# rlwatch-server

The `rlwatch` binary (`serve`, `watch`, `replay`, `demo`, `diagnose`, ...) built with the Swift standard library
linked in, so it runs on any glibc Linux without a Swift toolchain. Installing this wheel puts `rlwatch` on the
environment's PATH; `pip install "rlwatch-client[server]"` installs it with the Python client, whose `attach()`
starts it when no server URL is given.
"""


class PackError(Exception):
    pass


def binary_version(binary: Path) -> str:
    """The version `rlwatch --version` prints (`rlwatch, version X`): the wheel carries the binary's version."""
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise PackError(f"cannot run {binary} --version: {error}") from error
    text = result.stdout.strip()
    match = re.fullmatch(r"rlwatch, version (\S+)", text)
    if result.returncode != 0 or match is None:
        raise PackError(f"{binary} --version printed {text!r} (exit {result.returncode}), "
                        f"not 'rlwatch, version X': is it the rlwatch binary?")
    version = match.group(1)
    if VERSION_PATTERN.fullmatch(version) is None:
        raise PackError(f"{binary} reports version {version!r}, which is not a PEP 440 version like 0.1.0")
    return version


def default_platform() -> str:
    """`manylinux_<glibc major>_<minor>_<arch>` of this machine's glibc (the build machine's, so the binary's)."""
    if sys.platform != "linux":
        raise PackError(f"the server wheel is built on Linux (this is {sys.platform})")
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    match = re.fullmatch(r"glibc (\d+)\.(\d+)", libc)
    if match is None:
        raise PackError(f"cannot tell this machine's glibc version (confstr says {libc!r}); pass --platform")
    arch = platform.machine()
    return f"manylinux_{match.group(1)}_{match.group(2)}_{arch}"


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def wheel_files(binary: Path, version: str, tag: str) -> List[Tuple[str, bytes, int]]:
    """(path in the wheel, contents, unix mode) of every file but RECORD, in the order they are written."""
    files: List[Tuple[str, bytes, int]] = []
    for source in sorted(PACKAGE_DIR.glob("*.py")):
        text = source.read_text(encoding="utf-8").replace("@VERSION@", version)
        files.append((f"rlwatch_server/{source.name}", text.encode("utf-8"), 0o644))
    files.append((f"{FILE_NAME}-{version}.data/scripts/rlwatch", binary.read_bytes(), 0o755))
    dist_info = f"{FILE_NAME}-{version}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {version}\n"
        f"Summary: {SUMMARY}\n"
        "Requires-Python: >=3.8\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Topic :: Scientific/Engineering :: Artificial Intelligence\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + DESCRIPTION
    )
    wheel = (
        "Wheel-Version: 1.0\n"
        "Generator: rlwatch packaging/wheel/pack_wheel.py\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {tag}\n"
    )
    files.append((f"{dist_info}/METADATA", metadata.encode("utf-8"), 0o644))
    files.append((f"{dist_info}/WHEEL", wheel.encode("utf-8"), 0o644))
    return files


def pack(binary: Path, out_dir: Path, platform_tag: str) -> Path:
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise PackError(f"{binary} is not an executable file")
    if re.fullmatch(r"[a-z0-9_]+", platform_tag) is None:
        raise PackError(f"--platform {platform_tag!r} is not a platform tag like manylinux_2_36_x86_64")
    version = binary_version(binary)
    tag = f"py3-none-{platform_tag}"
    files = wheel_files(binary, version, tag)
    record_path = f"{FILE_NAME}-{version}.dist-info/RECORD"
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data, _ in files) + f"{record_path},,\n"
    files.append((record_path, record.encode("utf-8"), 0o644))

    out_dir.mkdir(parents=True, exist_ok=True)
    wheel_path = out_dir / f"{FILE_NAME}-{version}-{tag}.whl"
    partial = wheel_path.with_name(wheel_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path, data, mode in files:
            entry = zipfile.ZipInfo(path, date_time=FIXED_TIME)
            entry.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
            entry.create_system = 3  # unix, so installers read the mode
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    os.replace(partial, wheel_path)  # no half-written wheel under the final name
    return wheel_path


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, type=Path, help="the rlwatch binary to pack")
    parser.add_argument("--out", required=True, type=Path, help="directory the wheel is written to")
    parser.add_argument("--platform", help="platform tag (default: manylinux_<this machine's glibc>_<arch>)")
    arguments = parser.parse_args(argv)
    try:
        wheel = pack(arguments.binary, arguments.out, arguments.platform or default_platform())
    except PackError as error:
        print(f"pack_wheel: {error}", file=sys.stderr)
        return 1
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
