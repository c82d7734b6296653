/// The hand-written decoder of the common scalar event shapes.
///
/// swift-protobuf materialises an `Event`, its `Summary`, each `Value` and its tensor as separate heap
/// objects, which caps decoding near one million events per second before anything else is done. The
/// events of a training log are nearly all one shape: `wall_time`, `step` and a summary of values
/// that each hold a tag and a `simple_value`, or a rank-0 `DT_FLOAT`/`DT_DOUBLE` tensor with one
/// `float_val`/`double_val` and the `scalars` plugin's metadata. This reads exactly those straight
/// from the bytes. Anything else (another event field, another tensor encoding, a repeated oneof,
/// malformed bytes) makes it give up, and the record goes to swift-protobuf, which handles the
/// rest and reports errors; so the fast path only has to be right about what it accepts.
extension ScalarEventDecoder {
    /// One summary value, as far as the fast path read it.
    private struct FastValue {
        var tag: UnsafeRawBufferPointer?
        var number: Double?
        var isTensor = false
        var plugin: UnsafeRawBufferPointer?
    }

    /// Whether a plugin name's bytes spell `scalars`.
    @inline(__always)
    private static func isScalarsPlugin(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // "scalars" is 7 bytes: compared as one little-endian word, no array or String involved.
        guard bytes.count == 7 else { return false }
        let word =
            UInt64(bytes.loadUnaligned(as: UInt32.self).littleEndian)
            | UInt64(bytes.loadUnaligned(fromByteOffset: 3, as: UInt32.self).littleEndian) << 24
        return word == 0x0073_7261_6C61_6373  // "scalars", little-endian
    }

    /// Appends the event's scalars, or returns false (having appended nothing) when the event is not a
    /// shape the fast path reads.
    mutating func decodeFast(_ data: UnsafeRawBufferPointer, into scalars: inout [TensorBoardScalar]) -> Bool {
        var cursor = ProtobufCursor(data)
        var wallTime = 0.0
        var step: Int64 = 0
        var summary: UnsafeRawBufferPointer?
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey() else { return false }
            switch (field, wireType) {
            case (1, .fixed64):
                guard let bits = cursor.fixed64() else { return false }
                wallTime = Double(bitPattern: bits)
            case (2, .varint):
                guard let value = cursor.varint() else { return false }
                step = Int64(bitPattern: value)
            case (5, .lengthDelimited):
                // A second summary would be merged into the first: rare, left to swift-protobuf.
                guard summary == nil, let bytes = cursor.lengthDelimited() else { return false }
                summary = bytes
            default:
                return false
            }
        }
        guard let summary else { return false }
        let mark = scalars.count
        guard decodeFastSummary(summary, step: Int(truncatingIfNeeded: step), wallTime: wallTime, into: &scalars)
        else {
            scalars.removeSubrange(mark...)
            return false
        }
        return true
    }

    private mutating func decodeFastSummary(
        _ summary: UnsafeRawBufferPointer, step: Int, wallTime: Double, into scalars: inout [TensorBoardScalar]
    ) -> Bool {
        var cursor = ProtobufCursor(summary)
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey(), field == 1, wireType == .lengthDelimited,
                let bytes = cursor.lengthDelimited(), let value = Self.fastValue(bytes)
            else { return false }
            // A tag that is not UTF-8 is an error swift-protobuf reports.
            let tagBytes = value.tag ?? UnsafeRawBufferPointer(rebasing: bytes[0..<0])
            guard let (tag, slot) = tags.lookup(tagBytes, plugins: pluginByTag) else { return false }
            if value.isTensor {
                let known = tags.plugin(slot: slot)
                if let pluginBytes = value.plugin, !pluginBytes.isEmpty,
                    !(known == Self.scalarsPlugin && Self.isScalarsPlugin(pluginBytes))
                {
                    guard let plugin = Self.pluginName(pluginBytes) else { return false }
                    remember(plugin: plugin, of: tag)
                }
                if let plugin = tags.plugin(slot: slot), plugin != Self.scalarsPlugin { continue }
            }
            guard let number = value.number else { continue }
            scalars.append(TensorBoardScalar(step: step, wallTime: wallTime, tag: tag, value: number))
        }
        return true
    }

    /// The plugin name's string, sharing the constant for `scalars`; nil when it is not UTF-8.
    private static func pluginName(_ bytes: UnsafeRawBufferPointer) -> String? {
        if isScalarsPlugin(bytes) { return scalarsPlugin }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A `Summary.Value`: its tag and number, or nil when the value is not a fast-path shape.
    private static func fastValue(_ bytes: UnsafeRawBufferPointer) -> FastValue? {
        var cursor = ProtobufCursor(bytes)
        var value = FastValue()
        var hasOneof = false
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey() else { return nil }
            switch (field, wireType) {
            case (1, .lengthDelimited):
                guard let tag = cursor.lengthDelimited() else { return nil }
                value.tag = tag
            case (2, .fixed32):
                guard !hasOneof, let bits = cursor.fixed32() else { return nil }
                hasOneof = true
                value.number = Double(Float(bitPattern: bits))
            case (8, .lengthDelimited):
                guard !hasOneof, let tensor = cursor.lengthDelimited(), let content = tensorValue(tensor) else {
                    return nil
                }
                hasOneof = true
                value.isTensor = true
                if case .number(let number) = content { value.number = number }
            case (9, .lengthDelimited):
                guard value.plugin == nil, let metadata = cursor.lengthDelimited(),
                    let plugin = pluginName(ofMetadata: metadata)
                else { return nil }
                value.plugin = plugin
            default:
                return nil
            }
        }
        return value
    }

    /// The `plugin_data.plugin_name` of a `SummaryMetadata` (empty when absent); nil when not a fast-path shape.
    private static func pluginName(ofMetadata bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var cursor = ProtobufCursor(bytes)
        var name = UnsafeRawBufferPointer(rebasing: bytes[0..<0])
        var seenPluginData = false
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey() else { return nil }
            if field == 1 {
                guard wireType == .lengthDelimited, !seenPluginData, let pluginData = cursor.lengthDelimited() else {
                    return nil
                }
                seenPluginData = true
                var inner = ProtobufCursor(pluginData)
                while !inner.isAtEnd {
                    guard let (innerField, innerWireType) = inner.fieldKey() else { return nil }
                    if innerField == 1 {
                        guard innerWireType == .lengthDelimited, let bytes = inner.lengthDelimited() else { return nil }
                        name = bytes
                    } else if !inner.skip(innerWireType) {
                        return nil
                    }
                }
            } else if !cursor.skip(wireType) {  // display_name, summary_description, data_class
                return nil
            }
        }
        return name
    }

    /// What a tensor holds, when the fast path can tell.
    private enum TensorContent {
        case number(Double)
        /// More or fewer than one element: not a scalar, whatever the encoding of its values.
        case notAScalar
    }

    /// The value of a rank-0 (or one-element) tensor holding one `float_val` or `double_val`; nil when
    /// the tensor is not a fast-path shape.
    private static func tensorValue(_ bytes: UnsafeRawBufferPointer) -> TensorContent? {
        var cursor = ProtobufCursor(bytes)
        var dtype: UInt64 = 0
        var elements: Int64 = 1
        var float: Float?
        var double: Double?
        var floats = 0
        var doubles = 0
        var seenShape = false
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey() else { return nil }
            switch (field, wireType) {
            case (1, .varint):
                guard let value = cursor.varint() else { return nil }
                dtype = value
            case (2, .lengthDelimited):
                guard !seenShape, let shape = cursor.lengthDelimited(), let count = elementCount(ofShape: shape) else {
                    return nil
                }
                seenShape = true
                elements = count
            case (5, .lengthDelimited):
                // Packed floats: one for a scalar; several for a vector, which is not one.
                guard floats == 0, let packed = cursor.lengthDelimited(), !packed.isEmpty, packed.count % 4 == 0
                else { return nil }
                floats = packed.count / 4
                float = Float(bitPattern: UInt32(littleEndian: packed.loadUnaligned(as: UInt32.self)))
            case (5, .fixed32):
                guard floats == 0, let bits = cursor.fixed32() else { return nil }
                floats = 1
                float = Float(bitPattern: bits)
            case (6, .lengthDelimited):
                guard doubles == 0, let packed = cursor.lengthDelimited(), !packed.isEmpty, packed.count % 8 == 0
                else { return nil }
                doubles = packed.count / 8
                double = Double(bitPattern: UInt64(littleEndian: packed.loadUnaligned(as: UInt64.self)))
            case (6, .fixed64):
                guard doubles == 0, let bits = cursor.fixed64() else { return nil }
                doubles = 1
                double = Double(bitPattern: bits)
            default:
                return nil
            }
        }
        guard elements == 1 else { return .notAScalar }
        guard floats + doubles == 1 else { return nil }
        switch (dtype, float, double) {
        case (UInt64(Tensorboard_DataType.dtFloat.rawValue), let float?, nil): return .number(Double(float))
        case (UInt64(Tensorboard_DataType.dtDouble.rawValue), nil, let double?): return .number(double)
        default: return nil
        }
    }

    /// The number of elements of a `TensorShapeProto`; nil when not a fast-path shape (unknown rank,
    /// unknown dimensions, overflow).
    private static func elementCount(ofShape bytes: UnsafeRawBufferPointer) -> Int64? {
        var cursor = ProtobufCursor(bytes)
        var count: Int64 = 1
        while !cursor.isAtEnd {
            guard let (field, wireType) = cursor.fieldKey() else { return nil }
            switch (field, wireType) {
            case (2, .lengthDelimited):
                guard let dim = cursor.lengthDelimited() else { return nil }
                var inner = ProtobufCursor(dim)
                var size: Int64 = 0
                while !inner.isAtEnd {
                    guard let (innerField, innerWireType) = inner.fieldKey() else { return nil }
                    if innerField == 1, innerWireType == .varint {
                        guard let value = inner.varint() else { return nil }
                        size = Int64(bitPattern: value)
                    } else if innerField == 1 || !inner.skip(innerWireType) {
                        return nil
                    }
                }
                guard size >= 0 else { return nil }
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow else { return nil }
                count = product
            case (3, .varint):
                guard let unknownRank = cursor.varint(), unknownRank == 0 else { return nil }
            default:
                return nil
            }
        }
        return count
    }
}
