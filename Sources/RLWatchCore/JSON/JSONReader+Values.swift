// Whole documents: building a JSONValue, and checking a document without building one.

extension JSONReader {
    /// Parses one JSON document (one value, whitespace around it) into a ``JSONValue``.
    ///
    /// Integers written without a fraction or exponent that fit an `Int` become ``JSONValue/int(_:)``, every
    /// other number ``JSONValue/double(_:)``; in ``Mode/pythonLenient`` the bare `NaN`, `Infinity` and
    /// `-Infinity` tokens become doubles too. Object members keep their order (and duplicates).
    ///
    /// - Throws: ``JSONError`` with the line and column of the first problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer, mode: Mode) throws(JSONError) -> JSONValue {
        try read(bytes, mode: mode, maximumDepth: maximumDepth) { (reader) throws(JSONError) in
            try reader.parseValue(depth: 0)
        }
    }

    /// Parses one JSON document; see ``parse(_:mode:)-(UnsafeRawBufferPointer,_)``.
    public static func parse(_ text: String, mode: Mode) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(buffer), mode: mode) }
        }
        return try result.get()
    }

    /// Parses one JSON document; see ``parse(_:mode:)-(UnsafeRawBufferPointer,_)``.
    public static func parse(_ bytes: [UInt8], mode: Mode) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, mode: mode) }
        }
        return try result.get()
    }

    /// What is wrong with `text` as one strict JSON document (RFC 8259: no `NaN`/`Infinity`, no trailing
    /// commas, no comments, no control characters in strings, nothing after the value), or `nil` when it is
    /// valid. Nothing is built; arrays and objects may nest 512 deep.
    public static func problem(in text: String, mode: Mode = .strict) -> JSONError? {
        var text = text
        return text.withUTF8 { buffer in
            do throws(JSONError) {
                try read(UnsafeRawBufferPointer(buffer), mode: mode, maximumDepth: 512) { (reader) throws(JSONError) in
                    try reader.skipValue(depth: 1)
                }
                return nil
            } catch {
                return error
            }
        }
    }

    /// Runs `body` on a document reader of `buffer` and checks that only whitespace follows what it read.
    private static func read<Value>(
        _ buffer: UnsafeRawBufferPointer, mode: Mode, maximumDepth: Int,
        _ body: (inout JSONReader) throws(JSONError) -> Value
    ) throws(JSONError) -> Value {
        let empty: StaticString = " "
        let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty.utf8Start
        var reader = JSONReader(bytes: base, count: buffer.count, mode: mode)
        reader.maximumDepth = maximumDepth
        reader.isDocument = true
        do throws(JSONError) {
            reader.skipWhitespace()
            let value = try body(&reader)
            reader.skipWhitespace()
            guard reader.position >= reader.count else {
                throw JSONError(
                    kind: .trailingCharacters, column: reader.column,
                    message: "trailing characters after the JSON value: \(reader.describeCurrent())")
            }
            return value
        } catch {
            throw error.located(in: base, count: buffer.count)
        }
    }

    /// Reads any value into a ``JSONValue``.
    package mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        switch current {
        case UInt8(ascii: "{"):
            try checkDepth(depth &+ 1)
            position &+= 1
            skipWhitespace()
            var members: [(String, JSONValue)] = []
            if current == UInt8(ascii: "}") {
                position &+= 1
                return .object(members)
            }
            while true {
                guard current == UInt8(ascii: "\"") else {
                    throw syntaxError("expected a key string, found \(describeCurrent())")
                }
                let key = try readString()
                try expectColon(after: key)
                members.append((key, try parseValue(depth: depth &+ 1)))
                if try expectSeparator(close: UInt8(ascii: "}"), in: key) { return .object(members) }
            }
        case UInt8(ascii: "["):
            try checkDepth(depth &+ 1)
            position &+= 1
            skipWhitespace()
            var items: [JSONValue] = []
            if current == UInt8(ascii: "]") {
                position &+= 1
                return .array(items)
            }
            while true {
                items.append(try parseValue(depth: depth &+ 1))
                if try expectSeparator(close: UInt8(ascii: "]"), in: nil) { return .array(items) }
            }
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-") where byte(at: position &+ 1) != UInt8(ascii: "I"):
            let number = try lexNumber(key: { nil })
            if number.isIntegerLiteral, let value = Int(text(of: number)) { return .int(value) }
            return .double(try double(number, key: { nil }))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        default:
            // null, and in the lenient mode NaN, Infinity and -Infinity; anything else is an error.
            let valueColumn = column
            switch try scanScalar(key: { nil }) {
            case .number(let value): return .double(value)
            case .null: return .null
            case let other:
                throw JSONError(kind: .syntax, column: valueColumn, message: "unexpected \(other.typeDescription)")
            }
        }
    }
}

extension JSONValue {
    /// The value of an object's member (the last one, where a key repeats, as Python's `json` reads it).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    /// An array's element at `index`; nil out of range or for anything else.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// An array's elements; nil for anything else.
    public var elements: [JSONValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    /// A string's text; nil for anything else.
    public var text: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// An object's members by key (a repeated key keeps its last value); nil for anything else.
    public var members: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return Dictionary(members) { _, last in last }
    }

    /// The same value with every object's keys sorted and a repeated key's last value kept, so that documents
    /// that differ only in member order compare equal (a live run's config overrides against a client's).
    public var normalized: JSONValue {
        switch self {
        case .array(let items): .array(items.map(\.normalized))
        case .object: .object((members ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.normalized) })
        case .null, .bool, .int, .double, .string: self
        }
    }

    /// An integer's value, also a whole float (`12.0`) in `Int`'s range; nil for anything else.
    public var integer: Int? {
        switch self {
        case .int(let value): value
        case .double(let value): Int(exactly: value)
        case .null, .bool, .string, .array, .object: nil
        }
    }

    /// A number's value; also a string spelling a non-finite number as Python's `float()` reads it
    /// (`"NaN"`, `"inf"`, `"-Infinity"`, any case), the way rlwatch and Python write NaN in strict JSON.
    public var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .string(let text):
            var text = text
            return text.withUTF8 { JSONReader.nonFiniteValue(UnsafeRawBufferPointer($0)) }
        case .null, .bool, .array, .object: return nil
        }
    }

    /// How an error message names the value's type: `a number`, `a string`, `an array`, ….
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
