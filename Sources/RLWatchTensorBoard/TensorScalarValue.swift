/// Reading the single value of a scalar `TensorProto`.
///
/// TF2 (`tf.summary.scalar`), `torch.utils.tensorboard` with `new_style=True` and the `tensorboard`
/// package write a scalar as a rank-0 tensor: `DT_FLOAT` with one `float_val` in practice, but a writer
/// may as well use `double_val`, or the raw little-endian `tensor_content`, or another numeric type.
enum TensorScalarValue {
    /// The value of a tensor that holds exactly one number, or nil.
    static func value(of tensor: Tensorboard_TensorProto) -> Double? {
        guard elementCount(of: tensor) == 1 else { return nil }
        let content = tensor.tensorContent
        switch tensor.dtype {
        case .dtFloat:
            if let first = tensor.floatVal.first { return Double(first) }
            return content.count == 4 ? Double(Float(bitPattern: UInt32(littleEndianBytes: content))) : nil
        case .dtDouble:
            if let first = tensor.doubleVal.first { return first }
            return content.count == 8 ? Double(bitPattern: UInt64(littleEndianBytes: content)) : nil
        case .dtHalf:
            if let first = tensor.halfVal.first { return halfToDouble(UInt16(truncatingIfNeeded: first)) }
            return content.count == 2 ? halfToDouble(UInt16(littleEndianBytes: content)) : nil
        case .dtBfloat16:
            if let first = tensor.halfVal.first { return bfloat16ToDouble(UInt16(truncatingIfNeeded: first)) }
            return content.count == 2 ? bfloat16ToDouble(UInt16(littleEndianBytes: content)) : nil
        case .dtInt32:
            if let first = tensor.intVal.first { return Double(first) }
            return content.count == 4 ? Double(Int32(bitPattern: UInt32(littleEndianBytes: content))) : nil
        case .dtInt16:
            if let first = tensor.intVal.first { return Double(Int16(truncatingIfNeeded: first)) }
            return content.count == 2 ? Double(Int16(bitPattern: UInt16(littleEndianBytes: content))) : nil
        case .dtInt8:
            if let first = tensor.intVal.first { return Double(Int8(truncatingIfNeeded: first)) }
            return content.count == 1 ? Double(Int8(bitPattern: content[content.startIndex])) : nil
        case .dtUint8:
            if let first = tensor.intVal.first { return Double(UInt8(truncatingIfNeeded: first)) }
            return content.count == 1 ? Double(content[content.startIndex]) : nil
        case .dtUint16:
            if let first = tensor.intVal.first { return Double(UInt16(truncatingIfNeeded: first)) }
            return content.count == 2 ? Double(UInt16(littleEndianBytes: content)) : nil
        case .dtInt64:
            if let first = tensor.int64Val.first { return Double(first) }
            return content.count == 8 ? Double(Int64(bitPattern: UInt64(littleEndianBytes: content))) : nil
        case .dtInvalid, .dtString, .dtBool, .UNRECOGNIZED:
            return nil
        }
    }

    /// The number of elements the tensor's shape describes: 1 for rank 0; nil for an unknown rank
    /// or a negative (unknown) dimension.
    static func elementCount(of tensor: Tensorboard_TensorProto) -> Int64? {
        guard tensor.hasTensorShape else { return 1 }
        let shape = tensor.tensorShape
        guard !shape.unknownRank else { return nil }
        var count: Int64 = 1
        for dim in shape.dim {
            guard dim.size >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim.size)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// An IEEE 754 half-precision bit pattern as a double (exact: every half is a double).
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24  // subnormal or zero
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// A bfloat16 bit pattern (the high half of a float's) as a double.
    static func bfloat16ToDouble(_ bits: UInt16) -> Double {
        Double(Float(bitPattern: UInt32(bits) << 16))
    }
}

extension FixedWidthInteger {
    /// The integer stored little-endian in the first `bitWidth / 8` bytes of `bytes`, which must hold them.
    init(littleEndianBytes bytes: some Collection<UInt8>) {
        var value: Self = 0
        var shift = 0
        for byte in bytes.prefix(Self.bitWidth / 8) {
            value |= Self(truncatingIfNeeded: byte) << shift
            shift += 8
        }
        self = value
    }
}
