import RLWatchCore

/// A hash table from a key's raw UTF-8 bytes to what the parser does with it.
///
/// Looking keys up by their bytes in the line spares the parser a `String` per key; a key that is not a
/// known metric is learned (its `String` made once) so that the extras of later lines share that
/// string instead of allocating their own. Learning stops after ``learnLimit`` keys, which bounds the
/// memory a log with ever-new keys can take; keys beyond it get a fresh `String` each time.
struct KeyTable: Sendable {
    enum Role: Sendable {
        case step
        /// `metrics` or `data`: an object whose members are metric keys.
        case container
        /// `extras`: an object whose members are extras under their own names (rlwatch's own metrics export).
        case extras
        case rewards
        case metric(FrameworkKeyMap.Binding)
        case extra
        /// An extra kept under the name of another entry (a user's mapping to an extra a detector reads).
        case renamed(Int)
    }

    enum Match {
        /// An entry of the table (see ``role(of:)`` and ``name(of:)``).
        case entry(Int)
        /// A key seen after the table stopped learning.
        case unlisted(String)
    }

    private struct Slot {
        var hash: UInt64
        /// The entry's index, or -1 for an empty slot.
        var entry: Int32
    }

    static let learnLimit = 4096

    private var slots: [Slot]
    private var roles: [Role] = []
    private var names: [String] = []
    private var keyOffsets: [Int] = []
    private var keyCounts: [Int] = []
    private var keyBytes: [UInt8] = []
    private var learned = 0

    /// A table of the structural keys and every key of `keyMap`.
    ///
    /// `step`, `metrics`, `data`, `extras` and `rewards` keep their meaning whatever `keyMap` says.
    init(keyMap: MetricKeyMap = .builtIn) {
        slots = Array(repeating: Slot(hash: 0, entry: -1), count: 256)
        insert("step", role: .step)
        insert("metrics", role: .container)
        insert("data", role: .container)
        insert("extras", role: .extras)
        insert("rewards", role: .rewards)
        let structural = Set(MetricsConfig.structuralKeys)
        var renamed: [(key: String, name: String)] = []
        for (key, target) in keyMap.targets where !structural.contains(key) {
            switch target {
            case .metric(let binding): insert(key, role: .metric(binding))
            case .unmapped: insert(key, role: .extra)
            case .renamed(let name): renamed.append((key, name))
            }
        }
        for (key, name) in renamed {
            insert(key, role: .renamed(entry(named: name)))
        }
    }

    /// The entry of a name, inserted as an extra when the table does not have it.
    private mutating func entry(named name: String) -> Int {
        if let existing = names.firstIndex(of: name) { return existing }
        return insert(name, role: .extra)
    }

    @inline(__always)
    func role(of entry: Int) -> Role { roles[entry] }

    @inline(__always)
    func name(of entry: Int) -> String { names[entry] }

    /// The key a match stands for.
    func name(of match: Match) -> String {
        switch match {
        case .entry(let entry): names[entry]
        case .unlisted(let name): name
        }
    }

    /// The entry for a key, learning it as an extra if it is new.
    ///
    /// - Parameters:
    ///   - key: The key's bytes, escapes already decoded.
    ///   - mayBeNonASCII: Whether any byte is ≥ 0x80; such a key is checked to be valid UTF-8 before it is learned.
    ///   - column: The key's column, for the error.
    /// - Throws: ``MetricsLineError/Kind/invalidUTF8`` for a new key that is not valid UTF-8.
    @inline(__always)
    mutating func match(
        _ key: UnsafeRawBufferPointer, mayBeNonASCII: Bool, column: Int
    ) throws(MetricsLineError) -> Match {
        try match(key, hash: Self.hash(key), mayBeNonASCII: mayBeNonASCII, column: column)
    }

    /// The entry for a key whose ``hash(_:)`` is known, learning it as an extra if it is new.
    @inline(__always)
    mutating func match(
        _ key: UnsafeRawBufferPointer, hash: UInt64, mayBeNonASCII: Bool, column: Int
    ) throws(MetricsLineError) -> Match {
        let mask = slots.count &- 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.entry < 0 { break }
            let entry = Int(slot.entry)
            if slot.hash == hash, keyCounts[entry] == key.count, equals(entry, key) {
                return .entry(entry)
            }
            index = (index &+ 1) & mask
        }
        let name: String
        if mayBeNonASCII {
            guard let valid = String(validating: key, as: UTF8.self) else {
                throw MetricsLineError(kind: .invalidUTF8, column: column, message: "key is not valid UTF-8")
            }
            name = valid
        } else {
            name = String(decoding: key, as: UTF8.self)
        }
        guard learned < Self.learnLimit else { return .unlisted(name) }
        learned += 1
        return .entry(insert(name, role: .extra, hash: hash))
    }

    @inline(__always)
    private func equals(_ entry: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let offset = keyOffsets[entry]
        return keyBytes.withUnsafeBytes { stored in
            Self.bytesEqual(UnsafeRawBufferPointer(rebasing: stored[offset..<offset &+ key.count]), key)
        }
    }

    /// Byte equality of two buffers of the same length, a word at a time (keys are short: a call to
    /// `memcmp` costs more than the comparison).
    @inline(__always)
    static func bytesEqual(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        let count = right.count
        var offset = 0
        while offset &+ 8 <= count {
            guard left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                == right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            else { return false }
            offset &+= 8
        }
        while offset < count {
            guard left[offset] == right[offset] else { return false }
            offset &+= 1
        }
        return true
    }

    @discardableResult
    private mutating func insert(_ name: String, role: Role, hash knownHash: UInt64? = nil) -> Int {
        let entry = roles.count
        let bytes = Array(name.utf8)
        let hash = knownHash ?? bytes.withUnsafeBytes { Self.hash($0) }
        roles.append(role)
        names.append(name)
        keyOffsets.append(keyBytes.count)
        keyCounts.append(bytes.count)
        keyBytes.append(contentsOf: bytes)
        if (roles.count &* 2) > slots.count {
            rehash(capacity: slots.count &* 2)
        } else {
            place(hash: hash, entry: entry)
        }
        return entry
    }

    private mutating func place(hash: UInt64, entry: Int) {
        let mask = slots.count &- 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].entry >= 0 { index = (index &+ 1) & mask }
        slots[index] = Slot(hash: hash, entry: Int32(entry))
    }

    private mutating func rehash(capacity: Int) {
        slots = Array(repeating: Slot(hash: 0, entry: -1), count: capacity)
        for entry in roles.indices {
            let range = keyOffsets[entry]..<keyOffsets[entry] + keyCounts[entry]
            let hash = keyBytes.withUnsafeBytes { stored in Self.hash(UnsafeRawBufferPointer(rebasing: stored[range])) }
            place(hash: hash, entry: entry)
        }
    }

    /// A fast, word-at-a-time hash; keys come from local logs, so no defence against collisions is needed.
    ///
    /// It is built from ``mixWord(_:_:)``, ``mixTail(_:_:)`` and ``finish(_:count:)`` so that the scanner
    /// can hash a key with the words it loads while looking for the closing quote.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let count = key.count
        var hash = hashSeed
        var offset = 0
        while offset &+ 8 <= count {
            hash = mixWord(hash, UInt64(littleEndian: key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset &+= 8
        }
        if offset < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                word |= UInt64(key[offset]) << shift
                shift &+= 8
                offset &+= 1
            }
            hash = mixTail(hash, word)
        }
        return finish(hash, count: count)
    }

    static let hashSeed: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Mixes eight key bytes, loaded little-endian.
    @inline(__always)
    static func mixWord(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
        return mixed ^ (mixed >> 31)
    }

    /// Mixes the last one to seven key bytes, loaded little-endian and zero-padded.
    @inline(__always)
    static func mixTail(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        (hash ^ word) &* 0x94D0_49BB_1331_11EB
    }

    @inline(__always)
    static func finish(_ hash: UInt64, count: Int) -> UInt64 {
        var result = hash ^ UInt64(truncatingIfNeeded: count)
        result ^= result >> 29
        result &*= 0xBF58_476D_1CE4_E5B9
        result ^= result >> 32
        return result
    }
}
