/// The dashboard's static assets (`Assets/dashboard.css`, `Assets/dashboard.js`), embedded in the binary by
/// SwiftPM's `embedInCode` so that a copied `rlwatch` works on an air-gapped machine with no resource bundle beside it.
enum DashboardAssets {
    /// The stylesheet: light and dark palettes through `prefers-color-scheme`, fixed chart aspect ratios so live
    /// updates never move the layout; then one class per comparison colour (`.run-color-N`), so that a page colours
    /// its legend without an inline `style` attribute (the Content-Security-Policy allows no inline styles).
    static let css = String(decoding: PackageResources.dashboard_css, as: UTF8.self)
        + ChartData.palette.enumerated()
        .map { ".run-color-\($0.offset){background:\($0.element)}" }.joined(separator: "\n") + "\n"

    /// The page script (vanilla JS, no library): draws the SVG charts from the page's data block, filters tables,
    /// and applies server-sent updates. It only ever uses `textContent`/`setAttribute` for data.
    static let javascript = String(decoding: PackageResources.dashboard_js, as: UTF8.self)
}
