/// What of a metrics log's line is parsed: the rules every reader of the format shares.
enum ContentLine {
    /// The bytes of the line `[start, end)` of `base` to parse, or nil for a blank or `#` comment line.
    ///
    /// A `\r` before the newline is dropped, and so is a UTF-8 byte order mark at the start of the file.
    /// - Parameters:
    ///   - base: The buffer holding the line.
    ///   - start: The offset of the line's first byte.
    ///   - end: The offset of its newline, or of the end of the input.
    ///   - atFileStart: Whether the line is the first of the file (where a byte order mark may be).
    @inline(__always)
    static func bytes(
        _ base: UnsafeRawPointer, from start: Int, to end: Int, atFileStart: Bool
    ) -> UnsafeRawBufferPointer? {
        var first = start
        var last = end
        if last > first, base.load(fromByteOffset: last - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            last -= 1
        }
        if atFileStart, last - first >= 3, base.load(fromByteOffset: first, as: UInt8.self) == 0xEF,
            base.load(fromByteOffset: first + 1, as: UInt8.self) == 0xBB,
            base.load(fromByteOffset: first + 2, as: UInt8.self) == 0xBF
        {
            first += 3
        }
        var content = first
        while content < last {
            let byte = base.load(fromByteOffset: content, as: UInt8.self)
            guard byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") else { break }
            content += 1
        }
        guard content < last, base.load(fromByteOffset: content, as: UInt8.self) != UInt8(ascii: "#") else {
            return nil
        }
        return UnsafeRawBufferPointer(start: base + first, count: last - first)
    }
}
