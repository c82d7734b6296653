enum MonitorPlaceholder {}
