/// The rlwatch version, as `rlwatch --version` prints it.
public enum RLWatchVersion {
    public static let current = "0.1.0"
}
