/// A forward reader of protobuf wire format over a byte buffer, for the hand-written fast path.
///
/// Every read returns nil on malformed input (a truncated or over-long varint, a length past the end)
/// instead of throwing: the fast path then hands the record to swift-protobuf, which decides what is
/// wrong with it and says so.
struct ProtobufCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The wire types this reader knows (groups, 3 and 4, are long deprecated and not read).
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    var isAtEnd: Bool { position >= bytes.count }

    @inline(__always)
    mutating func varint() -> UInt64? {
        guard position < bytes.count else { return nil }
        let first = bytes[position]
        if first < 0x80 {
            position &+= 1
            return UInt64(first)
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position &+= 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift &+= 7
        }
        return nil
    }

    /// The next field's number and wire type.
    @inline(__always)
    mutating func fieldKey() -> (field: UInt64, wireType: WireType)? {
        guard let key = varint(), let wireType = WireType(rawValue: key & 7), key >> 3 != 0 else { return nil }
        return (key >> 3, wireType)
    }

    @inline(__always)
    mutating func fixed32() -> UInt32? {
        guard bytes.count &- position >= 4 else { return nil }
        defer { position &+= 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    @inline(__always)
    mutating func fixed64() -> UInt64? {
        guard bytes.count &- position >= 8 else { return nil }
        defer { position &+= 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    @inline(__always)
    mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
        guard let length = varint(), length <= UInt64(bytes.count &- position) else { return nil }
        let start = position
        position &+= Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }

    /// Skips a field's value.
    @inline(__always)
    mutating func skip(_ wireType: WireType) -> Bool {
        switch wireType {
        case .varint: varint() != nil
        case .fixed64: fixed64() != nil
        case .lengthDelimited: lengthDelimited() != nil
        case .fixed32: fixed32() != nil
        }
    }
}
