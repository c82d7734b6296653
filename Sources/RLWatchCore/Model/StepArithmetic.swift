/// Training steps from `earlier` to `later`, saturating at `Int.max` and `Int.min` instead of trapping.
///
/// Step numbers come from whatever a trainer, a file or a client sends, and nothing stops one near ±2^63: a
/// plain `later - earlier` then traps and takes the whole process down (every run a server monitors dies with
/// it). Every distance between two step numbers goes through here; a saturated distance is simply "very far".
@inlinable
public func stepDistance(from earlier: Int, to later: Int) -> Int {
    let (difference, overflow) = later.subtractingReportingOverflow(earlier)
    guard overflow else { return difference }
    return later > earlier ? Int.max : Int.min
}
