/// "Did you mean …?" for misspelt keys and values.
enum ConfigSuggestion {
    /// The candidate a user most plausibly meant by `name`, or nil when none is close.
    ///
    /// Names are compared case-insensitively and ignoring `_` and `-`, so `warmupSteps`, `Warmup-Steps` and
    /// `warmup_step` all find `warmup_steps`. A candidate is close when few edits away (a third of the name's
    /// length, at least one, at most three), or when one name begins with the other (`sigma` → `sigma_multiplier`).
    static func closest(to name: String, in candidates: [String]) -> String? {
        let target = normalized(name)
        guard !target.isEmpty else { return nil }
        let limit = max(1, min(3, target.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, normalized(candidate))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.candidate }
        return candidates.first { candidate in
            let other = normalized(candidate)
            return min(other.count, target.count) >= 4 && (other.hasPrefix(target) || target.hasPrefix(other))
        }
    }

    /// The full dotted key of the one field whose last name is `name` (after normalising), for a key written in the
    /// wrong section (`cooldown_steps` at the top level → `alerts.cooldown_steps`). Nil when none or several match.
    static func elsewhere(_ name: String) -> String? {
        let target = normalized(name)
        let matches = ConfigSchema.fields.filter { normalized($0.path.last ?? "") == target }
        return matches.count == 1 ? matches.first?.key : nil
    }

    static func normalized(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Edit distance over characters where swapping two neighbours counts as one edit (`POTS` → `POST`), as in
    /// the optimal-string-alignment variant of Damerau–Levenshtein.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let lhs = Array(lhs)
        let rhs = Array(rhs)
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var beforePrevious = [Int](repeating: 0, count: rhs.count + 1)
        var previous = Array(0...rhs.count)
        var current = [Int](repeating: 0, count: rhs.count + 1)
        for i in 1...lhs.count {
            current[0] = i
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[rhs.count]
    }
}
