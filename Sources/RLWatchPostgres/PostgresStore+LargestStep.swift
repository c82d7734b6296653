import RLWatchStore

/// The dashboard's runs list asks for each run's last step: one index lookup here too.
extension PostgresStore: LargestStepLookup {}
