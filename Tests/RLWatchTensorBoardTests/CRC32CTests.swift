import Testing

@testable import RLWatchTensorBoard

@Suite struct CRC32CTests {
    @Test(arguments: [
        ("", UInt32(0)),
        ("a", 0xC1D0_4330),
        ("123456789", 0xE306_9283),
        ("The quick brown fox jumps over the lazy dog", 0x2262_0404),
    ])
    func knownVectors(text: String, expected: UInt32) {
        #expect(CRC32C.checksum(Array(text.utf8)) == expected)
    }

    /// RFC 3720 (iSCSI) appendix B.4 test vectors.
    @Test func iSCSIVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    /// The eight-byte loop and the byte loop agree, whatever the length and alignment.
    @Test func slicingMatchesBytewise() {
        var generator = SplitMix(seed: 7)
        let bytes = (0..<300).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 13) {
                let slice = Array(bytes[start..<end])
                #expect(CRC32C.checksum(slice) == Self.bytewise(slice))
            }
        }
    }

    @Test func continuingEqualsWhole() {
        let bytes = Array("123456789".utf8)
        let first = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<4])) }
        let whole = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[4...]), continuing: first)
        }
        #expect(whole == 0xE306_9283)
    }

    @Test func masking() {
        // TensorFlow's crc32c_test.cc: Mask(crc) != crc, Mask(Mask(crc)) != crc, Unmask(Mask(crc)) == crc.
        let crc = CRC32C.checksum(Array("foo".utf8))
        #expect(CRC32C.masked(crc) != crc)
        #expect(CRC32C.masked(CRC32C.masked(crc)) != crc)
        #expect(CRC32C.unmasked(CRC32C.masked(crc)) == crc)
        #expect(CRC32C.unmasked(CRC32C.unmasked(CRC32C.masked(CRC32C.masked(crc)))) == crc)
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8, by hand for 0xE3069283.
        #expect(CRC32C.masked(0xE306_9283) == 0x2507_C60D &+ 0xA282_EAD8)
    }

    /// The empty record a TFRecord writer frames as 16 bytes, checked against Python's tensorboardX
    /// (`tensorboardX.record_writer.masked_crc32c(b"")`).
    @Test func maskedCRCOfEmptyData() {
        #expect(CRC32C.masked(CRC32C.checksum([])) == 0xA282_EAD8)
    }

    static func bytewise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
