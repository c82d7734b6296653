import Testing

@Test func placeholderRLWatchCoreTests() {}
