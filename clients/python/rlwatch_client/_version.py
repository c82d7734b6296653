# One version for the client, the rlwatch binary (Sources/RLWatch/Version.swift) and the server wheel: scripts/set-version
# changes all of them; VersionCLITests checks they agree.
__version__ = "0.1.0"
