import Foundation
import PostgresNIO

/// An element of a one-dimensional PostgreSQL array sent in binary form, NULLs allowed.
protocol BinaryArrayElement {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
    /// Writes the element's binary form (without its length).
    func writeBinary(into buffer: inout ByteBuffer)
}

extension Double: BinaryArrayElement {
    static var elementType: PostgresDataType { .float8 }
    static var arrayType: PostgresDataType { .float8Array }
    /// The IEEE-754 bits as they are: NaN, +Inf and -Inf are stored as PostgreSQL's own NaN and infinities.
    func writeBinary(into buffer: inout ByteBuffer) { buffer.writeInteger(bitPattern) }
}

extension Int64: BinaryArrayElement {
    static var elementType: PostgresDataType { .int8 }
    static var arrayType: PostgresDataType { .int8Array }
    func writeBinary(into buffer: inout ByteBuffer) { buffer.writeInteger(self) }
}

extension Int32: BinaryArrayElement {
    static var elementType: PostgresDataType { .int4 }
    static var arrayType: PostgresDataType { .int4Array }
    func writeBinary(into buffer: inout ByteBuffer) { buffer.writeInteger(self) }
}

extension String: BinaryArrayElement {
    static var elementType: PostgresDataType { .text }
    static var arrayType: PostgresDataType { .textArray }
    func writeBinary(into buffer: inout ByteBuffer) { buffer.writeString(self) }
}

extension Data: BinaryArrayElement {
    static var elementType: PostgresDataType { .bytea }
    static var arrayType: PostgresDataType { .byteaArray }
    func writeBinary(into buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}

/// A column of values for `INSERT … SELECT * FROM UNNEST($1::…[], …)`: one bind per column rather than one per
/// value, so a batch of any size is one statement with a fixed text (no 65,535-parameter limit, one parse).
///
/// postgres-nio's own `Array` encoding has no NULL elements; this one writes PostgreSQL's binary array format with
/// the has-null flag and a length of -1 for each nil.
struct NullableArray<Element: BinaryArrayElement>: PostgresNonThrowingEncodable {
    var values: [Element?]

    init(_ values: [Element?]) { self.values = values }

    static var psqlType: PostgresDataType { Element.arrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        let hasNull = values.contains { $0 == nil }
        buffer.writeInteger(Int32(values.isEmpty ? 0 : 1))  // dimensions
        buffer.writeInteger(Int32(hasNull ? 1 : 0))
        buffer.writeInteger(Element.elementType.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))  // lower bound
        for value in values {
            guard let value else {
                buffer.writeInteger(Int32(-1))
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            let start = buffer.writerIndex
            value.writeBinary(into: &buffer)
            buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthIndex)
        }
    }
}
