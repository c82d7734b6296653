/// The rlwatch version, as `rlwatch --version` prints it.
///
/// One version names the binary, the server wheel (scripts/build-wheel reads it from `rlwatch --version`) and the
/// Python client (clients/python/rlwatch_client/_version.py and its `server` extra's pin): scripts/set-version
/// changes all of them, and VersionCLITests checks that they agree.
public enum RLWatchVersion {
    public static let current = "0.1.0"
}
