import RLWatchCore

/// Where one alert's delivery to one channel stands.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Not yet acknowledged; the dispatcher will (re)try at `nextAttemptAt`.
    case pending
    /// Acknowledged by the channel (2xx, or accepted by the SMTP server). Never sent again.
    case delivered
    /// Given up: refused for good (4xx other than 429), a configuration error, or out of attempts.
    case failed
    /// The channel does not take the alert (PagerDuty and a warning).
    case skipped
}

/// One outbox entry: an alert to deliver to one channel.
public struct DeliveryRecord: Sendable, Hashable {
    public var id: Int64
    public var alertID: Int64
    public var runID: String
    public var channel: String
    public var status: DeliveryStatus
    /// Attempts made so far.
    public var attempts: Int
    /// Seconds since 1970 when the next attempt is due (meaningful while pending).
    public var nextAttemptAt: Double
    public var createdAt: Double
    public var updatedAt: Double
    /// The last attempt's outcome code (`delivered`, `retryable`, `failed`, `config_error`, `skipped`), nil before any.
    public var lastOutcome: String?
    /// The last attempt's explanation, secrets scrubbed.
    public var lastDetail: String?

    public init(
        id: Int64, alertID: Int64, runID: String, channel: String, status: DeliveryStatus, attempts: Int,
        nextAttemptAt: Double, createdAt: Double, updatedAt: Double, lastOutcome: String? = nil, lastDetail: String? = nil
    ) {
        self.id = id
        self.alertID = alertID
        self.runID = runID
        self.channel = channel
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastOutcome = lastOutcome
        self.lastDetail = lastDetail
    }
}

/// One line of the delivery log: an attempt and how it ended.
public struct DeliveryAttemptRecord: Sendable, Hashable {
    public var deliveryID: Int64
    public var alertID: Int64
    public var channel: String
    /// 1-based.
    public var attempt: Int
    /// Seconds since 1970 when the attempt started.
    public var time: Double
    /// `delivered`, `retryable`, `failed`, `config_error` or `skipped`.
    public var outcome: String
    /// The HTTP status, when there was an answer.
    public var httpStatus: Int?
    /// Secrets scrubbed.
    public var detail: String
    public var durationSeconds: Double

    public init(
        deliveryID: Int64, alertID: Int64, channel: String, attempt: Int, time: Double, outcome: String,
        httpStatus: Int?, detail: String, durationSeconds: Double
    ) {
        self.deliveryID = deliveryID
        self.alertID = alertID
        self.channel = channel
        self.attempt = attempt
        self.time = time
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.detail = detail
        self.durationSeconds = durationSeconds
    }
}

/// A claimed outbox entry together with its alert.
public struct DueDelivery: Sendable, Hashable {
    public var delivery: DeliveryRecord
    public var alert: AlertRecord

    public init(delivery: DeliveryRecord, alert: AlertRecord) {
        self.delivery = delivery
        self.alert = alert
    }
}

/// Which outbox entries a query returns.
public enum DeliveryFilter: Sendable, Hashable {
    case all
    case pending
    case failed
}

extension DeliveryFilter {
    func matches(_ status: DeliveryStatus) -> Bool {
        switch self {
        case .all: true
        case .pending: status == .pending
        case .failed: status == .failed
        }
    }
}
