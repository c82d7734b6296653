import Foundation
import Testing

@testable import RLWatchTensorBoard

@Suite struct TensorValueTests {
    @Test(
        arguments: [
            (0x0000, 0.0), (0x3C00, 1.0), (0xC000, -2.0), (0x3555, 0.333251953125), (0x7BFF, 65504.0),
            (0x0001, 0x1p-24), (0x7C00, .infinity), (0xFC00, -.infinity),
        ] as [(UInt16, Double)])
    func halfPrecision(bits: UInt16, expected: Double) {
        #expect(TensorScalarValue.halfToDouble(bits) == expected)
    }

    @Test func halfNaN() {
        #expect(TensorScalarValue.halfToDouble(0x7E00).isNaN)
    }

    @Test func bfloat16() {
        #expect(TensorScalarValue.bfloat16ToDouble(0x3FC0) == 1.5)
    }

    @Test func shapesAndTypes() {
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = .dtFloat
        tensor.floatVal = [2.5]
        #expect(TensorScalarValue.value(of: tensor) == 2.5)
        tensor.tensorShape.dim = [.with { $0.size = 1 }, .with { $0.size = 1 }]
        #expect(TensorScalarValue.value(of: tensor) == 2.5)  // [1, 1] still holds one number
        tensor.tensorShape.dim = [.with { $0.size = 2 }]
        #expect(TensorScalarValue.value(of: tensor) == nil)
        tensor.tensorShape.dim = []
        tensor.tensorShape.unknownRank = true
        #expect(TensorScalarValue.value(of: tensor) == nil)

        var content = Tensorboard_TensorProto()
        content.dtype = .dtInt32
        content.tensorContent = Data([0xFE, 0xFF, 0xFF, 0xFF])
        #expect(TensorScalarValue.value(of: content) == -2)
        content.tensorContent = Data([0xFE, 0xFF])  // too short for an int32
        #expect(TensorScalarValue.value(of: content) == nil)
        content.dtype = .dtString
        #expect(TensorScalarValue.value(of: content) == nil)
    }
}
