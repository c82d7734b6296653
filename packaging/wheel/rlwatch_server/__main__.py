"""``python -m rlwatch_server ARGS``: runs the wheel's ``rlwatch`` binary with ARGS (for when it is not on PATH)."""

import os
import sys

from rlwatch_server import binary_path


def main() -> None:
    binary = binary_path()
    if binary is None:
        sys.exit("rlwatch_server: the rlwatch binary of this wheel is missing; reinstall it: "
                 "pip install --force-reinstall rlwatch-server")
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
