/// The `String`s of the tags seen recently, looked up by their bytes.
///
/// A log repeats the same few dozen tags millions of times; making a new `String` for each event
/// costs an allocation for every tag longer than 15 bytes (`train/learning_rate`), and checking its
/// UTF-8 each time. A small direct-mapped table by a hash of the bytes returns the same `String`
/// instead. A collision just replaces the slot, so the table stays bounded whatever the tags.
///
/// Each slot also caches the plugin the tag's metadata named, so that a scalar tensor's tag needs no
/// dictionary lookup either; ``ScalarEventDecoder`` keeps the slots' plugins in step with its own map.
struct TagInterner: Sendable {
    private struct Slot: Sendable {
        var hash: UInt64 = 0
        var bytes: [UInt8] = []
        var string: String?
        var plugin: String?
    }

    private static let slotCount = 256
    private var slots = [Slot](repeating: Slot(), count: slotCount)

    init() {}

    /// The tag's string and its slot, or nil when the bytes are not valid UTF-8.
    ///
    /// - Parameters:
    ///   - bytes: The tag's UTF-8 bytes.
    ///   - plugins: The plugins known by tag, for a tag that takes a slot.
    @inline(__always)
    mutating func lookup(
        _ bytes: UnsafeRawBufferPointer, plugins: [String: String]
    ) -> (tag: String, slot: Int)? {
        let hash = Self.hash(bytes)
        let index = Int(truncatingIfNeeded: hash) & (Self.slotCount &- 1)
        if slots[index].hash == hash, let string = slots[index].string,
            slots[index].bytes.withUnsafeBytes({ Self.bytesEqual($0, bytes) })
        {
            return (string, index)
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        slots[index] = Slot(
            hash: hash, bytes: Array(bytes), string: string, plugin: plugins.isEmpty ? nil : plugins[string])
        return (string, index)
    }

    /// The plugin cached for the tag in `slot`.
    @inline(__always)
    func plugin(slot: Int) -> String? {
        slots[slot].plugin
    }

    /// Caches the plugin of `tag`, if the tag has a slot.
    mutating func setPlugin(_ plugin: String, forTag tag: String) {
        Array(tag.utf8).withUnsafeBytes { bytes in
            let hash = Self.hash(bytes)
            let index = Int(truncatingIfNeeded: hash) & (Self.slotCount &- 1)
            if slots[index].hash == hash, slots[index].string == tag {
                slots[index].plugin = plugin
            }
        }
    }

    /// Whether two buffers hold the same bytes, compared a word at a time (tags are short: a call to
    /// `memcmp` costs more than the comparison).
    @inline(__always)
    static func bytesEqual(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        guard left.count == right.count else { return false }
        var offset = 0
        while offset &+ 8 <= left.count {
            guard
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    == right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            else { return false }
            offset &+= 8
        }
        while offset < left.count {
            guard left[offset] == right[offset] else { return false }
            offset &+= 1
        }
        return true
    }

    /// A word-at-a-time multiplicative hash: tags come from local logs, no defence against collisions needed.
    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
        var offset = 0
        while offset &+ 8 <= bytes.count {
            hash =
                (hash ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset &+= 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift &+= 8
            offset &+= 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 29)
    }
}
