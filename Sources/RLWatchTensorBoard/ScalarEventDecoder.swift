import Foundation
import SwiftProtobuf

/// Turns the data of one TFRecord (a serialized `Event`) into the scalars it carries.
///
/// A value is a scalar when it is a `simple_value` (TF1, tensorboardX), or a tensor holding exactly one
/// number whose tag is a scalar summary: its `SummaryMetadata` names the `scalars` plugin. TF2 writers
/// may send that metadata only with a tag's first value, so the plugin of each tag is remembered; a
/// one-number tensor whose tag never came with a plugin name is taken as a scalar too (a histogram,
/// image or text tensor never holds exactly one number). Tags of any other plugin are ignored.
///
/// Events without a summary (the `file_version` header, graphs, session logs) carry no scalars.
struct ScalarEventDecoder: Sendable {
    /// The plugin name of every tag whose metadata named one; bounded by ``pluginMemoryLimit``.
    private(set) var pluginByTag: [String: String] = [:]
    /// Beyond this many tags the plugin of new ones is no longer remembered (a log with ever-new tags
    /// cannot grow the reader without bound); their one-number tensors are still taken as scalars.
    static let pluginMemoryLimit = 65_536
    static let scalarsPlugin = "scalars"

    private static let options: BinaryDecodingOptions = {
        var options = BinaryDecodingOptions()
        // Graphs and images need not be copied into memory that nothing reads.
        options.discardUnknownFields = true
        return options
    }()

    init() {}

    /// Appends the scalars of one serialized `Event`, decoded by swift-protobuf, to `scalars`.
    ///
    /// swift-protobuf alone reads about a million events a second (README § Benchmarks), far above what a
    /// trainer writes; a hand-written decoder of the common shapes was removed for that reason.
    /// - Returns: Nil when the bytes decoded; why, when they did not.
    mutating func decode(_ data: UnsafeRawBufferPointer, into scalars: inout [TensorBoardScalar]) -> DecodeFailure? {
        let event: Tensorboard_Event
        do {
            // No copy: the Data only lives for the decode.
            let bytes =
                data.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: data.count, deallocator: .none)
                } ?? Data()
            event = try Tensorboard_Event(serializedBytes: bytes, options: Self.options)
        } catch {
            return DecodeFailure(reason: String(describing: error))
        }
        guard case .summary(let summary) = event.what else { return nil }
        let step = Int(truncatingIfNeeded: event.step)
        for value in summary.value {
            if let scalar = self.value(of: value) {
                scalars.append(TensorBoardScalar(step: step, wallTime: event.wallTime, tag: value.tag, value: scalar))
            }
        }
        return nil
    }

    /// Why an event did not decode.
    struct DecodeFailure: Error, Sendable {
        var reason: String
    }

    /// The number of a summary value, if it is a scalar.
    private mutating func value(of value: Tensorboard_Summary.Value) -> Double? {
        switch value.value {
        case .simpleValue(let number):
            return Double(number)
        case .tensor(let tensor):
            if value.hasMetadata, value.metadata.hasPluginData {
                remember(plugin: value.metadata.pluginData.pluginName, of: value.tag)
            }
            if let plugin = plugin(of: value.tag), plugin != Self.scalarsPlugin { return nil }
            return TensorScalarValue.value(of: tensor)
        case nil:
            return nil
        }
    }

    /// The plugin the tag's metadata named, if it named one.
    func plugin(of tag: String) -> String? {
        pluginByTag.isEmpty ? nil : pluginByTag[tag]
    }

    /// Notes the plugin a tag's metadata names.
    private mutating func remember(plugin: String, of tag: String) {
        guard !plugin.isEmpty, pluginByTag[tag] != plugin else { return }
        guard pluginByTag.count < Self.pluginMemoryLimit || pluginByTag[tag] != nil else { return }
        pluginByTag[tag] = plugin
    }
}
