/// What a client reports when its training process dies.
///
/// Only the exception's type and message (and the exit code when known) travel: never stack frames or local
/// values, which may hold data or secrets.
public struct CrashReport: Sendable, Hashable {
    /// `RuntimeError`, `torch.cuda.OutOfMemoryError`; empty when the process only exited non-zero.
    public var exceptionType: String
    /// The exception's message, cut to ``maxMessageLength`` characters.
    public var message: String
    /// The process's exit status, when the client could tell.
    public var exitCode: Int?

    public static let maxMessageLength = 2000

    public init(exceptionType: String, message: String, exitCode: Int? = nil) {
        self.exceptionType = String(exceptionType.prefix(200))
        self.message = String(message.prefix(Self.maxMessageLength))
        self.exitCode = exitCode
    }

    /// The critical alert for this report at the run's last step.
    public func alert(lastStep: Int?) -> Alert {
        var what: String
        if exceptionType.isEmpty {
            what = "Training process exited with status \(exitCode.map(String.init) ?? "unknown")"
        } else {
            what = "Training process crashed: \(exceptionType)"
            if !message.isEmpty { what += ": \(message)" }
            if let exitCode { what += " (exit status \(exitCode))" }
        }
        if let lastStep { what += " after step \(lastStep)" }
        var values = MetricValues()
        if let exitCode { values["exit_code"] = .double(Double(exitCode)) }
        if let lastStep { values["last_step"] = .double(Double(lastStep)) }
        return Alert(
            step: lastStep ?? 0, detector: .runCrashed, severity: .critical, message: what, metricValues: values,
            recommendation: Self.recommendation(exceptionType: exceptionType, message: message))
    }

    /// What to do, by the kind of failure the exception names.
    static func recommendation(exceptionType: String, message: String) -> String {
        let text = (exceptionType + " " + message).lowercased()
        if text.contains("out of memory") || text.contains("outofmemory") {
            return "The run ran out of GPU memory. Resume from the last checkpoint with a smaller micro-batch, "
                + "shorter max completion length, fewer generations per prompt, or gradient checkpointing; "
                + "check whether completion lengths grew (length_truncation) before the crash."
        }
        if text.contains("nccl") || text.contains("timeout") || text.contains("timed out") {
            return "A collective operation failed or timed out: check that every node is up and reachable "
                + "(NCCL_DEBUG=INFO), look for one slow or dead rank, then resume from the last checkpoint."
        }
        if text.contains("nan") || text.contains("inf") {
            return "A non-finite value stopped training: inspect the alerts just before the crash (loss_nan, "
                + "gradient_norm_spike), lower the learning rate or tighten gradient clipping, and resume from "
                + "the last healthy checkpoint."
        }
        return "Read the traceback in the job's log, fix the cause, and resume from the last checkpoint; the "
            + "alerts before the crash (if any) show whether training was already unhealthy."
    }
}
