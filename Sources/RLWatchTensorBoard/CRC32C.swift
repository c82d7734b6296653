/// CRC-32C (Castagnoli), the checksum of TFRecord framing, and the masking TensorFlow applies to it.
///
/// The checksum is computed eight bytes at a time with eight 256-entry tables ("slicing-by-8"), several
/// times faster than a byte at a time: every byte of an event file is checksummed once, so a slow CRC
/// would cost as much as decoding the events.
public enum CRC32C {
    /// The reflected Castagnoli polynomial 0x1EDC6F41.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The constant TensorFlow adds to a rotated CRC (`kMaskDelta` in `tensorflow/core/lib/hash/crc32c.h`).
    public static let maskDelta: UInt32 = 0xA282_EAD8

    /// Eight tables of 256 entries, one after the other: table `k` advances a byte through `k` more zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for table in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(table - 1) * 256 + byte]
                tables[table * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`, or of the concatenation of earlier bytes and `bytes` when `crc` is the
    /// checksum of the earlier ones.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to checksum.
    ///   - crc: The checksum of the bytes before these; 0 to start.
    /// - Returns: The unmasked checksum (`checksum("123456789") == 0xE3069283`).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc = ~crc
            var offset = 0
            let count = bytes.count
            while offset &+ 8 <= count {
                let word =
                    UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    ^ UInt64(crc)
                crc =
                    table[7 &* 256 &+ Int(word & 0xFF)]
                    ^ table[6 &* 256 &+ Int((word >> 8) & 0xFF)]
                    ^ table[5 &* 256 &+ Int((word >> 16) & 0xFF)]
                    ^ table[4 &* 256 &+ Int((word >> 24) & 0xFF)]
                    ^ table[3 &* 256 &+ Int((word >> 32) & 0xFF)]
                    ^ table[2 &* 256 &+ Int((word >> 40) & 0xFF)]
                    ^ table[1 &* 256 &+ Int((word >> 48) & 0xFF)]
                    ^ table[Int(word >> 56)]
                offset &+= 8
            }
            while offset < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)]
                offset &+= 1
            }
            return ~crc
        }
    }

    /// The CRC-32C of a byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// A checksum as TFRecord stores it: rotated right by 15 bits, plus ``maskDelta``.
    ///
    /// TensorFlow masks the CRCs it stores because a CRC of data that itself contains CRCs is weak.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// The checksum a stored, masked one stands for: the inverse of ``masked(_:)``.
    public static func unmasked(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }
}
