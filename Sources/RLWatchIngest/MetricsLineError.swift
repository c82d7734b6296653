import RLWatchCore

/// Why one metrics JSONL line was rejected, and where: the shared ``JSONError``, whose ``JSONError/column`` is
/// the 1-based byte offset in the line and whose ``JSONError/key`` names the key at fault.
public typealias MetricsLineError = JSONError
