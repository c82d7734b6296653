import Foundation
import RLWatchCore
import RLWatchIngest
import Yams

/// Reads a corpus: a directory whose `manifest.d/*.yaml` files (read in name order) or `manifest.yaml` each
/// hold a YAML list of labelled runs, or one such file given directly.
///
/// Everything is checked before anything is replayed: unknown keys, missing or mistyped values, steps out of
/// order (`from ≤ onset ≤ latest ≤ end`), unknown detector names, duplicate ids and missing log files are
/// reported as a ``ManifestError`` naming the manifest file, line and key.
public enum CorpusManifest {
    /// The manifests a corpus path stands for, in the order they are read.
    public static func manifestFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError(file: path, line: 1, column: 1, key: "", message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let directory = (path as NSString).appendingPathComponent("manifest.d")
        var files: [String] = []
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                .map { (directory as NSString).appendingPathComponent($0) }
        }
        let single = (path as NSString).appendingPathComponent("manifest.yaml")
        if FileManager.default.fileExists(atPath: single) { files.insert(single, at: 0) }
        guard !files.isEmpty else {
            throw ManifestError(
                file: path, line: 1, column: 1, key: "",
                message: "no manifest: expected manifest.yaml or manifest.d/*.yaml in this directory")
        }
        return files
    }

    /// Every labelled run of the corpus at `path` (a directory or a manifest file).
    ///
    /// - Throws: ``ManifestError``.
    public static func load(_ path: String) throws -> [CorpusRun] {
        var runs: [CorpusRun] = []
        var seen: [String: String] = [:]
        for file in try manifestFiles(at: path) {
            for run in try parse(file: file) {
                if let earlier = seen[run.id] {
                    throw ManifestError(
                        file: file, line: line(of: run.location), column: 1, key: "id",
                        message: "duplicate run id \"\(run.id)\" (first at \(earlier))")
                }
                seen[run.id] = run.location
                runs.append(run)
            }
        }
        return runs
    }

    /// The runs of one manifest file; log paths are resolved against the corpus directory (the file's
    /// directory, or its parent for a file inside `manifest.d`).
    public static func parse(file: String) throws -> [CorpusRun] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else {
            throw ManifestError(file: file, line: 1, column: 1, key: "", message: "cannot read the file as UTF-8")
        }
        var base = (file as NSString).deletingLastPathComponent
        if (base as NSString).lastPathComponent == "manifest.d" { base = (base as NSString).deletingLastPathComponent }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestError(file: file, line: 1, column: 1, key: "", message: "not valid YAML: \(error)")
        }
        guard let root else { return [] }
        if let beyond = YAMLExpansionLimit.firstNode(in: root) {
            throw ManifestError(
                file: file, line: beyond.mark?.line ?? 1, column: beyond.mark?.column ?? 1, key: "",
                message: YAMLExpansionLimit.problem)
        }
        let reader = ManifestReader(file: file, base: base)
        if let mapping = root.mapping, let runs = mapping["runs"] {
            return try reader.runs(runs, path: "runs")
        }
        return try reader.runs(root, path: "")
    }

    private static func line(of location: String) -> Int {
        Int(location.split(separator: ":").last ?? "") ?? 1
    }
}

/// Typed access to a manifest's YAML nodes, every failure naming file, line and key path.
private struct ManifestReader {
    let file: String
    let base: String

    static let runKeys: Set<String> = [
        "id", "file", "format", "framework", "source", "select", "keys", "healthy", "interval", "events",
        "healthy_stretches", "notes",
    ]
    static let eventKeys: Set<String> = ["kind", "onset", "from", "latest", "end", "detectors", "required", "reason"]
    static let stretchKeys: Set<String> = ["from", "to", "reason"]
    static let sourceKeys: Set<String> = ["repo", "path", "commit", "url"]
    static let selectKeys: Set<String> = ["lines", "where", "step_key"]

    func fail(_ node: Node?, _ key: String, _ message: String) -> ManifestError {
        ManifestError(
            file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, key: key, message: message)
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func runs(_ node: Node, path: String) throws -> [CorpusRun] {
        guard let sequence = node.sequence else {
            throw fail(node, path, "expected a list of runs (or a mapping with a \"runs\" list)")
        }
        return try sequence.enumerated().map { index, element in
            try run(element, path: path.isEmpty ? "[\(index)]" : "\(path)[\(index)]")
        }
    }

    func mapping(_ node: Node, _ path: String, allowed: Set<String>) throws -> [String: Node] {
        guard let mapping = node.mapping else { throw fail(node, path, "expected a mapping") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, path, "keys must be strings") }
            guard allowed.contains(name) else {
                throw fail(key, join(path, name), "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    func string(_ map: [String: Node], _ key: String, _ path: String, parent: Node) throws -> String {
        guard let node = map[key] else { throw fail(parent, join(path, key), "missing") }
        guard node.scalar != nil, node.null == nil, let text = node.string, !text.isEmpty else {
            throw fail(node, join(path, key), "expected a non-empty string")
        }
        return text
    }

    func optionalString(_ map: [String: Node], _ key: String, _ path: String) throws -> String? {
        guard let node = map[key], node.null == nil else { return nil }
        guard node.scalar != nil, let text = node.string else { throw fail(node, join(path, key), "expected a string") }
        return text
    }

    func int(_ map: [String: Node], _ key: String, _ path: String, parent: Node) throws -> Int {
        guard let node = map[key] else { throw fail(parent, join(path, key), "missing") }
        return try int(node, join(path, key))
    }

    func int(_ node: Node, _ path: String) throws -> Int {
        guard node.scalar != nil, let value = node.int else { throw fail(node, path, "expected an integer step") }
        return value
    }

    func bool(_ map: [String: Node], _ key: String, _ path: String, default value: Bool) throws -> Bool {
        guard let node = map[key] else { return value }
        guard node.scalar != nil, let flag = node.bool else { throw fail(node, join(path, key), "expected true or false") }
        return flag
    }

    func run(_ node: Node, path: String) throws -> CorpusRun {
        let map = try mapping(node, path, allowed: Self.runKeys)
        let id = try string(map, "id", path, parent: node)
        let idPath = "\(path) (\(id))"
        let relative = try string(map, "file", idPath, parent: node)
        let filePath = relative.hasPrefix("/") ? relative : (base as NSString).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: filePath) else {
            throw fail(map["file"], join(idPath, "file"), "no such file: \(filePath)")
        }
        let format: CorpusRun.Format
        if let name = try optionalString(map, "format", idPath) {
            guard let known = CorpusRun.Format(rawValue: name) else {
                throw fail(
                    map["format"], join(idPath, "format"),
                    "unknown format \"\(name)\" (known: \(CorpusRun.Format.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            format = known
        } else if relative.hasSuffix(".csv") {
            format = .csv
        } else if relative.hasSuffix(".json") {
            format = .trainerState
        } else {
            format = .jsonl
        }
        let framework = try optionalString(map, "framework", idPath) ?? "unknown"
        var source = CorpusRun.Source(repo: "", path: "", commit: "", url: nil)
        if let sourceNode = map["source"] {
            let sourcePath = join(idPath, "source")
            let fields = try mapping(sourceNode, sourcePath, allowed: Self.sourceKeys)
            source = CorpusRun.Source(
                repo: try string(fields, "repo", sourcePath, parent: sourceNode),
                path: try string(fields, "path", sourcePath, parent: sourceNode),
                commit: try optionalString(fields, "commit", sourcePath) ?? "unknown",
                url: try optionalString(fields, "url", sourcePath))
        } else {
            throw fail(node, join(idPath, "source"), "missing (every log names its repository, path and commit)")
        }
        let selection = try select(map["select"], join(idPath, "select"))
        if format == .trainerState, selection.isRestrictive {
            throw fail(map["select"], join(idPath, "select"), "a trainer_state.json cannot be read with a selection")
        }
        var keys: [String: String] = [:]
        if let keysNode = map["keys"] {
            guard let mapping = keysNode.mapping else { throw fail(keysNode, join(idPath, "keys"), "expected a mapping") }
            for (key, value) in mapping {
                guard let name = key.string else { throw fail(key, join(idPath, "keys"), "keys must be strings") }
                if value.null != nil {
                    keys[name] = ""
                    continue
                }
                guard let target = value.string, MetricsConfig.targets.contains(target) else {
                    throw fail(
                        value, join(idPath, "keys.\(name)"),
                        "unknown metric (known: \(MetricsConfig.targets.joined(separator: ", ")), or null)")
                }
                keys[name] = target
            }
        }
        let healthy = try bool(map, "healthy", idPath, default: false)
        var interval: Int?
        if let intervalNode = map["interval"] {
            interval = try int(intervalNode, join(idPath, "interval"))
            guard interval! > 0 else { throw fail(intervalNode, join(idPath, "interval"), "must be at least 1") }
        }
        var events: [LabelledEvent] = []
        if let eventsNode = map["events"], eventsNode.null == nil {
            guard let sequence = eventsNode.sequence else {
                throw fail(eventsNode, join(idPath, "events"), "expected a list")
            }
            for (index, element) in sequence.enumerated() {
                events.append(try event(element, "\(join(idPath, "events"))[\(index)]"))
            }
        }
        if healthy, !events.isEmpty {
            throw fail(map["events"], join(idPath, "events"), "a run labelled healthy: true has no failure events")
        }
        var stretches: [StepStretch] = []
        if let stretchesNode = map["healthy_stretches"], stretchesNode.null == nil {
            guard let sequence = stretchesNode.sequence else {
                throw fail(stretchesNode, join(idPath, "healthy_stretches"), "expected a list")
            }
            for (index, element) in sequence.enumerated() {
                let stretchPath = "\(join(idPath, "healthy_stretches"))[\(index)]"
                let fields = try mapping(element, stretchPath, allowed: Self.stretchKeys)
                let stretch = StepStretch(
                    from: try int(fields, "from", stretchPath, parent: element),
                    to: try int(fields, "to", stretchPath, parent: element),
                    reason: try string(fields, "reason", stretchPath, parent: element))
                guard stretch.from <= stretch.to else {
                    throw fail(element, stretchPath, "from (\(stretch.from)) is after to (\(stretch.to))")
                }
                if let event = events.first(where: { $0.from <= stretch.to && stretch.from <= $0.end }) {
                    throw fail(
                        element, stretchPath,
                        "overlaps the \(event.kind) event's window \(event.from)–\(event.end): a step is healthy or failing, not both")
                }
                stretches.append(stretch)
            }
        }
        if !healthy, events.isEmpty, stretches.isEmpty {
            throw fail(node, idPath, "labels nothing: give events, healthy_stretches, or healthy: true")
        }
        return CorpusRun(
            id: id, file: filePath, format: format, framework: framework, source: source, selection: selection,
            keys: keys, healthy: healthy, interval: interval, events: events, healthyStretches: stretches,
            notes: try optionalString(map, "notes", idPath), location: "\(file):\(node.mark?.line ?? 1)")
    }

    func select(_ node: Node?, _ path: String) throws -> RowSelection {
        guard let node, node.null == nil else { return .all }
        let map = try mapping(node, path, allowed: Self.selectKeys)
        var selection = RowSelection()
        if let linesNode = map["lines"] {
            guard let pair = linesNode.sequence, pair.count == 2 else {
                throw fail(linesNode, join(path, "lines"), "expected [first, last] (1-based, inclusive)")
            }
            let first = try int(pair[0], join(path, "lines[0]"))
            let last = try int(pair[1], join(path, "lines[1]"))
            guard first >= 1, first <= last else {
                throw fail(linesNode, join(path, "lines"), "expected 1 ≤ first ≤ last, got [\(first), \(last)]")
            }
            selection.lines = first...last
        }
        if let whereNode = map["where"] {
            guard let mapping = whereNode.mapping else { throw fail(whereNode, join(path, "where"), "expected a mapping") }
            for (key, value) in mapping {
                guard let name = key.string else { throw fail(key, join(path, "where"), "keys must be strings") }
                if let number = value.float ?? value.int.map(Double.init) {
                    selection.matches[name] = .number(number)
                } else if let text = value.string {
                    selection.matches[name] = .string(text)
                } else {
                    throw fail(value, join(path, "where.\(name)"), "expected a string or a number")
                }
            }
        }
        if let stepKey = try optionalString(map, "step_key", path) { selection.stepKey = stepKey }
        return selection
    }

    func event(_ node: Node, _ path: String) throws -> LabelledEvent {
        let map = try mapping(node, path, allowed: Self.eventKeys)
        let onset = try int(map, "onset", path, parent: node)
        let from = try map["from"].map { try int($0, join(path, "from")) } ?? onset
        let latest = try int(map, "latest", path, parent: node)
        let end = try int(map, "end", path, parent: node)
        guard from <= onset, onset <= latest, latest <= end else {
            throw fail(node, path, "expected from ≤ onset ≤ latest ≤ end, got \(from), \(onset), \(latest), \(end)")
        }
        guard let detectorsNode = map["detectors"], let list = detectorsNode.sequence, !list.isEmpty else {
            throw fail(map["detectors"] ?? node, join(path, "detectors"), "expected a non-empty list of detector names")
        }
        var detectors: Set<DetectorID> = []
        for (index, element) in list.enumerated() {
            guard let name = element.string, DetectorID.all.contains(DetectorID(name)) else {
                throw fail(
                    element, "\(join(path, "detectors"))[\(index)]",
                    "unknown detector (known: \(DetectorID.all.map(\.rawValue).joined(separator: ", ")))")
            }
            detectors.insert(DetectorID(name))
        }
        return LabelledEvent(
            kind: try string(map, "kind", path, parent: node), onset: onset, from: from, latest: latest, end: end,
            detectors: detectors, required: try bool(map, "required", path, default: true),
            reason: try string(map, "reason", path, parent: node))
    }
}
