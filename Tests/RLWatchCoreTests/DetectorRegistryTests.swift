import RLWatchCore
import Testing

/// One descriptor per detector: ids, config sections, the built detectors and the settings store agree.
@Suite struct DetectorRegistryTests {
    @Test func idsAreUniqueAndInRegistryOrder() {
        let ids = DetectorRegistry.descriptors.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(DetectorID.all == ids)
        #expect(Array(ids.prefix(DetectorID.builtIn.count)) == DetectorID.builtIn)
    }

    @Test func everyDescriptorBuildsItsOwnDetector() {
        let detectors = DetectorRegistry.makeDetectors(RLWatchConfig())
        #expect(detectors.map(\.id) == DetectorRegistry.descriptors.map(\.id))
    }

    @Test func everySectionStartsWithEnabledAndTurnsItsDetectorOff() throws {
        for descriptor in DetectorRegistry.descriptors {
            #expect(descriptor.keys.first == "enabled", "\(descriptor.id)")
            #expect(descriptor.keys.contains("warmup_steps"), "\(descriptor.id) has no warmup_steps")
            let yaml = "\(descriptor.section):\n  enabled: false\n"
            let config = try RLWatchConfig.parse(yaml: yaml).config
            #expect(!descriptor.enabled(in: config), "\(descriptor.id)")
            #expect(descriptor.makeDetector(config) == nil)
            #expect(!DetectorRegistry.makeDetectors(config).contains { $0.id == descriptor.id })
        }
    }

    @Test func everyDetectorHasAnInputToExplain() {
        let empty = InputCoverage()
        for descriptor in DetectorRegistry.descriptors {
            #expect(!descriptor.inputs.isEmpty, "\(descriptor.id)")
            for input in descriptor.inputs {
                #expect(input.missing(empty) != nil, "\(descriptor.id) claims input from an empty log")
            }
        }
    }

    @Test func theTableListsEverySectionWithItsDefaults() {
        let table = DetectorRegistry.markdownTable()
        for descriptor in DetectorRegistry.descriptors {
            #expect(table.contains("| `\(descriptor.section)` | \(descriptor.summary) | `enabled` true"))
        }
        #expect(table.contains("`relative_threshold` 0.3"))
        #expect(table.contains("`threshold` unset"))
    }
}

/// Settings kept by type in ``RLWatchConfig/detectorSettings`` compare and hash by value.
@Suite struct DetectorSettingsStoreTests {
    struct Probe: DetectorSettings {
        var level = 1.0
        init() {}
    }

    @Test func settingsReadTheirDefaultsUntilSetAndCompareByValue() {
        var config = RLWatchConfig()
        #expect(config[settings: Probe.self].level == 1)
        config[settings: Probe.self].level = 2
        #expect(config[settings: Probe.self].level == 2)
        #expect(config != RLWatchConfig())
        var same = RLWatchConfig()
        same[settings: Probe.self].level = 2
        #expect(config == same)
        #expect(config.hashValue == same.hashValue)
        config[settings: Probe.self].level = 1
        #expect(config == RLWatchConfig())
    }
}
